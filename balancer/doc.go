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
// Measured 2026-11-26 on the 2-vCPU Xeon VM (2.1 GHz) while other work
// shared it lightly, go test -count 5, medians. The figures are CPU time
// of the benchmarking threads (BenchmarkPickCPU, CLOCK_THREAD_CPUTIME_ID;
// wall-clock BenchmarkPick agrees within 5% when the machine is quiet)
// beside the same run's references (BenchmarkAtomicCPU): one atomic add
// costs 7.5 cpu-ns, one math/rand/v2 draw 6.6, and a Pick+Done that does
// nothing 4.7 (the loop and the interface call); an atomic add that both
// cores make on one counter costs 19.8 ns per add. Pick+Done in ns per
// pick, 0 allocs/op, at 3, 100 and 1000 endpoints; "parallel" is two
// threads picking at once, total time over total picks, as RunParallel
// reports it:
//
//	                       serial       parallel
//	round robin            11.4–11.8    6.9–7.1
//	weighted round robin   11.5–11.8    7.8–8.0
//	random                 12.8–13.2    6.3–6.5
//	weighted random        12.7–13.0    6.4–6.6   (alias table)
//	P2C (least request)    20.4–21.8    22.5–23.7, n=3: 54
//	  Pick alone           14.9–15.3    20.7–22.5, n=3: 44
//	least request weighted 88–109       76–105    (busy: see below)
//	Maglev pick            23.6–23.8    11.9–12.2 (lookup alone: 2.3)
//	ring hash (256 pts)    25.6–27.4    13.3–14.0
//	bounded load (Maglev)  47–48        143–152
//	flow hash (5-tuple)    67–68        34        (unpacking and hashing the tuple)
//	least conn n=3/100     31 / 157               (O(n) scan)
//	rendezvous n=3/100     28 / 208               (O(n))
//
// Round robin's shared counter was a cache line that both cores wrote on
// every pick: 22–26 ns per pick in parallel. Its picks now spread over
// lanes once they collide (see [RoundRobin]); spread, the two threads no
// longer wait for each other. P2C cannot spread that way: its in-flight
// counts are shared by definition, each pick writes one (+1) and its Done
// another (−1), so in parallel a pick costs about what one contended
// atomic add does (19.8 here), and at three endpoints both cores write the
// same three lines. Serially a P2C pick is one random draw and one atomic
// add beside the no-op pick; Done is a second atomic add.
//
// Load-aware algorithms are benchmarked busy, with 4 requests per endpoint
// in flight: idle, every count is zero, every comparison goes one way and
// the branch predictor hides their cost. That is why P2C picks the less
// loaded of its two draws with a conditional move, not a branch (2–3 ns
// faster when busy), and why weighted least request shows its rejection
// sampler's real cost here (accepting a draw with probability
// 1/(active+1) takes several draws when every endpoint is busy).
//
// Keyed algorithms copy a PickInfo (88 bytes) out of memory per pick,
// which costs about 4 cpu-ns more than passing PickInfo{} (the no-op
// pick: 4.7 cpu-ns with PickInfo{}, 8.9 copied).
//
// Maglev table build at M = 65537: 1.51 cpu-ms for 100 endpoints, 1.76
// cpu-ms for 1000 in the same run (2.2 when the machine was loaded by
// eight engineers' builds); nearly all of
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
