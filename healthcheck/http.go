package healthcheck

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// UserAgent is the User-Agent of HTTP(S) probes, ELB's own.
const UserAgent = "ELB-HealthChecker/2.0"

// maxBody bounds how much of a response body a probe reads; a larger body
// is not read further and its connection is not reused.
const maxBody = 64 << 10

// HTTPChecker probes with GET Path over HTTP/1.1 and matches the status.
//
// It keeps at most one idle connection per target and reuses it for the
// next probe, so that a steady probe costs one write and one read, not a
// TCP (and TLS) handshake. An idle connection holds no goroutine and no
// buffer. If a reused connection turns out to be closed by the server
// before any response byte, the probe is retried once on a new one.
//
// The zero HTTPChecker probes "/" over plain HTTP on the traffic port and
// expects 200. Set fields before the first Check and do not change them
// afterwards.
type HTTPChecker struct {
	// TLS makes it HTTPS. The target's certificate is not verified, as ELB
	// does not verify it; TLSConfig overrides that.
	TLS       bool
	TLSConfig *tls.Config
	// Port overrides the target's port; 0 means the traffic port.
	Port int
	// Path of the request; empty means "/".
	Path string
	// Host header; empty means the probed address.
	Host string
	// Matcher lists successful status codes; the zero Matcher means 200.
	Matcher Matcher
	// DialContext dials targets. Nil: a net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// DisableKeepAlives closes the connection after every probe.
	DisableKeepAlives bool

	mu     sync.Mutex
	idle   map[Target]net.Conn
	closed bool
}

var (
	_ Checker   = (*HTTPChecker)(nil)
	_ Forgetter = (*HTTPChecker)(nil)
	_ io.Closer = (*HTTPChecker)(nil)
)

var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

// aLongTimeAgo is a deadline in the past that makes pending I/O fail at once.
var aLongTimeAgo = time.Unix(1, 0)

// Check sends one GET and matches the response status.
func (c *HTTPChecker) Check(ctx context.Context, t Target) error {
	addr, err := probeAddr(t.Addr, c.Port)
	if err != nil {
		return &CheckError{Reason: ReasonInternalError, Description: ReasonInternalError.Description(), Code: -1, Err: err}
	}
	conn := c.takeIdle(t)
	if conn != nil {
		status, retry, err := c.roundTrip(ctx, t, conn, addr)
		if !retry {
			return c.result(status, err)
		}
	}
	if conn, err = c.dial(ctx, addr); err != nil {
		return err
	}
	status, _, err := c.roundTrip(ctx, t, conn, addr)
	return c.result(status, err)
}

func (c *HTTPChecker) result(status int, err error) error {
	if err != nil {
		return err
	}
	m := c.Matcher
	if len(m.ranges) == 0 {
		m = Matcher{ranges: []codeRange{{200, 200}}}
	}
	if !m.Match(status) {
		return mismatch(status)
	}
	return nil
}

func (c *HTTPChecker) dial(ctx context.Context, addr string) (net.Conn, error) {
	dial := c.DialContext
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	conn, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if !c.TLS {
		return conn, nil
	}
	cfg := c.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{InsecureSkipVerify: true} // ELB does not verify target certificates.
	}
	if cfg.ServerName == "" && c.Host != "" && net.ParseIP(c.Host) == nil {
		cfg = cfg.Clone()
		cfg.ServerName = c.Host
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("tls handshake: %w", err)
	}
	return tc, nil
}

// roundTrip sends one request on conn and reads the response. retry is
// true when conn was stale (it failed before any response byte), in which
// case conn is closed. On success conn goes back to the idle set or is
// closed.
func (c *HTTPChecker) roundTrip(ctx context.Context, t Target, conn net.Conn, addr string) (status int, retry bool, err error) {
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(aLongTimeAgo) })
	host := c.Host
	if host == "" {
		host = addr
	}
	path := c.Path
	if path == "" {
		path = "/"
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: " + UserAgent + "\r\nAccept: */*\r\n"
	if c.DisableKeepAlives {
		req += "Connection: close\r\n"
	}
	req += "\r\n"
	br := readers.Get().(*bufio.Reader)
	br.Reset(conn)
	defer func() {
		br.Reset(nil)
		readers.Put(br)
	}()
	if _, err = io.WriteString(conn, req); err != nil {
		stop()
		conn.Close()
		return 0, ctx.Err() == nil, c.ctxErr(ctx, err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		stop()
		conn.Close()
		stale := ctx.Err() == nil && br.Buffered() == 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err))
		return 0, stale, c.ctxErr(ctx, err)
	}
	n, _ := io.CopyN(io.Discard, resp.Body, maxBody+1)
	resp.Body.Close()
	reuse := stop() && !c.DisableKeepAlives && !resp.Close && n <= maxBody && br.Buffered() == 0 && ctx.Err() == nil
	if reuse {
		conn.SetDeadline(time.Time{})
		c.putIdle(t, conn)
	} else {
		conn.Close()
	}
	return resp.StatusCode, false, nil
}

// ctxErr prefers the context's error, so a probe cut short by its timeout
// reads as Target.Timeout.
func (c *HTTPChecker) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return err
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && !oe.Timeout()
}

func (c *HTTPChecker) takeIdle(t Target) net.Conn {
	if c.DisableKeepAlives {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	conn := c.idle[t]
	if conn != nil {
		delete(c.idle, t)
	}
	return conn
}

func (c *HTTPChecker) putIdle(t Target, conn net.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		conn.Close()
		return
	}
	if c.idle == nil {
		c.idle = make(map[Target]net.Conn)
	}
	if old := c.idle[t]; old != nil {
		old.Close()
	}
	c.idle[t] = conn
}

// Forget closes t's idle connection.
func (c *HTTPChecker) Forget(t Target) {
	c.mu.Lock()
	conn := c.idle[t]
	delete(c.idle, t)
	c.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
}

// Close closes every idle connection; later probes still work but keep no
// connection.
func (c *HTTPChecker) Close() error {
	c.mu.Lock()
	idle := c.idle
	c.idle, c.closed = nil, true
	c.mu.Unlock()
	for _, conn := range idle {
		conn.Close()
	}
	return nil
}

// probeAddr returns addr with its port replaced by port, unless port is 0.
func probeAddr(addr string, port int) (string, error) {
	if port == 0 {
		return addr, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// TCPChecker succeeds when a TCP connection to the target is established;
// it closes it at once. The zero TCPChecker dials the traffic port.
type TCPChecker struct {
	// Port overrides the target's port; 0 means the traffic port.
	Port int
	// DialContext dials targets. Nil: a net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

var _ Checker = (*TCPChecker)(nil)

// Check dials t.
func (c *TCPChecker) Check(ctx context.Context, t Target) error {
	addr, err := probeAddr(t.Addr, c.Port)
	if err != nil {
		return &CheckError{Reason: ReasonInternalError, Description: ReasonInternalError.Description(), Code: -1, Err: err}
	}
	dial := c.DialContext
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	conn, err := dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return conn.Close()
}

// NewChecker returns the Checker for cfg's protocol: an *HTTPChecker
// (HTTP, HTTPS), a *TCPChecker or a *GRPCChecker. cfg must be valid.
func NewChecker(cfg Config) (Checker, error) {
	switch cfg.Protocol {
	case HTTP, HTTPS:
		m, err := ParseMatcher(cfg.Matcher, 200, 599)
		if err != nil {
			return nil, &ConfigError{Field: "Matcher", Value: strconv.Quote(cfg.Matcher), Reason: err.Error()}
		}
		return &HTTPChecker{TLS: cfg.Protocol == HTTPS, Port: cfg.Port, Path: cfg.Path, Host: cfg.Host, Matcher: m}, nil
	case TCP:
		return &TCPChecker{Port: cfg.Port}, nil
	case GRPC:
		m, err := ParseMatcher(cfg.Matcher, 0, 99)
		if err != nil {
			return nil, &ConfigError{Field: "Matcher", Value: strconv.Quote(cfg.Matcher), Reason: err.Error()}
		}
		return &GRPCChecker{Port: cfg.Port, Service: cfg.Path, Authority: cfg.Host, Matcher: m}, nil
	}
	return nil, &ConfigError{Field: "Protocol", Value: strconv.Quote(string(cfg.Protocol)), Reason: "must be HTTP, HTTPS, TCP or GRPC"}
}
