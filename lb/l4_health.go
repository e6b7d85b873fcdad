package lb

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/lbkit/lbkit/healthcheck"
)

// NLBHealthCheck returns NLB's default health check for an L4 target
// group checked over protocol (healthcheck.TCP, HTTP or HTTPS): interval
// 30 s, timeout 10 s (6 s for HTTP), healthy 5, unhealthy 2, matcher
// 200-399, traffic port. Put it in TargetGroupConfig.HealthCheck.
func NLBHealthCheck(protocol healthcheck.Protocol) *healthcheck.Config {
	c := healthcheck.DefaultNLBConfig(protocol)
	return &c
}

// NewL4HealthChecker returns the checker for an NLB target group's health
// check cfg (TCP, HTTP or HTTPS). With proxyProtocolV2 — the target
// group's proxy_protocol_v2.enabled — every check connection starts with a
// PROXY v2 LOCAL header, as NLB's do, so that targets which require the
// header accept the checks and can tell them from clients. Put it in
// TargetGroupConfig.HealthOptions.Checker.
func NewL4HealthChecker(cfg healthcheck.Config, proxyProtocolV2 bool) (healthcheck.Checker, error) {
	c, err := healthcheck.NewChecker(cfg)
	if err != nil || !proxyProtocolV2 {
		return c, err
	}
	switch c := c.(type) {
	case *healthcheck.TCPChecker:
		c.DialContext = dialWithLocalHeader
	case *healthcheck.HTTPChecker:
		c.DialContext = dialWithLocalHeader
	default:
		return nil, fmt.Errorf("%w: no PROXY protocol on %v health checks", ErrL4Config, cfg.Protocol)
	}
	return c, nil
}

// dialWithLocalHeader dials a health check connection and writes the v2
// LOCAL header on it.
func dialWithLocalHeader(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{KeepAlive: -1}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if err := writeProxyV2Local(ctx, c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// UnhealthyPolicy is what an L4 listener does with the open connections
// (or UDP flows) of a target that its health checks mark unhealthy: NLB's
// target_health_state.unhealthy.* attributes.
type UnhealthyPolicy struct {
	// KeepConnections keeps them open instead of resetting them at once
	// (NLB's unhealthy.connection_termination.enabled = false; by default
	// NLB, and this listener, terminate them).
	KeepConnections bool
	// DrainingInterval, with KeepConnections, resets them after this long
	// if the target is still unhealthy (NLB's
	// unhealthy.draining_interval_seconds). Zero keeps them until they end.
	DrainingInterval time.Duration
}

// When the target group's health check sets
// healthcheck.Config.KeepUnhealthyConnections and UnhealthyDrainingInterval,
// its monitor reports NLB's unhealthy.draining state itself: the listener
// keeps the target's connections while it lasts and resets them when it
// ends in unhealthy, whatever its UnhealthyPolicy says (the policy still
// applies to targets that turn unhealthy without draining, and to ejections).

// l4UnhealthyWatch resets the connections of targets that become
// unhealthy, per policy, until stop is called. It follows the group's
// health monitor; without health checks it does nothing. While the group
// fails open (no healthy target) nothing is reset: the connections would
// only be re-established to unhealthy targets.
type l4UnhealthyWatch struct {
	tg     *TargetGroup
	policy UnhealthyPolicy
	reset  func(target string) int
	log    func(target string, n int)

	mu     sync.Mutex
	timers map[string]*time.Timer
	closed bool
}

func watchUnhealthy(tg *TargetGroup, policy UnhealthyPolicy, reset func(string) int, log func(string, int)) (stop func()) {
	m := tg.HealthMonitor()
	monitorDrains := false
	if m != nil {
		c := m.Config()
		monitorDrains = c.KeepUnhealthyConnections && c.UnhealthyDrainingInterval > 0
	}
	if m == nil || (policy.KeepConnections && policy.DrainingInterval <= 0 && !monitorDrains) {
		return func() {}
	}
	w := &l4UnhealthyWatch{tg: tg, policy: policy, reset: reset, log: log, timers: map[string]*time.Timer{}}
	cancel := m.Subscribe(w.onUpdate)
	return func() {
		cancel()
		w.mu.Lock()
		w.closed = true
		for _, t := range w.timers {
			t.Stop()
		}
		w.mu.Unlock()
	}
}

func (w *l4UnhealthyWatch) onUpdate(u healthcheck.Update) {
	for _, e := range u.Events {
		addr := e.New.Target.Addr
		unhealthy := e.New.State == healthcheck.StateUnhealthy || e.New.Ejected
		if !unhealthy {
			// unhealthy.draining included: the health monitor itself keeps
			// the target's connections for its UnhealthyDrainingInterval.
			w.cancelTimer(addr)
			continue
		}
		if e.Old.State == e.New.State && e.Old.Ejected == e.New.Ejected {
			continue
		}
		if !w.policy.KeepConnections || e.Old.State == healthcheck.StateUnhealthyDraining {
			// The monitor's unhealthy.draining is over: NLB terminates
			// the connections then, whatever the listener's policy.
			w.resetIfUnhealthy(addr)
			continue
		}
		w.mu.Lock()
		if !w.closed && w.timers[addr] == nil {
			w.timers[addr] = time.AfterFunc(w.policy.DrainingInterval, func() {
				w.mu.Lock()
				delete(w.timers, addr)
				closed := w.closed
				w.mu.Unlock()
				if !closed {
					w.resetIfUnhealthy(addr)
				}
			})
		}
		w.mu.Unlock()
	}
}

func (w *l4UnhealthyWatch) cancelTimer(addr string) {
	w.mu.Lock()
	if t := w.timers[addr]; t != nil {
		t.Stop()
		delete(w.timers, addr)
	}
	w.mu.Unlock()
}

func (w *l4UnhealthyWatch) resetIfUnhealthy(addr string) {
	if w.tg.FailingOpen() {
		return
	}
	for _, ts := range w.tg.Targets() {
		if ts.Addr == addr && ts.Health == HealthUnhealthy {
			if n := w.reset(addr); n > 0 && w.log != nil {
				w.log(addr, n)
			}
			return
		}
	}
}
