package healthcheck

import (
	"context"
	"errors"
	"fmt"
)

// Checker probes one target once. Check returns nil if the target is
// healthy, else an error; a *CheckError says which ELB reason applies, any
// other error counts as Target.FailedHealthChecks, and an error wrapping
// context.DeadlineExceeded as Target.Timeout.
//
// Check must return promptly once ctx is done and leave no goroutine
// behind. The Monitor calls Check concurrently for different targets, and
// never concurrently for the same target.
type Checker interface {
	Check(ctx context.Context, t Target) error
}

// CheckerFunc adapts a function to a Checker.
type CheckerFunc func(ctx context.Context, t Target) error

// Check calls f(ctx, t).
func (f CheckerFunc) Check(ctx context.Context, t Target) error { return f(ctx, t) }

// Forgetter is implemented by Checkers that keep per-target resources
// (idle keep-alive connections, gRPC client connections). The Monitor calls
// Forget when a target leaves it, and Close (io.Closer) on checkers it
// created itself when Run returns.
type Forgetter interface {
	Forget(t Target)
}

// CheckError is a failed check with its ELB reason.
type CheckError struct {
	// Reason is ReasonTimeout, ReasonResponseCodeMismatch,
	// ReasonFailedHealthChecks or ReasonInternalError.
	Reason Reason
	// Description is what DescribeTargetHealth shows, e.g. "Health checks
	// failed with these codes: [503]".
	Description string
	// Code is the HTTP or gRPC status code received, -1 if none.
	Code int
	// Err is the underlying cause, if any.
	Err error
}

func (e *CheckError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("healthcheck: %s: %s: %v", e.Reason, e.Description, e.Err)
	}
	return fmt.Sprintf("healthcheck: %s: %s", e.Reason, e.Description)
}

func (e *CheckError) Unwrap() error { return e.Err }

// mismatch is the error for a response whose code the matcher rejects.
func mismatch(code int) *CheckError {
	return &CheckError{Reason: ReasonResponseCodeMismatch, Description: mismatchDescription(code), Code: code}
}

// Classify returns the ELB reason and description for the error a Checker
// returned: the CheckError's own, Target.Timeout for a deadline, or
// Target.FailedHealthChecks otherwise. It returns empty strings for nil.
func Classify(err error) (Reason, string) {
	if err == nil {
		return "", ""
	}
	var ce *CheckError
	if errors.As(err, &ce) && ce.Reason != "" {
		d := ce.Description
		if d == "" {
			d = ce.Reason.Description()
		}
		return ce.Reason, d
	}
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return ReasonTimeout, ReasonTimeout.Description()
	}
	return ReasonFailedHealthChecks, ReasonFailedHealthChecks.Description()
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}
