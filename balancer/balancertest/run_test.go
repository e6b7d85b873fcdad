package balancertest_test

import (
	"testing"

	"github.com/lbkit/lbkit/balancer"
	"github.com/lbkit/lbkit/balancer/balancertest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	tests := []struct {
		b    balancer.Builder
		opts balancertest.Options
	}{
		{balancer.RoundRobin{}, balancertest.Options{}},
		{balancer.Random{}, balancertest.Options{}},
		{balancer.LeastRequest{}, balancertest.Options{LoadAware: true}},
		{balancer.LeastConn{}, balancertest.Options{LoadAware: true}},
		{balancer.Maglev{}, balancertest.Options{}},
		// Ring hash shares deviate from the weights by about
		// 1/√PointsPerWeight; a χ² test over 100k picks sees that below a
		// few thousand points per endpoint.
		{balancer.RingHash{PointsPerWeight: 4096}, balancertest.Options{}},
		{balancer.Rendezvous{}, balancertest.Options{}},
		{balancer.BoundedLoad{}, balancertest.Options{Hashing: true}},
		{balancer.BoundedLoad{Hash: balancer.RingHash{PointsPerWeight: 4096}}, balancertest.Options{Hashing: true}},
		{balancer.FlowHash{}, balancertest.Options{Flow: true}},
	}
	for _, tt := range tests {
		t.Run(tt.b.Name(), func(t *testing.T) {
			balancertest.Run(t, tt.b, tt.opts)
		})
	}
}
