package lb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lbkit/lbkit/balancer"
)

// UDP defaults, as NLB has them.
const (
	// DefaultUDPIdleTimeout is NLB's idle timeout for UDP flows (120 s,
	// not configurable on NLB).
	DefaultUDPIdleTimeout = 120 * time.Second
	// DefaultUDPMaxFlows bounds the flow table: each flow holds one socket
	// toward its target and one goroutine.
	DefaultUDPMaxFlows = 16384
	// maxDatagram is the largest UDP payload over IPv4 or IPv6.
	maxDatagram = 65535
)

// UDPProxy forwards UDP datagrams to the targets of a target group, as an
// NLB UDP listener does. Each flow — the client's address and port toward
// this listener — keeps its target while it is active (NLB's 5-tuple
// affinity; the target is chosen with the flow hash as key) and ends after
// IdleTimeout without a datagram in either direction. Each flow has its own
// connected socket toward the target, so a target's replies are told apart
// by the kernel and sent back to the right client from the listener's
// address.
//
// The zero value with TargetGroup set is ready. Fields must not change
// while the proxy serves. A UDP target group has no PROXY protocol (NLB
// does not support it for UDP).
type UDPProxy struct {
	// Name labels logs and metrics. Empty means "udp".
	Name string
	// TargetGroup provides the targets. Required.
	TargetGroup *TargetGroup
	// IdleTimeout ends a flow after this long without a datagram either
	// way. Zero means DefaultUDPIdleTimeout; it is always positive.
	IdleTimeout time.Duration
	// MaxFlows bounds how many flows are open at once; datagrams of new
	// flows beyond it are dropped (and counted). Zero means
	// DefaultUDPMaxFlows.
	MaxFlows int
	// PreserveClientIP sends to targets from the client's own address and
	// port (IP_TRANSPARENT; Linux, CAP_NET_ADMIN, and return routing, as
	// for TCPProxy). NLB always preserves the client IP for UDP; here it is
	// off by default because it needs that host setup.
	PreserveClientIP bool
	// ConnectionTermination ends the flows of a deregistered target when
	// its deregistration delay ends.
	ConnectionTermination bool
	// Unhealthy says what happens to the flows of a target that the
	// group's health checks mark unhealthy. The zero value is NLB's
	// default: they end.
	Unhealthy UnhealthyPolicy
	// Metrics receives the listener's metrics; nil records none.
	Metrics *L4Metrics
	// Logger receives flow errors. Nil means slog.Default().
	Logger *slog.Logger

	initOnce sync.Once
	rec      *l4Recorder
	log      *slog.Logger

	mu    sync.Mutex
	flows map[udpKey]*udpFlow
}

// udpKey identifies a flow: the client's address and the local address
// it sent to (the same for every flow unless the listener is bound to a
// wildcard address).
type udpKey struct{ client, local netip.AddrPort }

// udpFlow is one client's flow: its socket toward the target and the
// lease that counts it on the target.
type udpFlow struct {
	key    udpKey
	client netip.AddrPort
	// replyOOB, for a wildcard listener, is the control message that makes
	// replies leave from the address the client sent to.
	replyOOB []byte
	target   *net.UDPConn
	lease    Lease
	last     atomic.Int64 // unix nanos of the last datagram either way
	closed   atomic.Bool
	// ended is set with the reason the flow ended (idle, terminated,
	// shutdown) before its socket is closed.
	ended atomic.Pointer[error]
}

var udpBufPool = sync.Pool{New: func() any { b := make([]byte, maxDatagram); return &b }}

func (p *UDPProxy) init() {
	p.initOnce.Do(func() {
		name := p.Name
		if name == "" {
			name = "udp"
		}
		p.rec = newL4Recorder(p.Metrics, name, "udp")
		p.log = p.Logger
		if p.log == nil {
			p.log = slog.Default()
		}
		p.log = p.log.With("listener", name)
		p.Metrics.WatchTargetGroup(p.TargetGroup)
	})
}

func (p *UDPProxy) idleTimeout() time.Duration {
	if p.IdleTimeout <= 0 {
		return DefaultUDPIdleTimeout
	}
	return p.IdleTimeout
}

func (p *UDPProxy) maxFlows() int {
	if p.MaxFlows <= 0 {
		return DefaultUDPMaxFlows
	}
	return p.MaxFlows
}

// Serve reads datagrams from pc and forwards them until ctx ends; it then
// closes pc, ends every flow, waits for the flows' goroutines and returns
// nil. It returns an error if reading fails for another reason or the
// proxy is misconfigured. Serve closes pc. When pc is bound to a wildcard
// address, replies leave from the address each client sent to (IP_PKTINFO;
// Linux), so clients with connected sockets accept them.
func (p *UDPProxy) Serve(ctx context.Context, pc *net.UDPConn) error {
	if p.TargetGroup == nil {
		pc.Close()
		return fmt.Errorf("%w: UDPProxy.TargetGroup is nil", ErrL4Config)
	}
	p.init()
	local := addrPort(pc.LocalAddr())
	defer watchUnhealthy(p.TargetGroup, p.Unhealthy, p.ResetTarget, func(target string, n int) {
		p.log.Info("ended flows of an unhealthy target", "target", target, "flows", n)
	})()
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer func() {
		p.closeAll()
		wg.Wait()
	}()
	buf := make([]byte, maxDatagram)
	var oob []byte
	if local.Addr().IsUnspecified() {
		if err := enablePktinfo(pc); err != nil {
			p.log.Warn("wildcard UDP listener without per-datagram addresses: replies leave from the host's default source address", "err", err)
		} else {
			oob = make([]byte, 256)
		}
	}
	for {
		var n int
		var client netip.AddrPort
		var err error
		dst := local
		if oob != nil {
			var oobn int
			n, oobn, _, client, err = pc.ReadMsgUDPAddrPort(buf, oob)
			if a, ok := pktinfoDst(oob[:oobn]); ok && err == nil {
				dst = netip.AddrPortFrom(a, local.Port())
			}
		} else {
			n, client, err = pc.ReadFromUDPAddrPort(buf)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, syscall.ECONNREFUSED) {
				continue
			}
			pc.Close()
			return err
		}
		client = netip.AddrPortFrom(client.Addr().Unmap(), client.Port())
		f := p.flowFor(ctx, &wg, pc, client, dst, oob != nil)
		if f == nil {
			continue
		}
		f.last.Store(time.Now().UnixNano())
		if _, err := f.target.Write(buf[:n]); err != nil {
			// A refused earlier datagram (ICMP port unreachable) surfaces
			// here; the datagram is lost, as it would be on the wire.
			if !f.closed.Load() {
				p.rec.targetError(f.lease.Addr())
			}
			continue
		}
		p.rec.bytes(true, int64(n))
	}
}

// flowFor returns the client's open flow, or opens one. It returns nil
// when the datagram has to be dropped (table full, no target).
func (p *UDPProxy) flowFor(ctx context.Context, wg *sync.WaitGroup, pc *net.UDPConn, client, local netip.AddrPort, wildcard bool) *udpFlow {
	key := udpKey{client, local}
	p.mu.Lock()
	f := p.flows[key]
	if f != nil && !f.closed.Load() {
		p.mu.Unlock()
		return f
	}
	if len(p.flows) >= p.maxFlows() {
		p.mu.Unlock()
		p.rec.dropped("flow_table_full")
		return nil
	}
	p.mu.Unlock()

	flow := balancer.Flow{Proto: protoUDP, Src: client, Dst: local}
	lease, err := p.TargetGroup.Pick(l4PickInfo(flow))
	if err != nil {
		p.rec.dropped("no_target")
		return nil
	}
	tc, err := p.dialTarget(ctx, lease.Addr(), flow)
	if err != nil {
		lease.Done(err)
		p.rec.targetError(lease.Addr())
		p.log.Warn("udp target socket failed", "client", client, "target", lease.Addr(), "err", err)
		return nil
	}
	f = &udpFlow{key: key, client: client, target: tc, lease: lease}
	if wildcard {
		f.replyOOB = pktinfoSrc(local.Addr(), client.Addr())
	}
	f.last.Store(time.Now().UnixNano())
	p.mu.Lock()
	if p.flows == nil {
		p.flows = map[udpKey]*udpFlow{}
	}
	p.flows[key] = f
	p.mu.Unlock()
	p.rec.flowStart()
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.udpFlowReplies(pc, f)
	}()
	return f
}

func (p *UDPProxy) dialTarget(ctx context.Context, target string, flow balancer.Flow) (*net.UDPConn, error) {
	d := net.Dialer{}
	if p.PreserveClientIP {
		d.LocalAddr = net.UDPAddrFromAddrPort(flow.Src)
		d.Control = transparentControl
	}
	c, err := d.DialContext(ctx, "udp", target)
	if err != nil {
		return nil, err
	}
	return c.(*net.UDPConn), nil
}

// udpFlowReplies owns a flow: it relays the target's datagrams to the
// client until the flow goes idle, its target's deregistration delay ends
// (with ConnectionTermination), or the proxy stops. It waits for a
// datagram without holding a buffer (RawConn.Read calls back when the
// socket is readable), so an idle flow costs a goroutine and a socket, not
// 64 KiB.
func (p *UDPProxy) udpFlowReplies(pc *net.UDPConn, f *udpFlow) {
	defer p.endFlow(f)
	if p.ConnectionTermination {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			select {
			case <-f.lease.Expired():
				f.end(errTerminated)
			case <-stop:
			}
		}()
	}
	idle := p.idleTimeout()
	// As for TCP, the deadline is re-armed in quarters of the timeout so
	// that traffic toward the target (seen only through f.last) extends
	// the flow's life.
	for {
		f.target.SetReadDeadline(time.Now().Add(idle / 4))
		bp, n, err := udpRecv(f.target)
		if err != nil {
			switch {
			case errors.Is(err, syscall.ECONNREFUSED):
				// The target's port is closed (ICMP). Keep the flow: the
				// target may come back, as NLB keeps it.
				p.rec.targetError(f.lease.Addr())
				continue
			case errors.Is(err, os.ErrDeadlineExceeded) && !f.closed.Load():
				if time.Since(time.Unix(0, f.last.Load())) < idle {
					continue
				}
				f.end(errIdle)
			}
			return
		}
		f.last.Store(time.Now().UnixNano())
		if f.replyOOB != nil {
			_, _, err = pc.WriteMsgUDPAddrPort((*bp)[:n], f.replyOOB, f.client)
		} else {
			_, err = pc.WriteToUDPAddrPort((*bp)[:n], f.client)
		}
		if err == nil {
			p.rec.bytes(false, int64(n))
		}
		udpBufPool.Put(bp)
	}
}

// end records why the flow ends and closes its socket, which stops its
// goroutine. Only the first reason counts.
func (f *udpFlow) end(reason error) {
	if f.ended.CompareAndSwap(nil, &reason) {
		f.closed.Store(true)
		f.target.Close()
	}
}

// endFlow removes a flow whose goroutine is ending.
func (p *UDPProxy) endFlow(f *udpFlow) {
	f.end(errShutdown)
	p.mu.Lock()
	if p.flows[f.key] == f {
		delete(p.flows, f.key)
	}
	p.mu.Unlock()
	f.lease.Done(nil)
	p.rec.flowEnd()
	switch reason := *f.ended.Load(); {
	case errors.Is(reason, errIdle):
		p.rec.reset("idle")
	case errors.Is(reason, errTerminated):
		p.rec.reset("terminated")
	}
}

// closeAll ends every flow (Serve is returning).
func (p *UDPProxy) closeAll() {
	p.mu.Lock()
	flows := make([]*udpFlow, 0, len(p.flows))
	for _, f := range p.flows {
		flows = append(flows, f)
	}
	p.mu.Unlock()
	for _, f := range flows {
		f.end(errShutdown)
	}
}

// ActiveFlows returns how many flows are open to target, or to all targets
// when target is "".
func (p *UDPProxy) ActiveFlows(target string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, f := range p.flows {
		if !f.closed.Load() && (target == "" || f.lease.Addr() == target) {
			n++
		}
	}
	return n
}

// ResetTarget ends every flow to target and returns how many: NLB's
// connection termination for a target that became unhealthy.
func (p *UDPProxy) ResetTarget(target string) int {
	p.mu.Lock()
	var flows []*udpFlow
	for _, f := range p.flows {
		if f.lease.Addr() == target {
			flows = append(flows, f)
		}
	}
	p.mu.Unlock()
	for _, f := range flows {
		f.end(errTerminated)
	}
	return len(flows)
}
