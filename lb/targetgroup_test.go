package lb

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"
)

func newTG(t testing.TB, cfg TargetGroupConfig, targets ...Target) *TargetGroup {
	t.Helper()
	g, err := NewTargetGroup(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	if err := g.Register(targets...); err != nil {
		t.Fatal(err)
	}
	return g
}

func counts(t *testing.T, g *TargetGroup, n int, info PickInfo) map[string]int {
	t.Helper()
	out := map[string]int{}
	for i := 0; i < n; i++ {
		l, err := g.Pick(info)
		if err != nil {
			t.Fatal(err)
		}
		out[l.Addr()]++
		l.Done()
	}
	return out
}

func TestTargetGroupWeights(t *testing.T) {
	targets := []Target{{Addr: "127.0.0.1:1", Weight: 1}, {Addr: "127.0.0.1:2", Weight: 3}}
	for _, alg := range []Algorithm{RoundRobin, WeightedRandom, LeastOutstandingRequests, HashKey} {
		t.Run(alg.String(), func(t *testing.T) {
			g := newTG(t, TargetGroupConfig{Algorithm: alg}, targets...)
			const n = 40000
			c := counts(t, g, n, PickInfo{})
			// Share of the weight-3 target: 75% within 2 points (LOR with
			// no load left behaves as weighted random).
			if got := float64(c["127.0.0.1:2"]) / n; math.Abs(got-0.75) > 0.02 {
				t.Errorf("share of weight 3 = %.3f, want 0.75", got)
			}
		})
	}
}

func TestTargetGroupHashKeySticks(t *testing.T) {
	g := newTG(t, TargetGroupConfig{Algorithm: HashKey},
		Target{Addr: "127.0.0.1:1"}, Target{Addr: "127.0.0.1:2"}, Target{Addr: "127.0.0.1:3"})
	for k := uint64(0); k < 100; k++ {
		c := counts(t, g, 5, PickInfo{Key: k, HasKey: true})
		if len(c) != 1 {
			t.Fatalf("key %d went to %v", k, c)
		}
	}
}

func TestTargetGroupRegisterValidation(t *testing.T) {
	g := newTG(t, TargetGroupConfig{}, Target{Addr: "127.0.0.1:1"})
	for _, bad := range []Target{{Addr: "nohost"}, {Addr: ":80"}, {Addr: "h:0"}, {Addr: "h:70000"}, {Addr: "h:1", Weight: -1}} {
		if err := g.Register(Target{Addr: "127.0.0.1:9"}, bad); err == nil {
			t.Errorf("Register(%+v) accepted", bad)
		}
	}
	if n := len(g.Targets()); n != 1 {
		t.Errorf("a failed Register changed the group: %d targets", n)
	}
	if _, err := g.Deregister("127.0.0.1:7"); !errors.Is(err, ErrUnknownTarget) {
		t.Errorf("Deregister unknown: %v", err)
	}
}

func TestTargetGroupDrainEndsWhenIdle(t *testing.T) {
	g := newTG(t, TargetGroupConfig{DeregistrationDelay: time.Hour}, Target{Addr: "127.0.0.1:1"}, Target{Addr: "127.0.0.1:2"})
	var leases []Lease
	for i := 0; i < 10; i++ {
		l, _ := g.Pick(PickInfo{})
		leases = append(leases, l)
	}
	done, err := g.Deregister("127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		l, _ := g.Pick(PickInfo{})
		if l.Addr() == "127.0.0.1:1" {
			t.Fatal("draining target picked")
		}
		l.Done()
	}
	if c := g.Counts(); c[HealthDraining] != 1 || c[HealthHealthy] != 1 {
		t.Fatalf("counts %v", c)
	}
	var onDrained []Lease
	for _, l := range leases {
		if l.Addr() == "127.0.0.1:1" {
			onDrained = append(onDrained, l)
			continue
		}
		l.Done()
	}
	if len(onDrained) == 0 {
		t.Fatal("round robin never picked the first target")
	}
	for _, l := range onDrained {
		select {
		case <-done:
			t.Fatal("drain ended with leases in flight")
		default:
		}
		l.Done()
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("drain did not end when idle")
	}
	if c := g.Counts(); c[HealthDraining] != 0 {
		t.Fatalf("still draining: %v", c)
	}
}

func TestTargetGroupDrainDelayExpires(t *testing.T) {
	g := newTG(t, TargetGroupConfig{DeregistrationDelay: 10 * time.Millisecond}, Target{Addr: "127.0.0.1:1"})
	l, _ := g.Pick(PickInfo{})
	done, _ := g.Deregister("127.0.0.1:1")
	select {
	case <-l.Expired():
	case <-time.After(5 * time.Second):
		t.Fatal("lease not expired after the delay")
	}
	<-done
	l.Done()
	if _, err := g.Pick(PickInfo{}); !errors.Is(err, ErrNoTarget) {
		t.Fatalf("pick on empty group: %v", err)
	}
}

func TestTargetGroupHealthAndFailOpen(t *testing.T) {
	a, b := "127.0.0.1:1", "127.0.0.1:2"
	tests := []struct {
		name     string
		noOpen   bool
		ha, hb   Health
		want     []string
		failOpen bool
	}{
		{"initial waits for a verdict", false, HealthInitial, HealthHealthy, []string{b}, false},
		{"unhealthy skipped", false, HealthUnhealthy, HealthHealthy, []string{b}, false},
		{"all unhealthy fails open", false, HealthUnhealthy, HealthUnhealthy, []string{a, b}, true},
		{"all initial fails open", false, HealthInitial, HealthInitial, []string{a, b}, true},
		{"fail-open disabled", true, HealthUnhealthy, HealthUnhealthy, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newTG(t, TargetGroupConfig{HealthChecked: true, DisableFailOpen: tt.noOpen}, Target{Addr: a}, Target{Addr: b})
			g.SetHealth(a, tt.ha)
			g.SetHealth(b, tt.hb)
			got := map[string]bool{}
			for i := 0; i < 200; i++ {
				l, err := g.Pick(PickInfo{})
				if err != nil {
					break
				}
				got[l.Addr()] = true
				l.Done()
			}
			if len(got) != len(tt.want) {
				t.Fatalf("picked %v, want %v", got, tt.want)
			}
			for _, w := range tt.want {
				if !got[w] {
					t.Fatalf("picked %v, want %v", got, tt.want)
				}
			}
			if g.FailingOpen() != tt.failOpen {
				t.Errorf("FailingOpen = %v", g.FailingOpen())
			}
		})
	}
}

func TestTargetGroupSlowStart(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	cfg := TargetGroupConfig{SlowStart: 100 * time.Second, now: clock}
	g := newTG(t, cfg, Target{Addr: "127.0.0.1:1"})
	// The first target has no warm peer: it does not slow-start.
	mu.Lock()
	now = now.Add(200 * time.Second)
	mu.Unlock()
	g.Register(Target{Addr: "127.0.0.1:2"})
	share := func() float64 {
		c := counts(t, g, 20000, PickInfo{})
		return float64(c["127.0.0.1:2"]) / 20000
	}
	if s := share(); math.Abs(s-0.1/1.1) > 0.02 {
		t.Errorf("new target share at t=0: %.3f, want %.3f", s, 0.1/1.1)
	}
	mu.Lock()
	now = now.Add(50 * time.Second)
	mu.Unlock()
	g.SetWeight("127.0.0.1:1", 1) // republish at the new time
	if s := share(); math.Abs(s-0.5/1.5) > 0.02 {
		t.Errorf("share at half window: %.3f, want %.3f", s, 0.5/1.5)
	}
	mu.Lock()
	now = now.Add(60 * time.Second)
	mu.Unlock()
	g.SetWeight("127.0.0.1:1", 1)
	if s := share(); math.Abs(s-0.5) > 0.02 {
		t.Errorf("share after window: %.3f, want 0.5", s)
	}
}

func TestTargetGroupWeightZeroAndAcquire(t *testing.T) {
	g := newTG(t, TargetGroupConfig{}, Target{Addr: "127.0.0.1:1"}, Target{Addr: "127.0.0.1:2"})
	if err := g.SetWeight("127.0.0.1:1", 0); err != nil {
		t.Fatal(err)
	}
	if c := counts(t, g, 100, PickInfo{}); c["127.0.0.1:1"] != 0 {
		t.Fatalf("weight 0 picked: %v", c)
	}
	if _, ok := g.Acquire("127.0.0.1:1"); ok {
		t.Fatal("Acquire of a weight-0 target succeeded")
	}
	l, ok := g.Acquire("127.0.0.1:2")
	if !ok {
		t.Fatal("Acquire of a healthy target failed")
	}
	l.Done()
}

func TestTargetGroupAvoid(t *testing.T) {
	g := newTG(t, TargetGroupConfig{}, Target{Addr: "127.0.0.1:1"}, Target{Addr: "127.0.0.1:2"}, Target{Addr: "127.0.0.1:3"})
	for i := 0; i < 300; i++ {
		l, _ := g.Pick(PickInfo{Avoid: "127.0.0.1:2"})
		if l.Addr() == "127.0.0.1:2" {
			t.Fatal("avoided target picked")
		}
		l.Done()
	}
}

// Churn: registrations, weights, health and deregistrations race with
// picks; every lease is released and every drain ends.
func TestTargetGroupChurn(t *testing.T) {
	g := newTG(t, TargetGroupConfig{DeregistrationDelay: time.Minute, HealthChecked: true})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if l, err := g.Pick(PickInfo{}); err == nil {
					l.Done()
				}
			}
		}()
	}
	var drains []<-chan struct{}
	for i := 0; i < 300; i++ {
		addr := fmt.Sprintf("127.0.0.1:%d", 1+i%7)
		switch i % 4 {
		case 0:
			g.Register(Target{Addr: addr, Weight: 1 + i%5})
		case 1:
			g.SetHealth(addr, Health(i%3))
		case 2:
			g.SetWeight(addr, i%3)
		case 3:
			if d, err := g.Deregister(addr); err == nil {
				drains = append(drains, d)
			}
		}
	}
	close(stop)
	wg.Wait()
	for _, d := range drains {
		select {
		case <-d:
		case <-time.After(5 * time.Second):
			t.Fatal("a drain did not end after its leases were done")
		}
	}
	for _, ts := range g.Targets() {
		if ts.InFlight != 0 {
			t.Errorf("%s: %d in flight", ts.Addr, ts.InFlight)
		}
	}
}

func BenchmarkTargetGroupPick(b *testing.B) {
	for _, alg := range []Algorithm{RoundRobin, LeastOutstandingRequests, WeightedRandom} {
		b.Run(alg.String(), func(b *testing.B) {
			g := newTG(b, TargetGroupConfig{Algorithm: alg})
			for i := 0; i < 10; i++ {
				g.Register(Target{Addr: fmt.Sprintf("127.0.0.1:%d", i+1), Weight: i + 1})
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					l, _ := g.Pick(PickInfo{})
					l.Done()
				}
			})
		})
	}
}

func TestPickDoesNotAllocate(t *testing.T) {
	g := newTG(t, TargetGroupConfig{}, Target{Addr: "127.0.0.1:1"}, Target{Addr: "127.0.0.1:2"})
	if n := testing.AllocsPerRun(1000, func() { l, _ := g.Pick(PickInfo{}); l.Done() }); n != 0 {
		t.Errorf("Pick allocates %.1f times", n)
	}
}
