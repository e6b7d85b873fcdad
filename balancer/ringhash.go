package balancer

import (
	"math"
	"math/bits"
	"slices"
)

// RingHash is ketama consistent hashing (Karger et al. 1997; libketama), as
// in Envoy's RING_HASH, grpc-go's ring_hash, NGINX's "hash … consistent" and
// HAProxy's "hash-type consistent": every endpoint puts points on a 64-bit
// ring and a key goes to the first point at or after its hash.
//
// Each endpoint's points are a fixed function of its Addr (xxHash64 seeded
// per point), and their number depends only on its weight relative to the
// largest weight, not on how many endpoints there are — so when one of n
// endpoints leaves only its own keys (≈1/n) move. (Rings that rescale
// points to a target ring size move several times more keys.) Balance
// improves with points: the relative standard deviation of endpoint shares
// is about 1/√PointsPerWeight. A lookup reads a bucket index and usually
// one or two points.
type RingHash struct {
	// PointsPerWeight is the number of points of an endpoint with the
	// largest weight; others get proportionally fewer, at least one. Zero
	// means 256.
	PointsPerWeight int
}

var _ ConsistentHash = RingHash{}

// Name returns "ring_hash".
func (RingHash) Name() string { return "ring_hash" }

// Build returns a ring-hash Balancer.
func (r RingHash) Build(o BuildOptions) Balancer { return newBase(r, o) }

func (r RingHash) newPicker(s *endpointSet) Picker { return newHashPicker(s, r, false, 0) }

type ring struct {
	points  []uint64 // sorted
	owner   []uint32
	buckets []uint32 // buckets[b] = first point with points[i]>>shift >= b
	shift   uint
}

func (r RingHash) buildIndex(names []string, weights []float64) hashIndex {
	per := r.PointsPerWeight
	if per <= 0 {
		per = 256
	}
	wmax := slices.Max(weights)
	type pt struct {
		h uint64
		o uint32
	}
	var pts []pt
	for i, name := range names {
		k := max(1, int(math.Round(float64(per)*weights[i]/wmax)))
		base := xxh64String(name, ringSeed)
		for j := range k {
			pts = append(pts, pt{mix64(base + uint64(j+1)*golden), uint32(i)})
		}
	}
	slices.SortFunc(pts, func(a, b pt) int {
		switch {
		case a.h < b.h:
			return -1
		case a.h > b.h:
			return 1
		case a.o < b.o:
			return -1
		case a.o > b.o:
			return 1
		}
		return 0
	})
	rg := &ring{points: make([]uint64, len(pts)), owner: make([]uint32, len(pts))}
	for i, p := range pts {
		rg.points[i], rg.owner[i] = p.h, p.o
	}
	// About one point per bucket.
	b := bits.Len(uint(len(pts)))
	rg.shift = uint(64 - b)
	rg.buckets = make([]uint32, 1<<b+1)
	j := 0
	for bk := range rg.buckets {
		for j < len(pts) && pts[j].h>>rg.shift < uint64(bk) {
			j++
		}
		rg.buckets[bk] = uint32(j)
	}
	return rg
}

func (r *ring) lookup(h uint64) int {
	b := h >> r.shift
	i, end := r.buckets[b], r.buckets[b+1]
	for i < end && r.points[i] < h {
		i++
	}
	if int(i) == len(r.points) {
		i = 0
	}
	return int(r.owner[i])
}

// Rendezvous is highest-random-weight hashing (Thaler and Ravishankar
// 1998), as in Caddy's hash policies and Traefik's hrw: a key goes to the
// endpoint with the highest score hash(key, endpoint), weighted as
// weight/−ln(u) (Schindelhauer and Schomaker's logarithmic method), which
// gives each endpoint exactly its weight's share and moves only the keys of
// an endpoint that leaves — the optimum. It needs no table, but a pick is
// O(n): fine for tens of endpoints, slow for thousands (use [Maglev]).
type Rendezvous struct{}

var _ ConsistentHash = Rendezvous{}

// Name returns "rendezvous".
func (Rendezvous) Name() string { return "rendezvous" }

// Build returns a rendezvous-hashing Balancer.
func (r Rendezvous) Build(o BuildOptions) Balancer { return newBase(r, o) }

func (r Rendezvous) newPicker(s *endpointSet) Picker { return newHashPicker(s, r, false, 0) }

type hrw struct {
	seeds   []uint64
	weights []float64 // nil when equal
}

func (Rendezvous) buildIndex(names []string, weights []float64) hashIndex {
	t := &hrw{seeds: make([]uint64, len(names))}
	for i, n := range names {
		t.seeds[i] = xxh64String(n, hrwSeed)
	}
	if !equalWeights(weights) {
		t.weights = weights
	}
	return t
}

func (t *hrw) lookup(h uint64) int {
	best := 0
	if t.weights == nil {
		var bs uint64
		for i, s := range t.seeds {
			if x := mix64(h ^ s); x > bs || i == 0 {
				best, bs = i, x
			}
		}
		return best
	}
	bs := math.Inf(-1)
	for i, s := range t.seeds {
		u := (float64(mix64(h^s)>>11) + 0.5) * (1.0 / (1 << 53)) // (0,1)
		if x := t.weights[i] / -math.Log(u); x > bs {
			best, bs = i, x
		}
	}
	return best
}
