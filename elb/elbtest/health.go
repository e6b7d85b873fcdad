package elbtest

import (
	"sync"
	"time"
)

// Target health states and reason codes, as ELBv2 puts them on the wire
// (types.TargetHealthStateEnum / TargetHealthReasonEnum).
const (
	StateInitial     = "initial"
	StateHealthy     = "healthy"
	StateUnhealthy   = "unhealthy"
	StateUnused      = "unused"
	StateDraining    = "draining"
	StateUnavailable = "unavailable"

	ReasonRegistrationInProgress   = "Elb.RegistrationInProgress"
	ReasonInitialHealthChecking    = "Elb.InitialHealthChecking"
	ReasonResponseCodeMismatch     = "Target.ResponseCodeMismatch"
	ReasonTimeout                  = "Target.Timeout"
	ReasonFailedHealthChecks       = "Target.FailedHealthChecks"
	ReasonInternalError            = "Elb.InternalError"
	ReasonNotRegistered            = "Target.NotRegistered"
	ReasonNotInUse                 = "Target.NotInUse"
	ReasonDeregistrationInProgress = "Target.DeregistrationInProgress"
	ReasonHealthCheckDisabled      = "Target.HealthCheckDisabled"
)

// Health is the health of one target as DescribeTargetHealth reports it.
// A healthy target has no Reason or Description.
type Health struct {
	State       string
	Reason      string
	Description string
}

// HealthCheck is a target group's health check settings.
type HealthCheck struct {
	Protocol           string
	Port               string // "traffic-port" or a number
	Path               string
	Interval, Timeout  time.Duration
	HealthyThreshold   int
	UnhealthyThreshold int
	Matcher            string
}

// HealthQuery asks for the health of one registered target of a target
// group that a load balancer uses. States the endpoint decides itself —
// draining, unused (not registered, group not in use) and unavailable
// (health checks disabled) — never reach a HealthSource.
type HealthQuery struct {
	TargetGroupARN string
	TargetType     string // instance, ip, lambda, alb
	TargetID       string
	Port           int32
	HealthCheck    HealthCheck
	// Since is when health checking of this target started: the later of
	// its registration and the moment a load balancer began using the
	// group.
	Since time.Time
	Now   time.Time
}

// HealthSource decides target health. The default, [Simulated], follows
// the health check settings on the endpoint's clock; a live mode plugs in
// real health checks against real targets. TargetHealth is called with
// the state read-locked, possibly concurrently: it must not block or call
// back into the Server.
type HealthSource interface {
	TargetHealth(q HealthQuery) Health
}

// Simulated is the default HealthSource: a registered target is
// "initial" (Elb.RegistrationInProgress for the first interval, then
// Elb.InitialHealthChecking) until HealthyThreshold intervals have passed,
// then "healthy". A target marked failing with Fail becomes "unhealthy"
// after UnhealthyThreshold intervals, and healthy again HealthyThreshold
// intervals after Recover. The zero value is ready; it is safe for
// concurrent use.
type Simulated struct {
	mu    sync.Mutex
	marks map[simKey]simMark
}

type simKey struct {
	id   string
	port int32
}

type simMark struct {
	failing bool
	at      time.Time
	reason  string
}

var _ HealthSource = (*Simulated)(nil)

// Fail marks target id:port as failing its health checks from time at
// (use the endpoint's clock), with reason (Target.Timeout,
// Target.ResponseCodeMismatch, …; "" means Target.FailedHealthChecks). A
// port of 0 matches every port of the target.
func (m *Simulated) Fail(id string, port int32, reason string, at time.Time) {
	if reason == "" {
		reason = ReasonFailedHealthChecks
	}
	m.set(id, port, simMark{failing: true, at: at, reason: reason})
}

// Recover marks target id:port as passing its health checks again from
// time at.
func (m *Simulated) Recover(id string, port int32, at time.Time) {
	m.set(id, port, simMark{failing: false, at: at})
}

func (m *Simulated) set(id string, port int32, mark simMark) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.marks == nil {
		m.marks = map[simKey]simMark{}
	}
	m.marks[simKey{id, port}] = mark
}

func (m *Simulated) mark(id string, port int32) (simMark, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mk, ok := m.marks[simKey{id, port}]; ok {
		return mk, true
	}
	mk, ok := m.marks[simKey{id, 0}]
	return mk, ok
}

var descriptions = map[string]string{
	ReasonRegistrationInProgress:   "Target registration is in progress",
	ReasonInitialHealthChecking:    "Initial health checks in progress",
	ReasonResponseCodeMismatch:     "Health checks failed with these codes: [502]",
	ReasonTimeout:                  "Request timed out",
	ReasonFailedHealthChecks:       "Health checks failed",
	ReasonInternalError:            "Health checks failed due to an internal error",
	ReasonNotRegistered:            "Target is not registered to the target group",
	ReasonNotInUse:                 "Target group is not configured to receive traffic from the load balancer",
	ReasonDeregistrationInProgress: "Target deregistration is in progress",
	ReasonHealthCheckDisabled:      "Health checks are disabled",
}

func healthWith(state, reason string) Health {
	return Health{State: state, Reason: reason, Description: descriptions[reason]}
}

// TargetHealth implements HealthSource.
func (m *Simulated) TargetHealth(q HealthQuery) Health {
	hc := q.HealthCheck
	interval := hc.Interval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	rise := time.Duration(max(hc.HealthyThreshold, 1)) * interval
	fall := time.Duration(max(hc.UnhealthyThreshold, 1)) * interval
	elapsed := q.Now.Sub(q.Since)
	mk, marked := m.mark(q.TargetID, q.Port)
	if marked && !mk.at.After(q.Now) {
		since := q.Now.Sub(mk.at)
		if mk.failing {
			if elapsed < rise {
				// Never became healthy: it leaves initial as unhealthy
				// once the unhealthy threshold is reached.
				if q.Now.Sub(maxTime(mk.at, q.Since)) >= fall {
					return healthWith(StateUnhealthy, mk.reason)
				}
				return initialHealth(elapsed, interval)
			}
			if since >= fall {
				return healthWith(StateUnhealthy, mk.reason)
			}
			return Health{State: StateHealthy}
		}
		// Recovering: unhealthy until the healthy threshold passes.
		if since < rise && elapsed >= rise {
			return healthWith(StateUnhealthy, ReasonFailedHealthChecks)
		}
	}
	if elapsed < rise {
		return initialHealth(elapsed, interval)
	}
	return Health{State: StateHealthy}
}

func initialHealth(elapsed, interval time.Duration) Health {
	if elapsed < interval {
		return healthWith(StateInitial, ReasonRegistrationInProgress)
	}
	return healthWith(StateInitial, ReasonInitialHealthChecking)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
