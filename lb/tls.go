package lb

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// ALPNPolicy is an NLB TLS listener's ALPN policy: which application
// protocols the listener offers in the TLS handshake, in which order of
// preference.
type ALPNPolicy string

// NLB's ALPN policies.
const (
	// ALPNNone negotiates no application protocol (the default).
	ALPNNone ALPNPolicy = "None"
	// ALPNHTTP1Only negotiates only HTTP/1.*.
	ALPNHTTP1Only ALPNPolicy = "HTTP1Only"
	// ALPNHTTP2Only negotiates only HTTP/2; a client that offers only
	// HTTP/1.* fails the handshake.
	ALPNHTTP2Only ALPNPolicy = "HTTP2Only"
	// ALPNHTTP2Optional prefers HTTP/1.* and accepts HTTP/2.
	ALPNHTTP2Optional ALPNPolicy = "HTTP2Optional"
	// ALPNHTTP2Preferred prefers HTTP/2 and accepts HTTP/1.*.
	ALPNHTTP2Preferred ALPNPolicy = "HTTP2Preferred"
)

// DefaultTLSHandshakeTimeout bounds a client's TLS handshake.
const DefaultTLSHandshakeTimeout = 10 * time.Second

// nextProtos returns the server's ALPN list, most preferred first (Go's
// server picks by its own order).
func (a ALPNPolicy) nextProtos() ([]string, error) {
	switch a {
	case "", ALPNNone:
		return nil, nil
	case ALPNHTTP1Only:
		return []string{"http/1.1", "http/1.0"}, nil
	case ALPNHTTP2Only:
		return []string{"h2"}, nil
	case ALPNHTTP2Optional:
		return []string{"http/1.1", "http/1.0", "h2"}, nil
	case ALPNHTTP2Preferred:
		return []string{"h2", "http/1.1", "http/1.0"}, nil
	}
	return nil, fmt.Errorf("%w: unknown ALPN policy %q", ErrL4Config, string(a))
}

// TLSProxy is an NLB TLS listener: it terminates TLS with the certificate
// the client's SNI names, negotiates ALPN by policy, and forwards the
// plaintext to the target group as TCPProxy does — in plain TCP, or
// re-encrypted when TargetTLS is set (a TLS target group). Bytes pass
// through user space (TLS records must be decrypted), so there is no
// splice here.
//
// Forwarding settings (TargetGroup, timeouts, attempts, PROXY v2, client
// IP preservation, connection termination, metrics, logger) are the
// embedded TCPProxy's. Fields must not change while the proxy serves.
type TLSProxy struct {
	TCPProxy
	// Certificates are the listener's certificates. The one whose names
	// match the client's SNI is served; the first is the default (NLB's
	// default certificate plus its certificate list). Required unless
	// TLSConfig provides certificates.
	Certificates []tls.Certificate
	// ALPNPolicy selects the application protocols offered. Empty means
	// ALPNNone.
	ALPNPolicy ALPNPolicy
	// TLSConfig is the base server configuration (versions and cipher
	// suites: NLB's security policy). It is cloned; Certificates and
	// NextProtos are set from the fields above when those are set. Nil
	// means Go's defaults (TLS 1.2 and later).
	TLSConfig *tls.Config
	// TargetTLS, if set, re-encrypts toward targets with this client
	// configuration (cloned; ServerName defaults to the target's host,
	// NextProtos to the protocol negotiated with the client). Nil forwards
	// plain TCP.
	TargetTLS *tls.Config
	// HandshakeTimeout bounds the client's handshake (and the target's).
	// Zero means DefaultTLSHandshakeTimeout.
	HandshakeTimeout time.Duration

	server *tls.Config
}

// Serve accepts connections on ln, terminates TLS and proxies each until
// ctx ends, as TCPProxy.Serve does.
func (p *TLSProxy) Serve(ctx context.Context, ln net.Listener) error {
	if err := p.setup(); err != nil {
		ln.Close()
		return err
	}
	defer p.watchUnhealthy()()
	return serveL4(ctx, ln, p.log, p.HandleConn)
}

func (p *TLSProxy) setup() error {
	if p.TargetGroup == nil {
		return fmt.Errorf("%w: TLSProxy.TargetGroup is nil", ErrL4Config)
	}
	protos, err := p.ALPNPolicy.nextProtos()
	if err != nil {
		return err
	}
	cfg := &tls.Config{}
	if p.TLSConfig != nil {
		cfg = p.TLSConfig.Clone()
	}
	if len(p.Certificates) > 0 {
		cfg.Certificates = p.Certificates
	}
	if len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil {
		return fmt.Errorf("%w: TLSProxy has no certificate", ErrL4Config)
	}
	if p.ALPNPolicy != "" {
		cfg.NextProtos = protos
	}
	if p.ALPNPolicy == ALPNHTTP2Only {
		// Go's server lets a client that offers only http/1.1 finish the
		// handshake without ALPN (a compatibility fallback); HTTP2Only
		// means HTTP/2 or nothing.
		user := cfg.VerifyConnection
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if cs.NegotiatedProtocol != "h2" {
				return errors.New("lb: ALPN policy HTTP2Only: client does not offer h2")
			}
			if user != nil {
				return user(cs)
			}
			return nil
		}
	}
	p.initProto("tls")
	p.server = cfg
	return nil
}

// HandleConn terminates TLS on c and proxies it; it closes c. Call it
// only from Serve, or after a Serve has started (the configuration is
// checked there).
func (p *TLSProxy) HandleConn(ctx context.Context, c net.Conn) {
	if p.server == nil {
		if err := p.setup(); err != nil {
			c.Close()
			return
		}
	}
	timeout := p.HandshakeTimeout
	if timeout <= 0 {
		timeout = DefaultTLSHandshakeTimeout
	}
	flow := l4FlowOf(protoTCP, c.RemoteAddr(), c.LocalAddr())
	tc := tls.Server(c, p.server)
	hctx, cancel := context.WithTimeout(ctx, timeout)
	err := tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		p.rec.tlsError("client")
		p.log.Debug("client TLS handshake failed", "client", flow.Src, "err", err)
		c.Close()
		return
	}
	p.rec.flowStart()
	defer p.rec.flowEnd()
	start := time.Now()
	alpn := tc.ConnectionState().NegotiatedProtocol
	t, lease, err := p.connect(ctx, flow)
	if err != nil {
		p.log.Warn("no target for connection", "client", flow.Src, "err", err)
		p.rec.reset("no_target")
		resetConn(c)
		return
	}
	if p.TargetTLS != nil {
		t, err = p.targetHandshake(ctx, t, lease.Addr(), alpn, timeout)
		if err != nil {
			lease.Done(err)
			p.rec.tlsError("target")
			p.log.Warn("target TLS handshake failed", "target", lease.Addr(), "err", err)
			resetConn(c)
			return
		}
	}
	pipe := &tcpPipe{client: tc, target: t, idle: p.idleTimeout(), onBytes: p.rec.bytes}
	up, down, err := p.runPipe(ctx, pipe, lease)
	lease.Done(err)
	p.logEnd(flow, lease.Addr(), start, up, down, err)
}

// targetHandshake re-encrypts toward a TLS target.
func (p *TLSProxy) targetHandshake(ctx context.Context, c net.Conn, target, alpn string, timeout time.Duration) (net.Conn, error) {
	cfg := p.TargetTLS.Clone()
	if cfg.ServerName == "" {
		host, _, _ := net.SplitHostPort(target)
		cfg.ServerName = host
	}
	if cfg.NextProtos == nil && alpn != "" {
		cfg.NextProtos = []string{alpn}
	}
	tc := tls.Client(c, cfg)
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		c.Close()
		return nil, err
	}
	return tc, nil
}
