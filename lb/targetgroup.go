package lb

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Target group defaults, as an ELB target group has them.
const (
	// DefaultDeregistrationDelay is ELB's deregistration_delay.timeout_seconds.
	DefaultDeregistrationDelay = 300 * time.Second
	// MaxWeight caps a target's weight (ALB's weighted target groups use
	// 0-999; HAProxy 1-256). Weights are relative.
	MaxWeight = 1000
)

// Errors of the target group. Callers branch on them with errors.Is.
var (
	// ErrNoTarget means the group has no target that can take a request:
	// none registered, or every one draining or weighted 0. An HTTP
	// listener answers 503, an L4 listener refuses the connection.
	ErrNoTarget = errors.New("lb: no target available")
	// ErrUnknownTarget means the address is not registered in the group.
	ErrUnknownTarget = errors.New("lb: target not registered")
	// ErrClosed means the group was closed.
	ErrClosed = errors.New("lb: target group closed")
)

// Health is the routing-relevant health of a target, as the target group
// sees it. healthcheck's ELB states map onto it (initial, healthy,
// unhealthy); draining is the group's own business.
type Health uint8

// Health values.
const (
	// HealthInitial: registered, no health verdict yet. Gets traffic only
	// when the group fails open (no healthy target at all).
	HealthInitial Health = iota
	// HealthHealthy: eligible for new requests.
	HealthHealthy
	// HealthUnhealthy: failed its checks (or was ejected as an outlier);
	// gets traffic only when the group fails open.
	HealthUnhealthy
	// HealthDraining: deregistered; finishes in-flight work, gets nothing new.
	HealthDraining
)

var healthNames = [...]string{"initial", "healthy", "unhealthy", "draining"}

func (h Health) String() string {
	if int(h) < len(healthNames) {
		return healthNames[h]
	}
	return "Health(" + strconv.Itoa(int(h)) + ")"
}

// Target is one registration: an address and a relative weight.
type Target struct {
	// Addr is host:port, dialled as is.
	Addr string
	// Weight is the relative share of new requests or connections.
	// Zero means 1; negative is invalid. Use SetWeight(addr, 0) to stop
	// new picks without deregistering.
	Weight int
	// Zone is an optional availability zone label, kept for callers
	// (metrics, zone-aware algorithms).
	Zone string
}

// TargetGroupConfig configures a TargetGroup. The zero value is usable: round
// robin, ELB's 300 s deregistration delay, no slow start, fail-open on, every
// target healthy as soon as it is registered (no health checks).
type TargetGroupConfig struct {
	// Name labels logs and metrics.
	Name string
	// Algorithm picks among eligible targets. Zero means RoundRobin.
	Algorithm Algorithm
	// DeregistrationDelay is how long a deregistered target may finish
	// in-flight work. Draining ends early as soon as it has none. Zero
	// means DefaultDeregistrationDelay; negative means no delay (in-flight
	// work is told to stop at once).
	DeregistrationDelay time.Duration
	// SlowStart ramps a newly healthy target's weight linearly from 10% to
	// 100% over this window (ELB's slow_start.duration_seconds; Envoy's
	// min_weight 10%). Zero disables slow start. As on ELB, a target enters
	// slow start only if another healthy target is out of slow start.
	SlowStart time.Duration
	// DisableFailOpen turns off ELB's fail-open: by default, when no
	// target is healthy, every registered non-draining target is eligible.
	DisableFailOpen bool
	// HealthChecked says registered targets start HealthInitial and wait
	// for SetHealth (from a health checker) before they get traffic. False
	// means targets are healthy on registration.
	HealthChecked bool
	// Logger receives state changes. Nil means slog.Default().
	Logger *slog.Logger
	// OnChange, if set, is called (without locks held, from the goroutine
	// making the change) after the set of targets or their states change.
	// Metrics and health checkers use it to follow registrations.
	OnChange func(*TargetGroup)

	now func() time.Time // tests
}

// Algorithm selects a target among the eligible ones.
type Algorithm uint8

// Algorithms. Names follow ELB's load_balancing.algorithm.type where ELB
// has one.
const (
	// RoundRobin cycles through eligible targets in proportion to weight
	// (ELB round_robin, the default).
	RoundRobin Algorithm = iota
	// LeastOutstandingRequests picks the less loaded (in-flight relative to
	// weight) of two random targets, with replacement (ELB
	// least_outstanding_requests, as power of two choices).
	LeastOutstandingRequests
	// WeightedRandom picks at random in proportion to weight (ELB
	// weighted_random).
	WeightedRandom
	// HashKey picks by PickInfo.Key with rendezvous hashing (weighted), so
	// a key sticks to its target while the target set is stable. Without a
	// key it falls back to round robin.
	HashKey
)

var algorithmNames = [...]string{"round_robin", "least_outstanding_requests", "weighted_random", "hash"}

func (a Algorithm) String() string {
	if int(a) < len(algorithmNames) {
		return algorithmNames[a]
	}
	return "Algorithm(" + strconv.Itoa(int(a)) + ")"
}

// ParseAlgorithm maps ELB's names (round_robin, least_outstanding_requests,
// weighted_random) and "hash" to an Algorithm.
func ParseAlgorithm(s string) (Algorithm, error) {
	for i, n := range algorithmNames {
		if n == s {
			return Algorithm(i), nil
		}
	}
	return 0, fmt.Errorf("lb: unknown algorithm %q", s)
}

// member is a registered (or draining) target. Its identity is the pointer:
// re-registering a draining address creates a new member.
type member struct {
	addr     string
	zone     string
	weight   int
	health   Health
	since    time.Time // when it last became healthy (slow start)
	inflight atomic.Int64

	hash     uint64        // of addr, for rendezvous hashing
	draining atomic.Bool   // set after it left the snapshot
	done     chan struct{} // closed when draining ends (or the group closes)
	timer    *time.Timer
	doneOnce sync.Once

	group *TargetGroup
}

func (m *member) finish() { m.doneOnce.Do(func() { close(m.done) }) }

// snapshot is the immutable eligible set a pick reads.
type snapshot struct {
	members  []*member
	cum      []uint64 // cumulative effective weights
	total    uint64
	stride   uint64 // coprime with total, near total/φ: interleaves round robin
	weights  []float64
	failOpen bool
	slow     bool // some member is in slow start; republish periodically
}

// TargetGroup is a protocol-neutral set of targets: registration,
// weights, health, draining, slow start and in-flight accounting. HTTP and
// L4 listeners pick from it; it knows nothing of either protocol.
//
// Picks read an immutable snapshot through an atomic pointer and take no
// lock; changes (Register, Deregister, SetWeight, SetHealth) serialize on a
// mutex and publish a new snapshot. All methods are safe for concurrent use.
type TargetGroup struct {
	cfg  TargetGroupConfig
	log  *slog.Logger
	snap atomic.Pointer[snapshot]
	rr   atomic.Uint64

	mu       sync.Mutex
	members  map[string]*member
	draining map[*member]struct{}
	closed   bool
	slowTick *time.Timer
}

// NewTargetGroup returns an empty group. It validates cfg and starts
// nothing: timers run only while a target drains or slow-starts. Close
// releases them.
func NewTargetGroup(cfg TargetGroupConfig) (*TargetGroup, error) {
	if cfg.Algorithm > HashKey {
		return nil, fmt.Errorf("lb: target group %q: unknown algorithm %d", cfg.Name, cfg.Algorithm)
	}
	if cfg.SlowStart < 0 {
		return nil, fmt.Errorf("lb: target group %q: negative slow start %v", cfg.Name, cfg.SlowStart)
	}
	if cfg.DeregistrationDelay == 0 {
		cfg.DeregistrationDelay = DefaultDeregistrationDelay
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	g := &TargetGroup{cfg: cfg, log: cfg.Logger, members: map[string]*member{}, draining: map[*member]struct{}{}}
	if g.log == nil {
		g.log = slog.Default()
	}
	g.log = g.log.With("target_group", cfg.Name)
	g.rr.Store(rand.Uint64())
	g.snap.Store(&snapshot{})
	return g, nil
}

// Name returns the configured name.
func (g *TargetGroup) Name() string { return g.cfg.Name }

// Config returns the configuration the group runs with (defaults applied).
func (g *TargetGroup) Config() TargetGroupConfig { return g.cfg }

// ValidateAddr checks that addr is a dialable host:port.
func validateTarget(t Target) error {
	host, port, err := net.SplitHostPort(t.Addr)
	if err != nil {
		return fmt.Errorf("lb: target %q: %w", t.Addr, err)
	}
	if host == "" {
		return fmt.Errorf("lb: target %q: empty host", t.Addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("lb: target %q: port must be 1-65535", t.Addr)
	}
	if t.Weight < 0 || t.Weight > MaxWeight {
		return fmt.Errorf("lb: target %q: weight %d out of range 0-%d", t.Addr, t.Weight, MaxWeight)
	}
	return nil
}

// Register adds targets, or updates the weight and zone of ones already
// registered. All are validated first: on error nothing changes. A target
// that is draining is registered anew (its old in-flight work keeps
// draining).
func (g *TargetGroup) Register(targets ...Target) error {
	for _, t := range targets {
		if err := validateTarget(t); err != nil {
			return err
		}
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return ErrClosed
	}
	now := g.cfg.now()
	for _, t := range targets {
		w := t.Weight
		if w == 0 {
			w = 1
		}
		if m, ok := g.members[t.Addr]; ok {
			m.weight, m.zone = w, t.Zone
			continue
		}
		m := &member{addr: t.Addr, zone: t.Zone, weight: w, hash: strHash(t.Addr), done: make(chan struct{}), group: g}
		if g.cfg.HealthChecked {
			m.health = HealthInitial
		} else {
			m.health = HealthHealthy
			m.since = g.slowStartFrom(now)
		}
		g.members[t.Addr] = m
		g.log.Debug("target registered", "target", t.Addr, "weight", w)
	}
	g.publishLocked()
	g.mu.Unlock()
	g.changed()
	return nil
}

// slowStartFrom returns the time slow start counts from for a target that
// becomes healthy now: now if slow start applies, zero (fully warm)
// otherwise. ELB: a target enters slow start only when at least one other
// healthy target is not in slow start.
func (g *TargetGroup) slowStartFrom(now time.Time) time.Time {
	if g.cfg.SlowStart <= 0 {
		return time.Time{}
	}
	for _, m := range g.members {
		if m.health == HealthHealthy && now.Sub(m.since) >= g.cfg.SlowStart {
			return now
		}
	}
	return time.Time{}
}

// Deregister removes a target from new picks and starts its deregistration
// delay. The returned channel closes when draining ends: when its last
// in-flight lease is done, or when the delay runs out (then leases see
// Lease.Expired close and should abort). Deregistering an unknown address
// returns ErrUnknownTarget and changes nothing.
func (g *TargetGroup) Deregister(addr string) (<-chan struct{}, error) {
	g.mu.Lock()
	m, ok := g.members[addr]
	if !ok || g.closed {
		g.mu.Unlock()
		if g.closed {
			return nil, ErrClosed
		}
		return nil, fmt.Errorf("%w: %s", ErrUnknownTarget, addr)
	}
	delete(g.members, addr)
	m.health = HealthDraining
	g.draining[m] = struct{}{}
	g.publishLocked()
	// Set after the new snapshot is out: a pick that still read the old
	// one either sees the flag and gives its lease back, or its lease is
	// counted by the in-flight check below (both are atomics).
	m.draining.Store(true)
	if m.inflight.Load() == 0 || g.cfg.DeregistrationDelay < 0 {
		g.endDrainLocked(m)
	} else {
		m.timer = time.AfterFunc(g.cfg.DeregistrationDelay, func() {
			g.mu.Lock()
			g.endDrainLocked(m)
			g.mu.Unlock()
			g.changed()
		})
	}
	g.log.Debug("target deregistered", "target", addr, "in_flight", m.inflight.Load())
	g.mu.Unlock()
	g.changed()
	return m.done, nil
}

func (g *TargetGroup) endDrainLocked(m *member) {
	if _, ok := g.draining[m]; !ok {
		return
	}
	delete(g.draining, m)
	if m.timer != nil {
		m.timer.Stop()
	}
	m.finish()
}

// SetWeight changes a registered target's weight. Zero stops new picks
// (existing leases continue); the target stays registered.
func (g *TargetGroup) SetWeight(addr string, weight int) error {
	if weight < 0 || weight > MaxWeight {
		return fmt.Errorf("lb: target %q: weight %d out of range 0-%d", addr, weight, MaxWeight)
	}
	g.mu.Lock()
	m, ok := g.members[addr]
	if !ok {
		g.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrUnknownTarget, addr)
	}
	m.weight = weight
	g.publishLocked()
	g.mu.Unlock()
	g.changed()
	return nil
}

// SetHealth records a health verdict for a registered target (from an
// active checker or outlier detection). HealthDraining is not accepted:
// use Deregister.
func (g *TargetGroup) SetHealth(addr string, h Health) error {
	if h == HealthDraining || h > HealthDraining {
		return fmt.Errorf("lb: target %q: cannot set health %v", addr, h)
	}
	g.mu.Lock()
	m, ok := g.members[addr]
	if !ok {
		g.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrUnknownTarget, addr)
	}
	if m.health == h {
		g.mu.Unlock()
		return nil
	}
	if h == HealthHealthy {
		m.since = g.slowStartFrom(g.cfg.now())
	}
	g.log.Info("target health changed", "target", addr, "from", m.health.String(), "to", h.String())
	m.health = h
	g.publishLocked()
	g.mu.Unlock()
	g.changed()
	return nil
}

func (g *TargetGroup) changed() {
	if g.cfg.OnChange != nil {
		g.cfg.OnChange(g)
	}
}

// publishLocked rebuilds the eligible set and swaps it in.
func (g *TargetGroup) publishLocked() {
	now := g.cfg.now()
	s := &snapshot{}
	pick := func(want func(*member) bool) {
		for _, m := range g.members {
			if m.weight > 0 && want(m) {
				s.members = append(s.members, m)
			}
		}
	}
	pick(func(m *member) bool { return m.health == HealthHealthy })
	if len(s.members) == 0 && !g.cfg.DisableFailOpen {
		pick(func(m *member) bool { return true })
		s.failOpen = len(s.members) > 0
	}
	// Stable order: picks and hashes do not depend on map iteration.
	sort.Slice(s.members, func(i, j int) bool { return s.members[i].addr < s.members[j].addr })
	s.cum = make([]uint64, len(s.members))
	s.weights = make([]float64, len(s.members))
	for i, m := range s.members {
		w := float64(m.weight)
		if g.cfg.SlowStart > 0 && !m.since.IsZero() && !s.failOpen {
			if el := now.Sub(m.since); el < g.cfg.SlowStart {
				f := max(0.1, float64(el)/float64(g.cfg.SlowStart))
				w *= f
				s.slow = true
			}
		}
		// Weights are scaled by 64 so slow start fractions survive
		// integer arithmetic.
		iw := max(uint64(w*64), 1)
		s.total += iw
		s.cum[i] = s.total
		s.weights[i] = w
	}
	s.stride = goldenStride(s.total)
	g.snap.Store(s)
	if s.slow && g.slowTick == nil && !g.closed {
		step := max(g.cfg.SlowStart/50, 100*time.Millisecond)
		g.slowTick = time.AfterFunc(step, func() {
			g.mu.Lock()
			g.slowTick = nil
			if !g.closed {
				g.publishLocked()
			}
			g.mu.Unlock()
		})
	}
}

// PickInfo carries what an algorithm may need for one pick.
type PickInfo struct {
	// Key is a hash key (HashKey algorithm); HasKey says it is set.
	Key    uint64
	HasKey bool
	// Avoid, if non-empty, is a target address to skip when another one is
	// eligible: a retry uses it to reach a fresh target.
	Avoid string
}

// Lease is one unit of in-flight work on a target: a request or a
// connection. It is obtained from Pick or Acquire and must be released
// with Done exactly once. The zero Lease is invalid.
type Lease struct {
	m *member
}

// Addr returns the target's address.
func (l Lease) Addr() string { return l.m.addr }

// Expired is closed when the target's deregistration delay has run out (or
// it finished draining, or the group closed): work still running should
// stop. It is nil-safe to select on only while the lease is held.
func (l Lease) Expired() <-chan struct{} { return l.m.done }

// Done releases the lease. A draining target with no lease left finishes
// draining at once.
func (l Lease) Done() {
	m := l.m
	if m.inflight.Add(-1) == 0 && m.draining.Load() {
		g := m.group
		g.mu.Lock()
		g.endDrainLocked(m)
		g.mu.Unlock()
		g.changed()
	}
}

// Pick chooses an eligible target and takes a lease on it. It takes no lock
// and does not allocate. ErrNoTarget means there is none.
func (g *TargetGroup) Pick(info PickInfo) (Lease, error) {
	s := g.snap.Load()
	n := len(s.members)
	if n == 0 {
		return Lease{}, ErrNoTarget
	}
	i := g.pickIndex(s, info)
	if info.Avoid != "" && n > 1 && s.members[i].addr == info.Avoid {
		i = (i + 1 + rand.IntN(n-1)) % n
	}
	m := s.members[i]
	m.inflight.Add(1)
	if m.draining.Load() {
		// Deregistered between the snapshot load and now: the drain may
		// already be over, so do not hand it out. The next snapshot no
		// longer holds it.
		l := Lease{m}
		l.Done()
		return g.Pick(info)
	}
	return Lease{m}, nil
}

func (g *TargetGroup) pickIndex(s *snapshot, info PickInfo) int {
	n := len(s.members)
	if n == 1 {
		return 0
	}
	switch g.cfg.Algorithm {
	case WeightedRandom:
		return s.search(rand.Uint64N(s.total))
	case LeastOutstandingRequests:
		// Uniform draws with replacement; the weight enters the
		// comparison (Envoy's weighted least request with bias 1).
		a, b := rand.IntN(n), rand.IntN(n)
		// Compare in-flight/weight without division.
		la := float64(s.members[a].inflight.Load()+1) * s.weights[b]
		lb := float64(s.members[b].inflight.Load()+1) * s.weights[a]
		if lb < la {
			return b
		}
		return a
	case HashKey:
		if info.HasKey {
			return s.rendezvous(info.Key)
		}
	}
	// Weighted round robin: step through the weight units with a stride
	// coprime with the total, so each cycle of total picks visits every
	// unit exactly once (exact proportions) while heavy targets interleave
	// with light ones instead of taking runs.
	x := g.rr.Add(1) % s.total
	return s.search(x * s.stride % s.total)
}

// goldenStride returns the integer nearest total/φ that is coprime with
// total (1 for tiny totals).
func goldenStride(total uint64) uint64 {
	if total < 3 {
		return 1
	}
	s := uint64(float64(total) * 0.6180339887)
	for s > 1 && gcd(s, total) != 1 {
		s--
	}
	return max(s, 1)
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// search returns the member whose cumulative weight range holds x.
func (s *snapshot) search(x uint64) int {
	return sort.Search(len(s.cum), func(i int) bool { return s.cum[i] > x })
}

// rendezvous is weighted highest-random-weight hashing.
func (s *snapshot) rendezvous(key uint64) int {
	best, bestScore := 0, -1.0
	for i, m := range s.members {
		h := mix64(key ^ m.hash)
		u := (float64(h>>11) + 0.5) / (1 << 53)
		score := -s.weights[i] / math.Log(u)
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// Acquire takes a lease on a specific target if it is eligible for new
// work (stickiness). ok is false if the target is unknown, draining,
// weighted 0, or unhealthy while the group is not failing open.
func (g *TargetGroup) Acquire(addr string) (Lease, bool) {
	s := g.snap.Load()
	for _, m := range s.members {
		if m.addr == addr {
			m.inflight.Add(1)
			if m.draining.Load() {
				Lease{m}.Done()
				return Lease{}, false
			}
			return Lease{m}, true
		}
	}
	return Lease{}, false
}

// TargetStatus describes one target for callers and metrics.
type TargetStatus struct {
	Target
	Health   Health
	InFlight int64
	// SlowStart is true while the target's weight is still ramping up.
	SlowStart bool
}

// Targets returns the registered and draining targets, sorted by address.
func (g *TargetGroup) Targets() []TargetStatus {
	g.mu.Lock()
	now := g.cfg.now()
	out := make([]TargetStatus, 0, len(g.members)+len(g.draining))
	add := func(m *member) {
		out = append(out, TargetStatus{
			Target:    Target{Addr: m.addr, Weight: m.weight, Zone: m.zone},
			Health:    m.health,
			InFlight:  m.inflight.Load(),
			SlowStart: g.cfg.SlowStart > 0 && !m.since.IsZero() && now.Sub(m.since) < g.cfg.SlowStart,
		})
	}
	for _, m := range g.members {
		add(m)
	}
	for m := range g.draining {
		add(m)
	}
	g.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Addr < out[j].Addr })
	return out
}

// Counts returns how many targets are in each health state (draining
// included).
func (g *TargetGroup) Counts() (counts [4]int) {
	g.mu.Lock()
	for _, m := range g.members {
		counts[m.health]++
	}
	counts[HealthDraining] += len(g.draining)
	g.mu.Unlock()
	return counts
}

// FailingOpen reports whether the group currently routes to all targets
// because none is healthy.
func (g *TargetGroup) FailingOpen() bool { return g.snap.Load().failOpen }

// Close stops the group's timers, ends every drain (Expired closes on all
// leases) and refuses further registrations. Picks return ErrNoTarget.
func (g *TargetGroup) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	if g.slowTick != nil {
		g.slowTick.Stop()
		g.slowTick = nil
	}
	for m := range g.draining {
		g.endDrainLocked(m)
	}
	for _, m := range g.members {
		m.finish()
	}
	g.members = map[string]*member{}
	g.snap.Store(&snapshot{})
	g.mu.Unlock()
	return nil
}

// mix64 is SplitMix64's finalizer: a cheap, well-spread 64-bit mix.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// strHash is FNV-1a, enough to seed rendezvous scores.
func strHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix64(h)
}
