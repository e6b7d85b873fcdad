//go:build linux

package balancer_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/lbkit/lbkit/balancer"
)

// threadCPU returns the CPU time the calling OS thread has used
// (CLOCK_THREAD_CPUTIME_ID). On a shared machine a benchmark's wall time
// also counts the time other processes hold the core; CPU time does not.
func threadCPU() time.Duration {
	var ts syscall.Timespec
	const clockThreadCPUTime = 3
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

// cpuLoop runs f ops times on each of procs locked OS threads and returns
// the CPU nanoseconds per op per thread.
func cpuLoop(procs, ops int, f func(i int)) float64 {
	var mu sync.Mutex
	var total time.Duration
	var wg sync.WaitGroup
	for range procs {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			t0 := threadCPU()
			for i := range ops {
				f(i)
			}
			d := threadCPU() - t0
			mu.Lock()
			total += d
			mu.Unlock()
		})
	}
	wg.Wait()
	return float64(total) / float64(procs*ops)
}

// cpuModes are the two ways the CPU benchmarks run: one thread, and
// GOMAXPROCS threads picking at once.
func cpuModes() []struct {
	name  string
	procs int
} {
	return []struct {
		name  string
		procs int
	}{{"serial", 1}, {"parallel", runtime.GOMAXPROCS(0)}}
}

// BenchmarkPickCPU reports Pick+Done in CPU nanoseconds per operation
// ("cpu-ns/op"), serial and on GOMAXPROCS threads at once, which is the
// figure to compare with the targets on a machine shared with other
// work. ns/op (wall) is printed beside it.
func BenchmarkPickCPU(b *testing.B) {
	for _, a := range benchAlgs {
		for _, n := range []int{3, 100, 1000} {
			if (a.name == "rendezvous" || a.name == "least_conn") && n == 1000 {
				continue
			}
			for _, m := range cpuModes() {
				mode, procs := m.name, m.procs
				b.Run(fmt.Sprintf("%s/n=%d/%s", a.name, n, mode), func(b *testing.B) {
					bl := newBench(b, a, n)
					infos := benchInfos(a)
					b.ReportAllocs()
					b.ResetTimer()
					ns := cpuLoop(procs, max(b.N/procs, 1), func(i int) {
						pickDone(bl, infos, i)
					})
					b.ReportMetric(ns, "cpu-ns/op")
				})
			}
		}
	}
}

// BenchmarkPickOnlyCPU is BenchmarkPickCPU without Done for the load-aware
// algorithms whose Done is not free (one atomic decrement): the cost of
// Pick itself, in CPU time. The requests it picks stay in flight until
// cleanup, so the balancer gets busier as it runs.
func BenchmarkPickOnlyCPU(b *testing.B) {
	for _, a := range benchAlgs {
		if !a.loaded || a.name == "least_conn" {
			continue
		}
		for _, n := range []int{3, 100, 1000} {
			infos := benchInfos(a)
			for _, m := range cpuModes() {
				mode, procs := m.name, m.procs
				b.Run(fmt.Sprintf("%s/n=%d/%s", a.name, n, mode), func(b *testing.B) {
					bl := newBench(b, a, n)
					var mu sync.Mutex
					var held []balancer.PickResult
					b.Cleanup(func() {
						for _, r := range held {
							r.Done(balancer.DoneInfo{})
						}
					})
					b.ReportAllocs()
					b.ResetTimer()
					ns := cpuLoop(procs, max(b.N/procs, 1), func(i int) {
						var r balancer.PickResult
						if infos == nil { // as pickDone: no copy of a PickInfo
							r, _ = bl.Pick(balancer.PickInfo{})
						} else {
							r, _ = bl.Pick(infos[i&1023])
						}
						if i&1023 == 0 { // keep a sample, so Done runs at all
							mu.Lock()
							held = append(held, r)
							mu.Unlock()
						}
					})
					b.ReportMetric(ns, "cpu-ns/op")
				})
			}
		}
	}
}

// nopBalancer's Pick does nothing, behind the same interface call.
type nopBalancer struct{ balancer.Balancer }

//go:noinline
func (*nopBalancer) Pick(balancer.PickInfo) (balancer.PickResult, error) {
	return balancer.PickResult{}, nil
}

// BenchmarkAtomicCPU is the reference for BenchmarkPickCPU: one atomic
// increment, one math/rand/v2 draw and a Pick+Done that does nothing
// (the benchmark loop and the interface call, with PickInfo{} as
// pickDone passes it to algorithms that read no key; nop_pick_copied with
// the PickInfo copied from memory, as for keyed algorithms), in CPU time,
// serial and parallel.
func BenchmarkAtomicCPU(b *testing.B) {
	var ctr atomic.Uint32
	var nop balancer.Balancer = &nopBalancer{} // a pointer: no wrapper call
	infos := benchInfos(benchAlg{hash: true})
	for _, m := range cpuModes() {
		mode, procs := m.name, m.procs
		b.Run("atomic_add/"+mode, func(b *testing.B) {
			b.ReportMetric(cpuLoop(procs, max(b.N/procs, 1), func(int) { ctr.Add(1) }), "cpu-ns/op")
		})
		b.Run("rand/"+mode, func(b *testing.B) {
			b.ReportMetric(cpuLoop(procs, max(b.N/procs, 1), func(int) { _ = rand.Uint64() }), "cpu-ns/op")
		})
		b.Run("nop_pick/"+mode, func(b *testing.B) {
			b.ReportMetric(cpuLoop(procs, max(b.N/procs, 1), func(i int) { pickDone(nop, nil, i) }), "cpu-ns/op")
		})
		b.Run("nop_pick_copied/"+mode, func(b *testing.B) {
			b.ReportMetric(cpuLoop(procs, max(b.N/procs, 1), func(i int) { pickDone(nop, infos, i) }), "cpu-ns/op")
		})
	}
}

// BenchmarkMaglevCPU reports Maglev lookup and build in CPU time.
func BenchmarkMaglevCPU(b *testing.B) {
	for _, n := range []int{100, 1000} {
		names := make([]string, n)
		for i, e := range hosts(n) {
			names[i] = e.Addr
		}
		t, err := balancer.NewMaglevTable(names, nil, 65537)
		if err != nil {
			b.Fatal(err)
		}
		keys := randomKeys(1024)
		b.Run(fmt.Sprintf("lookup/n=%d", n), func(b *testing.B) {
			var s int
			ns := cpuLoop(1, b.N, func(i int) { s += t.Lookup(keys[i&1023]) })
			sink.Add(uint64(s))
			b.ReportMetric(ns, "cpu-ns/op")
		})
		b.Run(fmt.Sprintf("build/n=%d/M=65537", n), func(b *testing.B) {
			b.ReportAllocs()
			ns := cpuLoop(1, b.N, func(int) {
				if _, err := balancer.NewMaglevTable(names, nil, 65537); err != nil {
					b.Error(err)
				}
			})
			b.ReportMetric(ns/1e6, "cpu-ms/op")
		})
	}
}
