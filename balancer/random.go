package balancer

import (
	"math"
	"math/rand/v2"
)

// Random picks an endpoint at random with probability proportional to its
// weight: ALB's weighted_random, Caddy's random (its default), HAProxy's
// random(1). Equal weights take one random number and a multiply; unequal
// weights use Vose's alias table, so a pick is O(1) for any weights: one
// random number, one multiply, one comparison.
type Random struct{}

var _ Builder = Random{}

// Name returns "weighted_random", ALB's name for it.
func (Random) Name() string { return "weighted_random" }

// Build returns a random Balancer.
func (r Random) Build(o BuildOptions) Balancer { return newBase(r, o) }

func (Random) newPicker(s *endpointSet) Picker {
	if len(s.eps) == 0 {
		return errPicker{s.noEndpoint}
	}
	p := &randomPicker{eps: s.eps, n: uint64(len(s.eps)), rand: s.rand}
	if !equalWeights(s.weights) {
		p.alias = newAlias(s.weights)
	}
	return p
}

type randomPicker struct {
	eps   []Endpoint
	n     uint64
	alias *aliasTable
	rand  randSource
}

func (p *randomPicker) Pick(PickInfo) (PickResult, error) { return p.pick(), nil }

func (p *randomPicker) pick() PickResult {
	var r uint64
	if p.rand.f == nil { // u64, expanded: it is over the inlining budget
		r = rand.Uint64()
	} else {
		r = p.rand.f()
	}
	var i uint64
	if p.alias == nil {
		i = fastrange(r, p.n)
	} else {
		i = uint64(p.alias.sample(r))
	}
	return PickResult{Endpoint: &p.eps[i]}
}

// aliasTable samples index i with probability w[i]/Σw in O(1) (Vose's alias
// method): column c is uniform; it keeps c with probability keep/2^32 and
// otherwise takes its alias. A column's two numbers share one 8-byte entry,
// so a sample reads one cache line.
type aliasTable struct {
	cols []aliasColumn
	n    uint64
}

type aliasColumn struct{ keep, alias uint32 }

func newAlias(w []float64) *aliasTable {
	n := len(w)
	t := &aliasTable{cols: make([]aliasColumn, n), n: uint64(n)}
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	p := make([]float64, n)
	var small, large []int
	for i, x := range w {
		p[i] = x * float64(n) / sum
		if p[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		t.cols[s] = aliasColumn{keep: uint32(math.Min(p[s]*(1<<32), math.MaxUint32)), alias: uint32(l)}
		p[l] = p[l] + p[s] - 1
		if p[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range append(small, large...) {
		// Rounding leftovers keep themselves.
		t.cols[i] = aliasColumn{keep: math.MaxUint32, alias: uint32(i)}
	}
	return t
}

// sample maps one random number to an index: the high half picks the
// column, the low half flips the biased coin. The coin is a conditional
// move, not a branch: with unequal weights it is unpredictable.
func (t *aliasTable) sample(r uint64) uint32 {
	c := (r >> 32) * t.n >> 32 // n < 2^32
	col := t.cols[c]
	i := col.alias
	if uint32(r) < col.keep {
		i = uint32(c)
	}
	return i
}
