package healthcheck

import (
	"slices"
	"strings"
)

// Snapshot is an immutable view of a Monitor's targets at one instant,
// sorted by address. Its methods are safe for concurrent use.
type Snapshot struct {
	// Version counts the transitions the Monitor had made when the
	// snapshot was taken; a larger Version is a newer snapshot.
	Version uint64
	targets []TargetHealth
}

// Len returns the number of registered targets (draining included).
func (s *Snapshot) Len() int { return len(s.targets) }

// Targets returns a copy of every target's health, sorted by address.
func (s *Snapshot) Targets() []TargetHealth { return slices.Clone(s.targets) }

// Health returns t's health and whether t is registered.
func (s *Snapshot) Health(t Target) (TargetHealth, bool) {
	i, ok := slices.BinarySearchFunc(s.targets, t.Addr, func(h TargetHealth, addr string) int {
		return strings.Compare(h.Target.Addr, addr)
	})
	if !ok {
		return TargetHealth{}, false
	}
	return s.targets[i], true
}

// Available returns the targets that may receive traffic (see
// [TargetHealth.Available]), sorted by address, in a new slice. It does
// not fail open: when every target is unhealthy it returns none, and
// fail-open (ELB routes to all targets then) is the balancer's choice,
// made with [Snapshot.Registered].
func (s *Snapshot) Available() []Target {
	out := make([]Target, 0, len(s.targets))
	for _, h := range s.targets {
		if h.Available() {
			out = append(out, h.Target)
		}
	}
	return out
}

// Registered returns the targets that are registered and not draining
// (initial, healthy, unhealthy, unused, unavailable): the set ELB fails
// open to when none is healthy.
func (s *Snapshot) Registered() []Target {
	out := make([]Target, 0, len(s.targets))
	for _, h := range s.targets {
		if h.State != StateDraining {
			out = append(out, h.Target)
		}
	}
	return out
}

// Count returns how many targets are in state st.
func (s *Snapshot) Count(st State) int {
	n := 0
	for _, h := range s.targets {
		if h.State == st {
			n++
		}
	}
	return n
}
