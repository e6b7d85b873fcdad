package lb

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/lbkit/lbkit/balancer"
)

func newTG(t testing.TB, cfg TargetGroupConfig, targets ...Target) *TargetGroup {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
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
		l.Done(nil)
	}
	return out
}

func TestTargetGroupWeights(t *testing.T) {
	targets := []Target{{Addr: "127.0.0.1:1", Weight: 1}, {Addr: "127.0.0.1:2", Weight: 3}}
	for _, name := range []string{"round_robin", "weighted_random", "least_outstanding_requests"} {
		alg, err := ParseAlgorithm(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			g := newTG(t, TargetGroupConfig{Algorithm: alg}, targets...)
			const n = 40000
			c := counts(t, g, n, PickInfo{})
			// Share of the weight-3 target: 75% within 2 points (least
			// request with no load left behaves as weighted random).
			if got := float64(c["127.0.0.1:2"]) / n; math.Abs(got-0.75) > 0.02 {
				t.Errorf("share of weight 3 = %.3f, want 0.75", got)
			}
		})
	}
}

func TestTargetGroupHashKeySticks(t *testing.T) {
	g := newTG(t, TargetGroupConfig{Algorithm: balancer.Rendezvous{}},
		Target{Addr: "127.0.0.1:1"}, Target{Addr: "127.0.0.1:2"}, Target{Addr: "127.0.0.1:3"})
	for k := uint64(0); k < 100; k++ {
		c := counts(t, g, 5, PickInfo{PickInfo: balancer.PickInfo{Hash: k * 0x9E3779B97F4A7C15}})
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
		l.Done(nil)
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
		l.Done(nil)
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
		l.Done(nil)
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
	l.Done(nil)
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
		{"fail-open disabled", true, HealthUnhealthy, HealthUnhealthy, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := TargetGroupConfig{}
			cfg.Balancing.FailOpen.Disabled = tt.noOpen
			g := newTG(t, cfg, Target{Addr: a}, Target{Addr: b})
			g.SetHealth(a, tt.ha)
			g.SetHealth(b, tt.hb)
			got := map[string]bool{}
			for i := 0; i < 200; i++ {
				l, err := g.Pick(PickInfo{})
				if err != nil {
					break
				}
				got[l.Addr()] = true
				l.Done(nil)
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
	cfg := TargetGroupConfig{}
	cfg.Balancing.SlowStart.Window = time.Hour
	g := newTG(t, cfg, Target{Addr: "127.0.0.1:1"})
	// The first target has no warm peer, so it does not slow-start; the
	// second does and starts at 10% of its weight.
	g.Register(Target{Addr: "127.0.0.1:2"})
	c := counts(t, g, 20000, PickInfo{})
	if s := float64(c["127.0.0.1:2"]) / 20000; math.Abs(s-0.1/1.1) > 0.03 {
		t.Errorf("slow-starting target share %.3f, want about %.3f", s, 0.1/1.1)
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
	l.Done(nil)
}

func TestTargetGroupAvoid(t *testing.T) {
	g := newTG(t, TargetGroupConfig{}, Target{Addr: "127.0.0.1:1"}, Target{Addr: "127.0.0.1:2"}, Target{Addr: "127.0.0.1:3"})
	for i := 0; i < 300; i++ {
		l, _ := g.Pick(PickInfo{Avoid: "127.0.0.1:2"})
		if l.Addr() == "127.0.0.1:2" {
			t.Fatal("avoided target picked")
		}
		l.Done(nil)
	}
}

// Churn: registrations, weights, health and deregistrations race with
// picks; every lease is released and every drain ends.
func TestTargetGroupChurn(t *testing.T) {
	g := newTG(t, TargetGroupConfig{DeregistrationDelay: time.Minute})
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
					l.Done(nil)
				}
			}
		}()
	}
	var drains []<-chan struct{}
	for i := 0; i < 300; i++ {
		addr := fmt.Sprintf("127.0.0.1:%d", 1+i%7)
		switch i % 5 {
		case 0:
			g.Register(Target{Addr: addr, Weight: 1 + i%5})
		case 1:
			g.SetHealth(addr, Health(i%3))
		case 4:
			if l, ok := g.Acquire(addr); ok {
				l.Done(nil)
			}
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
	for _, name := range []string{"round_robin", "least_outstanding_requests", "weighted_random"} {
		alg, _ := ParseAlgorithm(name)
		b.Run(name, func(b *testing.B) {
			g := newTG(b, TargetGroupConfig{Algorithm: alg})
			for i := 0; i < 10; i++ {
				g.Register(Target{Addr: fmt.Sprintf("127.0.0.1:%d", i+1), Weight: i + 1})
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					l, _ := g.Pick(PickInfo{})
					l.Done(nil)
				}
			})
		})
	}
}

func TestPickDoesNotAllocate(t *testing.T) {
	g := newTG(t, TargetGroupConfig{}, Target{Addr: "127.0.0.1:1"}, Target{Addr: "127.0.0.1:2"})
	if n := testing.AllocsPerRun(1000, func() { l, _ := g.Pick(PickInfo{}); l.Done(nil) }); n != 0 {
		t.Errorf("Pick allocates %.1f times", n)
	}
}
