package lb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/lbkit/lbkit/balancer"
	"github.com/lbkit/lbkit/healthcheck"
)

// NLB defaults for L4 listeners.
const (
	// DefaultTCPIdleTimeout is NLB's TCP idle timeout
	// (tcp.idle_timeout.seconds = 350).
	DefaultTCPIdleTimeout = 350 * time.Second
	// DefaultConnectTimeout bounds one connection attempt to a target.
	// NLB does not document its own; 10 s matches its TCP health check
	// timeout.
	DefaultConnectTimeout = 10 * time.Second
	// DefaultConnectAttempts is how many targets a new connection tries
	// before it is refused.
	DefaultConnectAttempts = 3
)

// Errors of the L4 listeners. Callers branch on them with errors.Is.
var (
	// ErrL4Config means a proxy was started without what it needs (a
	// target group); it changes nothing and serves nothing.
	ErrL4Config = errors.New("lb: invalid L4 proxy configuration")
)

// targetDialError is a failed connection to a target: the target's
// address and the dial error. A listener retries dial errors on another
// target (always safe: no byte was sent).
type targetDialError struct {
	Target string
	Err    error
}

func (e *targetDialError) Error() string {
	return "lb: connect to target " + e.Target + ": " + e.Err.Error()
}
func (e *targetDialError) Unwrap() error { return e.Err }

// TCPProxy forwards TCP connections to the targets of a target group, as
// an NLB TCP listener does: one target per connection, chosen by the group
// with the connection's flow hash as key (so a group created with
// Algorithm HashKey behaves as NLB's flow hash, any other algorithm as
// itself); bytes are moved by the kernel (splice) when both sides are
// plain TCP; each side's FIN is passed on as a half-close, so protocols
// that shut down their write side early lose nothing.
//
// The zero value with TargetGroup set is ready: NLB's 350 s idle timeout,
// a 10 s connect timeout and 3 attempts on distinct targets. Fields must
// not change while the proxy serves.
type TCPProxy struct {
	// Name labels logs and metrics (the listener's name). Empty means "tcp".
	Name string
	// TargetGroup provides the targets. Required.
	TargetGroup *TargetGroup
	// IdleTimeout closes (resets) a connection after this long without a
	// byte in either direction. Zero means DefaultTCPIdleTimeout; negative
	// disables it. The close happens between 1 and 1.5 IdleTimeouts after
	// the last byte.
	IdleTimeout time.Duration
	// ConnectTimeout bounds each connection attempt. Zero means
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// ConnectAttempts is how many targets to try when connects fail
	// (each a fresh pick avoiding the last failed one). Zero means
	// DefaultConnectAttempts; it is at least 1.
	ConnectAttempts int
	// ProxyProtocolV2 sends a PROXY protocol v2 header with the client's
	// and the listener's addresses as the first bytes toward the target
	// (NLB's proxy_protocol_v2.enabled target group attribute).
	ProxyProtocolV2 bool
	// PreserveClientIP connects to targets from the client's own address
	// and port (NLB's preserve_client_ip.enabled), with IP_TRANSPARENT.
	// It needs Linux, CAP_NET_ADMIN, and routing that returns the
	// targets' replies to this host (see the package documentation); when
	// the socket option is refused the connection fails and is counted as
	// a target connection error. Off by default.
	PreserveClientIP bool
	// ConnectionTermination resets the connections to a deregistered
	// target when its deregistration delay ends (NLB's
	// deregistration_delay.connection_termination.enabled). By default
	// they continue until either side closes them or they go idle.
	ConnectionTermination bool
	// Unhealthy says what happens to the connections of a target that the
	// group's health checks mark unhealthy. The zero value is NLB's
	// default: they are reset.
	Unhealthy UnhealthyPolicy
	// Metrics receives the listener's metrics; nil records none.
	Metrics *L4Metrics
	// Logger receives connection errors (Warn) and per-connection summaries
	// (Debug). Nil means slog.Default().
	Logger *slog.Logger

	// dialer, if set, replaces the default dialer (tests).
	dialer func(ctx context.Context, target string, flow balancer.Flow) (net.Conn, error)

	initOnce sync.Once
	rec      *l4Recorder
	log      *slog.Logger
	conns    l4ConnSet
}

func (p *TCPProxy) init() { p.initProto("tcp") }

// initProto sets up metrics and logging once, labelled with protocol
// (tcp, or tls when a TLSProxy embeds this TCPProxy).
func (p *TCPProxy) initProto(protocol string) {
	p.initOnce.Do(func() {
		name := p.Name
		if name == "" {
			name = protocol
		}
		p.rec = newL4Recorder(p.Metrics, name, protocol)
		p.log = p.Logger
		if p.log == nil {
			p.log = slog.Default()
		}
		p.log = p.log.With("listener", name)
		p.Metrics.WatchTargetGroup(p.TargetGroup)
	})
}

func (p *TCPProxy) idleTimeout() time.Duration {
	switch {
	case p.IdleTimeout == 0:
		return DefaultTCPIdleTimeout
	case p.IdleTimeout < 0:
		return 0
	}
	return p.IdleTimeout
}

// Serve accepts connections on ln and proxies each until ctx ends. It
// then closes ln, resets the connections still open, waits for their
// goroutines and returns nil; it returns an error if Accept fails for
// another reason or the proxy is misconfigured. Serve closes ln.
func (p *TCPProxy) Serve(ctx context.Context, ln net.Listener) error {
	if p.TargetGroup == nil {
		ln.Close()
		return fmt.Errorf("%w: TCPProxy.TargetGroup is nil", ErrL4Config)
	}
	p.init()
	defer p.watchUnhealthy()()
	return serveL4(ctx, ln, p.log, p.HandleConn)
}

func (p *TCPProxy) watchUnhealthy() (stop func()) {
	return watchUnhealthy(p.TargetGroup, p.Unhealthy, p.ResetTarget, func(target string, n int) {
		p.log.Info("reset connections of an unhealthy target", "target", target, "connections", n)
	})
}

// serveL4 is the accept loop shared by the TCP and TLS listeners: each
// connection runs handle in its own goroutine, which Serve waits for.
// Temporary accept errors (EMFILE) back off as net/http does.
func serveL4(ctx context.Context, ln net.Listener, log *slog.Logger, handle func(context.Context, net.Conn)) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				log.Warn("accept failed; retrying", "err", err, "delay", delay)
				t := time.NewTimer(delay)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return nil
				}
				continue
			}
			ln.Close()
			return err
		}
		delay = 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			handle(ctx, c)
		}()
	}
}

// HandleConn proxies one client connection and closes it. It returns when
// both directions have ended, the connection went idle, or ctx ended.
// The bytes go through splice(2) only when c is a *net.TCPConn (not a
// wrapper): pass the accepted connection itself.
func (p *TCPProxy) HandleConn(ctx context.Context, c net.Conn) {
	if p.TargetGroup == nil {
		c.Close()
		return
	}
	p.init()
	p.rec.flowStart()
	defer p.rec.flowEnd()
	flow := l4FlowOf(protoTCP, c.RemoteAddr(), c.LocalAddr())
	start := time.Now()
	t, lease, err := p.connect(ctx, flow)
	if err != nil {
		p.log.Warn("no target for connection", "client", flow.Src, "err", err)
		p.rec.reset("no_target")
		resetConn(c)
		return
	}
	pipe := &tcpPipe{client: c, target: t, idle: p.idleTimeout(), onBytes: p.rec.bytes}
	up, down, err := p.runPipe(ctx, pipe, lease)
	lease.Done(err)
	p.logEnd(flow, lease.Addr(), start, up, down, err)
}

// runPipe runs a connected pipe under the proxy's rules: registered for
// termination by target, reset when ctx ends, and (with
// ConnectionTermination) when the lease's deregistration delay expires.
func (p *TCPProxy) runPipe(ctx context.Context, pipe *tcpPipe, lease Lease) (up, down int64, err error) {
	return runL4Pipe(ctx, pipe, lease, &p.conns, p.ConnectionTermination)
}

func runL4Pipe(ctx context.Context, pipe *tcpPipe, lease Lease, set *l4ConnSet, terminate bool) (up, down int64, err error) {
	stop := context.AfterFunc(ctx, func() { pipe.abort(errShutdown) })
	defer stop()
	id := set.add(lease.Addr(), pipe)
	defer set.remove(lease.Addr(), id)
	if terminate {
		done := make(chan struct{})
		defer close(done)
		go watchDeregistration(lease, pipe, done)
	}
	return pipe.run()
}

// watchDeregistration resets pipe when lease's deregistration delay runs
// out, unless the pipe ends first (done).
func watchDeregistration(lease Lease, pipe *tcpPipe, done <-chan struct{}) {
	select {
	case <-lease.Expired():
		pipe.abort(errTerminated)
	case <-done:
	}
}

var (
	errShutdown   = errors.New("lb: listener shut down")
	errTerminated = errors.New("lb: target deregistered or unhealthy; connection terminated")
)

func (p *TCPProxy) logEnd(flow balancer.Flow, target string, start time.Time, up, down int64, err error) {
	p.logPipeEnd(p.log, p.rec, flow, target, start, up, down, err)
}

func (p *TCPProxy) logPipeEnd(log *slog.Logger, rec *l4Recorder, flow balancer.Flow, target string, start time.Time, up, down int64, err error) {
	switch {
	case err == nil:
	case errors.Is(err, errIdle):
		rec.reset("idle")
	case errors.Is(err, errShutdown):
		rec.reset("shutdown")
	case errors.Is(err, errTerminated):
		rec.reset("terminated")
	default:
		rec.reset("error")
	}
	if !log.Enabled(context.Background(), slog.LevelDebug) {
		return // the attributes below cost allocations per connection
	}
	attrs := []any{"client", flow.Src, "target", target, "duration", time.Since(start), "bytes_to_target", up, "bytes_to_client", down}
	if err == nil {
		log.Debug("connection closed", attrs...)
		return
	}
	log.Debug("connection reset", append(attrs, "err", err)...)
}

// connect picks a target and dials it, trying up to ConnectAttempts
// targets. The returned lease counts the connection on the target.
func (p *TCPProxy) connect(ctx context.Context, flow balancer.Flow) (net.Conn, Lease, error) {
	return connectL4(ctx, p.TargetGroup, flow, p.ConnectAttempts, p.log, p.rec, func(ctx context.Context, target string) (net.Conn, error) {
		return p.dialTarget(ctx, target, flow)
	})
}

func connectL4(ctx context.Context, tg *TargetGroup, flow balancer.Flow, attempts int, log *slog.Logger, rec *l4Recorder,
	dial func(ctx context.Context, target string) (net.Conn, error)) (net.Conn, Lease, error) {
	if attempts <= 0 {
		attempts = DefaultConnectAttempts
	}
	info := l4PickInfo(flow)
	var lastErr error
	var failed []string
	for i := range attempts {
		lease, next, err := pickAvoiding(tg, info, failed)
		info = next
		if err != nil {
			if lastErr != nil {
				return nil, Lease{}, lastErr
			}
			return nil, Lease{}, err
		}
		c, err := dial(ctx, lease.Addr())
		if err == nil {
			return c, lease, nil
		}
		lastErr = &targetDialError{Target: lease.Addr(), Err: err}
		lease.Done(lastErr)
		tg.Report(lease.Addr(), healthcheck.Result{Err: lastErr})
		rec.targetError(lease.Addr())
		log.Warn("target connect failed", "client", flow.Src, "target", lease.Addr(), "attempt", i+1, "err", err)
		if ctx.Err() != nil {
			break
		}
		// A retry avoids the target that failed and re-keys the hash so
		// that a third attempt does not land on the first one again.
		failed = append(failed, lease.Addr())
		info = l4Rekey(info)
	}
	return nil, Lease{}, lastErr
}

// dialTarget opens the connection to target and, if asked, writes the
// PROXY v2 header.
func (p *TCPProxy) dialTarget(ctx context.Context, target string, flow balancer.Flow) (net.Conn, error) {
	timeout := p.ConnectTimeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var c net.Conn
	var err error
	if p.dialer != nil {
		c, err = p.dialer(ctx, target, flow)
	} else {
		c, err = dialTCPTarget(ctx, target, flow, p.PreserveClientIP)
	}
	if err != nil {
		return nil, err
	}
	if p.ProxyProtocolV2 {
		if err := writeProxyV2(ctx, c, flow); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// dialTCPTarget connects to target, from the client's address when
// preserve is set. TCP keepalives
// are off: NLB sends none, and its idle timeout is what ends quiet
// connections.
func dialTCPTarget(ctx context.Context, target string, flow balancer.Flow, preserve bool) (net.Conn, error) {
	d := net.Dialer{KeepAlive: -1}
	if preserve {
		d.LocalAddr = net.TCPAddrFromAddrPort(flow.Src)
		d.Control = transparentControl
	}
	return d.DialContext(ctx, "tcp", target)
}

// resetConn closes c with an RST when it is TCP, so the client sees the
// refusal at once instead of a clean end of stream.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// l4ConnSet tracks open pipes by target address, so that a target's
// connections can be reset together (unhealthy connection termination).
type l4ConnSet struct {
	mu   sync.Mutex
	next uint64
	m    map[string]map[uint64]*tcpPipe
}

func (s *l4ConnSet) add(target string, p *tcpPipe) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]map[uint64]*tcpPipe{}
	}
	s.next++
	if s.m[target] == nil {
		s.m[target] = map[uint64]*tcpPipe{}
	}
	s.m[target][s.next] = p
	return s.next
}

func (s *l4ConnSet) remove(target string, id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m[target], id)
	if len(s.m[target]) == 0 {
		delete(s.m, target)
	}
}

// resetTarget aborts every pipe to target and returns how many.
func (s *l4ConnSet) resetTarget(target string, cause error) int {
	s.mu.Lock()
	pipes := make([]*tcpPipe, 0, len(s.m[target]))
	for _, p := range s.m[target] {
		pipes = append(pipes, p)
	}
	s.mu.Unlock()
	for _, p := range pipes {
		p.abort(cause)
	}
	return len(pipes)
}

// count returns how many pipes are open to target ("" for all).
func (s *l4ConnSet) count(target string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if target != "" {
		return len(s.m[target])
	}
	n := 0
	for _, m := range s.m {
		n += len(m)
	}
	return n
}

// ResetTarget resets every open connection to target and returns how many
// it reset: NLB's connection termination for a target that became
// unhealthy (target_health_state.unhealthy.connection_termination).
func (p *TCPProxy) ResetTarget(target string) int {
	return p.conns.resetTarget(target, errTerminated)
}

// ActiveConns returns how many connections are open to target, or to all
// targets when target is "".
func (p *TCPProxy) ActiveConns(target string) int { return p.conns.count(target) }
