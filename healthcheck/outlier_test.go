package healthcheck

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// outlierHarness runs a Monitor with checks disabled (targets unavailable,
// so routable) and outlier detection on, on a fake clock.
type outlierHarness struct {
	*harness
	targets []Target
}

func startOutlier(t *testing.T, n int, oc OutlierConfig) *outlierHarness {
	t.Helper()
	cfg := DefaultConfig(HTTP)
	cfg.Disabled = true
	h := startMonitor(t, cfg, Options{Outlier: &oc})
	var ts []Target
	for i := range n {
		ts = append(ts, Target{Addr: fmt.Sprintf("10.0.0.%d:80", i+1)})
	}
	h.m.Register(ts...)
	// Wait until the scheduler has armed the first sweep, so that clock
	// advances are measured from registration.
	waitFor(t, "scheduler", func() bool {
		h.m.mu.RLock()
		defer h.m.mu.RUnlock()
		return !h.m.outlier.nextTick.IsZero()
	})
	return &outlierHarness{harness: h, targets: ts}
}

// sweep advances the clock by d, which must reach the next sweep, and waits
// for it.
func (h *outlierHarness) sweep(d time.Duration) {
	h.t.Helper()
	n := h.m.outlier.sweeps.Load()
	h.clk.Advance(d)
	waitFor(h.t, "sweep", func() bool { return h.m.outlier.sweeps.Load() > n })
}

func (h *outlierHarness) report(t Target, n int, r Result) {
	for range n {
		h.m.Report(t, r)
	}
}

func (h *outlierHarness) ejected(t Target) bool { return h.m.Health(t).Ejected }

func TestOutlierConsecutive5xx(t *testing.T) {
	oc := DefaultOutlierConfig()
	h := startOutlier(t, 10, oc)
	a := h.targets[0]
	h.report(a, 4, Result{Status: 500})
	h.report(a, 1, Result{Status: 200})
	h.report(a, 4, Result{Status: 503})
	if h.ejected(a) {
		t.Fatal("ejected although a success broke the run")
	}
	h.report(a, 1, Result{Err: syscall.ECONNREFUSED}) // local-origin errors count as 5xx
	th := h.m.Health(a)
	if !th.Ejected || th.Available() || th.State != StateUnavailable {
		t.Fatalf("after 5 consecutive failures: %+v", th)
	}
	if want := h.clk.Now().Add(30 * time.Second); !th.EjectedUntil.Equal(want) {
		t.Fatalf("EjectedUntil %v, want %v", th.EjectedUntil, want)
	}
	if av := h.m.Snapshot().Available(); len(av) != 9 {
		t.Fatalf("%d available, want 9", len(av))
	}
	h.sweep(10 * time.Second)
	h.sweep(10 * time.Second)
	if !h.ejected(a) {
		t.Fatal("returned before the base ejection time")
	}
	h.sweep(10 * time.Second)
	if h.ejected(a) {
		t.Fatal("still ejected after the base ejection time")
	}
	// Second ejection lasts twice as long.
	h.report(a, 5, Result{Status: 502})
	if th := h.m.Health(a); !th.Ejected || !th.EjectedUntil.Equal(h.clk.Now().Add(60*time.Second)) {
		t.Fatalf("second ejection: %+v", th)
	}
}

func TestOutlierEjectionTimeCapAndDecay(t *testing.T) {
	oc := DefaultOutlierConfig()
	oc.MaxEjectionTime = 45 * time.Second
	h := startOutlier(t, 10, oc)
	a := h.targets[0]
	eject := func(wantFor time.Duration) {
		t.Helper()
		h.report(a, 5, Result{Status: 500})
		th := h.m.Health(a)
		if !th.Ejected || th.EjectedUntil.Sub(h.clk.Now()) != wantFor {
			t.Fatalf("ejected %v until +%v, want +%v", th.Ejected, th.EjectedUntil.Sub(h.clk.Now()), wantFor)
		}
		for h.ejected(a) {
			h.sweep(10 * time.Second)
		}
	}
	eject(30 * time.Second)
	eject(45 * time.Second) // 60 s capped
	eject(45 * time.Second) // 90 s capped
	// Staying in for intervals relaxes the multiplier back to base.
	for range 5 {
		h.sweep(10 * time.Second)
	}
	eject(30 * time.Second)
}

func TestOutlierGatewayFailure(t *testing.T) {
	oc := DefaultOutlierConfig()
	oc.Consecutive5xx = 0
	h := startOutlier(t, 10, oc)
	a := h.targets[0]
	h.report(a, 10, Result{Status: 503})
	if h.ejected(a) {
		t.Fatal("gateway failures ejected with enforcement 0 (Envoy's default)")
	}
	oc.EnforcingConsecutiveGatewayFailure = 100
	h = startOutlier(t, 10, oc)
	a = h.targets[0]
	h.report(a, 10, Result{Status: 500})
	if h.ejected(a) {
		t.Fatal("500 counted as a gateway failure")
	}
	h.report(a, 5, Result{Status: 504})
	if !h.ejected(a) {
		t.Fatal("5 consecutive 504 did not eject")
	}
}

func TestOutlierMaxEjectionPercent(t *testing.T) {
	tests := []struct {
		hosts, pct, wantEjected int
	}{
		{10, 10, 1},
		{10, 30, 3},
		{1, 10, 1}, // one target is always ejectable
		{3, 0, 1},
		{20, 100, 20},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d hosts %d%%", tc.hosts, tc.pct), func(t *testing.T) {
			oc := DefaultOutlierConfig()
			oc.MaxEjectionPercent = tc.pct
			h := startOutlier(t, tc.hosts, oc)
			for _, tg := range h.targets {
				h.report(tg, 5, Result{Status: 500})
			}
			n := 0
			for _, tg := range h.targets {
				if h.ejected(tg) {
					n++
				}
			}
			if n != tc.wantEjected {
				t.Fatalf("%d ejected, want %d", n, tc.wantEjected)
			}
		})
	}
}

func TestOutlierSuccessRate(t *testing.T) {
	oc := DefaultOutlierConfig()
	oc.Consecutive5xx = 0
	h := startOutlier(t, 10, oc)
	bad := h.targets[3]
	for _, tg := range h.targets {
		h.report(tg, 200, Result{Status: 200})
	}
	h.report(bad, 200, Result{Status: 500}) // 50% success
	h.sweep(10 * time.Second)
	for _, tg := range h.targets {
		if h.ejected(tg) != (tg == bad) {
			t.Fatalf("%v ejected=%v", tg, h.ejected(tg))
		}
	}

	t.Run("below the request volume nothing happens", func(t *testing.T) {
		h := startOutlier(t, 10, oc)
		for _, tg := range h.targets {
			h.report(tg, 50, Result{Status: 200})
		}
		h.report(h.targets[0], 40, Result{Status: 500})
		h.sweep(10 * time.Second)
		if h.ejected(h.targets[0]) {
			t.Fatal("ejected below SuccessRateRequestVolume")
		}
	})
	t.Run("too few hosts", func(t *testing.T) {
		h := startOutlier(t, 4, oc)
		for _, tg := range h.targets {
			h.report(tg, 200, Result{Status: 200})
		}
		h.report(h.targets[0], 200, Result{Status: 500})
		h.sweep(10 * time.Second)
		if h.ejected(h.targets[0]) {
			t.Fatal("ejected with fewer than SuccessRateMinimumHosts")
		}
	})
}

func TestOutlierFailurePercentage(t *testing.T) {
	oc := DefaultOutlierConfig()
	oc.Consecutive5xx = 0
	oc.EnforcingSuccessRate = 0
	oc.MaxEjectionPercent = 100
	oc.EnforcingFailurePercentage = 100
	h := startOutlier(t, 6, oc)
	for i, tg := range h.targets {
		h.report(tg, 50, Result{Status: 200})
		fails := []int{0, 10, 283, 284, 500, 1000}[i] // 283/333 = 84.98%; 284/334 = 85.03%
		for range fails {
			h.m.Report(tg, Result{Status: 500})
		}
	}
	h.sweep(10 * time.Second)
	var got []bool
	for _, tg := range h.targets {
		got = append(got, h.ejected(tg))
	}
	want := []bool{false, false, false, true, true, true}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ejected %v, want %v", got, want)
	}
}

func TestOutlierActiveSuccessUnejects(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("keep=%v", keep), func(t *testing.T) {
			srv := newFlipServer(t, 200)
			oc := DefaultOutlierConfig()
			oc.KeepEjectedOnActiveSuccess = keep
			cfg := DefaultConfig(HTTP)
			cfg.Interval = 5 * time.Second
			cfg.Timeout = 2 * time.Second
			h := startMonitor(t, cfg, Options{Outlier: &oc})
			tg := srv.target()
			h.m.Register(tg)
			h.waitProbes(1)
			for range 5 {
				h.m.Report(tg, Result{Status: 500})
			}
			if !h.m.Health(tg).Ejected {
				t.Fatal("not ejected")
			}
			h.tick(1) // a successful active check
			if got := h.m.Health(tg).Ejected; got != keep {
				t.Fatalf("after an active success: ejected=%v, want %v", got, keep)
			}
		})
	}
}

func TestOutlierOffAndUnknown(t *testing.T) {
	m, err := NewMonitor(DefaultConfig(HTTP), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tg := Target{Addr: "10.0.0.1:80"}
	m.Register(tg)
	for range 100 {
		m.Report(tg, Result{Status: 500})
	}
	if m.Health(tg).Ejected {
		t.Fatal("ejected without outlier detection")
	}
	oc := DefaultOutlierConfig()
	m, err = NewMonitor(DefaultConfig(HTTP), Options{Outlier: &oc})
	if err != nil {
		t.Fatal(err)
	}
	m.Report(Target{Addr: "10.9.9.9:80"}, Result{Status: 500}) // unknown: ignored
}

func TestOutlierDeregisterEjected(t *testing.T) {
	oc := DefaultOutlierConfig()
	h := startOutlier(t, 10, oc)
	a, b := h.targets[0], h.targets[1]
	h.report(a, 5, Result{Status: 500})
	h.m.Deregister(a)
	h.m.Drained(a)
	// The ejection slot is free again.
	h.report(b, 5, Result{Status: 500})
	if !h.ejected(b) {
		t.Fatal("a removed ejected target still counts against MaxEjectionPercent")
	}
}

func TestOutlierValidate(t *testing.T) {
	if err := DefaultOutlierConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		mod   func(*OutlierConfig)
		field string
	}{
		{"interval", func(c *OutlierConfig) { c.Interval = 0 }, "Outlier.Interval"},
		{"base", func(c *OutlierConfig) { c.BaseEjectionTime = -1 }, "Outlier.BaseEjectionTime"},
		{"max below base", func(c *OutlierConfig) { c.MaxEjectionTime = time.Second }, "Outlier.MaxEjectionTime"},
		{"percent", func(c *OutlierConfig) { c.MaxEjectionPercent = 101 }, "Outlier.MaxEjectionPercent"},
		{"enforcing", func(c *OutlierConfig) { c.EnforcingSuccessRate = -1 }, "Outlier.EnforcingSuccessRate"},
		{"negative", func(c *OutlierConfig) { c.Consecutive5xx = -1 }, "Outlier.Consecutive5xx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultOutlierConfig()
			tc.mod(&c)
			err := c.Validate()
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate = %v", err)
			}
			if _, err := NewMonitor(DefaultConfig(HTTP), Options{Outlier: &c}); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("NewMonitor = %v", err)
			}
		})
	}
}
