package balancertest

import "sync/atomic"

// Rand returns a deterministic, goroutine-safe source of uniformly random
// 64-bit values for balancer.BuildOptions.Rand: splitmix64 over an atomic
// counter starting at seed. Serial callers get the same sequence for the
// same seed; it never allocates.
func Rand(seed uint64) func() uint64 {
	var state atomic.Uint64
	state.Store(seed)
	return func() uint64 {
		x := state.Add(0x9e3779b97f4a7c15)
		x ^= x >> 30
		x *= 0xbf58476d1ce4e5b9
		x ^= x >> 27
		x *= 0x94d049bb133111eb
		x ^= x >> 31
		return x
	}
}
