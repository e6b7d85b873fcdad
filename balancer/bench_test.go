package balancer_test

import (
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbkit/lbkit/balancer"
	"github.com/lbkit/lbkit/balancer/balancertest"
)

// Run with: go test -run '^$' -bench . -benchmem -count 5 ./balancer
// and compare against BenchmarkBaseline of the same run (see doc.go).

var sink atomic.Uint64

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

// BenchmarkBaseline is the reference the pick figures are read against on a
// shared, noisy machine: one atomic increment, serial and parallel.
func BenchmarkBaseline(b *testing.B) {
	var c atomic.Uint32
	b.Run("atomic_add/serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.Add(1)
		}
	})
	b.Run("atomic_add/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Add(1)
			}
		})
	})
}

type benchAlg struct {
	name     string
	b        balancer.Builder
	weighted bool
	hash     bool
	flow     bool
	loaded   bool // counts requests in flight: benchmarked busy (see newBench)
}

var benchAlgs = []benchAlg{
	{name: "round_robin", b: balancer.RoundRobin{}},
	{name: "weighted_round_robin", b: balancer.RoundRobin{}, weighted: true},
	{name: "random", b: balancer.Random{}},
	{name: "weighted_random", b: balancer.Random{}, weighted: true},
	{name: "p2c", b: balancer.LeastRequest{}, loaded: true},
	{name: "least_request_weighted", b: balancer.LeastRequest{}, weighted: true, loaded: true},
	{name: "least_conn", b: balancer.LeastConn{}, loaded: true},
	{name: "maglev", b: balancer.Maglev{}, hash: true},
	{name: "ring_hash", b: balancer.RingHash{}, hash: true},
	{name: "rendezvous", b: balancer.Rendezvous{}, hash: true},
	{name: "bounded_load", b: balancer.BoundedLoad{}, hash: true, loaded: true},
	{name: "flow_hash", b: balancer.FlowHash{}, flow: true},
}

// newBench returns a balancer of a over n endpoints (weights 1–4 when
// a.weighted), closed with b. A load-aware one starts busy, with 4n
// requests in flight from picks made before the benchmark (completed at
// cleanup): with every count at zero the comparisons a pick makes would
// always go one way, and the branch predictor would learn them.
func newBench(b *testing.B, a benchAlg, n int) balancer.Balancer {
	eps := hosts(n)
	if a.weighted {
		for i := range eps {
			eps[i].Weight = uint32(1 + i%4)
		}
	}
	bl := a.b.Build(balancer.BuildOptions{})
	if err := bl.Update(balancer.State{Endpoints: eps}); err != nil {
		b.Fatal(err)
	}
	var busy []balancer.PickResult
	if a.loaded {
		infos := benchInfos(a)
		for i := range 4 * n {
			info := balancer.PickInfo{}
			if infos != nil {
				info = infos[i&1023]
			}
			r, err := bl.Pick(info)
			if err != nil {
				b.Fatal(err)
			}
			busy = append(busy, r)
		}
	}
	b.Cleanup(func() {
		for _, r := range busy {
			r.Done(balancer.DoneInfo{})
		}
		bl.Close()
	})
	return bl
}

// benchInfos returns the 1024 PickInfos a benchmark of a keyed algorithm
// cycles through, and nil for the others (see pickDone).
func benchInfos(a benchAlg) []balancer.PickInfo {
	if !a.hash && !a.flow {
		return nil
	}
	r := balancertest.Rand(9)
	infos := make([]balancer.PickInfo, 1024)
	for i := range infos {
		k := r()
		switch {
		case a.hash:
			infos[i].Hash = k
		case a.flow:
			infos[i].Flow = balancer.Flow{
				Proto: 6,
				Src:   netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(k), byte(k >> 8), byte(k >> 16)}), uint16(k>>32)),
				Dst:   netip.MustParseAddrPort("192.0.2.1:443"),
			}
		}
	}
	return infos
}

// pickDone is the benchmarks' Pick+Done. Algorithms that read no key get
// balancer.PickInfo{}, as their callers write it; copying a PickInfo out of
// memory instead costs about 4 cpu-ns more on the reference machine (88
// bytes on the stack; see BenchmarkAtomicCPU's nop_pick and
// nop_pick_copied), which would hide the picker in the figure.
func pickDone(bl balancer.Balancer, infos []balancer.PickInfo, i int) {
	var r balancer.PickResult
	if infos == nil {
		r, _ = bl.Pick(balancer.PickInfo{})
	} else {
		r, _ = bl.Pick(infos[i&1023])
	}
	r.Done(balancer.DoneInfo{})
}

// BenchmarkPick measures Pick+Done at 3, 100 and 1000 endpoints, serial
// and with RunParallel (GOMAXPROCS goroutines).
func BenchmarkPick(b *testing.B) {
	for _, a := range benchAlgs {
		for _, n := range []int{3, 100, 1000} {
			if (a.name == "rendezvous" || a.name == "least_conn") && n == 1000 {
				continue // O(n) by design; 100 shows the slope
			}
			infos := benchInfos(a)
			b.Run(fmt.Sprintf("%s/n=%d/serial", a.name, n), func(b *testing.B) {
				bl := newBench(b, a, n)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					pickDone(bl, infos, i)
					i++
				}
			})
			b.Run(fmt.Sprintf("%s/n=%d/parallel", a.name, n), func(b *testing.B) {
				bl := newBench(b, a, n)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						pickDone(bl, infos, i)
						i++
					}
				})
			})
		}
	}
}

func BenchmarkMaglevLookup(b *testing.B) {
	for _, n := range []int{100, 1000} {
		names := make([]string, n)
		for i, e := range hosts(n) {
			names[i] = e.Addr
		}
		t, err := balancer.NewMaglevTable(names, nil, 0)
		if err != nil {
			b.Fatal(err)
		}
		keys := randomKeys(1024)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var s int
			i := 0
			for b.Loop() {
				s += t.Lookup(keys[i&1023])
				i++
			}
			sink.Add(uint64(s))
		})
	}
}

func BenchmarkMaglevBuild(b *testing.B) {
	for _, n := range []int{100, 1000} {
		names := make([]string, n)
		for i, e := range hosts(n) {
			names[i] = e.Addr
		}
		b.Run(fmt.Sprintf("n=%d/M=65537", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := balancer.NewMaglevTable(names, nil, 65537); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRingHashBuild(b *testing.B) {
	for _, n := range []int{100, 1000} {
		bl := balancer.RingHash{}.Build(balancer.BuildOptions{})
		eps := hosts(n)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bl.Update(balancer.State{Endpoints: eps}); err != nil {
					b.Fatal(err)
				}
			}
		})
		bl.Close()
	}
}

// BenchmarkDisruption is Envoy's HostLoss benchmark: the percentage of
// 100k keys that move when some endpoints leave ("moved%"), beside the
// optimum ("optimum%", the leavers' share).
func BenchmarkDisruption(b *testing.B) {
	keys := randomKeys(100000)
	for _, h := range []balancer.Builder{balancer.Maglev{}, balancer.RingHash{}, balancer.Rendezvous{}} {
		for _, c := range []struct{ n, remove int }{{100, 1}, {1000, 1}, {1000, 10}} {
			if h.Name() == "rendezvous" && c.n == 1000 {
				continue
			}
			b.Run(fmt.Sprintf("%s/%dof%d", h.Name(), c.remove, c.n), func(b *testing.B) {
				var moved, opt float64
				for b.Loop() {
					moved, opt = hostLoss(b, h, c.n, c.remove, keys)
				}
				b.ReportMetric(100*moved, "moved%")
				b.ReportMetric(100*opt, "optimum%")
				b.ReportMetric(moved/opt, "×optimum")
			})
		}
	}
}

// BenchmarkPickVsAtomic measures Pick+Done against one atomic increment in
// alternating chunks of 2000 operations, so both see the same load on a
// shared machine; it reports the median ratio ("×atomic") and that ratio
// scaled to the 5 ns an uncontended atomic add costs on an idle core of
// this class ("ns@5ns"), next to the raw ns/op. Parallel runs one such
// loop per GOMAXPROCS goroutine against a shared counter.
func BenchmarkPickVsAtomic(b *testing.B) {
	for _, a := range benchAlgs[:6] {
		for _, n := range []int{3, 100, 1000} {
			for _, par := range []bool{false, true} {
				mode := "serial"
				if par {
					mode = "parallel"
				}
				b.Run(fmt.Sprintf("%s/n=%d/%s", a.name, n, mode), func(b *testing.B) {
					bl := newBench(b, a, n)
					infos := benchInfos(a)
					var ctr atomic.Uint32
					const chunk = 2000
					var mu sync.Mutex
					var ratios []float64
					loop := func(ops int) {
						var mine []float64
						for done := 0; done < ops; done += chunk {
							t0 := time.Now()
							for i := range chunk {
								pickDone(bl, infos, i)
							}
							t1 := time.Now()
							for range chunk {
								ctr.Add(1)
							}
							t2 := time.Now()
							mine = append(mine, float64(t1.Sub(t0))/float64(max(t2.Sub(t1), 1)))
						}
						mu.Lock()
						ratios = append(ratios, mine...)
						mu.Unlock()
					}
					b.ReportAllocs()
					b.ResetTimer()
					procs := 1
					if par {
						procs = runtimeProcs()
					}
					var wg sync.WaitGroup
					for range procs {
						wg.Go(func() { loop(max(b.N/procs, chunk)) })
					}
					wg.Wait()
					b.StopTimer()
					slices.Sort(ratios)
					med := ratios[len(ratios)/2]
					b.ReportMetric(med, "×atomic")
					b.ReportMetric(5*med, "ns@5ns")
				})
			}
		}
	}
}
