package balancer

import (
	"sync"
	"testing"
)

func newTestRotation(procs int) *rotation {
	r := new(rotation)
	r.init(randSource{func() uint64 { return 0 }}, procs)
	return r
}

// counts returns how often each of n positions came up in picks from g
// goroutines making per picks each.
func rotationCounts(r *rotation, g, per, n int) []int {
	out := make([]int, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range g {
		wg.Go(func() {
			mine := make([]int, n)
			for range per {
				mine[r.next()%uint32(n)]++
			}
			mu.Lock()
			for i, c := range mine {
				out[i] += c
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

func TestRotationSpreadsAfterCollisions(t *testing.T) {
	r := newTestRotation(2)
	if len(r.lanes) != 64 {
		t.Fatalf("%d lanes at 2 procs, want 64", len(r.lanes))
	}
	for range collisionsToSpread - 1 {
		r.slow() // what a pick does after losing the compare-and-swap
	}
	if r.spread.Load() {
		t.Fatalf("spread after %d collisions, want %d", collisionsToSpread-1, collisionsToSpread)
	}
	r.slow()
	if !r.spread.Load() {
		t.Fatalf("not spread after %d collisions", collisionsToSpread)
	}
	before := r.shared.Load()
	r.next()
	if r.shared.Load() != before {
		t.Error("a spread rotation still moves the shared counter")
	}
}

// TestRotationExactWhileShared: a rotation that has not spread hands out
// consecutive positions, so any number of goroutines picking 3k times over
// 3 endpoints get each endpoint exactly k times. Without lanes (one core)
// it never spreads.
func TestRotationExactWhileShared(t *testing.T) {
	r := newTestRotation(1)
	for range 2 * collisionsToSpread {
		r.slow()
	}
	if r.spread.Load() || r.lanes != nil {
		t.Fatal("a one-core rotation spread")
	}
	if c := rotationCounts(r, 4, 3000, 3); c[0] != 4000 || c[1] != 4000 || c[2] != 4000 {
		t.Errorf("counts %v, want 4000 each", c)
	}
}

// TestRotationSpreadBalance: spread, each lane's cycle is exact, so an
// endpoint's count is off the mean by at most one per lane.
func TestRotationSpreadBalance(t *testing.T) {
	r := newTestRotation(2)
	r.spread.Store(true)
	c := rotationCounts(r, 8, 30000, 7)
	lo, hi, sum := c[0], c[0], 0
	for _, x := range c {
		lo, hi, sum = min(lo, x), max(hi, x), sum+x
	}
	if sum != 8*30000 || hi-lo > len(r.lanes) {
		t.Errorf("counts %v (sum %d): spread more than %d lanes allow", c, sum, len(r.lanes))
	}
}

// TestRotationLanesDiffer: goroutines alive at once mostly get different
// lanes. One multiplication of the stack address once put them all on one
// lane, since stacks lie at regular distances.
func TestRotationLanesDiffer(t *testing.T) {
	r := newTestRotation(2)
	const g = 8
	var (
		started, release sync.WaitGroup
		mu               sync.Mutex
		lanes            = map[*lane]bool{}
	)
	started.Add(g)
	release.Add(1)
	var wg sync.WaitGroup
	for range g {
		wg.Go(func() {
			started.Done()
			release.Wait() // all g stacks are alive while they pick lanes
			l := r.lane()
			mu.Lock()
			lanes[l] = true
			mu.Unlock()
		})
	}
	started.Wait()
	release.Done()
	wg.Wait()
	if len(lanes) < g-3 {
		t.Errorf("%d goroutines got %d lanes of %d", g, len(lanes), len(r.lanes))
	}
}

// TestRotationLaneOfStrides: addresses at a regular distance (stacks of one
// size, side by side) spread over lanes for any distance.
func TestRotationLaneOfStrides(t *testing.T) {
	r := newTestRotation(2)
	const base = 0xc000100000
	for stride := uintptr(0x100); stride <= 0x100000; stride += 0x100 {
		seen := map[uint64]bool{}
		for k := range uintptr(8) {
			seen[r.laneOf(base+k*stride)] = true
		}
		if len(seen) < 5 {
			t.Errorf("8 addresses %#x apart share %d lanes", stride, len(seen))
		}
	}
}
