package balancer_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/lbkit/lbkit/balancer"
	"github.com/lbkit/lbkit/balancer/balancertest"
)

func hosts(n int) []balancer.Endpoint {
	eps := make([]balancer.Endpoint, n)
	for i := range eps {
		eps[i] = balancer.Endpoint{Addr: fmt.Sprintf("10.%d.%d.%d:8080", i>>16, i>>8&255, i&255)}
	}
	return eps
}

// assign maps keys to endpoint addresses.
func assign(tb testing.TB, b balancer.Builder, eps []balancer.Endpoint, keys []uint64) []string {
	tb.Helper()
	bl := b.Build(balancer.BuildOptions{})
	defer bl.Close()
	if err := bl.Update(balancer.State{Endpoints: eps}); err != nil {
		tb.Fatal(err)
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		r, err := bl.Pick(balancer.PickInfo{Hash: k})
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = r.Endpoint.Addr
		r.Done(balancer.DoneInfo{})
	}
	return out
}

func randomKeys(n int) []uint64 {
	r := balancertest.Rand(2026)
	k := make([]uint64, n)
	for i := range k {
		k[i] = r()
	}
	return k
}

// hostLoss is Envoy's HostLoss benchmark: the fraction of keys that move
// when remove of n equal-weight endpoints leave (spread over the set), and
// the optimum, remove/n (only the leavers' keys move).
func hostLoss(tb testing.TB, b balancer.Builder, n, remove int, keys []uint64) (moved, optimum float64) {
	eps := hosts(n)
	before := assign(tb, b, eps, keys)
	gone := map[int]bool{}
	for i := range remove {
		gone[i*n/remove] = true
	}
	var rest []balancer.Endpoint
	for i, e := range eps {
		if !gone[i] {
			rest = append(rest, e)
		}
	}
	after := assign(tb, b, rest, keys)
	diff := 0
	for i := range keys {
		if before[i] != after[i] {
			diff++
		}
	}
	return float64(diff) / float64(len(keys)), float64(remove) / float64(n)
}

func TestDisruption(t *testing.T) {
	if testing.Short() {
		t.Skip("builds large tables")
	}
	keys := randomKeys(200000)
	tests := []struct {
		b         balancer.Builder
		n, remove int
		maxRatio  float64 // moved / optimum
	}{
		{balancer.Maglev{}, 100, 1, 1.6},
		{balancer.Maglev{}, 1000, 1, 8},  // reported; M/n is only 65
		{balancer.Maglev{}, 1000, 10, 4}, // reported
		{balancer.RingHash{}, 100, 1, 1.15},
		{balancer.RingHash{}, 1000, 1, 1.15},
		{balancer.RingHash{}, 1000, 10, 1.15},
		{balancer.Rendezvous{}, 100, 1, 1.05},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%dof%d", tt.b.Name(), tt.remove, tt.n), func(t *testing.T) {
			moved, opt := hostLoss(t, tt.b, tt.n, tt.remove, keys)
			t.Logf("moved %.3f%% of keys, optimum %.3f%% (×%.2f)", 100*moved, 100*opt, moved/opt)
			if moved > tt.maxRatio*opt {
				t.Errorf("moved %.3f%% of keys, want ≤ %.2f × optimum %.3f%%", 100*moved, tt.maxRatio, 100*opt)
			}
		})
	}
}

func TestMaglevTableBalance(t *testing.T) {
	for _, n := range []int{1, 3, 100, 400, 1000} {
		names := make([]string, n)
		for i, e := range hosts(n) {
			names[i] = e.Addr
		}
		tb, err := balancer.NewMaglevTable(names, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		c := tb.Counts()
		if lo, hi := slices.Min(c), slices.Max(c); hi-lo > 1 {
			t.Errorf("n=%d: slots per endpoint range %d..%d, want max−min ≤ 1 (Katran's test)", n, lo, hi)
		}
	}
}

func TestMaglevTableWeighted(t *testing.T) {
	names := []string{"a", "b", "c", "d"}
	w := []float64{1, 2, 3, 4}
	tb, err := balancer.NewMaglevTable(names, w, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range tb.Counts() {
		want := float64(tb.Size()) * w[i] / 10
		if math.Abs(float64(c)-want)/want > 0.01 {
			t.Errorf("%s: %d slots, want %.0f ±1%%", names[i], c, want)
		}
	}
	// Zero weight: no slots.
	tb, err = balancer.NewMaglevTable(names, []float64{1, 0, 1, 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c := tb.Counts()[1]; c != 0 {
		t.Errorf("zero-weight name holds %d slots", c)
	}
}

// TestMaglevTableDeterministic pins the table: separate processes (and
// future versions of this package) must agree on every slot, or flows move
// between forwarders.
func TestMaglevTableDeterministic(t *testing.T) {
	names := []string{"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80", "10.0.0.5:80"}
	a, err := balancer.NewMaglevTable(names, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	rev := slices.Clone(names)
	slices.Reverse(rev)
	b, err := balancer.NewMaglevTable(rev, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var sum uint64
	for i := range 1000 {
		h := uint64(i) * 0x9e3779b97f4a7c15
		x, y := a.Lookup(h), b.Lookup(h)
		if names[x] != rev[y] {
			t.Fatalf("hash %#x: %s vs %s depending on input order", h, names[x], rev[y])
		}
		sum = sum*31 + uint64(x)
	}
	if got := sum; got != pinnedMaglevChecksum {
		t.Errorf("table checksum %#x, pinned %#x: the Maglev table changed, breaking agreement with other versions", got, uint64(pinnedMaglevChecksum))
	}
}

// pinnedMaglevChecksum was computed by this package's first Maglev; it must
// never change.
const pinnedMaglevChecksum = 0xfde60517bff22e64

func TestNewMaglevTableErrors(t *testing.T) {
	tests := []struct {
		name    string
		names   []string
		weights []float64
		size    uint64
	}{
		{"not prime", []string{"a"}, nil, 65536},
		{"too small", []string{"a", "b", "c"}, nil, 3},
		{"empty", nil, nil, 0},
		{"duplicate", []string{"a", "a"}, nil, 0},
		{"empty name", []string{""}, nil, 0},
		{"weights length", []string{"a", "b"}, []float64{1}, 0},
		{"negative weight", []string{"a", "b"}, []float64{1, -1}, 0},
		{"NaN weight", []string{"a"}, []float64{math.NaN()}, 0},
		{"all zero", []string{"a", "b"}, []float64{0, 0}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := balancer.NewMaglevTable(tt.names, tt.weights, tt.size); !errors.Is(err, balancer.ErrInvalidConfig) {
				t.Errorf("err = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

// TestBoundedLoadSkewed sends a skewed key stream (half the picks on one
// key, the rest Zipf-like over 100 keys) with every request held open, and
// checks after each pick that no endpoint has more than ⌈c·mean⌉ in flight.
func TestBoundedLoadSkewed(t *testing.T) {
	for _, tt := range []struct {
		h balancer.ConsistentHash
		c float64
	}{
		{balancer.Maglev{}, 1.25},
		{balancer.RingHash{}, 1.25},
		{balancer.Rendezvous{}, 1.5},
		{balancer.Maglev{}, 1},
	} {
		t.Run(fmt.Sprintf("%s/c=%v", tt.h.Name(), tt.c), func(t *testing.T) {
			const n = 20
			bl := balancer.BoundedLoad{Hash: tt.h, Factor: tt.c}.Build(balancer.BuildOptions{})
			defer bl.Close()
			if err := bl.Update(balancer.State{Endpoints: hosts(n)}); err != nil {
				t.Fatal(err)
			}
			r := balancertest.Rand(5)
			load := map[string]int{}
			var held []balancer.PickResult
			for i := 1; i <= 5000; i++ {
				key := uint64(0)
				if i%2 == 0 {
					key = uint64(1 + 100/(1+r()%100)) // Zipf-like: small keys dominate
				}
				res, err := bl.Pick(balancer.PickInfo{Hash: balancer.HashString(fmt.Sprint(key))})
				if err != nil {
					t.Fatal(err)
				}
				load[res.Endpoint.Addr]++
				held = append(held, res)
				limit := int(math.Ceil(tt.c * float64(i) / n))
				if l := load[res.Endpoint.Addr]; l > limit {
					t.Fatalf("pick %d: %s has %d in flight, above ⌈c·mean⌉ = %d", i, res.Endpoint.Addr, l, limit)
				}
			}
			// Releasing restores affinity: the hot key's endpoint again.
			hot := held[0].Endpoint.Addr
			for _, h := range held {
				h.Done(balancer.DoneInfo{})
			}
			res, _ := bl.Pick(balancer.PickInfo{Hash: balancer.HashString("0")})
			if res.Endpoint.Addr != hot {
				t.Errorf("idle balancer sends the hot key to %s, want its hash endpoint %s", res.Endpoint.Addr, hot)
			}
			res.Done(balancer.DoneInfo{})
		})
	}
}
