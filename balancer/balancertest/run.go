package balancertest

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/lbkit/lbkit/balancer"
)

// Options adapt Run to the algorithm under test. The zero value suits
// algorithms that ignore PickInfo and load (round robin, random).
type Options struct {
	// Hashing says picks are keyed by PickInfo.Hash: Run sends random keys
	// and checks determinism and drain with Established. It is implied when
	// the Builder is a balancer.ConsistentHash.
	Hashing bool
	// Flow says picks are keyed by PickInfo.Flow (balancer.FlowHash); it
	// implies Hashing.
	Flow bool
	// LoadAware says the algorithm balances requests in flight (least
	// request, least connections): the weight checks keep every pick open
	// until they have counted, as long-lived connections would be.
	LoadAware bool
	// Picks is the number of picks of each distribution check; zero means
	// 100000.
	Picks int
	// Alpha is the significance level of the χ² tests; zero means 1e-6.
	Alpha float64
}

// Run runs the conformance suite against b as subtests of t.
func Run(t *testing.T, b balancer.Builder, o Options) {
	t.Helper()
	if _, ok := b.(balancer.ConsistentHash); ok {
		o.Hashing = true
	}
	if o.Flow {
		o.Hashing = true
	}
	if o.Picks <= 0 {
		o.Picks = 100000
	}
	if o.Alpha <= 0 {
		o.Alpha = 1e-6
	}
	s := &suite{b: b, o: o}
	t.Run("Empty", s.empty)
	t.Run("One", s.one)
	t.Run("Weights", s.weights)
	t.Run("EqualWeights", s.equalWeights)
	t.Run("FailOpen", s.failOpen)
	t.Run("Zone", s.zone)
	t.Run("Drain", s.drain)
	t.Run("SlowStart", s.slowStart)
	t.Run("ZeroAllocs", s.zeroAllocs)
	if o.Hashing {
		t.Run("Deterministic", s.deterministic)
	}
	t.Run("Churn", s.churn)
}

type suite struct {
	b balancer.Builder
	o Options
}

func (s *suite) build(t *testing.T, opts balancer.BuildOptions, eps ...balancer.Endpoint) balancer.Balancer {
	t.Helper()
	if opts.Rand == nil {
		opts.Rand = Rand(1)
	}
	bl := s.b.Build(opts)
	t.Cleanup(bl.Close)
	if err := bl.Update(balancer.State{Endpoints: eps}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	return bl
}

// info returns the PickInfo of the i-th pick with key source r.
func (s *suite) info(r func() uint64) balancer.PickInfo {
	if !s.o.Hashing {
		return balancer.PickInfo{}
	}
	k := r()
	if s.o.Flow {
		var a [4]byte
		a[0], a[1], a[2], a[3] = 10, byte(k>>8), byte(k>>16), byte(k>>24)
		return balancer.PickInfo{Flow: balancer.Flow{
			Proto: 6,
			Src:   netip.AddrPortFrom(netip.AddrFrom4(a), uint16(k>>32)),
			Dst:   netip.MustParseAddrPort("192.0.2.1:443"),
		}}
	}
	return balancer.PickInfo{Hash: k}
}

// count picks n times and counts picks per Addr. Load-aware algorithms keep
// every pick open until the end.
func (s *suite) count(t *testing.T, bl balancer.Balancer, n int, keys func() uint64) map[string]int {
	t.Helper()
	got := map[string]int{}
	var open []balancer.PickResult
	for range n {
		r, err := bl.Pick(s.info(keys))
		if err != nil {
			t.Fatalf("Pick: %v", err)
		}
		got[r.Endpoint.Addr]++
		if s.o.LoadAware {
			open = append(open, r)
		} else {
			r.Done(balancer.DoneInfo{})
		}
	}
	for _, r := range open {
		r.Done(balancer.DoneInfo{})
	}
	return got
}

func ep(addr string, w uint32) balancer.Endpoint { return balancer.Endpoint{Addr: addr, Weight: w} }

func (s *suite) empty(t *testing.T) {
	bl := s.build(t, balancer.BuildOptions{})
	_, err := bl.Pick(s.info(Rand(2)))
	if !errors.Is(err, balancer.ErrNoEndpoint) {
		t.Fatalf("Pick on empty set: %v, want ErrNoEndpoint", err)
	}
	var ne *balancer.NoEndpointError
	if !errors.As(err, &ne) {
		t.Fatalf("Pick on empty set: %T, want *NoEndpointError", err)
	}
	// Back to empty after a non-empty set.
	if err := bl.Update(balancer.State{Endpoints: []balancer.Endpoint{ep("a", 1)}}); err != nil {
		t.Fatal(err)
	}
	if err := bl.Update(balancer.State{}); err != nil {
		t.Fatal(err)
	}
	if _, err := bl.Pick(s.info(Rand(2))); !errors.Is(err, balancer.ErrNoEndpoint) {
		t.Fatalf("Pick after emptying: %v, want ErrNoEndpoint", err)
	}
}

func (s *suite) one(t *testing.T) {
	bl := s.build(t, balancer.BuildOptions{}, balancer.Endpoint{Addr: "only", Metadata: 42})
	keys := Rand(3)
	for range 1000 {
		r, err := bl.Pick(s.info(keys))
		if err != nil || r.Endpoint.Addr != "only" || r.Endpoint.Metadata != 42 {
			t.Fatalf("Pick = %+v, %v; want the only endpoint with its metadata", r.Endpoint, err)
		}
		r.Done(balancer.DoneInfo{})
	}
}

// checkShares runs a χ² test of got against weights.
func (s *suite) checkShares(t *testing.T, got map[string]int, eps []balancer.Endpoint, n int) {
	t.Helper()
	total := 0.0
	for _, e := range eps {
		total += weight(e)
	}
	obs := make([]int, len(eps))
	exp := make([]float64, len(eps))
	seen := 0
	for i, e := range eps {
		obs[i] = got[e.Addr]
		exp[i] = float64(n) * weight(e) / total
		seen += obs[i]
	}
	if seen != n {
		t.Fatalf("%d of %d picks went to unknown endpoints: %v", n-seen, n, got)
	}
	stat, p := ChiSquare(obs, exp)
	if p < s.o.Alpha {
		t.Errorf("picks %v do not follow weights (expected %v): χ²=%.1f, p=%.2g < α=%g", obs, exp, stat, p, s.o.Alpha)
	}
}

func weight(e balancer.Endpoint) float64 {
	if e.Weight == 0 {
		return 1
	}
	return float64(e.Weight)
}

func (s *suite) weights(t *testing.T) {
	eps := []balancer.Endpoint{ep("a", 1), ep("b", 2), ep("c", 3), ep("d", 4)}
	bl := s.build(t, balancer.BuildOptions{}, eps...)
	s.checkShares(t, s.count(t, bl, s.o.Picks, Rand(4)), eps, s.o.Picks)
}

func (s *suite) equalWeights(t *testing.T) {
	var eps []balancer.Endpoint
	for i := range 10 {
		eps = append(eps, balancer.Endpoint{Addr: fmt.Sprintf("10.0.0.%d:80", i)})
	}
	bl := s.build(t, balancer.BuildOptions{}, eps...)
	s.checkShares(t, s.count(t, bl, s.o.Picks, Rand(5)), eps, s.o.Picks)
}

func (s *suite) failOpen(t *testing.T) {
	un := func(a string) balancer.Endpoint {
		return balancer.Endpoint{Addr: a, Status: balancer.StatusUnhealthy}
	}
	tests := []struct {
		name    string
		opts    balancer.FailOpen
		eps     []balancer.Endpoint
		want    []string // endpoints that may be picked; nil: ErrNoEndpoint
		wantAll bool     // every one of want must be picked
	}{
		{"one healthy", balancer.FailOpen{}, []balancer.Endpoint{ep("a", 1), un("b"), un("c")}, []string{"a"}, true},
		{"all unhealthy fail open", balancer.FailOpen{}, []balancer.Endpoint{un("a"), un("b")}, []string{"a", "b"}, true},
		{"all unhealthy disabled", balancer.FailOpen{Disabled: true}, []balancer.Endpoint{un("a"), un("b")}, nil, false},
		{"panic below 50%", balancer.FailOpen{PanicThreshold: 50}, []balancer.Endpoint{ep("a", 1), un("b"), un("c")}, []string{"a", "b", "c"}, true},
		{"no panic at 50%", balancer.FailOpen{PanicThreshold: 50}, []balancer.Endpoint{ep("a", 1), ep("b", 1), un("c"), un("d")}, []string{"a", "b"}, true},
		{"draining never", balancer.FailOpen{}, []balancer.Endpoint{un("a"), {Addr: "d", Status: balancer.StatusDraining}}, []string{"a"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bl := s.build(t, balancer.BuildOptions{FailOpen: tt.opts}, tt.eps...)
			keys := Rand(6)
			if tt.want == nil {
				if _, err := bl.Pick(s.info(keys)); !errors.Is(err, balancer.ErrNoEndpoint) {
					t.Fatalf("Pick: %v, want ErrNoEndpoint", err)
				}
				return
			}
			got := s.count(t, bl, 3000, keys)
			allowed := map[string]bool{}
			for _, a := range tt.want {
				allowed[a] = true
				if tt.wantAll && got[a] == 0 {
					t.Errorf("%s never picked: %v", a, got)
				}
			}
			for a := range got {
				if !allowed[a] {
					t.Errorf("%s picked, want only %v: %v", a, tt.want, got)
				}
			}
		})
	}
}

func (s *suite) zone(t *testing.T) {
	z := func(a, zone string, st balancer.Status) balancer.Endpoint {
		return balancer.Endpoint{Addr: a, Zone: zone, Status: st}
	}
	h, u := balancer.StatusHealthy, balancer.StatusUnhealthy
	tests := []struct {
		name string
		zone balancer.ZoneAware
		eps  []balancer.Endpoint
		want []string
	}{
		{"local only", balancer.ZoneAware{Local: "z1"}, []balancer.Endpoint{z("a", "z1", h), z("b", "z2", h), z("c", "", h)}, []string{"a", "c"}},
		{"cross zone", balancer.ZoneAware{Local: "z1", CrossZone: true}, []balancer.Endpoint{z("a", "z1", h), z("b", "z2", h)}, []string{"a", "b"}},
		{"local down", balancer.ZoneAware{Local: "z1"}, []balancer.Endpoint{z("a", "z1", u), z("b", "z2", h), z("c", "z3", h)}, []string{"b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bl := s.build(t, balancer.BuildOptions{Zone: tt.zone}, tt.eps...)
			got := s.count(t, bl, 3000, Rand(7))
			if len(got) != len(tt.want) {
				t.Errorf("picked %v, want exactly %v", got, tt.want)
			}
			for _, a := range tt.want {
				if got[a] == 0 {
					t.Errorf("picked %v, want exactly %v", got, tt.want)
				}
			}
		})
	}
}

func (s *suite) drain(t *testing.T) {
	eps := []balancer.Endpoint{ep("a", 1), ep("b", 1), ep("c", 1)}
	bl := s.build(t, balancer.BuildOptions{}, eps...)
	const n = 5000
	before := make([]string, n)
	if s.o.Hashing {
		keys := Rand(8)
		for i := range n {
			r, err := bl.Pick(s.info(keys))
			if err != nil {
				t.Fatal(err)
			}
			before[i] = r.Endpoint.Addr
			r.Done(balancer.DoneInfo{})
		}
	}
	eps[1].Status = balancer.StatusDraining
	if err := bl.Update(balancer.State{Endpoints: eps}); err != nil {
		t.Fatal(err)
	}
	got := s.count(t, bl, n, Rand(9))
	if got["b"] != 0 {
		t.Errorf("draining endpoint got %d new picks", got["b"])
	}
	if !s.o.Hashing {
		return
	}
	// Established flows keep their endpoint, draining or not; new picks of
	// keys that were not on the draining endpoint do not move.
	keys := Rand(8)
	for i := range n {
		in := s.info(keys)
		newPick, err := bl.Pick(in)
		if err != nil {
			t.Fatal(err)
		}
		newPick.Done(balancer.DoneInfo{})
		in.Established = true
		est, err := bl.Pick(in)
		if err != nil {
			t.Fatal(err)
		}
		est.Done(balancer.DoneInfo{})
		if est.Endpoint.Addr != before[i] {
			t.Fatalf("key %d: established flow moved from %s to %s", i, before[i], est.Endpoint.Addr)
		}
		if before[i] != "b" && newPick.Endpoint.Addr != before[i] {
			t.Fatalf("key %d: moved from %s to %s although %s is not draining", i, before[i], newPick.Endpoint.Addr, before[i])
		}
	}
	// Everything draining: new picks fail, established ones still work.
	for i := range eps {
		eps[i].Status = balancer.StatusDraining
	}
	if err := bl.Update(balancer.State{Endpoints: eps}); err != nil {
		t.Fatal(err)
	}
	in := s.info(Rand(8))
	if _, err := bl.Pick(in); !errors.Is(err, balancer.ErrNoEndpoint) {
		t.Errorf("new pick with all draining: %v, want ErrNoEndpoint", err)
	}
	in.Established = true
	if r, err := bl.Pick(in); err != nil || r.Endpoint.Addr != before[0] {
		t.Errorf("established pick with all draining: %v, %v; want %s", r.Endpoint, err, before[0])
	}
}

func (s *suite) slowStart(t *testing.T) {
	clk := NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	const window = 100 * time.Second
	opts := balancer.BuildOptions{Clock: clk, SlowStart: balancer.SlowStart{Window: window, Step: 10 * time.Second}}
	bl := s.build(t, opts, ep("a", 1), ep("b", 1))
	if clk.Pending() != 0 {
		t.Fatalf("the first set entered slow start (%d timers)", clk.Pending())
	}
	if err := bl.Update(balancer.State{Endpoints: []balancer.Endpoint{ep("a", 1), ep("b", 1), ep("c", 1)}}); err != nil {
		t.Fatal(err)
	}
	keys := Rand(10)
	share := func() float64 {
		got := s.count(t, bl, 10000, keys) // σ of the share ≈ 0.4pp
		return float64(got["c"]) / 10000
	}
	// Envoy/ELB: weight·max(10%, t/window).
	for _, step := range []struct {
		at   time.Duration
		want float64
	}{
		{0, 0.1 / 2.1},
		{50 * time.Second, 0.5 / 2.5},
		{80 * time.Second, 0.8 / 2.8},
		{window, 1.0 / 3},
	} {
		now := clk.Now()
		target := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(step.at)
		clk.Advance(target.Sub(now))
		if got := share(); math.Abs(got-step.want) > 0.025 {
			t.Errorf("at %v into the ramp the new endpoint has %.3f of picks, want %.3f", step.at, got, step.want)
		}
	}
	if clk.Pending() != 0 {
		t.Errorf("%d slow-start timers left after the ramp", clk.Pending())
	}
	// Unhealthy → healthy re-enters slow start.
	eps := []balancer.Endpoint{ep("a", 1), ep("b", 1), {Addr: "c", Status: balancer.StatusUnhealthy}}
	if err := bl.Update(balancer.State{Endpoints: eps}); err != nil {
		t.Fatal(err)
	}
	eps[2].Status = balancer.StatusHealthy
	if err := bl.Update(balancer.State{Endpoints: eps}); err != nil {
		t.Fatal(err)
	}
	if got, want := share(), 0.1/2.1; math.Abs(got-want) > 0.025 {
		t.Errorf("recovered endpoint has %.3f of picks, want %.3f (slow start again)", got, want)
	}
	bl.Close()
	if clk.Pending() != 0 {
		t.Errorf("Close left %d timers", clk.Pending())
	}
}

func (s *suite) zeroAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	for _, eps := range [][]balancer.Endpoint{
		{ep("a", 1), ep("b", 1), ep("c", 1)},
		{ep("a", 1), ep("b", 2), ep("c", 3)},
	} {
		bl := s.build(t, balancer.BuildOptions{}, eps...)
		keys := Rand(11)
		infos := make([]balancer.PickInfo, 64)
		for i := range infos {
			infos[i] = s.info(keys)
		}
		i := 0
		if n := testing.AllocsPerRun(2000, func() {
			r, err := bl.Pick(infos[i%len(infos)])
			if err == nil {
				r.Done(balancer.DoneInfo{})
			}
			i++
		}); n != 0 {
			t.Errorf("%v allocations per Pick+Done with %v", n, eps)
		}
		if n := testing.AllocsPerRun(100, func() {
			bl.Picker().Pick(infos[0])
		}); n != 0 {
			t.Errorf("%v allocations per Picker().Pick", n)
		}
	}
}

func (s *suite) deterministic(t *testing.T) {
	var eps []balancer.Endpoint
	for i := range 50 {
		eps = append(eps, balancer.Endpoint{Addr: fmt.Sprintf("10.1.%d.%d:8080", i/10, i), Weight: uint32(1 + i%3)})
	}
	rev := make([]balancer.Endpoint, len(eps))
	for i := range eps {
		rev[len(eps)-1-i] = eps[i]
	}
	b1 := s.build(t, balancer.BuildOptions{Rand: Rand(12)}, eps...)
	// A second balancer, other randomness, reached through another history.
	b2 := s.build(t, balancer.BuildOptions{Rand: Rand(13)}, eps[:7]...)
	if err := b2.Update(balancer.State{Endpoints: rev}); err != nil {
		t.Fatal(err)
	}
	k1, k2 := Rand(14), Rand(14)
	for i := range 20000 {
		r1, err1 := b1.Pick(s.info(k1))
		r2, err2 := b2.Pick(s.info(k2))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if r1.Endpoint.Addr != r2.Endpoint.Addr {
			t.Fatalf("key %d: %s in one balancer, %s in the other", i, r1.Endpoint.Addr, r2.Endpoint.Addr)
		}
		r1.Done(balancer.DoneInfo{})
		r2.Done(balancer.DoneInfo{})
	}
}

func (s *suite) churn(t *testing.T) {
	universe := map[string]bool{}
	var sets [][]balancer.Endpoint
	for i := range 12 {
		var set []balancer.Endpoint
		for j := range i % 6 * 3 { // 0, 3, 6, … 15 endpoints
			a := fmt.Sprintf("ep%d", (i+j)%20)
			universe[a] = true
			st := balancer.StatusHealthy
			if j%5 == 4 {
				st = balancer.StatusDraining
			}
			set = append(set, balancer.Endpoint{Addr: a, Weight: uint32(1 + j%4), Status: st})
		}
		sets = append(sets, set)
	}
	clk := NewFakeClock(time.Unix(0, 0))
	bl := s.build(t, balancer.BuildOptions{Clock: clk, SlowStart: balancer.SlowStart{Window: 10 * time.Second, Step: time.Second}})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 3)
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys := Rand(uint64(100 + g))
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if n%16 == 0 {
					runtime.Gosched() // let the updater run on a small machine
				}
				in := s.info(keys)
				in.Established = n%3 == 0
				r, err := bl.Pick(in)
				if err != nil {
					if !errors.Is(err, balancer.ErrNoEndpoint) {
						errs <- err
						return
					}
					continue
				}
				if !universe[r.Endpoint.Addr] {
					errs <- fmt.Errorf("picked unknown endpoint %q", r.Endpoint.Addr)
					return
				}
				r.Done(balancer.DoneInfo{})
			}
		}()
	}
	rounds := 40
	if s.o.Hashing {
		rounds = 16 // table builds are the slow part, under -race
	}
	for i := range rounds {
		if err := bl.Update(balancer.State{Endpoints: sets[i%len(sets)]}); err != nil {
			t.Error(err)
		}
		clk.Advance(time.Second)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
