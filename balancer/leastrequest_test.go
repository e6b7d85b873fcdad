package balancer_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/lbkit/lbkit/balancer"
	"github.com/lbkit/lbkit/balancer/balancertest"
)

// TestLeastRequestEnvoyExpectations reproduces the analytic expectations of
// Envoy's least_request_lb_simulation_test.cc: with some endpoints holding
// requests in flight, 100k picks must land within ±1 percentage point of
// the probabilities P2C (with replacement) or weighted least request give.
func TestLeastRequestEnvoyExpectations(t *testing.T) {
	tests := []struct {
		name    string
		b       balancer.LeastRequest
		weights []uint32
		active  []int     // requests held in flight per endpoint
		want    []float64 // expected share per endpoint
	}{
		// P2C with replacement: the busy endpoint wins only if drawn twice.
		{"3 hosts one busy", balancer.LeastRequest{}, []uint32{1, 1, 1}, []int{0, 0, 1}, []float64{4.0 / 9, 4.0 / 9, 1.0 / 9}},
		{"2 hosts one busy", balancer.LeastRequest{}, []uint32{1, 1}, []int{1, 0}, []float64{0.25, 0.75}},
		{"3 choices", balancer.LeastRequest{Choices: 3}, []uint32{1, 1, 1}, []int{1, 0, 0}, []float64{1.0 / 27, 13.0 / 27, 13.0 / 27}},
		{"all idle", balancer.LeastRequest{}, []uint32{1, 1, 1, 1}, []int{0, 0, 0, 0}, []float64{0.25, 0.25, 0.25, 0.25}},
		// Weighted: weight/(active+1)^bias.
		{"weight 2 with 1 active", balancer.LeastRequest{}, []uint32{2, 1}, []int{1, 0}, []float64{0.5, 0.5}},
		{"weights 3:1 idle", balancer.LeastRequest{}, []uint32{3, 1}, []int{0, 0}, []float64{0.75, 0.25}},
		{"weight 4 with 3 active, bias 0.5", balancer.LeastRequest{ActiveRequestBias: 0.5}, []uint32{4, 1}, []int{3, 0}, []float64{2.0 / 3, 1.0 / 3}},
		{"bias 0 ignores load", balancer.LeastRequest{ActiveRequestBias: -1}, []uint32{2, 1}, []int{5, 0}, []float64{2.0 / 3, 1.0 / 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.b.Build(balancer.BuildOptions{Rand: balancertest.Rand(42)})
			defer b.Close()
			var eps []balancer.Endpoint
			for i, w := range tt.weights {
				eps = append(eps, balancer.Endpoint{Addr: fmt.Sprint(i), Weight: w})
			}
			if err := b.Update(balancer.State{Endpoints: eps}); err != nil {
				t.Fatal(err)
			}
			// Hold the requested number of picks open on each endpoint.
			need := append([]int(nil), tt.active...)
			var held []balancer.PickResult
			for left := sum(need); left > 0; {
				r, err := b.Pick(balancer.PickInfo{})
				if err != nil {
					t.Fatal(err)
				}
				i := idx(r)
				if need[i] > 0 {
					need[i]--
					left--
					held = append(held, r)
				} else {
					r.Done(balancer.DoneInfo{})
				}
			}
			const n = 100000
			got := make([]int, len(eps))
			for range n {
				r, err := b.Pick(balancer.PickInfo{})
				if err != nil {
					t.Fatal(err)
				}
				got[idx(r)]++
				r.Done(balancer.DoneInfo{})
			}
			for i := range got {
				share := float64(got[i]) / n
				if math.Abs(share-tt.want[i]) > 0.01 {
					t.Errorf("endpoint %d: %.2f%% of picks, want %.2f%% ±1pp (all: %v)", i, 100*share, 100*tt.want[i], got)
				}
			}
			for _, r := range held {
				r.Done(balancer.DoneInfo{})
			}
		})
	}
}

func sum(x []int) int {
	s := 0
	for _, v := range x {
		s += v
	}
	return s
}

func idx(r balancer.PickResult) int {
	var i int
	fmt.Sscan(r.Endpoint.Addr, &i)
	return i
}

// TestLeastConnPicksLeastLoaded checks the full scan: with connections held
// open the next pick goes to the endpoint with the fewest per weight.
func TestLeastConnPicksLeastLoaded(t *testing.T) {
	b := balancer.LeastConn{}.Build(balancer.BuildOptions{Rand: balancertest.Rand(1)})
	defer b.Close()
	err := b.Update(balancer.State{Endpoints: []balancer.Endpoint{
		{Addr: "0", Weight: 1}, {Addr: "1", Weight: 3}, {Addr: "2", Weight: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var held []balancer.PickResult
	counts := make([]int, 3)
	for range 50 {
		r, err := b.Pick(balancer.PickInfo{})
		if err != nil {
			t.Fatal(err)
		}
		counts[idx(r)]++
		held = append(held, r)
	}
	// (open+1)/weight stays level: 10, 30, 10.
	if counts[0] != 10 || counts[1] != 30 || counts[2] != 10 {
		t.Errorf("open connections %v, want [10 30 10]", counts)
	}
	for _, r := range held {
		r.Done(balancer.DoneInfo{})
	}
}
