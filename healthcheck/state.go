package healthcheck

import (
	"fmt"
	"time"
)

// State is a target's health state, named exactly as ELBv2's
// TargetHealthStateEnum spells it, so the local ELBv2 endpoint can report it
// through DescribeTargetHealth without translation.
type State string

// The ELBv2 target health states.
const (
	// StateInitial: the target was registered and has not yet passed (or
	// failed) enough health checks to be judged. It receives no traffic.
	StateInitial State = "initial"
	// StateHealthy: the target passes its health checks and receives
	// traffic. A healthy target has no reason and no description, as in AWS.
	StateHealthy State = "healthy"
	// StateUnhealthy: the target failed UnhealthyThreshold consecutive
	// checks (or never passed one since registration).
	StateUnhealthy State = "unhealthy"
	// StateUnhealthyDraining: NLB's state for a target that failed its
	// checks while connection termination is disabled
	// (Config.KeepUnhealthyConnections) and a draining interval is set: it
	// gets no new connections, keeps its established ones, and is still
	// checked. It becomes healthy again after HealthyThreshold successes,
	// or unhealthy when Config.UnhealthyDrainingInterval ends. Its reason is
	// the failing check's, as for unhealthy.
	StateUnhealthyDraining State = "unhealthy.draining"
	// StateUnused: the target is not registered, or its target group is
	// not in use by a load balancer. It receives no traffic and is not
	// checked.
	StateUnused State = "unused"
	// StateDraining: the target was deregistered and the deregistration
	// delay has not expired (nor have its in-flight requests finished). It
	// receives no new traffic.
	StateDraining State = "draining"
	// StateUnavailable: health checks are disabled for the target group;
	// the target's health is unknown and it receives traffic, as ELB does.
	StateUnavailable State = "unavailable"
)

// Reason is an ELBv2 TargetHealthReasonEnum value explaining a state other
// than healthy.
type Reason string

// The ELBv2 target health reason codes, grouped by the state they explain.
const (
	// initial
	ReasonRegistrationInProgress Reason = "Elb.RegistrationInProgress"
	ReasonInitialHealthChecking  Reason = "Elb.InitialHealthChecking"

	// unhealthy
	ReasonResponseCodeMismatch Reason = "Target.ResponseCodeMismatch"
	ReasonTimeout              Reason = "Target.Timeout"
	ReasonFailedHealthChecks   Reason = "Target.FailedHealthChecks"
	ReasonInternalError        Reason = "Elb.InternalError"

	// unused
	ReasonNotRegistered Reason = "Target.NotRegistered"
	ReasonNotInUse      Reason = "Target.NotInUse"
	ReasonInvalidState  Reason = "Target.InvalidState"
	ReasonIPUnusable    Reason = "Target.IpUnusable"

	// draining
	ReasonDeregistrationInProgress Reason = "Target.DeregistrationInProgress"

	// unavailable
	ReasonHealthCheckDisabled Reason = "Target.HealthCheckDisabled"
)

// Description returns the human-readable description ELB reports with the
// reason, as AWS writes it. ResponseCodeMismatch descriptions carry the
// codes seen (see [CheckError]); this returns the generic form for it. The
// empty Reason (a healthy target) has an empty description.
func (r Reason) Description() string {
	switch r {
	case ReasonRegistrationInProgress:
		return "Target registration is in progress"
	case ReasonInitialHealthChecking:
		return "Initial health checks in progress"
	case ReasonResponseCodeMismatch:
		return "Health checks failed with these codes: []"
	case ReasonTimeout:
		return "Request timed out"
	case ReasonFailedHealthChecks:
		return "Health checks failed"
	case ReasonInternalError:
		return "Health checks failed due to an internal error"
	case ReasonNotRegistered:
		return "Target is not registered to the target group"
	case ReasonNotInUse:
		return "Target group is not configured to receive traffic from the load balancer"
	case ReasonInvalidState:
		return "Target is in the stopped state"
	case ReasonIPUnusable:
		return "The target IP address is reserved for use by a load balancer"
	case ReasonDeregistrationInProgress:
		return "Target deregistration is in progress"
	case ReasonHealthCheckDisabled:
		return "Health checks are disabled"
	}
	return ""
}

// mismatchDescription is AWS's description for ResponseCodeMismatch: the
// codes the target answered with, e.g. "Health checks failed with these
// codes: [503]".
func mismatchDescription(code int) string {
	return fmt.Sprintf("Health checks failed with these codes: [%d]", code)
}

// Target identifies one backend of a Monitor. Targets are compared by value:
// registering the same Addr twice is one target.
type Target struct {
	// Addr is the target's traffic address, "host:port" ("10.0.0.7:8080",
	// "[fd00::7]:80"). Checkers probe this address, or its host at
	// Config.Port when that overrides the traffic port.
	Addr string
}

func (t Target) String() string { return t.Addr }

// TargetHealth is one target's health as DescribeTargetHealth reports it,
// plus what lbkit adds (outlier ejection, last probe).
type TargetHealth struct {
	Target Target
	State  State
	// Reason and Description explain State; both are empty for healthy.
	Reason      Reason
	Description string
	// Ejected reports that passive outlier detection ejected the target
	// (lbkit extension; ELB has no such state). An ejected target is not
	// Available even when healthy. EjectedUntil is when it returns.
	Ejected      bool
	EjectedUntil time.Time
	// LastProbe is when the last active check finished (zero if none).
	LastProbe time.Time
	// Since is when State last changed.
	Since time.Time
}

// Available reports whether traffic may be sent to the target: healthy and
// not ejected, or health checks disabled (unavailable, as ELB routes to
// such targets) and not ejected.
func (h TargetHealth) Available() bool {
	if h.Ejected {
		return false
	}
	return h.State == StateHealthy || h.State == StateUnavailable
}

// Event is one transition of a target: its state, reason or ejection
// changed. Probes that change nothing produce no Event.
type Event struct {
	Time time.Time
	Old  TargetHealth
	New  TargetHealth
}

func (e Event) String() string {
	return fmt.Sprintf("%s: %s -> %s (%s)", e.New.Target, describe(e.Old), describe(e.New), e.New.Description)
}

func describe(h TargetHealth) string {
	s := string(h.State)
	if h.Reason != "" {
		s += "/" + string(h.Reason)
	}
	if h.Ejected {
		s += "+ejected"
	}
	return s
}
