package balancer

import (
	"math"
	"strings"
	"sync/atomic"
)

// ConsistentHash is implemented by the consistent-hashing algorithms
// ([RingHash], [Maglev], [Rendezvous]); [BoundedLoad] runs on top of any of
// them. The unexported method keeps the set closed.
type ConsistentHash interface {
	Builder
	// buildIndex maps keys onto names (sorted, unique) with weights > 0.
	buildIndex(names []string, weights []float64) hashIndex
}

// hashIndex maps a 64-bit key to an index into the names it was built from.
type hashIndex interface {
	lookup(h uint64) int
}

// hashPicker is the picker of every hashing algorithm: it adds drain
// semantics, flow keys and bounded load around an index.
type hashPicker struct {
	eps      []Endpoint // healthy-or-used and draining, sorted by Addr
	loads    []*endpointLoad
	draining []bool
	all      hashIndex // over eps
	fresh    hashIndex // over non-draining eps when some drain, else nil
	freshIdx []int     // fresh index → eps index
	nFresh   int
	flow     bool    // key on PickInfo.Flow
	factor   float64 // bounded-load factor c, 0 = unbounded
	total    *atomic.Int64
	noe      *NoEndpointError
}

func newHashPicker(s *endpointSet, ch ConsistentHash, flow bool, factor float64) Picker {
	n := len(s.eps) + len(s.drain)
	p := &hashPicker{
		eps:      make([]Endpoint, 0, n),
		loads:    make([]*endpointLoad, 0, n),
		draining: make([]bool, 0, n),
		flow:     flow,
		factor:   factor,
		total:    s.inflight,
		noe:      s.noEndpoint,
		nFresh:   len(s.eps),
	}
	names := make([]string, 0, n)
	weights := make([]float64, 0, n)
	var fnames []string
	var fweights []float64
	// Merge the two sorted lists.
	i, j := 0, 0
	for i < len(s.eps) || j < len(s.drain) {
		if j >= len(s.drain) || (i < len(s.eps) && strings.Compare(s.eps[i].Addr, s.drain[j].Addr) < 0) {
			p.freshIdx = append(p.freshIdx, len(p.eps))
			p.eps = append(p.eps, s.eps[i])
			p.loads = append(p.loads, s.loads[i])
			p.draining = append(p.draining, false)
			names = append(names, s.eps[i].Addr)
			weights = append(weights, s.weights[i])
			fnames = append(fnames, s.eps[i].Addr)
			fweights = append(fweights, s.weights[i])
			i++
		} else {
			p.eps = append(p.eps, s.drain[j])
			p.loads = append(p.loads, s.drainLoads[j])
			p.draining = append(p.draining, true)
			names = append(names, s.drain[j].Addr)
			weights = append(weights, s.drainW[j])
			j++
		}
	}
	p.all = ch.buildIndex(names, weights)
	if len(s.drain) > 0 && len(s.eps) > 0 {
		p.fresh = ch.buildIndex(fnames, fweights)
	}
	return p
}

func (p *hashPicker) key(info PickInfo) uint64 {
	if p.flow && info.Flow.IsValid() {
		return info.Flow.Hash()
	}
	return info.Hash
}

// lookupNew maps h to a non-draining endpoint, or -1 if there is none.
func (p *hashPicker) lookupNew(h uint64) int {
	i := p.all.lookup(h)
	if !p.draining[i] {
		return i
	}
	if p.fresh == nil {
		return -1
	}
	return p.freshIdx[p.fresh.lookup(h)]
}

func (p *hashPicker) Pick(info PickInfo) (PickResult, error) {
	h := p.key(info)
	if info.Established {
		if i := p.all.lookup(h); p.draining[i] {
			return p.result(i), nil
		}
	}
	if p.factor > 0 {
		return p.bounded(h)
	}
	i := p.lookupNew(h)
	if i < 0 {
		return PickResult{}, p.noe
	}
	return PickResult{Endpoint: &p.eps[i]}, nil
}

func (p *hashPicker) result(i int) PickResult {
	if p.factor == 0 {
		return PickResult{Endpoint: &p.eps[i]}
	}
	l := p.loads[i]
	l.inflight.Add(1)
	p.total.Add(1)
	return PickResult{Endpoint: &p.eps[i], load: l, total: p.total}
}

// bounded implements consistent hashing with bounded loads (Mirrokni,
// Thorup, Zadimoghaddam, arXiv:1608.01350): no endpoint takes more than
// ⌈c·(in flight + 1)/n⌉. If the key's endpoint is full, probe the keys
// rehashed with splitmix64 (the random-jump probing of arXiv:1908.08762),
// so one key's overflow spreads over the others instead of piling onto
// its ring neighbour; after 2n probes fall back to the least loaded.
func (p *hashPicker) bounded(h uint64) (PickResult, error) {
	n := p.nFresh
	if n == 0 {
		return PickResult{}, p.noe
	}
	limit := int64(math.Ceil(p.factor * float64(p.total.Load()+1) / float64(n)))
	key := h
	for probe := 0; probe < 2*n; probe++ {
		i := p.lookupNew(key)
		if p.loads[i].inflight.Load() < limit {
			return p.result(i), nil
		}
		key = mix64(h + uint64(probe+1)*golden)
	}
	best, bl := -1, int64(math.MaxInt64)
	for i := range p.eps {
		if l := p.loads[i].inflight.Load(); !p.draining[i] && l < bl {
			best, bl = i, l
		}
	}
	return p.result(best), nil
}

// BoundedLoad is consistent hashing with bounded loads: keys go to their
// consistent-hash endpoint unless it already has more than ⌈Factor·mean⌉
// requests in flight, in which case they spill to other endpoints. It keeps
// most of a hash's affinity while capping hot spots, as Envoy's
// hash_balance_factor and HAProxy's hash-balance-factor do (Vimeo's
// contribution). Requests count as in flight from Pick until
// [PickResult.Done]. The cap holds exactly for serial picks; concurrent
// picks may overshoot it by the number of racing pickers.
type BoundedLoad struct {
	// Hash is the underlying consistent hash; nil means Maglev{}.
	Hash ConsistentHash
	// Factor is the balance factor c ≥ 1. Zero means 1.25 (HAProxy's and
	// Envoy's usual 125); values below 1 mean 1.
	Factor float64
}

var _ Builder = BoundedLoad{}

// Name returns "bounded_load".
func (BoundedLoad) Name() string { return "bounded_load" }

// Build returns a bounded-load Balancer.
func (b BoundedLoad) Build(o BuildOptions) Balancer { return newBase(b, o) }

func (b BoundedLoad) maxEndpoints() int {
	if l, ok := b.Hash.(limiter); ok {
		return l.maxEndpoints()
	}
	if b.Hash == nil {
		return maxMaglevEndpoints
	}
	return math.MaxInt
}

func (b BoundedLoad) newPicker(s *endpointSet) Picker {
	h := b.Hash
	if h == nil {
		h = Maglev{}
	}
	c := b.Factor
	if c == 0 {
		c = 1.25
	}
	return newHashPicker(s, h, false, max(c, 1))
}
