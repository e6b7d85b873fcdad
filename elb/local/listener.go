package local

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/lb"
)

// listener is one running listener: an HTTP proxy routed by elb's rules
// (ALB) or an L4 proxy (NLB).
type listener struct {
	key    ListenerKey
	addr   string
	cancel context.CancelFunc
	done   chan struct{} // closed when every goroutine of the listener ended

	// ALB
	proxy *lb.HTTPProxy
	route atomic.Pointer[httpRoute]

	// NLB
	l4 *l4Listener
}

func isALB(p elb.Protocol) bool { return p == elb.ProtocolHTTP || p == elb.ProtocolHTTPS }

func (s *Stack) startListener(key ListenerKey, l *elb.LoadBalancer, ls *elb.Listener, groups map[string]*group) (*listener, error) {
	addr := s.listenAddr(l, ls)
	ctx, cancel := context.WithCancel(s.ctx)
	nl := &listener{key: key, cancel: cancel, done: make(chan struct{})}
	if isALB(ls.Protocol) {
		rt, err := newHTTPRoute(s.specFor(groups), ls, groups)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("local: listener %s: %w", key, err)
		}
		nl.route.Store(rt)
		hl := &lb.HTTPListener{ErrorLog: s.log, ShutdownTimeout: 5 * time.Second, Metrics: s.httpMet}
		if ls.Protocol == elb.ProtocolHTTPS {
			certs, err := s.certificates(ls)
			if err != nil {
				cancel()
				return nil, err
			}
			hl.Certificates = certs
		}
		nl.proxy = &lb.HTTPProxy{Router: nl, Name: l.Name, ErrorLog: s.log, Metrics: s.httpMet}
		hl.Handler = nl.proxy
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("local: listener %s: %w", key, err)
		}
		nl.addr = ln.Addr().String()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer close(nl.done)
			if err := hl.Serve(ctx, ln); err != nil {
				s.log.Error("local: listener stopped", "listener", key.String(), "err", err)
			}
			nl.proxy.CloseIdleConnections()
		}()
		s.log.Info("listener started", "listener", key.String(), "addr", nl.addr)
		return nl, nil
	}
	l4, err := s.startL4(ctx, key, addr, l, ls, groups)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("local: listener %s: %w", key, err)
	}
	nl.l4, nl.addr = l4, l4.addr
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(nl.done)
		l4.wait()
	}()
	s.log.Info("listener started", "listener", key.String(), "addr", nl.addr)
	return nl, nil
}

// specFor is a lookup stack for resolving target group references.
func (s *Stack) specFor(groups map[string]*group) *elb.Stack {
	st := &elb.Stack{}
	for _, g := range groups {
		st.TargetGroups = append(st.TargetGroups, g.spec)
	}
	return st
}

// update points a running listener at new rules and groups.
func (nl *listener) update(s *Stack, l *elb.LoadBalancer, ls *elb.Listener, groups map[string]*group) error {
	if nl.proxy != nil {
		rt, err := newHTTPRoute(s.specFor(groups), ls, groups)
		if err != nil {
			return fmt.Errorf("local: listener %s: %w", nl.key, err)
		}
		nl.route.Store(rt)
		return nil
	}
	return nl.l4.update(s, ls, groups)
}

func (nl *listener) close() {
	nl.cancel()
	<-nl.done
}

// RouteHTTP implements lb.HTTPRouter with elb's rule evaluation.
func (nl *listener) RouteHTTP(r *http.Request) lb.HTTPAction {
	return nl.route.Load().routeHTTP(r)
}

// httpRoute is one compiled version of a listener's rules, with the lb
// action of each elb action, converted once.
type httpRoute struct {
	router  *elb.Router
	stack   *elb.Stack
	groups  map[string]*group
	actions sync.Map // *elb.Action (owned by router) → lb.HTTPAction
}

var notServed = &lb.FixedResponseAction{StatusCode: http.StatusNotImplemented, Body: "authenticate actions are not served by elb/local\n"}

func newHTTPRoute(st *elb.Stack, ls *elb.Listener, groups map[string]*group) (*httpRoute, error) {
	rt := &httpRoute{stack: st, groups: groups}
	r, err := elb.NewRouter(ls)
	if err != nil {
		return nil, err
	}
	rt.router = r
	// Convert every action up front so a bad one fails Apply, not a request.
	check := func(as []elb.Action) error {
		for i := range as {
			if as[i].Type.Terminal() {
				if _, err := rt.convert(&as[i]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := check(ls.DefaultActions); err != nil {
		return nil, err
	}
	for _, rule := range ls.Rules {
		if err := check(rule.Actions); err != nil {
			return nil, fmt.Errorf("rule %d: %w", rule.Priority, err)
		}
	}
	return rt, nil
}

func (rt *httpRoute) routeHTTP(r *http.Request) lb.HTTPAction {
	m := rt.router.RouteHTTP(r)
	if len(m.Actions) > 1 {
		return notServed
	}
	a := m.Action()
	if a == nil {
		return nil
	}
	if v, ok := rt.actions.Load(a); ok {
		return v.(lb.HTTPAction)
	}
	h, err := rt.convert(a)
	if err != nil {
		return nil // checked in newHTTPRoute; unreachable
	}
	rt.actions.Store(a, h)
	return h
}

// convert maps an elb terminal action to lb's.
func (rt *httpRoute) convert(a *elb.Action) (lb.HTTPAction, error) {
	switch a.Type {
	case elb.ActionForward:
		if a.Forward == nil {
			return nil, errors.New("forward action without config")
		}
		fa := &lb.ForwardAction{}
		for _, t := range a.Forward.TargetGroups {
			spec := rt.stack.TargetGroup(t.TargetGroup)
			if spec == nil {
				return nil, fmt.Errorf("target group %q not in the stack", t.TargetGroup)
			}
			g := rt.groups[spec.Name]
			if g == nil || g.http == nil {
				return nil, fmt.Errorf("target group %q is not an HTTP target group", spec.Name)
			}
			w := 1
			if t.Weight != nil {
				w = *t.Weight
			}
			fa.Groups = append(fa.Groups, lb.WeightedGroup{Group: g.http, Weight: w})
		}
		if st := a.Forward.Stickiness; st != nil && st.Enabled {
			fa.Stickiness = time.Duration(st.DurationSeconds) * time.Second
		}
		return fa, nil
	case elb.ActionRedirect:
		c := a.Redirect
		if c == nil {
			return nil, errors.New("redirect action without config")
		}
		return &lb.RedirectAction{Protocol: c.Protocol, Host: c.Host, Port: c.Port, Path: c.Path, Query: c.Query,
			Permanent: c.StatusCode == elb.RedirectPermanent}, nil
	case elb.ActionFixedResponse:
		c := a.FixedResponse
		if c == nil {
			return nil, errors.New("fixed-response action without config")
		}
		code, err := strconv.Atoi(c.StatusCode)
		if err != nil {
			return nil, fmt.Errorf("fixed response status %q", c.StatusCode)
		}
		return &lb.FixedResponseAction{StatusCode: code, ContentType: c.ContentType, Body: c.MessageBody}, nil
	}
	return nil, fmt.Errorf("action %s is not served locally", a.Type)
}

// l4Listener serves an NLB listener. Its own accept loop hands connections
// to the current proxy through a channel listener, so a change of target
// group switches new connections to a new proxy while the old one finishes
// its connections: the socket is never closed by a change.
type l4Listener struct {
	log   func(msg string, args ...any)
	ctx   context.Context
	addr  string
	proto elb.Protocol
	ln    net.Listener // TCP or TLS
	pc    *net.UDPConn // UDP

	mu      sync.Mutex
	tg      *group
	handoff *chanListener
	udpStop context.CancelFunc
	udpDone chan struct{}
	certs   []tls.Certificate
	alpn    elb.ALPNPolicy
	metrics *lb.L4Metrics
	wg      sync.WaitGroup
}

func l4Group(st *elb.Stack, ls *elb.Listener, groups map[string]*group) (*group, error) {
	for _, a := range ls.DefaultActions {
		if a.Type != elb.ActionForward || a.Forward == nil {
			continue
		}
		for _, t := range a.Forward.TargetGroups {
			if t.Weight != nil && *t.Weight == 0 {
				continue
			}
			spec := st.TargetGroup(t.TargetGroup)
			if spec == nil || groups[spec.Name] == nil {
				return nil, fmt.Errorf("target group %q not in the stack", t.TargetGroup)
			}
			return groups[spec.Name], nil
		}
	}
	return nil, errors.New("an NLB listener needs a forward default action")
}

func (s *Stack) startL4(ctx context.Context, key ListenerKey, addr string, l *elb.LoadBalancer, ls *elb.Listener, groups map[string]*group) (*l4Listener, error) {
	g, err := l4Group(s.specFor(groups), ls, groups)
	if err != nil {
		return nil, err
	}
	x := &l4Listener{ctx: ctx, proto: ls.Protocol, alpn: ls.ALPNPolicy, log: s.log.Warn, metrics: s.l4Met}
	if ls.Protocol == elb.ProtocolTLS {
		if x.certs, err = s.certificates(ls); err != nil {
			return nil, err
		}
	}
	switch ls.Protocol {
	case elb.ProtocolTCP, elb.ProtocolTLS:
		x.ln, err = net.Listen("tcp", addr)
	case elb.ProtocolUDP:
		var ua *net.UDPAddr
		if ua, err = net.ResolveUDPAddr("udp", addr); err == nil {
			x.pc, err = net.ListenUDP("udp", ua)
		}
	case elb.ProtocolTCPUDP:
		x.ln, x.pc, err = lb.ListenTCPUDP(addr)
	default:
		err = fmt.Errorf("protocol %s is not an NLB listener protocol", ls.Protocol)
	}
	if err != nil {
		return nil, err
	}
	if x.ln != nil {
		x.addr = x.ln.Addr().String()
		x.wg.Add(1)
		go func() {
			defer x.wg.Done()
			x.acceptLoop()
		}()
	} else {
		x.addr = x.pc.LocalAddr().String()
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.switchTo(g, key.String())
	return x, nil
}

// acceptLoop owns the socket: it hands each connection to the current
// proxy and closes the socket when the listener's context ends.
func (x *l4Listener) acceptLoop() {
	stop := context.AfterFunc(x.ctx, func() { x.ln.Close() })
	defer stop()
	for {
		c, err := x.ln.Accept()
		if err != nil {
			if x.ctx.Err() == nil {
				x.log("local: accept failed", "addr", x.addr, "err", err)
			}
			return
		}
		for {
			x.mu.Lock()
			h := x.handoff
			x.mu.Unlock()
			if h.give(x.ctx, c) {
				break
			}
			if x.ctx.Err() != nil {
				c.Close()
				return
			}
			// h was retired while we waited: hand c to its successor.
		}
	}
}

// switchTo starts a proxy for g and retires the previous one. Called with
// x.mu held.
func (x *l4Listener) switchTo(g *group, name string) {
	if x.tg == g {
		return
	}
	x.tg = g
	attrs := g.spec.EffectiveAttributes()
	setTCP := func(p *lb.TCPProxy) {
		p.Name = name
		p.TargetGroup = g.tg
		p.ProxyProtocolV2 = attrs.ProxyProtocolV2
		p.ConnectionTermination = attrs.ConnectionTermination
		p.Metrics = x.metrics
	}
	if x.ln != nil {
		old := x.handoff
		h := newChanListener(x.ln.Addr())
		x.handoff = h
		var serve func(context.Context, net.Listener) error
		if x.proto == elb.ProtocolTLS {
			p := &lb.TLSProxy{Certificates: x.certs, ALPNPolicy: lb.ALPNPolicy(x.alpn)}
			setTCP(&p.TCPProxy)
			if g.spec.Protocol == elb.ProtocolTLS {
				p.TargetTLS = &tls.Config{InsecureSkipVerify: true} // ELB does not verify targets' certificates
			}
			serve = p.Serve
		} else {
			p := &lb.TCPProxy{}
			setTCP(p)
			serve = p.Serve
		}
		x.wg.Add(1)
		go func() {
			defer x.wg.Done()
			if err := serve(x.ctx, h); err != nil && !errors.Is(err, net.ErrClosed) {
				x.log("local: TCP proxy stopped", "addr", x.addr, "err", err)
			}
		}()
		if old != nil {
			old.Close() // its Serve returns once its connections end
		}
	}
	if x.pc != nil {
		if x.udpStop != nil {
			// UDPProxy.Serve owns its socket: stop it and bind the same
			// address again (its flows start over).
			x.udpStop()
			<-x.udpDone
			pc, err := net.ListenUDP("udp", x.pc.LocalAddr().(*net.UDPAddr))
			if err != nil {
				x.log("local: UDP listener could not rebind", "addr", x.pc.LocalAddr().String(), "err", err)
				return
			}
			x.pc = pc
		}
		ctx, cancel := context.WithCancel(x.ctx)
		done := make(chan struct{})
		x.udpStop, x.udpDone = cancel, done
		p := &lb.UDPProxy{Name: name, TargetGroup: g.tg, Metrics: x.metrics}
		pc := x.pc
		x.wg.Add(1)
		go func() {
			defer x.wg.Done()
			defer close(done)
			if err := p.Serve(ctx, pc); err != nil {
				x.log("local: UDP proxy stopped", "addr", x.addr, "err", err)
			}
		}()
	}
}

func (x *l4Listener) update(s *Stack, ls *elb.Listener, groups map[string]*group) error {
	g, err := l4Group(s.specFor(groups), ls, groups)
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.switchTo(g, x.addr)
	return nil
}

func (x *l4Listener) wait() {
	<-x.ctx.Done()
	x.wg.Wait()
}

// chanListener is a net.Listener fed by another accept loop.
type chanListener struct {
	addr   net.Addr
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newChanListener(a net.Addr) *chanListener {
	return &chanListener{addr: a, conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *chanListener) give(ctx context.Context, c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.closed:
		return false
	case <-ctx.Done():
		return false
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }
