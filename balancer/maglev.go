package balancer

import (
	"fmt"
	"math"
	"slices"
)

// DefaultMaglevTableSize is the Maglev table size used when none is given:
// 65537, the prime Envoy and Katran use. Per Eisenbud et al. (NSDI '16) a
// table more than 100 times the number of endpoints keeps every endpoint's
// share within about 1% of its weight.
const DefaultMaglevTableSize = 65537

// maxMaglevEndpoints is the most endpoints a table holds: entries are
// 16-bit (half the memory, twice the cache hits), 0xFFFF marks empty.
const maxMaglevEndpoints = 0xFFFF

// Maglev is Google's Maglev consistent hash (Eisenbud et al., "Maglev: A
// Fast and Reliable Software Network Load Balancer", NSDI '16, §3.4), as in
// Envoy's MAGLEV and Katran: each endpoint walks its own permutation of a
// prime-sized table, taking slots in turn, until the table is full. A
// lookup is one multiply and one table read. Balance is near perfect
// (equal weights differ by at most one slot); when an endpoint leaves, its
// keys move and a few others do too (about 1.6% of keys for 1 of 100,
// against the optimum 1.0% — see the package benchmarks).
//
// Weighted as in Katran's MaglevV2: in each round an endpoint takes a slot
// only when its accumulated weight/maxWeight credit reaches one.
//
// The table depends only on the set of (Addr, weight) pairs — not on their
// order, the process or the machine — so separate forwarders agree. Keys
// come from [PickInfo.Hash]; see [FlowHash] for the 5-tuple and
// [MaglevTable] to use the table without a Balancer.
type Maglev struct {
	// TableSize is the number of slots, a prime. Zero means
	// DefaultMaglevTableSize; other values are rounded up to a prime, and
	// to a prime above 100·n when they are not above n.
	TableSize uint64
}

var _ ConsistentHash = Maglev{}

// Name returns "maglev".
func (Maglev) Name() string { return "maglev" }

// Build returns a Maglev Balancer.
func (m Maglev) Build(o BuildOptions) Balancer { return newBase(m, o) }

func (Maglev) maxEndpoints() int   { return maxMaglevEndpoints }
func (FlowHash) maxEndpoints() int { return maxMaglevEndpoints }

func (m Maglev) newPicker(s *endpointSet) Picker { return newHashPicker(s, m, false, 0) }

func (m Maglev) buildIndex(names []string, weights []float64) hashIndex {
	size := m.TableSize
	if size == 0 {
		size = DefaultMaglevTableSize
	}
	size = nextPrime(size)
	if size <= uint64(len(names)) {
		size = nextPrime(100 * uint64(len(names)))
	}
	t, err := buildMaglev(names, weights, size, false)
	if err != nil {
		// Only reachable with more than 65535 endpoints.
		panic(err)
	}
	return t
}

// FlowHash is NLB's flow hash: every packet of a flow, identified by its
// 5-tuple ([PickInfo.Flow]: protocol, source and destination address and
// port), goes to the same endpoint, through a Maglev table so that endpoint
// changes move few flows and every forwarder agrees. (NLB also hashes the
// TCP sequence number of the SYN; a stateless pick cannot, so a client that
// reuses a 5-tuple lands on the same endpoint.) Picks without a valid Flow
// use [PickInfo.Hash]. Set [PickInfo.Established] for packets of flows
// that already exist so that they stay on a draining endpoint.
type FlowHash struct {
	// TableSize is the Maglev table size, as in [Maglev].
	TableSize uint64
}

var _ Builder = FlowHash{}

// Name returns "flow_hash".
func (FlowHash) Name() string { return "flow_hash" }

// Build returns a flow-hash Balancer.
func (f FlowHash) Build(o BuildOptions) Balancer { return newBase(f, o) }

func (f FlowHash) newPicker(s *endpointSet) Picker {
	return newHashPicker(s, Maglev(f), true, 0)
}

// MaglevTable is a Maglev lookup table on its own, for forwarders that keep
// their own endpoint list (a DSR forwarder indexing its tunnels). It is
// immutable and safe for concurrent use.
type MaglevTable struct {
	slots []uint16
	m     uint64
	n     int
}

// NewMaglevTable builds a table of size slots (a prime, more than
// len(names); DefaultMaglevTableSize if 0) over names, which must be
// non-empty and unique. weights may be nil (all equal) or give each name a
// weight ≥ 0, not all 0. The table depends only on the (name, weight) pairs,
// not on their order. Invalid arguments return an error wrapping
// ErrInvalidConfig.
func NewMaglevTable(names []string, weights []float64, size uint64) (*MaglevTable, error) {
	if size == 0 {
		size = DefaultMaglevTableSize
	}
	if !isPrime(size) {
		return nil, fmt.Errorf("%w: maglev table size %d is not prime", ErrInvalidConfig, size)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: maglev table needs at least one name", ErrInvalidConfig)
	}
	if size <= uint64(len(names)) {
		return nil, fmt.Errorf("%w: maglev table size %d is not above the %d names", ErrInvalidConfig, size, len(names))
	}
	if weights != nil && len(weights) != len(names) {
		return nil, fmt.Errorf("%w: %d weights for %d names", ErrInvalidConfig, len(weights), len(names))
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if n == "" || seen[n] {
			return nil, fmt.Errorf("%w: maglev name %q is empty or repeated", ErrInvalidConfig, n)
		}
		seen[n] = true
	}
	if weights == nil {
		weights = make([]float64, len(names))
		for i := range weights {
			weights[i] = 1
		}
	}
	return buildMaglev(names, weights, size, true)
}

// Lookup returns the index (into the names given to NewMaglevTable) of the
// entry for hash. It costs one multiply and one memory read.
func (t *MaglevTable) Lookup(hash uint64) int {
	return int(t.slots[fastrange(hash, t.m)])
}

func (t *MaglevTable) lookup(h uint64) int { return int(t.slots[fastrange(h, t.m)]) }

// Size returns the number of slots.
func (t *MaglevTable) Size() int { return len(t.slots) }

// Counts returns how many slots each name holds, by name index.
func (t *MaglevTable) Counts() []int {
	c := make([]int, t.n)
	for _, s := range t.slots {
		c[s]++
	}
	return c
}

// buildMaglev fills the table. Names are visited in sorted order so the
// result does not depend on the caller's order; the slots hold the caller's
// indices. sorted says whether names may be unsorted.
func buildMaglev(names []string, weights []float64, size uint64, unsorted bool) (*MaglevTable, error) {
	n := len(names)
	if n > maxMaglevEndpoints {
		return nil, fmt.Errorf("%w: maglev holds at most %d endpoints, got %d", ErrInvalidConfig, maxMaglevEndpoints, n)
	}
	order := make([]int, 0, n)
	wmax := 0.0
	for i, w := range weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("%w: maglev weight %v for %q", ErrInvalidConfig, w, names[i])
		}
		if w > 0 {
			order = append(order, i)
			wmax = max(wmax, w)
		}
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("%w: every maglev weight is zero", ErrInvalidConfig)
	}
	if unsorted {
		slices.SortFunc(order, func(a, b int) int {
			if names[a] < names[b] {
				return -1
			}
			return 1
		})
	}
	k := len(order)
	pos := make([]uint64, k)
	skip := make([]uint64, k)
	credit := make([]float64, k)
	inc := make([]float64, k)
	equal := true
	for j, i := range order {
		pos[j] = xxh64String(names[i], maglevOffset) % size
		skip[j] = xxh64String(names[i], maglevSkip)%(size-1) + 1
		inc[j] = weights[i] / wmax
		equal = equal && weights[i] == wmax
	}
	slots := make([]uint16, size)
	for i := range slots {
		slots[i] = 0xFFFF
	}
	filled := uint64(0)
	for filled < size {
		for j, i := range order {
			if !equal {
				credit[j] += inc[j]
				if credit[j] < 1 {
					continue
				}
				credit[j]--
			}
			p, s := pos[j], skip[j]
			for slots[p] != 0xFFFF {
				p += s
				if p >= size {
					p -= size
				}
			}
			slots[p] = uint16(i)
			p += s
			if p >= size {
				p -= size
			}
			pos[j] = p
			filled++
			if filled == size {
				break
			}
		}
	}
	return &MaglevTable{slots: slots, m: size, n: n}, nil
}

func isPrime(n uint64) bool {
	if n < 2 {
		return false
	}
	for d := uint64(2); d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}

func nextPrime(n uint64) uint64 {
	for !isPrime(n) {
		n++
	}
	return n
}
