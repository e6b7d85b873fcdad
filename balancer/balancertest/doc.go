// Package balancertest is the conformance suite every balancer.Builder
// passes, with the deterministic clock and random source it uses.
//
// Typical usage, in a package that implements or configures a Builder:
//
//	func TestConformance(t *testing.T) {
//		balancertest.Run(t, balancer.LeastRequest{}, balancertest.Options{LoadAware: true})
//	}
//
// Run checks that picks follow the weights (Pearson's χ² test at α = 1e-6
// over 100k picks), the empty and one-endpoint sets, fail-open, drain, slow
// start (with a [FakeClock], nothing sleeps), that picks and Done allocate
// nothing, that hashing algorithms are deterministic, and that concurrent
// picks during endpoint churn are safe (run it under -race).
//
// It does not measure speed: benchmarks do.
package balancertest
