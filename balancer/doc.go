// Package balancer picks an endpoint for each request or flow: round robin,
// random, least outstanding requests (P2C), least connections, ring hash,
// Maglev, rendezvous hashing, bounded-load consistent hashing and L4 flow
// hashing, with ELB- and Envoy-style modifiers (slow start, fail-open and
// panic threshold, zone awareness, drain).
//
// The API follows grpc-go's split of roles: a [Builder] (one per algorithm,
// configured by its exported fields) builds a [Balancer]; the Balancer takes
// endpoint sets through Update, from one goroutine, and publishes an
// immutable [Picker] with an atomic pointer swap; Pick is safe from any
// number of goroutines, never blocks, takes no lock and allocates nothing.
// Load-aware algorithms count a pick in flight until [PickResult.Done].
//
// Typical usage:
//
//	b := balancer.New(balancer.RoundRobin{}, balancer.BuildOptions{})
//	defer b.Close()
//	err := b.Update(balancer.State{Endpoints: []balancer.Endpoint{
//		{Addr: "10.0.0.1:80"}, {Addr: "10.0.0.2:80", Weight: 2},
//	}})
//	...
//	r, err := b.Pick(balancer.PickInfo{})
//	if errors.Is(err, balancer.ErrNoEndpoint) {
//		// 503
//	}
//	defer r.Done(balancer.DoneInfo{})
//	forward(r.Endpoint.Addr)
//
// Time and randomness are injected through [BuildOptions] (Clock, Rand);
// the pick path reads no clock at all: slow start re-weights on timer steps
// by publishing a new picker. Hashing is xxHash64 with fixed seeds, so
// hashing algorithms agree across processes given the same endpoint set.
//
// # Performance
//
// Measured 2026-11-26 on the shared 2-vCPU Xeon VM (2.1 GHz, load average
// 7–12 from other work), go test -count 5, medians. Wall-clock ns/op swung
// 3–10× with the load, so the figures are CPU time of the benchmarking
// thread (BenchmarkPickCPU, CLOCK_THREAD_CPUTIME_ID), beside the same run's
// references (BenchmarkAtomicCPU): one atomic add costs 9.7 cpu-ns and one
// math/rand/v2 draw 9.1 on this CPU, loop included (an atomic add is about
// 5 ns on the EPYC of ../shared/research/dataplane.md). Pick+Done,
// cpu-ns/op, 0 allocs/op at 3, 100 and 1000 endpoints, serial (parallel
// where it differs: the two threads then share counters' cache lines):
//
//	round robin            14.9–15.1   (1.55× an atomic add; par. 15.3–17.5)
//	weighted round robin   17.2–17.3   (1.8×; parallel 21–23)
//	random                 16.4–17.2   (1.8× the rand draw)
//	weighted random        20.0–23.7   (alias table)
//	P2C (least request)    21.6–26.4   (in-flight +1 and −1 are two atomic
//	                                    adds; parallel at n=3, where both
//	                                    threads hit three counters: 53)
//	least request weighted 23.5–25.7
//	Maglev pick            30.6–31.7   (lookup alone: 2.8 cpu-ns)
//	ring hash (256 pts)    31.5–33.2
//	bounded load (Maglev)  60–63
//	flow hash (5-tuple)    84–90       (unpacking and hashing the tuple)
//	least conn n=3/100     32 / 196    (O(n) scan)
//	rendezvous n=3/100     38 / 264    (O(n))
//
// Algorithms that read no key are benchmarked with PickInfo{}, as callers
// pass it; the keyed ones copy a PickInfo (88 bytes) out of memory per pick,
// which costs about 4 cpu-ns more (a Pick that does nothing, behind the
// same interface call: 6.9 cpu-ns with PickInfo{}, 11.1 copied). Round
// robin is that no-op pick plus one atomic add, so the 15 ns is met
// only at the margin on this CPU; P2C cannot meet it here: its in-flight
// +1 and −1 are two locked adds of 8–9 cpu-ns each, and spreading them
// over per-CPU counters would need the runtime's processor id, which Go
// does not export.
//
// Maglev table build at M = 65537: 1.9 cpu-ms for 100 endpoints, 2.2
// cpu-ms for 1000 in the same run (2.05 in a quieter one); nearly all of
// it is the probe loop of the Maglev paper's population, whose output is
// fixed for all time so that processes agree (probing a bitmap in L1
// instead of the table was tried and gained nothing: the loop is bound by
// its unpredictable exit branch). Equal-weight endpoints hold slots
// differing by at most one (tested for 1–1000 endpoints).
//
// Disruption (Envoy's HostLoss form, TestDisruption and
// BenchmarkDisruption; 200k random keys, deterministic): keys moved when
// endpoints leave, optimum in parentheses:
//
//	                1 of 100          1 of 1000         10 of 1000
//	Maglev          1.53% (1.00%)     0.63% (0.10%)     3.22% (1.00%)
//	ring hash       1.12% (1.00%)     0.100% (0.10%)    0.98% (1.00%)
//	rendezvous      1.01% (1.00%)
//
// Bounded load (TestBoundedLoadSkewed): with half the keys on one hot key
// and every request held open, no endpoint ever exceeds ⌈c·mean⌉ (c = 1,
// 1.25, 1.5).
//
// What it does not do: it opens no connection and checks no health (feed it
// [Endpoint.Status] from package healthcheck), keeps no per-flow state
// (callers that need connection tracking keep it and set
// [PickInfo.Established]), and starts no goroutine of its own. The package
// is experimental (v0): names may still change.
package balancer
