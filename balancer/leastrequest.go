package balancer

import (
	"math"
	"math/rand/v2"
)

// LeastRequest sends a pick to the endpoint with the fewest requests in
// flight among a few drawn at random: "the power of two choices" (P2C), ALB's
// least_outstanding_requests, Envoy's LEAST_REQUEST, grpc-go's
// least_request_experimental, HAProxy's random(2), NGINX's "random two
// least_conn". A request is in flight from Pick until [PickResult.Done].
//
// Equal weights: draw Choices endpoints uniformly *with replacement* (as
// Envoy and grpc-go do; the same endpoint may be drawn twice, which is why
// two endpoints, one busy, split 75/25 rather than 100/0) and take the one
// with the fewest in flight; ties go to the first drawn. O(1): one random
// number per two choices, one atomic add.
//
// Unequal weights: Envoy picks by EDF over weight/(active+1)^bias under a
// lock. Here the same distribution is sampled without a lock: draw an
// endpoint in proportion to its weight (alias table), accept it with
// probability 1/(active+1)^bias, else draw again; after 8 rejections take
// the best of the draws by weight/(active+1)^bias. The pick frequencies
// match Envoy's analytic expectations (e.g. weight 2 with 1 active against
// weight 1 idle: 50/50) while most endpoints are lightly loaded; under
// uniformly heavy load the fallback keeps it O(1) and still weight-aware.
type LeastRequest struct {
	// Choices is how many endpoints are drawn (equal weights). Zero means
	// 2; values below 2 mean 2 and above 10 mean 10 (grpc-go's bounds).
	Choices int
	// ActiveRequestBias is Envoy's active_request_bias for unequal weights:
	// effective weight = weight/(active+1)^bias. Zero means Envoy's default
	// 1.0; a negative value means 0 (weights only, ignore load).
	ActiveRequestBias float64
}

var _ Builder = LeastRequest{}

// Name returns "least_request".
func (LeastRequest) Name() string { return "least_request" }

// Build returns a least-request Balancer.
func (l LeastRequest) Build(o BuildOptions) Balancer { return newBase(l, o) }

func (l LeastRequest) newPicker(s *endpointSet) Picker {
	if len(s.eps) == 0 {
		return errPicker{s.noEndpoint}
	}
	c := l.Choices
	c = min(max(c, 2), 10)
	bias := l.ActiveRequestBias
	switch {
	case bias == 0:
		bias = 1
	case bias < 0:
		bias = 0
	}
	p := &lrPicker{eps: s.eps, loads: s.loads, n: uint64(len(s.eps)), choices: c, bias: bias, rand: s.rand, weights: s.weights}
	if !equalWeights(s.weights) {
		p.alias = newAlias(s.weights)
	}
	return p
}

type lrPicker struct {
	eps     []Endpoint
	loads   []*endpointLoad
	weights []float64
	n       uint64
	choices int
	bias    float64
	alias   *aliasTable
	rand    randSource
}

func (p *lrPicker) Pick(PickInfo) (PickResult, error) { return p.pick(), nil }

func (p *lrPicker) pick() PickResult {
	var best uint64
	switch {
	case p.alias != nil:
		best = p.weighted()
	case p.choices == 2:
		// The common case, unrolled: both indices from one 64-bit draw.
		var r uint64
		if p.rand.f == nil { // u64, expanded: it is over the inlining budget
			r = rand.Uint64()
		} else {
			r = p.rand.f()
		}
		best = p.lessLoaded((r>>32)*p.n>>32, uint64(uint32(r))*p.n>>32)
	default:
		best = p.p2c()
	}
	l := p.loads[best]
	l.inflight.Add(1)
	return PickResult{Endpoint: &p.eps[best], load: l}
}

// lessLoaded returns a unless b has fewer requests in flight. It selects
// without a branch: which one is less loaded is unpredictable, and a
// mispredicted branch would cost more than the rest of the pick.
func (p *lrPicker) lessLoaded(a, b uint64) uint64 {
	d := p.loads[b].inflight.Load() - p.loads[a].inflight.Load()
	bLess := uint64(d >> 63) // all ones when d < 0
	return a ^ (a^b)&bLess
}

// p2c draws p.choices endpoints with replacement, 32 random bits each.
func (p *lrPicker) p2c() uint64 {
	n := p.n
	r := p.rand.u64()
	best := (r >> 32) * n >> 32
	bl := p.loads[best].inflight.Load()
	for k := 1; k < p.choices; k++ {
		var c uint64
		if k&1 == 1 {
			c = uint64(uint32(r)) * n >> 32
		} else {
			r = p.rand.u64()
			c = (r >> 32) * n >> 32
		}
		if cl := p.loads[c].inflight.Load(); cl < bl {
			best, bl = c, cl
		}
	}
	return best
}

// weighted samples weight/(active+1)^bias by rejection.
func (p *lrPicker) weighted() uint64 {
	best, bestScore := uint64(0), -1.0
	for range 8 {
		r := p.rand.u64()
		i := uint64(p.alias.sample(r))
		a := p.loads[i].inflight.Load()
		if a <= 0 || p.bias == 0 {
			return i
		}
		// Accept with probability 1/(a+1)^bias, from a fresh 53-bit uniform.
		u := float64(mix64(r)>>11) * (1.0 / (1 << 53))
		var accept float64
		if p.bias == 1 {
			accept = 1 / float64(a+1)
		} else {
			accept = math.Pow(float64(a+1), -p.bias)
		}
		if u < accept {
			return i
		}
		if s := p.weights[i] * accept; s > bestScore {
			best, bestScore = i, s
		}
	}
	return best
}

// LeastConn sends each new connection to the endpoint with the fewest open
// connections relative to its weight — (open+1)/weight, HAProxy's leastconn
// and NGINX's least_conn — for L4, where connections are long and few. A
// connection counts as open from Pick until [PickResult.Done]. The scan is
// O(n) and starts at a random endpoint, which breaks ties at random; for
// many endpoints or short requests prefer [LeastRequest] (O(1)).
type LeastConn struct{}

var _ Builder = LeastConn{}

// Name returns "least_conn".
func (LeastConn) Name() string { return "least_conn" }

// Build returns a least-connections Balancer.
func (l LeastConn) Build(o BuildOptions) Balancer { return newBase(l, o) }

func (LeastConn) newPicker(s *endpointSet) Picker {
	if len(s.eps) == 0 {
		return errPicker{s.noEndpoint}
	}
	inv := make([]float64, len(s.weights))
	for i, w := range s.weights {
		inv[i] = 1 / w
	}
	return &lcPicker{eps: s.eps, loads: s.loads, inv: inv, n: uint64(len(s.eps)), rand: s.rand}
}

type lcPicker struct {
	eps   []Endpoint
	loads []*endpointLoad
	inv   []float64 // 1/weight
	n     uint64
	rand  randSource
}

func (p *lcPicker) Pick(PickInfo) (PickResult, error) {
	n := int(p.n)
	start := int(fastrange(p.rand.u64(), p.n))
	best, bestScore := start, math.Inf(1)
	for k := range n {
		i := start + k
		if i >= n {
			i -= n
		}
		s := float64(p.loads[i].inflight.Load()+1) * p.inv[i]
		if s < bestScore {
			best, bestScore = i, s
		}
	}
	l := p.loads[best]
	l.inflight.Add(1)
	return PickResult{Endpoint: &p.eps[best], load: l}, nil
}
