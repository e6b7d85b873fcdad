package dsr

import (
	"cmp"
	"github.com/lbkit/lbkit/balancer"
	"math"
	"slices"
)

// Endpoint is a backend as a [Selector] sees it.
type Endpoint struct {
	Key    string // the backend's address, as text
	Weight uint32 // > 0
}

// Selector chooses the backend of each new flow from the flow's hash.
//
// A selector must be a pure function of the endpoints it was built from
// (keys, weights and their order): forwarders with the same backend set
// must agree on every flow with no shared state, and when one backend
// leaves or joins, flows of the others should not move. Maglev (from the
// balancer package) and rendezvous hashing have these properties.
type Selector interface {
	// Select returns an index into the endpoints the selector was built
	// from, or -1 if it has none. It must not block or allocate.
	Select(hash uint64) int
}

// SelectorBuilder builds a [Selector] from the backends that take new
// flows, sorted by address. It is called on every change of the backend
// set, never on the packet path.
type SelectorBuilder func(endpoints []Endpoint) Selector

// rendezvousSlots is the size of the rendezvous lookup table: prime, and
// much larger than any backend count (Maglev's rule M > 100·N).
const rendezvousSlots = 65537

// NewRendezvousSelector is a [SelectorBuilder] of weighted
// rendezvous (highest random weight) hashing, evaluated once per slot of a
// 65537-slot table so that a lookup is one array index. A slot belongs to
// the endpoint with the highest score weight/−ln(u), with u a fixed hash
// of (slot, key): removing an endpoint moves only its own slots; adding
// one takes about weight/Σweights of slots, only from the others.
//
// Building costs 65537·N hashes (about 1 ms per backend); for hundreds of
// backends use Maglev from the balancer package.
func NewRendezvousSelector(endpoints []Endpoint) Selector {
	if len(endpoints) == 0 {
		return rendezvous(nil)
	}
	// A fixed seed: every process computes the same table.
	seeds := make([]uint64, len(endpoints))
	for i, e := range endpoints {
		seeds[i] = fixedHash(e.Key)
	}
	t := make(rendezvous, rendezvousSlots)
	for s := range t {
		best, bestScore := 0, math.Inf(-1)
		for i, e := range endpoints {
			u := (float64(splitmix(seeds[i]^uint64(s)*0x9e3779b97f4a7c15)>>11) + 0.5) / (1 << 53)
			score := float64(e.Weight) / -math.Log(u)
			if score > bestScore {
				best, bestScore = i, score
			}
		}
		t[s] = uint16(best)
	}
	return t
}

type rendezvous []uint16

func (r rendezvous) Select(hash uint64) int {
	if len(r) == 0 {
		return -1
	}
	return int(r[hash%uint64(len(r))])
}

// fixedHash is FNV-1a 64 mixed by splitmix64: deterministic across
// processes, unlike maphash.
func fixedHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return splitmix(h)
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func sortedByAddr(b []Backend) []Backend {
	s := slices.Clone(b)
	slices.SortFunc(s, func(x, y Backend) int { return cmp.Compare(x.Addr.Compare(y.Addr), 0) })
	return s
}

// NewMaglevSelector is the default [SelectorBuilder]: a Maglev lookup
// table (balancer.NewMaglevTable, 65537 slots, weighted) over the
// backends' addresses. The table depends only on the (address, weight)
// pairs, so every forwarder with the same backend set agrees on every new
// flow; when one of N backends leaves, about 1/N of slots move, nearly all
// of them its own (Maglev NSDI'16 §3.4). The flow table keeps established
// flows where they are regardless.
func NewMaglevSelector(endpoints []Endpoint) Selector {
	if len(endpoints) == 0 {
		return rendezvous(nil)
	}
	names := make([]string, len(endpoints))
	weights := make([]float64, len(endpoints))
	for i, e := range endpoints {
		names[i], weights[i] = e.Key, float64(e.Weight)
	}
	t, err := balancer.NewMaglevTable(names, weights, 0)
	if err != nil {
		// Only reachable with duplicate or empty keys, which SetBackends
		// rules out; fall back rather than drop traffic.
		return NewRendezvousSelector(endpoints)
	}
	return maglev{t}
}

type maglev struct{ t *balancer.MaglevTable }

func (m maglev) Select(hash uint64) int { return m.t.Lookup(hash) }
