package elbtest

import (
	"fmt"
	"net/http"
)

// APIError is an error as the endpoint puts it on the wire: an AWS error
// code, AWS's message and the HTTP status. The SDK turns it into its typed
// exception (types.PriorityInUseException, …) or a smithy.GenericAPIError.
// A HealthSource or a fault rule may return one to choose what the client
// sees.
type APIError struct {
	Code    string
	Message string
	// Status is the HTTP status; 0 means 400, as for every ELBv2 client
	// error.
	Status int
}

func (e *APIError) Error() string { return "elbtest: " + e.Code + ": " + e.Message }

func (e *APIError) status() int {
	if e.Status != 0 {
		return e.Status
	}
	return http.StatusBadRequest
}

// faultType is "Sender" for 4xx errors and "Receiver" for 5xx, as in
// AWS's awsQuery error envelope.
func (e *APIError) faultType() string {
	if e.status() >= 500 {
		return "Receiver"
	}
	return "Sender"
}

func apiErr(code, format string, args ...any) *APIError {
	return &APIError{Code: code, Message: fmt.Sprintf(format, args...)}
}

func validationf(format string, args ...any) *APIError {
	return apiErr("ValidationError", format, args...)
}

// constraint is AWS's standard message for a value outside its modeled
// range or pattern.
func constraint(value any, member, what string) *APIError {
	return validationf("1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: %s", value, member, what)
}

// Error codes of the endpoint itself, outside any operation.
const (
	codeInvalidAction       = "InvalidAction"
	codeMissingParameter    = "MissingParameter"
	codeThrottling          = "Throttling"
	codeServiceUnavailable  = "ServiceUnavailable"
	codeInternalFailure     = "InternalFailure"
	codeRequestTooLarge     = "RequestEntityTooLarge"
	codeInvalidHTTPRequest  = "InvalidHttpRequest"
	codeInvalidParamValue   = "InvalidParameterValue"
	codeUnsupportedVersion  = "NoSuchVersion"
	codeDependencyViolation = "DependencyViolation"
)
