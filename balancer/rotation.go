package balancer

import (
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// rotation hands out the positions of a round-robin cycle.
//
// While picks do not overlap it is one shared counter, so a lone client
// sees the exact cycle, as with grpc-go's round_robin. A shared counter
// costs a cache-line transfer whenever another core incremented it last:
// on two cores that doubles a pick's cost, and it gets worse with more.
// So once picks running at the same time have collided on the counter
// (collisionsToSpread times), the rotation spreads them over lanes: the
// calling goroutine selects a lane, and each lane runs its own cycle from a
// random start, as each of Envoy's and NGINX's workers does. Every lane's
// cycle is exact, so an endpoint's share of the picks is off by at most one
// pick per lane in use. The rotation never returns to one counter: the next
// Update builds a new one.
type rotation struct {
	shared     atomic.Uint32
	_          [60]byte // the counter is written on every pick: a line of its own
	collisions atomic.Uint32
	_          [60]byte
	spread     atomic.Bool // written once; read on every pick with lanes
	lanes      []lane
	laneShift  uint // 64 − log2(len(lanes))
}

// lane is one spread cycle's counter, alone on its cache line.
type lane struct {
	n atomic.Uint32
	_ [60]byte
}

// collisionsToSpread is how many collisions make a rotation spread: enough
// that two requests overlapping now and then keep the exact shared cycle,
// few enough that a benchmark or a busy proxy spreads within microseconds.
const collisionsToSpread = 64

// init starts the rotation at a random position. It has lanes only when
// picks may run on more than one core (procs, usually GOMAXPROCS); their
// number grows with the cores so that two goroutines picking at once
// rarely share one (1 in 64 at two cores).
func (r *rotation) init(rand randSource, procs int) {
	r.shared.Store(uint32(rand.u64()))
	if procs <= 1 {
		return
	}
	n := min(max(64, 1<<bits.Len(uint(32*procs-1))), 1024)
	r.lanes = make([]lane, n)
	r.laneShift = uint(64 - bits.TrailingZeros(uint(n)))
	for i := range r.lanes {
		r.lanes[i].n.Store(uint32(rand.u64()))
	}
}

// next returns the caller's next position in the cycle.
func (r *rotation) next() uint32 {
	if !r.spread.Load() {
		n := r.shared.Load()
		if r.shared.CompareAndSwap(n, n+1) {
			return n + 1
		}
	}
	return r.slow()
}

// slow serves a pick from the caller's lane. Picks come here once the
// rotation spreads, and before that after a collision on the shared
// counter, which they count; without lanes (one core) they retry it.
//
//go:noinline
func (r *rotation) slow() uint32 {
	if r.lanes == nil {
		return r.shared.Add(1)
	}
	if !r.spread.Load() && r.collisions.Add(1) >= collisionsToSpread {
		r.spread.Store(true)
	}
	return r.lane().n.Add(1)
}

// lane returns the calling goroutine's lane, chosen by a hash of an address
// on its stack. Goroutines running at the same time have different stacks,
// so they mostly get different lanes; unlike a processor id (which Go does
// not export), the address costs no call. A goroutine whose stack moves
// (it grew) may change lanes, which only makes its picks follow another
// lane's cycle. The address is used as a number only.
func (r *rotation) lane() *lane {
	var anchor byte
	return &r.lanes[r.laneOf(uintptr(unsafe.Pointer(&anchor)))]
}

// laneOf maps an address to a lane. Stacks lie at regular distances, which
// one multiplication (Fibonacci hashing) maps to the same lane for some
// distances: the address is mixed.
func (r *rotation) laneOf(addr uintptr) uint64 {
	return mix64(uint64(addr)) >> r.laneShift
}
