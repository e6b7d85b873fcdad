package elb

import (
	"errors"
	"strings"
)

// AWS error codes that validation reports. They are the codes the ELBv2 API
// returns for the same problem, so an API server (elb/elbtest) can put
// Error.Code on the wire as is.
const (
	CodeValidationError                          = "ValidationError"
	CodeInvalidConfigurationRequest              = "InvalidConfigurationRequest"
	CodeIncompatibleProtocols                    = "IncompatibleProtocols"
	CodeUnsupportedProtocol                      = "UnsupportedProtocol"
	CodePriorityInUse                            = "PriorityInUse"
	CodeDuplicateListener                        = "DuplicateListener"
	CodeDuplicateLoadBalancerName                = "DuplicateLoadBalancerName"
	CodeDuplicateTargetGroupName                 = "DuplicateTargetGroupName"
	CodeDuplicateTagKeys                         = "DuplicateTagKeys"
	CodeTooManyTags                              = "TooManyTags"
	CodeTooManyRules                             = "TooManyRules"
	CodeTooManyListeners                         = "TooManyListeners"
	CodeTooManyTargets                           = "TooManyTargets"
	CodeTooManyTargetGroups                      = "TooManyTargetGroups"
	CodeTooManyActions                           = "TooManyActions"
	CodeTooManyCertificates                      = "TooManyCertificates"
	CodeTooManyUniqueTargetGroupsPerLoadBalancer = "TooManyUniqueTargetGroupsPerLoadBalancer"
	CodeTargetGroupAssociationLimit              = "TargetGroupAssociationLimit"
	CodeTargetGroupNotFound                      = "TargetGroupNotFound"
	CodeInvalidLoadBalancerAction                = "InvalidLoadBalancerAction"
	CodeCertificateNotFound                      = "CertificateNotFound"
	CodeInvalidSubnet                            = "InvalidSubnet"
	CodeInvalidScheme                            = "InvalidScheme"
)

// Error is one problem found by validation.
type Error struct {
	// Path locates the offending field in the spec, in the JSON field
	// names: "loadBalancers[0].listeners[1].rules[2].priority". Smaller
	// validators give paths relative to what they validate.
	Path string
	// Code is the AWS error code for this problem (one of the Code
	// constants).
	Code string
	// Message is AWS's message where a public source shows AWS's
	// wording, otherwise a message in AWS's style. Verbatim (from AWS
	// responses quoted in public issues, see the research notes): the
	// "1 validation error detected: Value … failed to satisfy constraint"
	// form for ranges, enums, lengths and patterns; "The load balancer name
	// '…' cannot be longer than '32' characters"; "At least two subnets in
	// two different Availability Zones must be specified"; "A load balancer
	// (target group) with the same name '…' exists, but with different
	// settings"; "A listener already exists on this port for this load
	// balancer '…'" (AWS names the ARN); "Priority '…' is currently in
	// use"; "The following target groups cannot be associated with more
	// than one load balancer: …"; "You have reached the maximum number of
	// unique target groups …"; "Health check timeout '…' must be smaller
	// than the interval '…'". The other messages are ours.
	Message string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return "elb: " + e.Code + ": " + e.Message
	}
	return "elb: " + e.Path + ": " + e.Code + ": " + e.Message
}

// Errors is every problem validation found, in the order found. It is
// returned as an error only when non-empty.
type Errors []*Error

func (es Errors) Error() string {
	switch len(es) {
	case 0:
		return "elb: no errors"
	case 1:
		return es[0].Error()
	}
	var b strings.Builder
	b.WriteString(es[0].Error())
	for _, e := range es[1:] {
		b.WriteString("; ")
		b.WriteString(strings.TrimPrefix(e.Error(), "elb: "))
	}
	return b.String()
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Err returns es as an error, or nil when es is empty.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// First returns the first problem, or nil: an API server that reports one
// error per call (as AWS does) returns it.
func (es Errors) First() *Error {
	if len(es) == 0 {
		return nil
	}
	return es[0]
}

// AsErrors returns the problems in err: the Errors it is or wraps, a single
// *Error, or nil.
func AsErrors(err error) Errors {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	var e *Error
	if errors.As(err, &e) {
		return Errors{e}
	}
	return nil
}

// ErrUnroutable is returned by NewRouter for a listener that cannot route
// requests: an NLB listener, or one with no terminal default action.
var ErrUnroutable = errors.New("elb: listener cannot route HTTP requests")
