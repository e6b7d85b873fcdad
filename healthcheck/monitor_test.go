package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

type want struct {
	state  State
	reason Reason
}

func TestStateMachineThresholds(t *testing.T) {
	H, U, I := StateHealthy, StateUnhealthy, StateInitial
	mis := ReasonResponseCodeMismatch
	tests := []struct {
		name               string
		healthy, unhealthy int
		codes              []int
		want               []want
	}{
		{
			name:  "one success after registration is healthy",
			codes: []int{200}, healthy: 5, unhealthy: 2,
			want: []want{{H, ""}},
		},
		{
			name:  "initial needs unhealthy-threshold failures",
			codes: []int{503, 503}, healthy: 5, unhealthy: 2,
			want: []want{{I, ReasonInitialHealthChecking}, {U, mis}},
		},
		{
			name:  "healthy falls after consecutive failures only",
			codes: []int{200, 500, 200, 500, 500}, healthy: 5, unhealthy: 2,
			want: []want{{H, ""}, {H, ""}, {H, ""}, {H, ""}, {U, mis}},
		},
		{
			name:  "unhealthy rises after healthy-threshold successes",
			codes: []int{503, 503, 200, 200, 503, 200, 200, 200}, healthy: 3, unhealthy: 2,
			want: []want{{I, ReasonInitialHealthChecking}, {U, mis}, {U, mis}, {U, mis}, {U, mis}, {U, mis}, {U, mis}, {H, ""}},
		},
		{
			name:  "thresholds of ten",
			codes: []int{200, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500}, healthy: 10, unhealthy: 10,
			want: []want{{H, ""}, {H, ""}, {H, ""}, {H, ""}, {H, ""}, {H, ""}, {H, ""}, {H, ""}, {H, ""}, {H, ""}, {U, mis}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFlipServer(t, tc.codes[0])
			cfg := DefaultConfig(HTTP)
			cfg.HealthyThreshold, cfg.UnhealthyThreshold = tc.healthy, tc.unhealthy
			h := startMonitor(t, cfg, Options{})
			tg := srv.target()
			h.m.Register(tg)
			if got := h.m.Health(tg); got.State != I || got.Reason != ReasonRegistrationInProgress {
				t.Fatalf("after Register: %+v", got)
			}
			for i, code := range tc.codes {
				srv.code.Store(int32(code))
				if i == 0 {
					h.waitProbes(1)
				} else {
					h.tick(1)
				}
				got := h.m.Health(tg)
				if got.State != tc.want[i].state || got.Reason != tc.want[i].reason {
					t.Fatalf("after probe %d (code %d): %s/%s, want %s/%s", i+1, code, got.State, got.Reason, tc.want[i].state, tc.want[i].reason)
				}
				if got.Reason == mis && code != 200 && got.Description != fmt.Sprintf("Health checks failed with these codes: [%d]", code) {
					t.Fatalf("description %q", got.Description)
				}
				if got.State == H && got.Description != "" {
					t.Fatalf("healthy target has description %q", got.Description)
				}
			}
		})
	}
}

func TestReasonsFromRealFailures(t *testing.T) {
	t.Run("connection refused is FailedHealthChecks", func(t *testing.T) {
		cfg := DefaultConfig(HTTP)
		h := startMonitor(t, cfg, Options{})
		tg := Target{Addr: closedAddr(t)}
		h.m.Register(tg)
		h.waitProbes(1)
		h.tick(1)
		got := h.m.Health(tg)
		if got.State != StateUnhealthy || got.Reason != ReasonFailedHealthChecks || got.Description != "Health checks failed" {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("slow answer is Timeout", func(t *testing.T) {
		srv := newFlipServer(t, 200)
		srv.block = make(chan struct{})
		defer close(srv.block)
		cfg := DefaultConfig(HTTP)
		cfg.Timeout = MinTimeout // real time: the probe deadline bounds real I/O
		cfg.UnhealthyThreshold = 2
		h := startMonitor(t, cfg, Options{})
		tg := srv.target()
		h.m.Register(tg)
		h.waitProbes(1)
		h.tick(1)
		got := h.m.Health(tg)
		if got.State != StateUnhealthy || got.Reason != ReasonTimeout || got.Description != "Request timed out" {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("TCP refused then accepted", func(t *testing.T) {
		srv := newFlipServer(t, 200)
		cfg := DefaultConfig(TCP)
		h := startMonitor(t, cfg, Options{})
		tg := Target{Addr: closedAddr(t)}
		ok := srv.target()
		h.m.Register(tg, ok)
		h.waitProbes(2)
		h.tick(2)
		if got := h.m.Health(tg); got.State != StateUnhealthy || got.Reason != ReasonFailedHealthChecks {
			t.Fatalf("closed port: %+v", got)
		}
		if got := h.m.Health(ok); got.State != StateHealthy {
			t.Fatalf("open port: %+v", got)
		}
	})
	t.Run("panicking checker is InternalError", func(t *testing.T) {
		cfg := DefaultConfig(TCP)
		h := startMonitor(t, cfg, Options{Checker: CheckerFunc(func(context.Context, Target) error { panic("boom") })})
		tg := Target{Addr: "127.0.0.1:1"}
		h.m.Register(tg)
		h.waitProbes(1)
		h.tick(1)
		if got := h.m.Health(tg); got.State != StateUnhealthy || got.Reason != ReasonInternalError {
			t.Fatalf("got %+v", got)
		}
	})
}

func TestDraining(t *testing.T) {
	srv := newFlipServer(t, 200)
	cfg := DefaultConfig(HTTP)
	cfg.DeregistrationDelay = 60 * time.Second
	var rec recorder
	h := startMonitor(t, cfg, Options{})
	h.m.Subscribe(rec.add)
	tg := srv.target()
	h.m.Register(tg)
	h.waitProbes(1)

	h.m.Deregister(tg)
	got := h.m.Health(tg)
	if got.State != StateDraining || got.Reason != ReasonDeregistrationInProgress || got.Description != "Target deregistration is in progress" {
		t.Fatalf("after Deregister: %+v", got)
	}
	if got.Available() {
		t.Fatal("draining target is available")
	}
	before := srv.requests.Load()
	h.clk.Advance(59 * time.Second)
	if got := h.m.Health(tg); got.State != StateDraining {
		t.Fatalf("before the delay: %+v", got)
	}
	h.clk.Advance(time.Second)
	waitFor(t, "removal", func() bool { return h.m.Health(tg).Reason == ReasonNotRegistered })
	if got := h.m.Health(tg); got.State != StateUnused || got.Description != "Target is not registered to the target group" {
		t.Fatalf("after the delay: %+v", got)
	}
	if srv.requests.Load() != before {
		t.Fatal("a draining target was probed")
	}
	waitFor(t, "removal event", func() bool {
		evs := rec.events()
		return len(evs) > 0 && evs[len(evs)-1].New.Reason == ReasonNotRegistered
	})
	if s := h.m.Snapshot(); s.Len() != 0 {
		t.Fatalf("snapshot still has %d targets", s.Len())
	}

	t.Run("Drained ends it early", func(t *testing.T) {
		h.m.Register(tg)
		h.m.Deregister(tg)
		h.m.Drained(tg)
		if got := h.m.Health(tg); got.State != StateUnused || got.Reason != ReasonNotRegistered {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("re-registering a draining target", func(t *testing.T) {
		h.m.Register(tg)
		h.m.Deregister(tg)
		h.m.Register(tg)
		if got := h.m.Health(tg); got.State != StateInitial || got.Reason != ReasonRegistrationInProgress {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("unknown targets are ignored", func(t *testing.T) {
		h.m.Deregister(Target{Addr: "127.0.0.1:9"})
		h.m.Drained(Target{Addr: "127.0.0.1:9"})
	})
}

func TestZeroDeregistrationDelay(t *testing.T) {
	cfg := DefaultConfig(TCP)
	cfg.DeregistrationDelay = 0
	m, err := NewMonitor(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tg := Target{Addr: "127.0.0.1:1"}
	m.Register(tg)
	m.Deregister(tg)
	if got := m.Health(tg); got.State != StateUnused || got.Reason != ReasonNotRegistered {
		t.Fatalf("got %+v", got)
	}
}

func TestNotInUseAndDisabled(t *testing.T) {
	srv := newFlipServer(t, 200)
	cfg := DefaultConfig(HTTP)
	h := startMonitor(t, cfg, Options{})
	tg := srv.target()
	h.m.SetInUse(false)
	h.m.Register(tg)
	got := h.m.Health(tg)
	if got.State != StateUnused || got.Reason != ReasonNotInUse || got.Available() {
		t.Fatalf("not in use: %+v", got)
	}
	h.clk.Advance(time.Hour)
	if n := srv.requests.Load(); n != 0 {
		t.Fatalf("unused target probed %d times", n)
	}
	h.m.SetInUse(true)
	if got := h.m.Health(tg); got.State != StateInitial || got.Reason != ReasonRegistrationInProgress {
		t.Fatalf("in use again: %+v", got)
	}
	waitFor(t, "healthy", func() bool { return h.m.Health(tg).State == StateHealthy })

	cfg.Disabled = true
	if err := h.m.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	got = h.m.Health(tg)
	if got.State != StateUnavailable || got.Reason != ReasonHealthCheckDisabled || got.Description != "Health checks are disabled" || !got.Available() {
		t.Fatalf("disabled: %+v", got)
	}
	n := srv.requests.Load()
	h.clk.Advance(time.Hour)
	if srv.requests.Load() != n {
		t.Fatal("disabled target probed")
	}
	cfg.Disabled = false
	if err := h.m.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "healthy", func() bool { return h.m.Health(tg).State == StateHealthy })

	bad := cfg
	bad.Interval = time.Second
	if err := h.m.SetConfig(bad); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("SetConfig(bad) = %v", err)
	}
	if h.m.Config() != cfg {
		t.Fatal("a rejected config changed the monitor")
	}
}

func TestUnknownTargetIsNotRegistered(t *testing.T) {
	m, err := NewMonitor(DefaultConfig(HTTP), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := m.Health(Target{Addr: "10.0.0.1:80"})
	if got.State != StateUnused || got.Reason != ReasonNotRegistered {
		t.Fatalf("got %+v", got)
	}
}

func TestSubscribeTransitionsOnly(t *testing.T) {
	srv := newFlipServer(t, 200)
	cfg := DefaultConfig(HTTP)
	cfg.HealthyThreshold = 2
	var rec recorder
	h := startMonitor(t, cfg, Options{})
	cancel := h.m.Subscribe(rec.add)
	defer cancel()
	waitFor(t, "first update", func() bool { return rec.last() != nil })
	if s := rec.last(); s.Len() != 0 || len(rec.events()) != 0 {
		t.Fatalf("first update: %d targets, %d events", s.Len(), len(rec.events()))
	}
	tg := srv.target()
	h.m.Register(tg)
	h.waitProbes(1)
	for range 5 { // steady healthy probes: no events
		h.tick(1)
	}
	srv.code.Store(500)
	h.tick(1)
	h.tick(1)
	srv.code.Store(200)
	h.tick(1)
	h.tick(1)
	wantSeq := []string{
		"unused/Target.NotRegistered -> initial/Elb.RegistrationInProgress",
		"initial/Elb.RegistrationInProgress -> healthy",
		"healthy -> unhealthy/Target.ResponseCodeMismatch",
		"unhealthy/Target.ResponseCodeMismatch -> healthy",
	}
	waitFor(t, "events", func() bool { return len(rec.events()) >= len(wantSeq) })
	evs := rec.events()
	if len(evs) != len(wantSeq) {
		t.Fatalf("got %d events: %v", len(evs), evs)
	}
	for i, ev := range evs {
		if got := describe(ev.Old) + " -> " + describe(ev.New); got != wantSeq[i] {
			t.Errorf("event %d: %s, want %s", i, got, wantSeq[i])
		}
	}
	s := rec.last()
	if av := s.Available(); len(av) != 1 || av[0] != tg {
		t.Fatalf("Available = %v", av)
	}
	if s.Version < 4 {
		t.Fatalf("Version %d", s.Version)
	}
	// The snapshot handed with the last event agrees with the event.
	if th, ok := s.Health(tg); !ok || th.State != StateHealthy {
		t.Fatalf("snapshot health %+v %v", th, ok)
	}
}

func TestSubscriberLateAndCancel(t *testing.T) {
	srv := newFlipServer(t, 200)
	h := startMonitor(t, DefaultConfig(HTTP), Options{})
	tg := srv.target()
	h.m.Register(tg)
	waitFor(t, "healthy", func() bool { return h.m.Health(tg).State == StateHealthy })
	var rec recorder
	cancel := h.m.Subscribe(rec.add)
	waitFor(t, "first update", func() bool { return rec.last() != nil })
	if th, _ := rec.last().Health(tg); th.State != StateHealthy || len(rec.events()) != 0 {
		t.Fatalf("late subscriber: %+v, %d events", th, len(rec.events()))
	}
	cancel()
	h.m.Deregister(tg)
	h.m.Drained(tg)
	// Deliveries are asynchronous: give the dispatcher a chance by
	// subscribing a second recorder and waiting for it.
	var rec2 recorder
	h.m.Subscribe(rec2.add)
	waitFor(t, "second subscriber", func() bool { return rec2.last() != nil })
	if n := len(rec.events()); n != 0 {
		t.Fatalf("cancelled subscriber got %d events", n)
	}
}

func TestRunOnceAndCleanStop(t *testing.T) {
	srv := newFlipServer(t, 200)
	m, err := NewMonitor(DefaultConfig(HTTP), Options{MaxConcurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	m.Register(srv.target())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	waitFor(t, "running", func() bool {
		m.mu.RLock()
		defer m.mu.RUnlock()
		return m.ran
	})
	if err := m.Run(ctx); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Run = %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// goleak in TestMain checks that no goroutine outlived Run.
}

func TestBoundedConcurrencyAndJitter(t *testing.T) {
	srv := newFlipServer(t, 200)
	var inFlight, peak atomic.Int32
	hc := &HTTPChecker{}
	defer hc.Close()
	checker := CheckerFunc(func(ctx context.Context, t Target) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		// All targets point at one real server; Target.Addr differs only
		// in name so each is its own target.
		return hc.Check(ctx, Target{Addr: srv.target().Addr})
	})
	cfg := DefaultConfig(HTTP)
	clk := newFakeClock()
	m, err := NewMonitor(cfg, Options{Checker: checker, Clock: clk, MaxConcurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		m.Register(Target{Addr: fmt.Sprintf("t%d:80", i)})
	}
	// Jitter: first probes spread over one interval.
	m.mu.Lock()
	start := clk.Now()
	var buckets [10]int
	for _, e := range m.targets {
		off := e.next.Sub(start)
		if off < 0 || off >= cfg.Interval {
			t.Errorf("first probe at +%v, outside [0, %v)", off, cfg.Interval)
		}
		buckets[off*10/cfg.Interval]++
	}
	m.mu.Unlock()
	for i, b := range buckets {
		if b == 0 || b > n/2 {
			t.Errorf("jitter bucket %d holds %d of %d first probes: %v", i, b, n, buckets)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	clk.Advance(cfg.Interval)
	waitFor(t, "all probed", func() bool { return m.probed.Load() >= n })
	cancel()
	<-done
	if p := peak.Load(); p > 4 || p < 1 {
		t.Fatalf("peak concurrency %d, want 1..4", p)
	}
	if s := m.Snapshot(); s.Count(StateHealthy) != n {
		t.Fatalf("%d healthy of %d", s.Count(StateHealthy), n)
	}
}

// TestUnhealthyDraining runs NLB's unhealthy.draining on a fake clock: a
// checker whose answers the test sets, an interval of 10 s and a draining
// interval of 25 s.
func TestUnhealthyDraining(t *testing.T) {
	const (
		ok   = true
		fail = false
	)
	H, U, D := StateHealthy, StateUnhealthy, StateUnhealthyDraining
	type step struct {
		probe   bool          // result of the probe this step runs (if advance is an interval)
		advance time.Duration // clock advance before looking; 10 s runs one probe
		want    State
	}
	tests := []struct {
		name     string
		keep     bool
		draining time.Duration
		steps    []step
	}{
		{
			name: "termination enabled: straight to unhealthy",
			keep: false,
			steps: []step{
				{fail, 10 * time.Second, H}, {fail, 10 * time.Second, U},
			},
		},
		{
			name: "termination disabled without interval: straight to unhealthy",
			keep: true,
			steps: []step{
				{fail, 10 * time.Second, H}, {fail, 10 * time.Second, U},
			},
		},
		{
			name: "draining interval ends between probes",
			keep: true, draining: 25 * time.Second,
			steps: []step{
				{fail, 10 * time.Second, H}, {fail, 10 * time.Second, D},
				{fail, 10 * time.Second, D}, {fail, 10 * time.Second, D},
				{fail, 5 * time.Second, U}, // 25 s after the transition, no probe
				{fail, 5 * time.Second, U},
			},
		},
		{
			name: "recovers during draining after the healthy threshold",
			keep: true, draining: 25 * time.Second,
			steps: []step{
				{fail, 10 * time.Second, H}, {fail, 10 * time.Second, D},
				{ok, 10 * time.Second, D}, {ok, 10 * time.Second, H},
				{ok, 30 * time.Second, H}, // the old deadline passes unnoticed
			},
		},
		{
			name: "draining interval ends on a probe",
			keep: true, draining: 20 * time.Second,
			steps: []step{
				{fail, 10 * time.Second, H}, {fail, 10 * time.Second, D},
				{fail, 10 * time.Second, D}, {fail, 10 * time.Second, U},
				{ok, 10 * time.Second, U}, {ok, 10 * time.Second, H},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var result atomic.Bool
			result.Store(true)
			checker := CheckerFunc(func(context.Context, Target) error {
				if result.Load() {
					return nil
				}
				return &CheckError{Reason: ReasonTimeout, Description: ReasonTimeout.Description()}
			})
			cfg := DefaultNLBConfig(TCP)
			cfg.Interval, cfg.HealthyThreshold, cfg.UnhealthyThreshold = 10*time.Second, 2, 2
			cfg.KeepUnhealthyConnections, cfg.UnhealthyDrainingInterval = tc.keep, tc.draining
			h := startMonitor(t, cfg, Options{Checker: checker})
			rec := &recorder{}
			h.m.Subscribe(rec.add)
			tg := Target{Addr: "192.0.2.1:80"}
			h.m.Register(tg)
			h.waitProbes(1)
			if got := h.m.Health(tg).State; got != H {
				t.Fatalf("after registration: %s", got)
			}
			var elapsed time.Duration // since the first probe
			for i, s := range tc.steps {
				result.Store(s.probe)
				n := h.m.probed.Load()
				h.clk.Advance(s.advance)
				if elapsed += s.advance; elapsed%cfg.Interval == 0 {
					h.waitProbes(n + 1)
				}
				waitFor(t, fmt.Sprintf("step %d: %s", i, s.want), func() bool { return h.m.Health(tg).State == s.want })
				got := h.m.Health(tg)
				if got.State != H && (got.Reason != ReasonTimeout || got.Description != "Request timed out") {
					t.Fatalf("step %d: %s/%s %q, want the failing check's reason", i, got.State, got.Reason, got.Description)
				}
				if got.State == D {
					if got.Available() {
						t.Fatalf("step %d: an unhealthy.draining target is available", i)
					}
					if snap := h.m.Snapshot(); len(snap.Registered()) != 1 {
						t.Fatalf("step %d: an unhealthy.draining target is not registered", i)
					}
				}
			}
			if tc.draining > 0 {
				waitFor(t, "events", func() bool {
					for _, ev := range rec.events() {
						if ev.Old.State == D && ev.New.State != D {
							return true
						}
					}
					return false
				})
				for _, ev := range rec.events() {
					if ev.New.State == D && ev.Old.State != H && ev.Old.State != D {
						t.Fatalf("entered unhealthy.draining from %s", ev.Old.State)
					}
				}
			}
		})
	}
}
