package dsr

import (
	"context"
	"net/netip"

	"github.com/lbkit/lbkit/healthcheck"
)

// HealthOptions says how [Forwarder.FollowHealth] maps target health to
// the backend set.
type HealthOptions struct {
	// Port is the port probed on each backend's own address: the
	// healthcheck target of a backend is Addr:Port. Required.
	Port uint16
	// RemoveUnhealthy removes a backend that is not available, so its
	// flows move at their next packet (as to a dead server). False drains
	// it instead: no new flows, and existing flows stay, as an NLB does
	// with connection termination off.
	RemoveUnhealthy bool
}

// FollowHealth registers every backend with m (target Addr:Port) and,
// until ctx is done, sets the forwarder's backends after each health
// transition: available targets with their weight, the others drained or
// removed (HealthOptions.RemoveUnhealthy). When no backend is available it
// fails open to all of them, as ELB does. A failing SetBackends (a backend
// that does not answer ARP) is logged and retried at the next transition.
// It returns nil when ctx is done; run m.Run alongside it.
func (f *Forwarder) FollowHealth(ctx context.Context, m *healthcheck.Monitor, backends []Backend, opts HealthOptions) error {
	target := func(b Backend) healthcheck.Target {
		return healthcheck.Target{Addr: netip.AddrPortFrom(b.Addr, opts.Port).String()}
	}
	for _, b := range backends {
		m.Register(target(b))
	}
	updates := make(chan *healthcheck.Snapshot, 1)
	cancel := m.Subscribe(func(u healthcheck.Update) {
		// Keep only the newest snapshot; never block the monitor.
		for {
			select {
			case updates <- u.Snapshot:
				return
			default:
				select {
				case <-updates:
				default:
				}
			}
		}
	})
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return nil
		case s := <-updates:
			set := healthySet(s, backends, target, opts.RemoveUnhealthy)
			if err := f.SetBackends(ctx, set); err != nil && ctx.Err() == nil {
				f.log.Warn("dsr: applying health", "err", err)
			}
		}
	}
}

func healthySet(s *healthcheck.Snapshot, backends []Backend, target func(Backend) healthcheck.Target, remove bool) []Backend {
	var set []Backend
	anyUp := false
	for _, b := range backends {
		h, ok := s.Health(target(b))
		if ok && h.Available() {
			anyUp = true
			set = append(set, b)
		} else if !remove {
			b.Weight = 0
			set = append(set, b)
		}
	}
	if !anyUp {
		return backends // fail open
	}
	return set
}
