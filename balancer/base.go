package balancer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// endpointLoad is the per-endpoint state that survives picker rebuilds: the
// in-flight count load-aware algorithms read. It is padded to a cache line
// so that counters of different endpoints do not share one.
type endpointLoad struct {
	inflight atomic.Int64
	_        [56]byte
}

func (l *endpointLoad) done(DoneInfo) { l.inflight.Add(-1) }

// endpointSet is what an algorithm builds its picker from: the endpoints
// chosen for new picks after the modifiers (health, fail-open, zone, slow
// start) ran, sorted by Addr, with their effective weights.
type endpointSet struct {
	eps     []Endpoint
	weights []float64 // effective weights, > 0, len(eps)
	loads   []*endpointLoad
	// drain holds the draining endpoints (sorted by Addr) that hashing
	// algorithms keep for PickInfo.Established picks.
	drain      []Endpoint
	drainW     []float64
	drainLoads []*endpointLoad
	rand       randSource
	noEndpoint *NoEndpointError
	// inflight is the balancer's total in-flight count (bounded load).
	inflight *atomic.Int64
}

// equalWeights reports whether every weight in w is the same.
func equalWeights(w []float64) bool {
	for _, x := range w {
		if x != w[0] {
			return false
		}
	}
	return true
}

// algorithm is the part of a Builder that differs per algorithm: it turns
// an endpoint set into an immutable picker. It is called only with
// len(s.eps)+len(s.drain) > 0, under the balancer's update lock.
type algorithm interface {
	newPicker(s *endpointSet) Picker
}

// errPicker fails every pick with one preallocated error.
type errPicker struct{ err error }

func (p errPicker) Pick(PickInfo) (PickResult, error) { return PickResult{}, p.err }

type pickerRef struct{ p Picker }

// base is the Balancer shared by every algorithm: validation, modifiers,
// per-endpoint state and the atomic picker publication.
type base struct {
	alg      algorithm
	opts     BuildOptions
	clock    Clock
	rand     randSource
	cur      atomic.Pointer[pickerRef]
	inflight atomic.Int64

	mu          sync.Mutex // update side only; picks never take it
	last        []Endpoint
	loads       map[string]*endpointLoad
	since       map[string]time.Time // endpoints in slow start → when they entered
	wasHealthy  map[string]bool
	timer       Timer
	timerArmed  bool
	closed      bool
	rebuildHook func() // test hook, nil in production
}

var _ Balancer = (*base)(nil)

func newBase(alg algorithm, opts BuildOptions) *base {
	b := &base{
		alg:        alg,
		opts:       opts,
		clock:      opts.Clock,
		rand:       randSource{opts.Rand},
		loads:      map[string]*endpointLoad{},
		since:      map[string]time.Time{},
		wasHealthy: map[string]bool{},
	}
	if b.clock == nil {
		b.clock = SystemClock{}
	}
	b.cur.Store(&pickerRef{errPicker{&NoEndpointError{}}})
	return b
}

func (b *base) Picker() Picker { return b.cur.Load().p }

// Pick dispatches statically to the package's own pickers: a type
// assertion is one compare of the itab pointer, cheaper than a second
// dynamic call (or a type switch, which hashes), and it lets the small pick
// methods inline. Round robin, random and least request ignore info, so
// their pick methods do not take it: PickInfo is 88 bytes, passed on the
// stack, and copying it again would be most of a round-robin pick.
func (b *base) Pick(info PickInfo) (PickResult, error) {
	p := b.cur.Load().p
	if rr, ok := p.(*rrPicker); ok {
		return rr.pick(), nil
	}
	if rp, ok := p.(*randomPicker); ok {
		return rp.pick(), nil
	}
	if lr, ok := p.(*lrPicker); ok {
		return lr.pick(), nil
	}
	if hp, ok := p.(*hashPicker); ok {
		return hp.Pick(info)
	}
	return p.Pick(info)
}

// randSource is the pick path's random number generator: the injected
// BuildOptions.Rand, or, when that is nil, math/rand/v2's per-thread ChaCha8
// called directly rather than through a func value.
type randSource struct{ f func() uint64 }

func (r randSource) u64() uint64 {
	if r.f == nil {
		return rand.Uint64()
	}
	return r.f()
}

func (b *base) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	b.timerArmed = false
}

func validate(eps []Endpoint) error {
	seen := make(map[string]struct{}, len(eps))
	for i := range eps {
		a := eps[i].Addr
		if a == "" {
			return fmt.Errorf("%w: endpoint %d has an empty Addr", ErrInvalidEndpoint, i)
		}
		if _, dup := seen[a]; dup {
			return fmt.Errorf("%w: duplicate Addr %q", ErrInvalidEndpoint, a)
		}
		if eps[i].Status > StatusDraining {
			return fmt.Errorf("%w: %q has unknown %v", ErrInvalidEndpoint, a, eps[i].Status)
		}
		seen[a] = struct{}{}
	}
	return nil
}

// limiter is implemented by algorithms that hold at most some number of
// endpoints (Maglev's 16-bit table entries).
type limiter interface{ maxEndpoints() int }

func (b *base) Update(s State) error {
	if err := validate(s.Endpoints); err != nil {
		return err
	}
	if l, ok := b.alg.(limiter); ok && len(s.Endpoints) > l.maxEndpoints() {
		return fmt.Errorf("%w: %d endpoints, this algorithm holds at most %d", ErrInvalidEndpoint, len(s.Endpoints), l.maxEndpoints())
	}
	eps := slices.Clone(s.Endpoints)
	slices.SortFunc(eps, func(x, y Endpoint) int { return strings.Compare(x.Addr, y.Addr) })

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	now := b.clock.Now()
	b.trackSlowStart(eps, now)
	// Forget state of endpoints that left.
	present := make(map[string]bool, len(eps))
	for i := range eps {
		present[eps[i].Addr] = true
	}
	for a := range b.loads {
		if !present[a] {
			delete(b.loads, a)
		}
	}
	b.last = eps
	b.rebuild(now)
	return nil
}

// trackSlowStart records which endpoints enter slow start at now.
func (b *base) trackSlowStart(eps []Endpoint, now time.Time) {
	ss := b.opts.SlowStart
	healthy := make(map[string]bool, len(eps))
	for i := range eps {
		healthy[eps[i].Addr] = eps[i].Status == StatusHealthy
	}
	if ss.Window > 0 {
		// ELB: an endpoint enters slow start only if a healthy endpoint
		// that is not in slow start exists.
		steady := false
		for i := range eps {
			a := eps[i].Addr
			if healthy[a] && b.wasHealthy[a] && !b.ramping(a, now) {
				steady = true
				break
			}
		}
		for i := range eps {
			a := eps[i].Addr
			if healthy[a] && !b.wasHealthy[a] && steady {
				b.since[a] = now
			}
		}
	}
	for a := range b.since {
		if !healthy[a] {
			delete(b.since, a) // left or failed: leaves slow start (Envoy)
		}
	}
	b.wasHealthy = healthy
}

func (b *base) ramping(addr string, now time.Time) bool {
	t, ok := b.since[addr]
	return ok && now.Sub(t) < b.opts.SlowStart.Window
}

// slowStartFactor returns the weight multiplier of addr at now and whether
// it is still ramping.
func (b *base) slowStartFactor(addr string, now time.Time) (float64, bool) {
	ss := b.opts.SlowStart
	t, ok := b.since[addr]
	if !ok || ss.Window <= 0 {
		return 1, false
	}
	el := now.Sub(t)
	if el >= ss.Window {
		delete(b.since, addr)
		return 1, false
	}
	aggr := ss.Aggression
	if aggr <= 0 {
		aggr = 1
	}
	minW := ss.MinWeightPercent
	if minW <= 0 {
		minW = 10
	}
	f := float64(el) / float64(ss.Window)
	if el < 0 {
		f = 0
	}
	if aggr != 1 {
		f = math.Pow(f, 1/aggr)
	}
	return max(f, min(minW, 100)/100), true
}

// rebuild applies the modifiers to b.last and publishes a new picker.
func (b *base) rebuild(now time.Time) {
	all := b.last
	noe := &NoEndpointError{Total: len(all)}
	for i := range all {
		switch all[i].Status {
		case StatusUnhealthy:
			noe.Unhealthy++
		case StatusDraining:
			noe.Draining++
		}
	}

	// Zone awareness: keep the local zone while it has a healthy endpoint.
	pool := all
	if z := b.opts.Zone; z.Local != "" && !z.CrossZone {
		var local []Endpoint
		localHealthy := false
		for i := range all {
			if all[i].Zone == z.Local || all[i].Zone == "" {
				local = append(local, all[i])
				localHealthy = localHealthy || all[i].Status == StatusHealthy
			}
		}
		if localHealthy {
			pool = local
		}
	}

	// Fail-open and panic threshold.
	active, healthy := 0, 0
	for i := range pool {
		switch pool[i].Status {
		case StatusHealthy:
			healthy++
			active++
		case StatusUnhealthy:
			active++
		}
	}
	useAll := false
	if fo := b.opts.FailOpen; !fo.Disabled && active > 0 {
		useAll = healthy == 0 || float64(healthy)*100 < fo.PanicThreshold*float64(active)
	}

	s := &endpointSet{rand: b.rand, noEndpoint: noe, inflight: &b.inflight}
	anyRamping := false
	for i := range pool {
		e := &pool[i]
		l := b.loads[e.Addr]
		if l == nil {
			l = new(endpointLoad)
			b.loads[e.Addr] = l
		}
		switch {
		case e.Status == StatusDraining:
			s.drain = append(s.drain, *e)
			s.drainW = append(s.drainW, e.weight())
			s.drainLoads = append(s.drainLoads, l)
		case e.Status == StatusHealthy || useAll:
			w := e.weight()
			if f, r := b.slowStartFactor(e.Addr, now); r {
				w *= f
				anyRamping = true
			}
			s.eps = append(s.eps, *e)
			s.weights = append(s.weights, w)
			s.loads = append(s.loads, l)
		}
	}
	var p Picker
	if len(s.eps)+len(s.drain) == 0 {
		p = errPicker{noe}
	} else {
		p = b.alg.newPicker(s)
	}
	b.cur.Store(&pickerRef{p})
	if b.rebuildHook != nil {
		b.rebuildHook()
	}
	if anyRamping && !b.timerArmed && !b.closed {
		step := b.opts.SlowStart.Step
		if step <= 0 {
			step = max(b.opts.SlowStart.Window/32, 100*time.Millisecond)
		}
		b.timerArmed = true
		b.timer = b.clock.AfterFunc(step, b.tick)
	}
}

// tick recomputes slow-start weights; it runs on the Clock's timer.
func (b *base) tick() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.timerArmed = false
	b.timer = nil
	if b.closed {
		return
	}
	b.rebuild(b.clock.Now())
}
