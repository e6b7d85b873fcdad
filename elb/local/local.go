package local

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/lb"
)

// Options configures a running stack. The zero value binds every listener
// to a free loopback port, dials ip targets at ID:port and runs health
// checks at AWS's pace.
type Options struct {
	// Listen returns the address a listener binds ("127.0.0.1:8080",
	// "127.0.0.1:0" for a free port). Nil or "" means "127.0.0.1:0".
	Listen func(lb *elb.LoadBalancer, l *elb.Listener) string
	// Resolve returns the address to dial for a registered target. Nil
	// means ID:port, which fits ip target groups; instance targets need it.
	Resolve func(tg *elb.TargetGroup, t elb.Target) (string, error)
	// TimeScale multiplies health check intervals and timeouts and
	// deregistration delays, so that demos and tests need not wait
	// AWS's 30 s intervals: 0.05 checks a 30 s group every 1.5 s. Zero
	// means 1 (AWS's pace).
	TimeScale float64
	// Certificate returns the certificate for an HTTPS or TLS listener's
	// certificate ARN. Nil means one self-signed certificate for every
	// listener.
	Certificate func(arn string) (tls.Certificate, error)
	// Metrics, if set, receives lb's Prometheus metrics of every listener
	// (HTTP request and L4 connection metrics, labelled by listener and
	// target group). Nil records none.
	Metrics prometheus.Registerer
	// Logger receives state changes and errors; nil discards.
	Logger *slog.Logger
}

// ListenerKey names a listener: its load balancer and its port (UDP and
// TCP listeners of an NLB may share a port, so the protocol is part of it).
type ListenerKey struct {
	LoadBalancer string
	Port         int
	Protocol     elb.Protocol
}

func (k ListenerKey) String() string {
	return k.LoadBalancer + ":" + strconv.Itoa(k.Port) + "/" + string(k.Protocol)
}

// ListenerInfo is where one listener of the stack listens.
type ListenerInfo struct {
	ListenerKey
	// Addr is the bound local address, "127.0.0.1:41234".
	Addr string
}

// Stack is an elb.Stack running on this machine. Create it with [Start];
// it is safe for concurrent use.
type Stack struct {
	opts Options
	log  *slog.Logger
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	spec      *elb.Stack
	groups    map[string]*group // by target group name
	listeners map[ListenerKey]*listener
	selfCert  *tls.Certificate
	httpMet   *lb.HTTPMetrics
	l4Met     *lb.L4Metrics
	retired   []*group // replaced groups, closed with the stack
}

// ErrClosed is returned by Apply after Close.
var ErrClosed = errors.New("local: stack is closed")

// Start validates spec (after filling in AWS's defaults on a copy), binds
// every listener and starts health checks. It fails, with nothing left
// running, if the spec is invalid or a listener cannot bind. The stack
// runs until Close or until ctx ends.
func Start(ctx context.Context, spec *elb.Stack, opts Options) (*Stack, error) {
	if opts.TimeScale < 0 {
		return nil, fmt.Errorf("local: negative TimeScale %v", opts.TimeScale)
	}
	if opts.TimeScale == 0 {
		opts.TimeScale = 1
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cctx, cancel := context.WithCancel(ctx)
	s := &Stack{
		opts: opts, log: log, ctx: cctx, stop: cancel,
		groups:    map[string]*group{},
		listeners: map[ListenerKey]*listener{},
		spec:      &elb.Stack{},
	}
	if opts.Metrics != nil {
		var err error
		if s.httpMet, err = lb.NewHTTPMetrics(opts.Metrics); err == nil {
			s.l4Met, err = lb.NewL4Metrics(opts.Metrics)
		}
		if err != nil {
			cancel()
			return nil, fmt.Errorf("local: metrics: %w", err)
		}
	}
	if err := s.Apply(spec); err != nil {
		s.Close()
		return nil, err
	}
	context.AfterFunc(cctx, func() { s.Close() })
	return s, nil
}

// prepare copies spec, fills in defaults and validates it.
func prepare(spec *elb.Stack) (*elb.Stack, error) {
	b, err := elb.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	var c elb.Stack
	if err := elb.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("local: invalid stack: %w", err)
	}
	return &c, nil
}

// Apply makes the running stack match spec: it binds new listeners,
// swaps the routes of changed ones, closes removed ones; it creates,
// reconfigures and closes target groups; it registers new targets and
// deregisters removed ones (they drain). An invalid spec changes nothing.
// A listener that fails to bind is reported after the rest was applied.
func (s *Stack) Apply(spec *elb.Stack) error {
	c, err := prepare(spec)
	if err != nil {
		return err
	}
	var removed []*listener
	defer func() {
		// Removed listeners finish their in-flight requests (up to the
		// shutdown timeout) without holding the lock: TargetHealth and
		// Addr keep answering meanwhile.
		for _, l := range removed {
			l.close()
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	// 1. Target groups: create or update; keep the old ones until routes
	// no longer point at them.
	// Every group is checked before any changes, so that a bad group
	// (an unresolvable target, a health check out of range) changes
	// nothing.
	var errs []error
	plans := make([]*groupPlan, 0, len(c.TargetGroups))
	for _, tg := range c.TargetGroups {
		p, err := s.planGroup(s.groups[tg.Name], tg)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		plans = append(plans, p)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	newGroups := map[string]*group{}
	for _, p := range plans {
		g, err := s.applyGroup(p)
		if err != nil {
			errs = append(errs, err)
			if p.old != nil {
				newGroups[p.spec.Name] = p.old
			}
			continue
		}
		newGroups[p.spec.Name] = g
	}
	if len(errs) > 0 {
		// Groups created in this call are not referenced yet: close them.
		for name, g := range newGroups {
			if s.groups[name] != g {
				g.close()
			}
		}
		return errors.Join(errs...)
	}
	// 2. Listeners: bind new ones, swap routes, close removed ones.
	inUse := map[string]bool{}
	want := map[ListenerKey]bool{}
	for _, l := range c.LoadBalancers {
		for _, ls := range l.Listeners {
			for _, key := range listenerKeys(l, ls) {
				want[key] = true
				for _, name := range forwardedGroups(c, ls) {
					inUse[name] = true
				}
				cur := s.listeners[key]
				if cur == nil {
					nl, err := s.startListener(key, l, ls, newGroups)
					if err != nil {
						errs = append(errs, err)
						continue
					}
					s.listeners[key] = nl
					continue
				}
				if err := cur.update(s, l, ls, newGroups); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	for key, l := range s.listeners {
		if !want[key] {
			l.cancel() // stop accepting now; wait for it after unlocking
			removed = append(removed, l)
			delete(s.listeners, key)
		}
	}
	// 3. Groups that left the stack or were replaced: retire them now
	// that no route points at them (requests in flight hold leases and
	// finish; a closed group only stops its health checks).
	for name, g := range s.groups {
		if newGroups[name] != g {
			s.retired = append(s.retired, g)
			g.retire()
		}
	}
	s.groups = newGroups
	for name, g := range s.groups {
		g.setInUse(inUse[name])
	}
	s.spec = c
	return errors.Join(errs...)
}

// listenerKeys returns the keys of a listener: one, except TCP_UDP which
// is served by a TCP and a UDP socket on the same port.
func listenerKeys(l *elb.LoadBalancer, ls *elb.Listener) []ListenerKey {
	return []ListenerKey{{LoadBalancer: l.Name, Port: ls.Port, Protocol: ls.Protocol}}
}

// forwardedGroups returns the names of the target groups a listener's
// actions forward to.
func forwardedGroups(s *elb.Stack, ls *elb.Listener) []string {
	var out []string
	add := func(as []elb.Action) {
		for _, a := range as {
			if a.Forward == nil {
				continue
			}
			for _, t := range a.Forward.TargetGroups {
				if tg := s.TargetGroup(t.TargetGroup); tg != nil {
					out = append(out, tg.Name)
				}
			}
		}
	}
	add(ls.DefaultActions)
	for _, r := range ls.Rules {
		add(r.Actions)
	}
	return out
}

// Addr returns where listener port of load balancer lbName listens
// ("127.0.0.1:41234"); for a TCP_UDP listener, the TCP address (the UDP
// socket has the same port).
func (s *Stack) Addr(lbName string, port int) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, l := range s.listeners {
		if k.LoadBalancer == lbName && k.Port == port {
			return l.addr, true
		}
	}
	return "", false
}

// Listeners returns every running listener and its address, sorted by
// load balancer and port.
func (s *Stack) Listeners() []ListenerInfo {
	s.mu.Lock()
	out := make([]ListenerInfo, 0, len(s.listeners))
	for k, l := range s.listeners {
		out = append(out, ListenerInfo{ListenerKey: k, Addr: l.addr})
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.LoadBalancer != b.LoadBalancer {
			return a.LoadBalancer < b.LoadBalancer
		}
		if a.Port != b.Port {
			return a.Port < b.Port
		}
		return a.Protocol < b.Protocol
	})
	return out
}

// Spec returns a copy of the running spec, with AWS's defaults filled in.
func (s *Stack) Spec() *elb.Stack {
	s.mu.Lock()
	b, err := elb.Marshal(s.spec)
	s.mu.Unlock()
	var c elb.Stack
	if err == nil {
		_ = elb.Unmarshal(b, &c)
	}
	return &c
}

// Close stops every listener (in-flight HTTP requests finish, up to the
// listener's shutdown timeout; L4 connections are closed) and every
// health check, and waits for them. It is idempotent.
func (s *Stack) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	for _, l := range s.listeners {
		l.close()
	}
	s.mu.Unlock()
	s.stop()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.groups {
		g.close()
	}
	for _, g := range s.retired {
		g.close()
	}
	s.retired = nil
	return nil
}

// listen binds the address Options.Listen chooses for a listener.
func (s *Stack) listenAddr(l *elb.LoadBalancer, ls *elb.Listener) string {
	if s.opts.Listen != nil {
		if a := s.opts.Listen(l, ls); a != "" {
			return a
		}
	}
	return "127.0.0.1:0"
}

func (s *Stack) certificates(ls *elb.Listener) ([]tls.Certificate, error) {
	if s.opts.Certificate == nil {
		if s.selfCert == nil {
			c, err := selfSigned()
			if err != nil {
				return nil, err
			}
			s.selfCert = &c
		}
		return []tls.Certificate{*s.selfCert}, nil
	}
	var out []tls.Certificate
	for _, arn := range ls.Certificates {
		c, err := s.opts.Certificate(arn)
		if err != nil {
			return nil, fmt.Errorf("local: certificate %s: %w", arn, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("local: listener %d has no certificate", ls.Port)
	}
	return out, nil
}
