package lb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lbkit/lbkit/balancer"
	"github.com/lbkit/lbkit/healthcheck"
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
	// ErrNoTarget means the group has no target that can take new work:
	// none registered, every one draining or weighted 0, or none healthy
	// with fail-open disabled. An HTTP listener answers 503, an L4
	// listener refuses the connection. The error also matches
	// balancer.ErrNoEndpoint and says what the balancer saw.
	ErrNoTarget = errors.New("lb: no target available")
	// ErrUnknownTarget means the address is not registered in the group.
	ErrUnknownTarget = errors.New("lb: target not registered")
	// ErrClosed means the group was closed.
	ErrClosed = errors.New("lb: target group closed")
)

// Health is the routing-relevant health of a target, as the target group
// sees it. healthcheck's ELB states map onto it (initial, healthy,
// unhealthy; unavailable counts as healthy, as ELB routes to targets whose
// checks are disabled); draining is the group's own business.
type Health uint8

// Health values.
const (
	// HealthInitial: registered, no health verdict yet. Gets traffic only
	// when the group fails open (no healthy target at all).
	HealthInitial Health = iota
	// HealthHealthy: eligible for new requests.
	HealthHealthy
	// HealthUnhealthy: failed its checks or was ejected as an outlier;
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
	// Weight is the relative share of new requests or connections,
	// 0..MaxWeight. Zero in Register means 1; use SetWeight(addr, 0) to
	// stop new picks without deregistering.
	Weight int
	// Zone is an optional availability zone (for zone-aware balancing).
	Zone string
}

// TargetGroupConfig configures a TargetGroup. The zero value is usable:
// round robin, ELB's 300 s deregistration delay, no slow start, ALB's
// fail-open, and every target healthy as soon as it is registered (no
// health checks).
type TargetGroupConfig struct {
	// Name labels logs and metrics.
	Name string
	// Algorithm builds the balancer that picks among targets. Nil means
	// balancer.RoundRobin{} (ELB's round_robin). ParseAlgorithm maps ELB's
	// names to builders.
	Algorithm balancer.Builder
	// Balancing configures the balancer's modifiers: SlowStart (ELB's
	// slow_start.duration_seconds is SlowStart.Window), FailOpen (the zero
	// value is ALB's: with no healthy target, use them all), Zone, and the
	// injectable Clock and Rand.
	Balancing balancer.BuildOptions
	// DeregistrationDelay is how long a deregistered target may finish
	// in-flight work. Draining ends early as soon as it has none. Zero
	// means DefaultDeregistrationDelay; negative means no delay (in-flight
	// work is told to stop at once, see Lease.Expired).
	DeregistrationDelay time.Duration
	// HealthCheck, if set, runs active health checks (package
	// healthcheck) with ELB's state machine: registered targets start
	// initial and get traffic once a check passes (or when the group fails
	// open). Its DeregistrationDelay is ignored in favour of the group's.
	// Nil means targets are healthy on registration; SetHealth can still
	// change that.
	HealthCheck *healthcheck.Config
	// HealthOptions are the health monitor's collaborators: a custom
	// Checker, Clock, probe concurrency, and Outlier to turn on passive
	// outlier detection fed by Report. Used only with HealthCheck.
	HealthOptions healthcheck.Options
	// Logger receives state changes. Nil means slog.Default().
	Logger *slog.Logger
	// OnChange, if set, is called (without locks held, from the goroutine
	// making the change) after the set of targets or their states change.
	OnChange func(*TargetGroup)
}

// ParseAlgorithm maps ELB's load_balancing.algorithm.type names
// (round_robin, least_outstanding_requests, weighted_random) and the names
// of package balancer's other algorithms (least_request, least_conn,
// ring_hash, maglev, rendezvous) to a builder with default settings.
func ParseAlgorithm(name string) (balancer.Builder, error) {
	switch name {
	case "", "round_robin":
		return balancer.RoundRobin{}, nil
	case "least_outstanding_requests", "least_request":
		return balancer.LeastRequest{}, nil
	case "weighted_random", "random":
		return balancer.Random{}, nil
	case "least_conn":
		return balancer.LeastConn{}, nil
	case "ring_hash":
		return balancer.RingHash{}, nil
	case "maglev":
		return balancer.Maglev{}, nil
	case "rendezvous":
		return balancer.Rendezvous{}, nil
	}
	return nil, fmt.Errorf("lb: unknown algorithm %q", name)
}

// member is a registered (or draining) target. Its identity is the pointer:
// re-registering a draining address creates a new member.
type member struct {
	addr     string
	zone     string
	weight   int
	health   Health
	inflight atomic.Int64
	draining atomic.Bool // set after it left the balancer
	done     chan struct{}
	timer    *time.Timer
	doneOnce sync.Once
	group    *TargetGroup
}

func (m *member) finish() { m.doneOnce.Do(func() { close(m.done) }) }

// eligible is the set Acquire reads: the targets that may take new work.
type eligible struct {
	byAddr   map[string]*member
	failOpen bool
}

// TargetGroup is a protocol-neutral set of targets: registration, weights,
// health (from package healthcheck or SetHealth), draining, and in-flight
// accounting, with picks made by a package balancer algorithm (slow start,
// fail-open, zones included). HTTP and L4 listeners pick from it; it knows
// nothing of either protocol.
//
// Picks are lock-free (the balancer's immutable picker); changes
// (Register, Deregister, SetWeight, SetHealth, health transitions)
// serialize on a mutex and publish a new endpoint set. All methods are safe
// for concurrent use.
type TargetGroup struct {
	cfg     TargetGroupConfig
	log     *slog.Logger
	bal     balancer.Balancer
	elig    atomic.Pointer[eligible]
	monitor *healthcheck.Monitor // nil without HealthCheck

	mu       sync.Mutex
	members  map[string]*member
	draining map[*member]struct{}
	closed   bool

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewTargetGroup returns an empty group. With HealthCheck set it starts
// the health monitor's goroutines; Close stops them.
func NewTargetGroup(cfg TargetGroupConfig) (*TargetGroup, error) {
	if cfg.DeregistrationDelay == 0 {
		cfg.DeregistrationDelay = DefaultDeregistrationDelay
	}
	if cfg.Algorithm == nil {
		cfg.Algorithm = balancer.RoundRobin{}
	}
	g := &TargetGroup{cfg: cfg, log: cfg.Logger, members: map[string]*member{}, draining: map[*member]struct{}{}}
	if g.log == nil {
		g.log = slog.Default()
	}
	g.log = g.log.With("target_group", cfg.Name)
	if cfg.HealthCheck != nil {
		hc := *cfg.HealthCheck
		// The group drains; the monitor only reports the state.
		hc.DeregistrationDelay = healthcheck.MaxDeregistrationDelay
		m, err := healthcheck.NewMonitor(hc, cfg.HealthOptions)
		if err != nil {
			return nil, fmt.Errorf("lb: target group %q: %w", cfg.Name, err)
		}
		g.monitor = m
	}
	g.bal = balancer.New(cfg.Algorithm, cfg.Balancing)
	g.elig.Store(&eligible{})
	if g.monitor != nil {
		ctx, cancel := context.WithCancel(context.Background())
		g.cancel = cancel
		unsubscribe := g.monitor.Subscribe(g.onHealth)
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			defer unsubscribe()
			_ = g.monitor.Run(ctx)
		}()
	}
	return g, nil
}

// Name returns the configured name.
func (g *TargetGroup) Name() string { return g.cfg.Name }

// Config returns the configuration the group runs with (defaults applied).
func (g *TargetGroup) Config() TargetGroupConfig { return g.cfg }

// HealthMonitor returns the health monitor, nil without HealthCheck. Its
// Snapshot gives ELB's states and reason codes (DescribeTargetHealth).
func (g *TargetGroup) HealthMonitor() *healthcheck.Monitor { return g.monitor }

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
	var added []healthcheck.Target
	for _, t := range targets {
		w := t.Weight
		if w == 0 {
			w = 1
		}
		if m, ok := g.members[t.Addr]; ok {
			m.weight, m.zone = w, t.Zone
			continue
		}
		m := &member{addr: t.Addr, zone: t.Zone, weight: w, done: make(chan struct{}), group: g, health: HealthHealthy}
		if g.monitor != nil {
			m.health = HealthInitial
			added = append(added, healthcheck.Target{Addr: t.Addr})
		}
		g.members[t.Addr] = m
		g.log.Debug("target registered", "target", t.Addr, "weight", w)
	}
	g.publishLocked()
	g.mu.Unlock()
	if len(added) > 0 {
		g.monitor.Register(added...)
	}
	g.changed()
	return nil
}

// Deregister removes a target from new picks and starts its deregistration
// delay. The returned channel closes when draining ends: when its last
// in-flight lease is done, or when the delay runs out (then leases see
// Lease.Expired close and should abort). Deregistering an unknown address
// returns ErrUnknownTarget and changes nothing.
func (g *TargetGroup) Deregister(addr string) (<-chan struct{}, error) {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil, ErrClosed
	}
	m, ok := g.members[addr]
	if !ok {
		g.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrUnknownTarget, addr)
	}
	delete(g.members, addr)
	m.health = HealthDraining
	g.draining[m] = struct{}{}
	g.publishLocked()
	// Set after the new picker is out: a pick that still read the old one
	// either sees the flag and gives its lease back, or its lease is
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
	if g.monitor != nil {
		g.monitor.Deregister(healthcheck.Target{Addr: addr})
		select {
		case <-m.done:
			g.monitor.Drained(healthcheck.Target{Addr: addr})
		default:
		}
	}
	g.changed()
	return m.done, nil
}

// endDrainLocked ends m's drain (idempotent).
func (g *TargetGroup) endDrainLocked(m *member) {
	if _, ok := g.draining[m]; !ok {
		return
	}
	delete(g.draining, m)
	if m.timer != nil {
		m.timer.Stop()
	}
	m.finish()
	if g.monitor != nil && !g.closed {
		// Outside our lock would be nicer; Drained only takes the
		// monitor's own lock and never calls back synchronously.
		g.monitor.Drained(healthcheck.Target{Addr: m.addr})
	}
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

// SetHealth records a health verdict for a registered target, for callers
// that run their own checks. With HealthCheck set, the monitor's next
// transition overrides it. HealthDraining is not accepted: use Deregister.
func (g *TargetGroup) SetHealth(addr string, h Health) error {
	if h >= HealthDraining {
		return fmt.Errorf("lb: target %q: cannot set health %v", addr, h)
	}
	g.mu.Lock()
	m, ok := g.members[addr]
	if !ok {
		g.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrUnknownTarget, addr)
	}
	changed := g.setHealthLocked(m, h)
	g.mu.Unlock()
	if changed {
		g.changed()
	}
	return nil
}

func (g *TargetGroup) setHealthLocked(m *member, h Health) bool {
	if m.health == h {
		return false
	}
	g.log.Info("target health changed", "target", m.addr, "from", m.health.String(), "to", h.String())
	m.health = h
	g.publishLocked()
	return true
}

// onHealth applies the monitor's transitions.
func (g *TargetGroup) onHealth(u healthcheck.Update) {
	g.mu.Lock()
	changed := false
	for _, th := range u.Snapshot.Targets() {
		m, ok := g.members[th.Target.Addr]
		if !ok {
			continue
		}
		var h Health
		switch {
		case th.Ejected:
			h = HealthUnhealthy
		case th.State == healthcheck.StateHealthy || th.State == healthcheck.StateUnavailable:
			h = HealthHealthy
		case th.State == healthcheck.StateUnhealthy || th.State == healthcheck.StateUnhealthyDraining:
			h = HealthUnhealthy
		case th.State == healthcheck.StateInitial || th.State == healthcheck.StateUnused:
			h = HealthInitial
		default:
			continue
		}
		if m.health != h {
			g.log.Info("target health changed", "target", m.addr, "from", m.health.String(), "to", h.String(), "reason", string(th.Reason))
			m.health = h
			changed = true
		}
	}
	if changed {
		g.publishLocked()
	}
	g.mu.Unlock()
	if changed {
		g.changed()
	}
}

// Report feeds passive outlier detection (HealthOptions.Outlier) with the
// result of one request or connection to addr: the HTTP status (0 for L4)
// and a local-origin error (connect failure, reset before a response). It
// is cheap and a no-op without outlier detection.
func (g *TargetGroup) Report(addr string, r healthcheck.Result) {
	if g.monitor != nil {
		g.monitor.Report(healthcheck.Target{Addr: addr}, r)
	}
}

func (g *TargetGroup) changed() {
	if g.cfg.OnChange != nil {
		g.cfg.OnChange(g)
	}
}

// publishLocked hands the endpoint set to the balancer and rebuilds the
// eligible set.
func (g *TargetGroup) publishLocked() {
	eps := make([]balancer.Endpoint, 0, len(g.members))
	healthy := 0
	for _, m := range g.members {
		ep := balancer.Endpoint{Addr: m.addr, Weight: uint32(m.weight), Zone: m.zone, Metadata: m}
		switch {
		case m.weight == 0:
			ep.Status = balancer.StatusDraining // no new picks
		case m.health == HealthHealthy:
			healthy++
		default:
			ep.Status = balancer.StatusUnhealthy
		}
		eps = append(eps, ep)
	}
	// Stable order: picks and hashes do not depend on map iteration.
	sort.Slice(eps, func(i, j int) bool { return eps[i].Addr < eps[j].Addr })
	if err := g.bal.Update(balancer.State{Endpoints: eps}); err != nil && !g.closed {
		// Addresses are validated and unique; this is a bug.
		g.log.Error("balancer update failed", "err", err)
	}
	e := &eligible{byAddr: make(map[string]*member, len(eps))}
	e.failOpen = healthy == 0 && !g.cfg.Balancing.FailOpen.Disabled
	for _, m := range g.members {
		if m.weight > 0 && (m.health == HealthHealthy || e.failOpen) {
			e.byAddr[m.addr] = m
		}
	}
	if len(e.byAddr) == 0 {
		e.failOpen = false
	}
	g.elig.Store(e)
}

// PickInfo carries what an algorithm may need for one pick.
type PickInfo struct {
	// Hash is the consistent-hashing key (ring_hash, maglev, rendezvous)
	// and Flow the L4 5-tuple (flow_hash); see balancer.PickInfo.
	balancer.PickInfo
	// Avoid, if non-empty, is a target address to skip when another one is
	// eligible: a retry uses it to reach a fresh target.
	Avoid string
}

// Lease is one unit of in-flight work on a target: a request or a
// connection. It is obtained from Pick or Acquire and must be released
// with Done exactly once. The zero Lease is invalid.
type Lease struct {
	m *member
	r balancer.PickResult
}

// Addr returns the target's address.
func (l Lease) Addr() string { return l.m.addr }

// Expired is closed when the target's deregistration delay has run out
// (or the group closed): work still running on the lease should stop, as
// ELB closes connections to a target at the end of its deregistration
// delay. Draining that ends early because no lease is left closes it too.
func (l Lease) Expired() <-chan struct{} { return l.m.done }

// Done releases the lease; err is the request's or connection's error
// (nil on success), which load-aware algorithms may use. A draining target
// with no lease left finishes draining at once.
func (l Lease) Done(err error) {
	l.r.Done(balancer.DoneInfo{Err: err})
	l.m.release()
}

func (m *member) release() {
	if m.inflight.Add(-1) == 0 && m.draining.Load() {
		g := m.group
		g.mu.Lock()
		g.endDrainLocked(m)
		g.mu.Unlock()
		g.changed()
	}
}

// Pick chooses an eligible target with the group's algorithm and takes a
// lease on it. It takes no lock and does not allocate. Errors match
// ErrNoTarget.
func (g *TargetGroup) Pick(info PickInfo) (Lease, error) {
	for try := 0; ; try++ {
		r, err := g.bal.Pick(info.PickInfo)
		if err != nil {
			return Lease{}, noTarget{err}
		}
		m := r.Endpoint.Metadata.(*member)
		if info.Avoid != "" && m.addr == info.Avoid && try < 3 {
			r.Done(balancer.DoneInfo{})
			continue
		}
		m.inflight.Add(1)
		if m.draining.Load() {
			// Deregistered between the balancer's snapshot and now: its
			// drain may already be over, so do not hand it out. The
			// balancer already has the set without it.
			r.Done(balancer.DoneInfo{})
			m.release()
			if try < 8 {
				continue
			}
			return Lease{}, noTarget{balancer.ErrNoEndpoint}
		}
		return Lease{m: m, r: r}, nil
	}
}

// noTarget matches both ErrNoTarget and the balancer's error.
type noTarget struct{ cause error }

func (e noTarget) Error() string        { return "lb: no target available: " + e.cause.Error() }
func (e noTarget) Unwrap() []error      { return []error{ErrNoTarget, e.cause} }
func (e noTarget) Is(target error) bool { return target == ErrNoTarget }

// Acquire takes a lease on a specific target if it is eligible for new
// work (stickiness). ok is false if the target is unknown, draining,
// weighted 0, or not healthy while the group is not failing open. The
// balancer's load accounting does not see stuck requests.
func (g *TargetGroup) Acquire(addr string) (Lease, bool) {
	m, ok := g.elig.Load().byAddr[addr]
	if !ok {
		return Lease{}, false
	}
	m.inflight.Add(1)
	if m.draining.Load() {
		m.release()
		return Lease{}, false
	}
	return Lease{m: m}, true
}

// TargetStatus describes one target for callers and metrics.
type TargetStatus struct {
	Target
	Health   Health
	InFlight int64
}

// Targets returns the registered and draining targets, sorted by address.
func (g *TargetGroup) Targets() []TargetStatus {
	g.mu.Lock()
	out := make([]TargetStatus, 0, len(g.members)+len(g.draining))
	add := func(m *member) {
		out = append(out, TargetStatus{
			Target:   Target{Addr: m.addr, Weight: m.weight, Zone: m.zone},
			Health:   m.health,
			InFlight: m.inflight.Load(),
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

// Counts returns how many targets are in each Health state (draining
// included), indexed by Health.
func (g *TargetGroup) Counts() (counts [4]int) {
	g.mu.Lock()
	for _, m := range g.members {
		counts[m.health]++
	}
	counts[HealthDraining] += len(g.draining)
	g.mu.Unlock()
	return counts
}

// FailingOpen reports whether the group currently routes to every target
// because none is healthy.
func (g *TargetGroup) FailingOpen() bool { return g.elig.Load().failOpen }

// Close stops health checks and timers, ends every drain (Expired closes
// on all leases) and refuses further registrations; picks then fail with
// ErrNoTarget. It waits for the health monitor to stop.
func (g *TargetGroup) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	for m := range g.draining {
		g.endDrainLocked(m)
	}
	for _, m := range g.members {
		m.finish()
	}
	g.members = map[string]*member{}
	_ = g.bal.Update(balancer.State{})
	g.elig.Store(&eligible{})
	g.mu.Unlock()
	g.bal.Close()
	if g.cancel != nil {
		g.cancel()
		g.wg.Wait()
	}
	return nil
}
