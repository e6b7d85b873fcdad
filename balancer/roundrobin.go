package balancer

import (
	"container/heap"
	"math"
	"math/bits"
	"runtime"
)

// RoundRobin picks endpoints in turn, in proportion to their weights, like
// ALB's round_robin (its default), NGINX's smooth weighted round robin and
// HAProxy's roundrobin.
//
// Equal weights cycle through the endpoints with one atomic compare-and-swap
// per pick (grpc-go's round_robin), starting at a random offset so that many
// balancers do not hit the same endpoint first. Unequal weights follow a
// precomputed interleaved schedule (earliest-deadline-first over each
// endpoint's share, so an endpoint with weight 3 of 4 is spread out rather
// than picked three times in a row); the schedule is exact when the reduced
// weights sum to at most 65536 and otherwise apportions 65536 slots by
// largest remainder (every endpoint gets at least one). A pick is one atomic
// operation and one table read: no lock, no allocation.
//
// The cycle is exact while picks do not overlap. When picks from several
// cores keep colliding on the shared position, the balancer gives each
// goroutine one of many cycles of its own, each exact, as Envoy's and
// NGINX's workers do, until the next Update: an endpoint's share is then
// off by at most one pick per cycle in use, and picks on different cores
// stop waiting for each other's cache line.
type RoundRobin struct{}

var _ Builder = RoundRobin{}

// Name returns "round_robin".
func (RoundRobin) Name() string { return "round_robin" }

// Build returns a round-robin Balancer.
func (r RoundRobin) Build(o BuildOptions) Balancer { return newBase(r, o) }

// maxSchedule bounds the weighted round-robin schedule length.
const maxSchedule = 1 << 16

func (RoundRobin) newPicker(s *endpointSet) Picker {
	if len(s.eps) == 0 {
		return errPicker{s.noEndpoint}
	}
	p := &rrPicker{eps: s.eps}
	if !equalWeights(s.weights) {
		p.sched = schedule(s.weights)
	}
	n := len(s.eps)
	if p.sched != nil {
		n = len(p.sched)
	}
	p.mod = newFastMod(uint32(n))
	p.rot.init(s.rand, runtime.GOMAXPROCS(0))
	return p
}

type rrPicker struct {
	rot   rotation // first: its counters sit on lines of their own
	eps   []Endpoint
	sched []uint32 // nil for equal weights
	mod   fastMod
}

func (p *rrPicker) Pick(PickInfo) (PickResult, error) { return p.pick(), nil }

func (p *rrPicker) pick() PickResult {
	i := p.mod.mod(p.rot.next())
	if p.sched != nil {
		i = p.sched[i]
	}
	return PickResult{Endpoint: &p.eps[i]}
}

// fastMod computes x mod d for 32-bit x with two multiplications instead of
// a division (Lemire, Kaser, Kurz: "Faster remainder by direct computation").
type fastMod struct {
	m uint64
	d uint64
}

func newFastMod(d uint32) fastMod {
	return fastMod{m: ^uint64(0)/uint64(d) + 1, d: uint64(d)}
}

func (f fastMod) mod(x uint32) uint32 {
	hi, _ := bits.Mul64(f.m*uint64(x), f.d)
	return uint32(hi)
}

// counts turns weights into integer slot counts: exact reduced integer
// weights when they fit in maxSchedule, else a largest-remainder
// apportionment of up to maxSchedule slots with at least one slot each.
func counts(w []float64) []int {
	c := make([]int, len(w))
	integral := true
	var g uint64
	for _, x := range w {
		if x != math.Trunc(x) || x > 1<<31 {
			integral = false
			break
		}
		g = gcd(g, uint64(x))
	}
	if integral && g > 0 {
		sum := 0
		for i, x := range w {
			c[i] = int(uint64(x) / g)
			sum += c[i]
		}
		if sum <= maxSchedule {
			return c
		}
	}
	total := 0.0
	for _, x := range w {
		total += x
	}
	// Fractional weights (slow start) are approximate anyway: 256 slots
	// per endpoint keep each share within 0.2% while keeping rebuilds cheap.
	slots := min(maxSchedule, max(1024, 256*len(w)))
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(w))
	used := 0
	for i, x := range w {
		share := x / total * float64(slots)
		c[i] = int(share)
		rems[i] = rem{i, share - float64(c[i])}
		if c[i] == 0 {
			c[i] = 1
			rems[i].r = -1
		}
		used += c[i]
	}
	// Largest remainders get the slots that are left.
	for used < slots {
		best := -1
		for j := range rems {
			if rems[j].r >= 0 && (best < 0 || rems[j].r > rems[best].r) {
				best = j
			}
		}
		if best < 0 {
			break
		}
		c[rems[best].i]++
		rems[best].r = -1
		used++
	}
	return c
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// schedule returns an interleaved sequence of endpoint indices in which
// endpoint i appears counts(w)[i] times, spread out by earliest deadline
// first: the k-th occurrence of i has deadline (k+½)/c_i, ties broken by
// index, so each endpoint's picks sit in the middle of equal intervals.
func schedule(w []float64) []uint32 {
	c := counts(w)
	total := 0
	for _, x := range c {
		total += x
	}
	h := make(edfHeap, len(c))
	for i, x := range c {
		h[i] = edfEntry{deadline: 0.5 / float64(x), idx: uint32(i)}
	}
	heap.Init(&h)
	seen := make([]int, len(c))
	out := make([]uint32, 0, total)
	for len(out) < total {
		e := &h[0]
		i := e.idx
		out = append(out, i)
		seen[i]++
		if seen[i] == c[i] {
			heap.Pop(&h)
			continue
		}
		e.deadline = (float64(seen[i]) + 0.5) / float64(c[i])
		heap.Fix(&h, 0)
	}
	return out
}

type edfEntry struct {
	deadline float64
	idx      uint32
}

type edfHeap []edfEntry

func (h edfHeap) Len() int { return len(h) }
func (h edfHeap) Less(i, j int) bool {
	if h[i].deadline != h[j].deadline {
		return h[i].deadline < h[j].deadline
	}
	return h[i].idx < h[j].idx
}
func (h edfHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *edfHeap) Push(x any)   { *h = append(*h, x.(edfEntry)) }
func (h *edfHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
