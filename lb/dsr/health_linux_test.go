package dsr

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/lbkit/lbkit/healthcheck"
)

// TestNamespacesHealth: backends are health-checked on their own
// addresses from the balancer's namespace; one that fails its checks is
// drained (its flows stay, new flows avoid it) and comes back when healthy.
func TestNamespacesHealth(t *testing.T) {
	tp := newTopo(t, ModeL2)
	// Health endpoints on each backend's own address, port 8080.
	health := make([]net.Listener, len(tp.bs))
	listen := func(i int) {
		t.Helper()
		err := tp.bs[i].Do(func() (err error) {
			health[i], err = net.Listen("tcp4", netip.AddrPortFrom(tp.addrs[i], 8080).String())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		go func(ln net.Listener) {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}(health[i])
	}
	for i := range tp.bs {
		listen(i)
	}
	t.Cleanup(func() {
		for _, ln := range health {
			ln.Close()
		}
	})

	cfg := healthcheck.DefaultConfig(healthcheck.TCP)
	cfg.Interval, cfg.Timeout = 100*time.Millisecond, 50*time.Millisecond
	cfg.HealthyThreshold, cfg.UnhealthyThreshold = 2, 2
	limits := healthcheck.AWSLimits()
	limits.MinInterval, limits.MinTimeout, limits.WholeSeconds = time.Millisecond, time.Millisecond, false
	// Probes dial from the balancer's namespace, as a balancer host would.
	checker := healthcheck.CheckerFunc(func(ctx context.Context, tg healthcheck.Target) error {
		var c net.Conn
		err := tp.lb.Do(func() (err error) {
			c, err = (&net.Dialer{}).DialContext(ctx, "tcp4", tg.Addr)
			return err
		})
		if err == nil {
			c.Close()
		}
		return err
	})
	m, err := healthcheck.NewMonitor(cfg, healthcheck.Options{Checker: checker, Limits: &limits})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { m.Run(ctx); done <- struct{}{} }()
	backends := []Backend{{Addr: tp.addrs[0], Weight: 1}, {Addr: tp.addrs[1], Weight: 1}, {Addr: tp.addrs[2], Weight: 1}}
	go func() { tp.fw.FollowHealth(ctx, m, backends, HealthOptions{Port: 8080}); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })

	weights := func() [3]uint32 {
		var w [3]uint32
		for _, b := range tp.fw.Stats().Backends {
			for i, a := range tp.addrs {
				if b.Addr == a {
					w[i] = b.Weight
				}
			}
		}
		return w
	}
	waitFor := func(want [3]uint32) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for weights() != want {
			if time.Now().After(deadline) {
				t.Fatalf("backend weights %v, want %v within 15s", weights(), want)
			}
			time.Sleep(20 * time.Millisecond) // polling a condition, with a bound
		}
	}
	waitFor([3]uint32{1, 1, 1})
	cs, on := openFlows(t, tp, 30)

	health[1].Close() // b2 fails its checks
	waitFor([3]uint32{1, 0, 1})
	for i, c := range cs {
		if b, _, err := c.ask(); err != nil || b != on[i] {
			t.Fatalf("flow %d on %s: now %q, %v (a drained backend keeps its flows)", i, on[i], b, err)
		}
	}
	if n := tp.newFlows(t, 100)["b2"]; n != 0 {
		t.Fatalf("%d new flows reached the unhealthy backend", n)
	}
	listen(1) // b2 recovers
	waitFor([3]uint32{1, 1, 1})
	if n := tp.newFlows(t, 150)["b2"]; n == 0 {
		t.Fatal("no new flow reached b2 after it recovered")
	}
}
