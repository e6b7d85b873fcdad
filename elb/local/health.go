package local

import (
	"fmt"
	"sort"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/healthcheck"
	"github.com/lbkit/lbkit/lb"
)

// TargetHealth is one target's health as DescribeTargetHealth reports it.
type TargetHealth struct {
	// Target is the registration (zero ID for a draining address no longer
	// in the spec).
	Target elb.Target
	// Addr is the address the target is dialled at.
	Addr string
	// State is initial, healthy, unhealthy, unused, draining or
	// unavailable; Reason and Description explain every state but
	// healthy, with ELB's codes (Elb.InitialHealthChecking,
	// Target.Timeout, Target.DeregistrationInProgress, …).
	State       string
	Reason      string
	Description string
	// InFlight is the number of requests or connections in progress.
	InFlight int64
}

// TargetGroupNotFoundError is returned by TargetHealth for a target group
// that is not running.
type TargetGroupNotFoundError struct{ Name string }

func (e *TargetGroupNotFoundError) Error() string {
	return fmt.Sprintf("local: target group %q is not in the running stack", e.Name)
}

// TargetHealth reports the health of every target of target group name
// (its Name or ARN), draining ones included, sorted by address.
func (s *Stack) TargetHealth(name string) ([]TargetHealth, error) {
	s.mu.Lock()
	g := s.groups[name]
	if g == nil {
		for _, x := range s.groups {
			if x.spec.ARN != "" && x.spec.ARN == name {
				g = x
			}
		}
	}
	s.mu.Unlock()
	if g == nil {
		return nil, &TargetGroupNotFoundError{Name: name}
	}
	return g.health(), nil
}

func (g *group) health() []TargetHealth {
	mon := g.tg.HealthMonitor()
	var out []TargetHealth
	for _, ts := range g.tg.Targets() {
		th := TargetHealth{Target: g.addrs[ts.Addr], Addr: ts.Addr, InFlight: ts.InFlight}
		switch {
		case ts.Health == lb.HealthDraining:
			th.State, th.Reason = string(healthcheck.StateDraining), string(healthcheck.ReasonDeregistrationInProgress)
			th.Description = "Target deregistration is in progress"
		case mon != nil:
			h := mon.Health(healthcheck.Target{Addr: ts.Addr})
			th.State, th.Reason, th.Description = string(h.State), string(h.Reason), h.Description
		default:
			th.State, th.Reason = string(healthcheck.StateUnavailable), string(healthcheck.ReasonHealthCheckDisabled)
			th.Description = "Health checks are disabled"
		}
		if th.State == "" { // the monitor does not know it yet
			th.State, th.Reason = string(healthcheck.StateInitial), string(healthcheck.ReasonRegistrationInProgress)
		}
		out = append(out, th)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr < out[j].Addr })
	return out
}
