package healthcheck

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxConcurrency is the number of probes a Monitor runs at once when
// Options.MaxConcurrency is 0.
const DefaultMaxConcurrency = 256

// ErrRunning is returned by Run when the Monitor is already running or has
// run: a Monitor runs once.
var ErrRunning = errors.New("healthcheck: monitor already ran")

// Options are a Monitor's collaborators. The zero Options is valid.
type Options struct {
	// Checker probes targets. Nil: NewChecker(cfg), closed when Run returns.
	Checker Checker
	// Clock schedules probes, draining and ejections. Nil: SystemClock.
	Clock Clock
	// MaxConcurrency bounds the probes in flight. 0: DefaultMaxConcurrency.
	MaxConcurrency int
	// Outlier turns on passive outlier detection fed by [Monitor.Report].
	// Nil: off (Report is then a cheap no-op).
	Outlier *OutlierConfig
	// Rand returns uniformly random numbers for first-probe jitter and
	// outlier enforcement percentages. Nil: math/rand/v2.
	Rand func() uint64
	// Limits are the ranges the Config must respect, here and in
	// SetConfig. Nil: AWSLimits().
	Limits *Limits
	// Logger receives transitions (Info) and checker setup problems. Nil:
	// nothing is logged.
	Logger *slog.Logger
}

// Update is what a subscriber receives: the transitions since its previous
// Update, oldest first, and the snapshot right after the last of them.
// The first Update after Subscribe carries the current snapshot and no
// events.
type Update struct {
	Events   []Event
	Snapshot *Snapshot
}

// Monitor health-checks the targets of one target group the way ELB does,
// and optionally runs passive outlier detection on them.
//
// One scheduler goroutine keeps every target's next probe in a heap and
// hands due probes to at most MaxConcurrency workers; there is no goroutine
// or timer per target. A target's first probe is jittered uniformly over
// one interval so that registering many targets at once does not probe them
// in a burst.
//
// All methods are safe for concurrent use. Register, Deregister and the
// rest may be called before Run; the Monitor probes only while Run runs.
type Monitor struct {
	cfg      Config
	limits   Limits
	matcher  Matcher
	checker  Checker
	ownCheck bool
	clock    Clock
	maxConc  int
	rand     func() uint64
	log      *slog.Logger
	outlier  *outlierState

	mu      sync.RWMutex
	targets map[Target]*entry
	hot     sync.Map // Target → *entry, mirrors targets for Report's lock-free lookup
	due     dueHeap
	notUsed bool
	seq     uint64 // events so far
	pending []Event
	snap    *Snapshot // cached; nil when stale
	subs    []*subscriber
	ran     bool

	probed atomic.Uint64 // probe results applied (or dropped as stale)

	wake     chan struct{} // scheduler: the heap's head may have changed
	dispatch chan struct{} // dispatcher: events or subscribers are pending
}

// entry is one registered target. Fields are guarded by Monitor.mu except
// the outlier counters, which are atomics read under RLock.
type entry struct {
	h        TargetHealth
	succ     int       // consecutive successful probes
	fail     int       // consecutive failed probes
	next     time.Time // when due (probe, or end of draining or unhealthy.draining)
	probeAt  time.Time // next probe while unhealthy.draining (next may be drainEnd)
	drainEnd time.Time // when unhealthy.draining becomes unhealthy
	index    int       // in Monitor.due; -1 if not scheduled
	inFlight bool
	gen      uint32 // bumped on (re)registration; stale probe results are dropped
	od       outlierHost
}

// NewMonitor returns a Monitor for cfg, which must be valid within
// Options.Limits (AWS's by default; see [Config.Validate], whose error is
// returned unchanged). Start it with Run.
func NewMonitor(cfg Config, opts Options) (*Monitor, error) {
	limits := AWSLimits()
	if opts.Limits != nil {
		limits = *opts.Limits
	}
	if err := cfg.ValidateWithin(limits); err != nil {
		return nil, err
	}
	m := &Monitor{
		limits:   limits,
		cfg:      cfg,
		checker:  opts.Checker,
		clock:    opts.Clock,
		maxConc:  opts.MaxConcurrency,
		rand:     opts.Rand,
		log:      opts.Logger,
		targets:  make(map[Target]*entry),
		wake:     make(chan struct{}, 1),
		dispatch: make(chan struct{}, 1),
	}
	m.matcher = matcherFor(cfg)
	if opts.Outlier != nil {
		if err := opts.Outlier.Validate(); err != nil {
			return nil, err
		}
		m.outlier = &outlierState{cfg: *opts.Outlier}
	}
	if m.checker == nil {
		c, err := NewChecker(cfg)
		if err != nil {
			return nil, err
		}
		m.checker, m.ownCheck = c, true
	}
	if m.clock == nil {
		m.clock = SystemClock{}
	}
	if m.maxConc <= 0 {
		m.maxConc = DefaultMaxConcurrency
	}
	if m.rand == nil {
		m.rand = rand.Uint64
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	return m, nil
}

func matcherFor(cfg Config) Matcher {
	var m Matcher
	switch cfg.Protocol {
	case HTTP, HTTPS:
		m, _ = ParseMatcher(cfg.Matcher, 200, 599)
	case GRPC:
		m, _ = ParseMatcher(cfg.Matcher, 0, 99)
	}
	return m
}

// Config returns the Monitor's current configuration.
func (m *Monitor) Config() Config {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.cfg
}

// Register adds targets (RegisterTargets). A new target starts initial
// (Elb.RegistrationInProgress), or unused/unavailable when the target group
// is not in use or checks are disabled. Registering a draining target
// registers it again; registering a registered one changes nothing.
func (m *Monitor) Register(targets ...Target) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	for _, t := range targets {
		e, ok := m.targets[t]
		if ok && e.h.State != StateDraining {
			continue
		}
		if !ok {
			e = &entry{index: -1}
			e.h.Target = t
			m.targets[t] = e
			if m.outlier != nil {
				m.hot.Store(t, e)
			}
		}
		e.gen++
		e.succ, e.fail = 0, 0
		st, r := m.restingHealth()
		m.setHealthLocked(e, st, r, now)
		m.scheduleFirstLocked(e, now)
	}
}

// restingHealth is the health a target gets on registration.
func (m *Monitor) restingHealth() (State, Reason) {
	switch {
	case m.notUsed:
		return StateUnused, ReasonNotInUse
	case m.cfg.Disabled:
		return StateUnavailable, ReasonHealthCheckDisabled
	}
	return StateInitial, ReasonRegistrationInProgress
}

// scheduleFirstLocked schedules e's first probe at a random point of the
// coming interval, or unschedules it when it is not to be checked.
func (m *Monitor) scheduleFirstLocked(e *entry, now time.Time) {
	if e.h.State != StateInitial {
		m.unscheduleLocked(e)
		return
	}
	iv := uint64(m.cfg.Interval)
	m.scheduleLocked(e, now.Add(time.Duration(m.rand()%iv)))
}

// Deregister starts draining targets (DeregisterTargets): they get no new
// traffic and are removed after the deregistration delay, or as soon as
// [Monitor.Drained] says their requests are done. Unknown targets are
// ignored, as AWS does.
func (m *Monitor) Deregister(targets ...Target) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	for _, t := range targets {
		e, ok := m.targets[t]
		if !ok || e.h.State == StateDraining {
			continue
		}
		if m.cfg.DeregistrationDelay == 0 {
			m.removeLocked(e, now)
			continue
		}
		e.gen++
		m.setHealthLocked(e, StateDraining, ReasonDeregistrationInProgress, now)
		m.scheduleLocked(e, now.Add(m.cfg.DeregistrationDelay))
	}
}

// Drained tells the Monitor that no requests to t are in flight: if t is
// draining, it is removed now instead of at the end of the deregistration
// delay (AWS ends draining early the same way).
func (m *Monitor) Drained(t Target) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.targets[t]; ok && e.h.State == StateDraining {
		m.removeLocked(e, m.clock.Now())
	}
}

// removeLocked drops e and publishes its move to unused/Target.NotRegistered.
func (m *Monitor) removeLocked(e *entry, now time.Time) {
	m.unscheduleLocked(e)
	e.gen++
	old := e.h
	if e.h.Ejected {
		m.outlier.ejected--
	}
	delete(m.targets, e.h.Target)
	m.hot.Delete(e.h.Target)
	nh := TargetHealth{Target: e.h.Target, State: StateUnused, Reason: ReasonNotRegistered,
		Description: ReasonNotRegistered.Description(), Since: now}
	m.emitLocked(Event{Time: now, Old: old, New: nh})
	if f, ok := m.checker.(Forgetter); ok {
		// Forget may close a connection; it does not block on the network.
		f.Forget(e.h.Target)
	}
}

// SetInUse says whether a load balancer uses the target group. While not in
// use, targets are unused (Target.NotInUse) and not checked; once in use
// again, they start over as initial. A new Monitor is in use.
func (m *Monitor) SetInUse(inUse bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.notUsed == !inUse {
		return
	}
	m.notUsed = !inUse
	m.resetAllLocked()
}

// resetAllLocked puts every non-draining target back to its resting health.
func (m *Monitor) resetAllLocked() {
	now := m.clock.Now()
	for _, e := range m.targets {
		if e.h.State == StateDraining {
			continue
		}
		e.gen++
		e.succ, e.fail = 0, 0
		st, r := m.restingHealth()
		m.setHealthLocked(e, st, r, now)
		m.scheduleFirstLocked(e, now)
	}
}

// SetConfig changes the health check settings (ModifyTargetGroup). An
// invalid cfg is rejected with Validate's error and changes nothing. When
// the protocol, port, path, host or Disabled change, targets start over as
// initial; otherwise new thresholds apply to the next results and a new
// interval from each target's next probe.
func (m *Monitor) SetConfig(cfg Config) error {
	if err := cfg.ValidateWithin(m.limits); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.cfg
	if m.ownCheck && (cfg.Protocol != old.Protocol || cfg.Port != old.Port || cfg.Path != old.Path || cfg.Host != old.Host || cfg.Matcher != old.Matcher || cfg.Timeout != old.Timeout) {
		c, err := NewChecker(cfg)
		if err != nil {
			return err
		}
		if cl, ok := m.checker.(io.Closer); ok {
			_ = cl.Close()
		}
		m.checker = c
	}
	m.cfg = cfg
	m.matcher = matcherFor(cfg)
	if cfg.Protocol != old.Protocol || cfg.Port != old.Port || cfg.Path != old.Path || cfg.Host != old.Host || cfg.Disabled != old.Disabled {
		m.resetAllLocked()
	}
	return nil
}

// Health returns t's current health. An unknown target is unused with
// Target.NotRegistered, as DescribeTargetHealth reports it.
func (m *Monitor) Health(t Target) TargetHealth {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if e, ok := m.targets[t]; ok {
		return e.h
	}
	return TargetHealth{Target: t, State: StateUnused, Reason: ReasonNotRegistered, Description: ReasonNotRegistered.Description()}
}

// Snapshot returns an immutable, consistent view of every registered target
// (draining included). It is rebuilt only after a transition, so calling it
// often is cheap.
func (m *Monitor) Snapshot() *Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snapshotLocked()
}

func (m *Monitor) snapshotLocked() *Snapshot {
	if m.snap != nil {
		return m.snap
	}
	s := &Snapshot{Version: m.seq, targets: make([]TargetHealth, 0, len(m.targets))}
	for _, e := range m.targets {
		s.targets = append(s.targets, e.h)
	}
	slices.SortFunc(s.targets, func(a, b TargetHealth) int { return strings.Compare(a.Target.Addr, b.Target.Addr) })
	m.snap = s
	return s
}

// Subscribe registers fn to receive transitions. fn is called from one
// goroutine owned by Run, serially, never concurrently with itself or other
// subscribers, first with the current snapshot and then after every batch
// of transitions; it should return quickly (probes go on meanwhile, and
// transitions queue up). Nothing is delivered while Run is not running.
// Cancel stops deliveries; a call already in progress may still finish.
//
// Feeding a balancer is one line:
//
//	m.Subscribe(func(u healthcheck.Update) { setEndpoints(u.Snapshot.Available()) })
func (m *Monitor) Subscribe(fn func(Update)) (cancel func()) {
	s := &subscriber{fn: fn, fresh: true}
	m.mu.Lock()
	s.seen = m.seq
	m.subs = append(m.subs, s)
	m.mu.Unlock()
	m.signal(m.dispatch)
	return func() {
		m.mu.Lock()
		m.subs = slices.DeleteFunc(m.subs, func(x *subscriber) bool { return x == s })
		m.mu.Unlock()
		s.gone.Store(true)
	}
}

type subscriber struct {
	fn    func(Update)
	seen  uint64 // seq of the last event delivered
	fresh bool   // no Update delivered yet

	gone atomic.Bool
}

// setHealthLocked moves e to (s, r) with r's generic description, emitting
// an Event if anything changed.
func (m *Monitor) setHealthLocked(e *entry, s State, r Reason, now time.Time) {
	m.setHealthDescLocked(e, s, r, r.Description(), now)
}

func (m *Monitor) setHealthDescLocked(e *entry, s State, r Reason, desc string, now time.Time) {
	if s == StateHealthy {
		r, desc = "", ""
	}
	if e.h.State == s && e.h.Reason == r && e.h.Description == desc && e.h.Since != (time.Time{}) {
		return
	}
	old := e.h
	if e.h.State != s {
		e.h.Since = now
	}
	if e.h.Since.IsZero() {
		e.h.Since = now
	}
	e.h.State, e.h.Reason, e.h.Description = s, r, desc
	if old.State == "" {
		old = TargetHealth{Target: e.h.Target, State: StateUnused, Reason: ReasonNotRegistered, Description: ReasonNotRegistered.Description()}
	}
	m.emitLocked(Event{Time: now, Old: old, New: e.h})
}

func (m *Monitor) emitLocked(ev Event) {
	m.seq++
	m.snap = nil
	if len(m.subs) > 0 {
		// Without subscribers nobody will read the event; a later
		// subscriber starts from a snapshot instead.
		m.pending = append(m.pending, ev)
	}
	m.log.Info("healthcheck: transition", "target", ev.New.Target.Addr, "from", describe(ev.Old), "to", describe(ev.New), "description", ev.New.Description)
	m.signal(m.dispatch)
}

func (m *Monitor) signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Run probes targets until ctx is done, then stops every goroutine it
// started, closes the checker it created, and returns nil. A Monitor runs
// once; a second Run returns ErrRunning.
func (m *Monitor) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.ran {
		m.mu.Unlock()
		return ErrRunning
	}
	m.ran = true
	m.mu.Unlock()

	work := make(chan *probe)
	var wg sync.WaitGroup
	for range m.maxConc {
		wg.Go(func() { m.worker(ctx, work) })
	}
	wg.Go(func() { m.dispatcher(ctx) })
	m.schedule(ctx, work)
	wg.Wait()
	if m.ownCheck {
		m.mu.RLock()
		c := m.checker
		m.mu.RUnlock()
		if cl, ok := c.(io.Closer); ok {
			_ = cl.Close()
		}
	}
	return nil
}

// probe is one probe handed from the scheduler to a worker.
type probe struct {
	e       *entry
	target  Target
	gen     uint32
	checker Checker
	timeout time.Duration
	due     time.Time
}

// schedule is the scheduler loop: it sleeps until the earliest due entry,
// hands due probes to workers, ends expired draining and runs outlier
// detection's interval. It returns when ctx is done.
func (m *Monitor) schedule(ctx context.Context, work chan<- *probe) {
	timer := m.clock.NewTimer(time.Hour)
	defer timer.Stop()
	var batch []*probe
	for {
		m.mu.Lock()
		now := m.clock.Now()
		batch = batch[:0]
		for len(m.due) > 0 && !m.due[0].next.After(now) {
			e := m.due[0]
			m.unscheduleLocked(e)
			if e.h.State == StateDraining {
				m.removeLocked(e, now)
				continue
			}
			if e.h.State == StateUnhealthyDraining {
				m.endUnhealthyDrainingLocked(e, now)
				if e.probeAt.After(now) {
					m.scheduleLocked(e, e.probeAt) // woken for drainEnd only
					continue
				}
			}
			e.inFlight = true
			batch = append(batch, &probe{e: e, target: e.h.Target, gen: e.gen, checker: m.checker, timeout: m.cfg.Timeout, due: e.next})
		}
		wait := time.Hour
		if len(m.due) > 0 {
			wait = m.due[0].next.Sub(now)
		}
		if m.outlier != nil {
			wait = min(wait, m.outlierTickLocked(now))
		}
		m.mu.Unlock()

		for _, p := range batch {
			select {
			case work <- p:
			case <-ctx.Done():
				return
			}
		}
		if len(batch) > 0 {
			continue // time passed while handing out work; look again
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C():
		case <-m.wake:
		}
	}
}

// worker runs probes until ctx is done.
func (m *Monitor) worker(ctx context.Context, work <-chan *probe) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-work:
			pctx, cancel := context.WithTimeout(ctx, p.timeout)
			err := safeCheck(pctx, p.checker, p.target)
			cancel()
			if ctx.Err() != nil {
				return // stopping: the result may be an artifact of cancellation
			}
			m.finish(p, err)
		}
	}
}

// safeCheck runs one check, turning a panic into Elb.InternalError.
func safeCheck(ctx context.Context, c Checker, t Target) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &CheckError{Reason: ReasonInternalError, Description: ReasonInternalError.Description(), Code: -1}
		}
	}()
	return c.Check(ctx, t)
}

// finish applies a probe's result to the state machine and schedules the
// target's next probe.
func (m *Monitor) finish(p *probe, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.probed.Add(1)
	e := p.e
	e.inFlight = false
	if e.gen != p.gen || m.targets[p.target] != e {
		return // deregistered or reset meanwhile; the result is stale
	}
	now := m.clock.Now()
	m.applyLocked(e, err, now)
	next := p.due.Add(m.cfg.Interval)
	if next.Before(now) {
		next = now
	}
	switch e.h.State {
	case StateInitial, StateHealthy, StateUnhealthy:
		m.scheduleLocked(e, next)
	case StateUnhealthyDraining:
		m.endUnhealthyDrainingLocked(e, now)
		e.probeAt = next
		if e.h.State == StateUnhealthyDraining && e.drainEnd.Before(next) {
			m.scheduleLocked(e, e.drainEnd)
		} else {
			m.scheduleLocked(e, next)
		}
	}
}

// endUnhealthyDrainingLocked moves e from unhealthy.draining to unhealthy,
// keeping its reason, once its draining interval is over.
func (m *Monitor) endUnhealthyDrainingLocked(e *entry, now time.Time) {
	if e.h.State == StateUnhealthyDraining && !now.Before(e.drainEnd) {
		m.setHealthDescLocked(e, StateUnhealthy, e.h.Reason, e.h.Description, now)
	}
}

// applyLocked is the ELB state machine for one probe result.
func (m *Monitor) applyLocked(e *entry, err error, now time.Time) {
	if err == nil {
		e.fail = 0
		e.succ++
		switch {
		case e.h.State == StateInitial,
			(e.h.State == StateUnhealthy || e.h.State == StateUnhealthyDraining) && e.succ >= m.cfg.HealthyThreshold:
			m.setHealthLocked(e, StateHealthy, "", now)
		}
		if m.outlier != nil {
			m.activeSuccessLocked(e, now)
		}
		return
	}
	e.succ = 0
	e.fail++
	reason, desc := Classify(err)
	switch e.h.State {
	case StateInitial:
		if e.fail >= m.cfg.UnhealthyThreshold {
			m.setHealthDescLocked(e, StateUnhealthy, reason, desc, now)
		} else {
			m.setHealthLocked(e, StateInitial, ReasonInitialHealthChecking, now)
		}
	case StateHealthy:
		if e.fail < m.cfg.UnhealthyThreshold {
			break
		}
		if m.cfg.KeepUnhealthyConnections && m.cfg.UnhealthyDrainingInterval > 0 {
			// NLB: no new connections, established ones kept for the
			// draining interval. Only a target that was healthy has any;
			// an initial one goes straight to unhealthy.
			e.drainEnd = now.Add(m.cfg.UnhealthyDrainingInterval)
			m.setHealthDescLocked(e, StateUnhealthyDraining, reason, desc, now)
		} else {
			m.setHealthDescLocked(e, StateUnhealthy, reason, desc, now)
		}
	case StateUnhealthy, StateUnhealthyDraining:
		m.setHealthDescLocked(e, e.h.State, reason, desc, now) // reason may change
	}
}

func (m *Monitor) scheduleLocked(e *entry, at time.Time) {
	e.next = at
	if e.index >= 0 {
		m.due.fix(e.index)
	} else {
		m.due.push(e)
	}
	if e.index == 0 {
		m.signal(m.wake)
	}
}

func (m *Monitor) unscheduleLocked(e *entry) {
	if e.index >= 0 {
		m.due.remove(e.index)
	}
}

// dispatcher delivers Updates to subscribers until ctx is done.
func (m *Monitor) dispatcher(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.dispatch:
		}
		m.mu.Lock()
		events := m.pending
		m.pending = nil
		snap := m.snapshotLocked()
		subs := slices.Clone(m.subs)
		base := m.seq - uint64(len(events))
		m.mu.Unlock()
		for _, s := range subs {
			if s.gone.Load() {
				continue
			}
			// Events up to s.seen are already reflected in what s got
			// (its first snapshot was taken after them).
			var evs []Event
			if from := int(max(s.seen, base) - base); from < len(events) {
				evs = events[from:]
			}
			if len(evs) > 0 || s.fresh {
				s.fresh = false
				s.seen = base + uint64(len(events))
				s.fn(Update{Events: slices.Clip(evs), Snapshot: snap})
			}
		}
	}
}
