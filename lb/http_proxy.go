package lb

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lbkit/lbkit/healthcheck"
)

// HTTP proxy defaults.
const (
	// DefaultTargetTimeout bounds the wait for a target's response headers
	// (ALB answers 504 when the target does not respond within the idle
	// timeout, 60 s by default).
	DefaultTargetTimeout = 60 * time.Second
	// DefaultDialTimeout bounds a connection attempt to a target (ALB's
	// 10 s target connection timeout).
	DefaultDialTimeout = 10 * time.Second
	// DefaultTraceHeader is ALB's trace ID header.
	DefaultTraceHeader = "X-Amzn-Trace-Id"
)

// XFFMode is ALB's routing.http.xff_header_processing.mode.
type XFFMode uint8

// X-Forwarded-For processing modes.
const (
	// XFFAppend (default) appends the client's address. A value sent by a
	// client that is not a trusted proxy is replaced, not extended, so a
	// client cannot spoof its address (ALB itself appends blindly).
	XFFAppend XFFMode = iota
	// XFFPreserve forwards X-Forwarded-For unchanged.
	XFFPreserve
	// XFFRemove deletes X-Forwarded-For.
	XFFRemove
)

// RetryPolicy bounds retries to a fresh target.
type RetryPolicy struct {
	// Attempts is the number of tries per request, first included.
	// Zero means 3; 1 disables retries.
	Attempts int
	// Budget caps concurrent retries at this fraction of requests in
	// flight (Envoy's retry budget). Zero means 0.2.
	Budget float64
	// MinConcurrent retries are always allowed whatever the budget. Zero
	// means 3.
	MinConcurrent int
	// BodyBuffer is the largest request body of an idempotent request
	// (PUT, DELETE, ...) with a known length that the proxy reads in
	// memory first so that it can send it again on a retry. Zero means
	// 64 KiB; negative turns buffering off. Other bodies stream, and their
	// requests are retried only if none of the body was sent.
	BodyBuffer int64
}

func (p *HTTPProxy) bodyBuffer() int64 {
	switch b := p.Retry.BodyBuffer; {
	case b == 0:
		return 64 << 10
	case b < 0:
		return 0
	default:
		return b
	}
}

// HTTPProxy is the HTTP (L7) data plane: an http.Handler that routes each
// request with Router and forwards, redirects or answers it as ALB does.
// Serve it with [HTTPListener] (or any http.Server).
//
// Set its fields before the first request and do not change them
// afterwards. The zero value answers 503 to everything (no router).
//
// Each forwarded request holds a [Lease] on its target until the response
// is copied, so deregistered targets drain. Upgraded connections
// (WebSocket) are closed when the target's deregistration delay runs out;
// ordinary requests still running then are left to finish.
type HTTPProxy struct {
	// Router picks the action for each request. Nil answers 503.
	Router HTTPRouter
	// Transport sends requests to plain HTTP/1.1 targets. Nil means a
	// transport tuned for proxying (keep-alive pools of 1024 per target,
	// no compression, TargetTimeout for headers). Groups may override it.
	Transport http.RoundTripper
	// TargetTimeout is the target idle timeout: a target that sends
	// nothing for this long (7/8 of it at the earliest, on HTTP/1.1) gets
	// the request answered with 504, or a stalled response body aborted.
	// Zero means DefaultTargetTimeout. Used only by the default transports.
	TargetTimeout time.Duration
	// XFF is the X-Forwarded-For mode. Zero is XFFAppend.
	XFF XFFMode
	// XFFClientPort appends "ip:port" instead of "ip" (ALB's
	// routing.http.xff_client_port.enabled).
	XFFClientPort bool
	// TrustedProxies are peers whose X-Forwarded-For, -Proto and -Port
	// are believed and extended. Nil trusts no one: those headers are
	// rewritten from the connection.
	TrustedProxies []netip.Prefix
	// TraceHeader names the trace ID header added to requests that do not
	// carry one. Empty means DefaultTraceHeader; "-" disables it.
	TraceHeader string
	// Retry bounds retries. The zero value means 3 attempts within a 20%
	// budget.
	Retry RetryPolicy
	// AccessLog, if set, receives one record per request with ALB's access
	// log fields. Nil logs nothing.
	AccessLog *slog.Logger
	// Name is the load balancer name written to access logs ("elb").
	Name string
	// ErrorLog receives proxy errors (target failures) at Debug level and
	// misconfigurations at Error. Nil means slog.Default().
	ErrorLog *slog.Logger
	// Metrics, if set, records request metrics. Nil records nothing.
	Metrics *HTTPMetrics

	initOnce   sync.Once
	transports [2][2]http.RoundTripper // [tls][h2]
	active     atomic.Int64
	retrying   atomic.Int64
}

// dialError marks a failure to connect: nothing reached the target, so
// the request may always be retried elsewhere.
type dialError struct{ error }

func (e dialError) Unwrap() error { return e.error }

func (p *HTTPProxy) init() {
	p.initOnce.Do(func() {
		timeout := p.TargetTimeout
		if timeout == 0 {
			timeout = DefaultTargetTimeout
		}
		d := &net.Dialer{Timeout: DefaultDialTimeout, KeepAlive: 30 * time.Second}
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, dialError{err}
			}
			return c, nil
		}
		for tlsOn := 0; tlsOn < 2; tlsOn++ {
			for h2 := 0; h2 < 2; h2++ {
				t := &http.Transport{
					DialContext:           dial,
					MaxIdleConnsPerHost:   1024,
					IdleConnTimeout:       90 * time.Second,
					ResponseHeaderTimeout: timeout,
					ExpectContinueTimeout: time.Second,
					TLSHandshakeTimeout:   DefaultDialTimeout,
					DisableCompression:    true,
					// ELB does not verify target certificates.
					TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
					Protocols:       new(http.Protocols),
				}
				switch {
				case h2 == 0:
					t.Protocols.SetHTTP1(true)
				case tlsOn == 1:
					t.Protocols.SetHTTP2(true)
				default:
					t.Protocols.SetUnencryptedHTTP2(true)
				}
				p.transports[tlsOn][h2] = t
			}
		}
		p.transports[0][0] = &h1Transport{
			dial:           dial,
			headerTimeout:  timeout,
			idleTimeout:    90 * time.Second,
			maxIdlePerHost: 1024,
			fallback:       p.transports[0][0],
		}
		if p.Transport != nil {
			p.transports[0][0] = p.Transport
		}
	})
}

// CloseIdleConnections closes idle connections of the default transports.
func (p *HTTPProxy) CloseIdleConnections() {
	p.init()
	for _, row := range p.transports {
		for _, t := range row {
			if c, ok := t.(interface{ CloseIdleConnections() }); ok {
				c.CloseIdleConnections()
			}
		}
	}
}

func (p *HTTPProxy) transportFor(g *HTTPTargetGroup) http.RoundTripper {
	if g.Transport != nil {
		return g.Transport
	}
	t, h := 0, 0
	if g.TLS {
		t = 1
	}
	if g.Version != HTTP1 {
		h = 1
	}
	return p.transports[t][h]
}

func (p *HTTPProxy) logger() *slog.Logger {
	if p.ErrorLog != nil {
		return p.ErrorLog
	}
	return slog.Default()
}

// reqInfo collects what the access log and metrics need.
type reqInfo struct {
	start        time.Time
	group        *HTTPTargetGroup
	target       string
	targetStatus int
	status       int
	targetTime   time.Duration
	attempts     int
	action       string
	redirect     string
	errReason    string
	traceID      string
	sent         int64
}

// ServeHTTP routes and serves one request.
func (p *HTTPProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.init()
	ri := reqInfo{start: time.Now(), targetTime: -1}
	var action HTTPAction
	if p.Router != nil {
		action = p.Router.RouteHTTP(r)
	}
	switch a := action.(type) {
	case *ForwardAction:
		ri.action = "forward"
		p.forward(w, r, a, &ri)
	case *RedirectAction:
		ri.action = "redirect"
		scheme, port := listenerSchemePort(r)
		ri.redirect = a.URL(r, scheme, port)
		code := http.StatusFound
		if a.Permanent {
			code = http.StatusMovedPermanently
		}
		w.Header().Set("Location", ri.redirect)
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(code)
		ri.status = code
	case *FixedResponseAction:
		ri.action = "fixed-response"
		ri.status = a.serve(w)
		ri.sent = int64(len(a.Body))
	default:
		ri.status = http.StatusServiceUnavailable
		ri.errReason = "NoRoute"
		p.errorResponse(w, ri.status)
	}
	if p.Metrics != nil {
		p.Metrics.observe(&ri)
	}
	if p.AccessLog != nil {
		p.accessLog(r, &ri)
	}
}

// errorResponse writes an ELB-generated error page.
func (p *HTTPProxy) errorResponse(w http.ResponseWriter, code int) {
	body := errorBodies[code]
	if body == "" {
		body = strconv.Itoa(code) + " " + http.StatusText(code) + "\n"
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// maxXFFAddresses is ALB's limit on X-Forwarded-For entries; beyond it ALB
// answers 463.
const maxXFFAddresses = 30

func xffCount(h http.Header) int {
	n := 0
	for _, v := range h["X-Forwarded-For"] {
		n += strings.Count(v, ",") + 1
	}
	return n
}

var errorBodies = map[int]string{
	463:                           "463 Too Many X-Forwarded-For Addresses\n",
	http.StatusBadGateway:         "502 Bad Gateway\n",
	http.StatusServiceUnavailable: "503 Service Temporarily Unavailable\n",
	http.StatusGatewayTimeout:     "504 Gateway Time-out\n",
}

// listenerSchemePort returns the scheme and port the request came in on.
func listenerSchemePort(r *http.Request) (scheme, port string) {
	scheme = "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if tcp, ok := a.(*net.TCPAddr); ok {
			return scheme, portString(tcp.Port)
		}
		if _, p, err := net.SplitHostPort(a.String()); err == nil {
			return scheme, p
		}
	}
	if scheme == "https" {
		return scheme, "443"
	}
	return scheme, "80"
}

// lastPort caches the decimal form of the last listener port seen: a
// listener's every request asks for the same one.
var lastPort atomic.Pointer[portText]

type portText struct {
	port int
	text string
}

func portString(port int) string {
	if p := lastPort.Load(); p != nil && p.port == port {
		return p.text
	}
	p := &portText{port, strconv.Itoa(port)}
	lastPort.Store(p)
	return p.text
}

// Hop-by-hop headers (RFC 9110 §7.6.1), removed in both directions.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// removeHopHeaders deletes hop-by-hop headers, including those Connection
// names.
func removeHopHeaders(h http.Header) {
	for _, v := range h["Connection"] {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				h.Del(f)
			}
		}
	}
	if len(h) > 2*len(hopHeaders) {
		for _, k := range hopHeaders {
			delete(h, k)
		}
		return
	}
	// A usual header is smaller than the list: walking it costs no hashing.
	for k := range h {
		if isHopHeader(k) {
			delete(h, k)
		}
	}
}

func isHopHeader(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

func upgradeType(h http.Header) string {
	for _, v := range h["Connection"] {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "upgrade") {
				return h.Get("Upgrade")
			}
		}
	}
	return ""
}

func (p *HTTPProxy) trusted(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, pr := range p.TrustedProxies {
		if pr.Contains(ip) {
			return true
		}
	}
	return false
}

// prepareHeaders rewrites the outbound request headers in place.
func (p *HTTPProxy) prepareHeaders(r *http.Request, ri *reqInfo) {
	h := r.Header
	upgrade := upgradeType(h)
	teTrailers := false
	for _, v := range h["Te"] {
		if strings.Contains(v, "trailers") {
			teTrailers = true
		}
	}
	removeHopHeaders(h)
	if teTrailers {
		h["Te"] = []string{"trailers"}
	}
	if upgrade != "" {
		h["Connection"] = []string{"Upgrade"}
		h["Upgrade"] = []string{upgrade}
	}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = []string{""} // no Go default
	}

	vals := new(valueSlab)
	clientIP, clientPort, _ := strings.Cut(r.RemoteAddr, ":")
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		if a := ap.Addr(); a.Is4() && len(r.RemoteAddr) > len(clientIP) {
			// netip accepts only the canonical dotted-decimal form of an
			// IPv4 address, so the text before the colon is already what
			// String would allocate; likewise the port unless it has a
			// leading zero.
			if clientPort[0] == '0' && len(clientPort) > 1 {
				clientPort = strconv.Itoa(int(ap.Port()))
			}
		} else {
			clientIP, clientPort = a.Unmap().String(), strconv.Itoa(int(ap.Port()))
		}
	}
	var isTrusted bool
	if len(p.TrustedProxies) > 0 {
		if ip, err := netip.ParseAddr(clientIP); err == nil {
			isTrusted = p.trusted(ip)
		}
	}
	switch p.XFF {
	case XFFAppend:
		v := clientIP
		if p.XFFClientPort {
			v = net.JoinHostPort(clientIP, clientPort)
		}
		if prior, ok := h["X-Forwarded-For"]; ok && isTrusted && len(prior) > 0 {
			v = strings.Join(prior, ", ") + ", " + v
		}
		h["X-Forwarded-For"] = vals.one(v)
	case XFFRemove:
		delete(h, "X-Forwarded-For")
	case XFFPreserve:
	}
	if !isTrusted || h.Get("X-Forwarded-Proto") == "" {
		scheme, port := listenerSchemePort(r)
		h["X-Forwarded-Proto"] = vals.one(scheme)
		h["X-Forwarded-Port"] = vals.one(port)
	}
	if p.TraceHeader != "-" {
		name := p.TraceHeader
		if name == "" {
			name = DefaultTraceHeader
		}
		if v := h.Get(name); v != "" && len(v) <= 256 {
			ri.traceID = v
		} else {
			ri.traceID = newTraceID(ri.start)
			h[http.CanonicalHeaderKey(name)] = vals.one(ri.traceID)
		}
	}
}

// valueSlab backs the header values prepareHeaders sets: one allocation
// instead of one per field. Each value gets a slice of capacity one, so an
// append to one field copies rather than overwrites its neighbour.
type valueSlab struct {
	a [4]string
	n int
}

func (s *valueSlab) one(v string) []string {
	if s.n == len(s.a) {
		return []string{v}
	}
	s.a[s.n] = v
	s.n++
	return s.a[s.n-1 : s.n : s.n]
}

// newTraceID returns an ALB-format trace ID: Root=1-<epoch hex>-<96 random bits hex>.
func newTraceID(now time.Time) string {
	var b [64]byte
	out := append(b[:0], "Root=1-"...)
	out = appendHex(out, uint64(now.Unix()), 8)
	out = append(out, '-')
	out = appendHex(out, rand.Uint64(), 16)
	out = appendHex(out, rand.Uint64(), 8)
	return string(out)
}

func appendHex(b []byte, v uint64, digits int) []byte {
	const hexd = "0123456789abcdef"
	for i := digits - 1; i >= 0; i-- {
		b = append(b, hexd[(v>>(4*uint(i)))&0xf])
	}
	return b
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// countingBody forwards reads and hides Close from the transport, so that a
// failed attempt does not close the client's body and the proxy can tell
// whether any of it was sent.
type countingBody struct {
	r io.ReadCloser
	n atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (b *countingBody) Close() error { return nil }

func (p *HTTPProxy) allowRetry() bool {
	budget := p.Retry.Budget
	if budget == 0 {
		budget = 0.2
	}
	minc := p.Retry.MinConcurrent
	if minc == 0 {
		minc = 3
	}
	limit := max(int64(minc), int64(budget*float64(p.active.Load())))
	if p.retrying.Add(1) > limit {
		p.retrying.Add(-1)
		return false
	}
	return true
}

// classify maps a transport error to ALB's status: 504 on timeout, 502
// otherwise (reset, refused, malformed response).
func classify(err error) (int, string) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return http.StatusGatewayTimeout, "TargetResponseTimeout"
	}
	var de dialError
	if errors.As(err, &de) {
		return http.StatusBadGateway, "TargetConnectionError"
	}
	return http.StatusBadGateway, "TargetResponseError"
}

func (p *HTTPProxy) forward(w http.ResponseWriter, r *http.Request, a *ForwardAction, ri *reqInfo) {
	g, stuck := a.pick(r, rand.Uint64())
	if g == nil {
		ri.status, ri.errReason = http.StatusServiceUnavailable, "NoTargetGroup"
		p.errorResponse(w, ri.status)
		return
	}
	ri.group = g
	if n := xffCount(r.Header); n > maxXFFAddresses {
		ri.status, ri.errReason = 463, "TooManyForwardedFor"
		p.errorResponse(w, ri.status)
		return
	}
	p.active.Add(1)
	defer p.active.Add(-1)

	out := new(http.Request)
	*out = *r
	u := *r.URL
	out.URL = &u
	u.Scheme = "http"
	if g.TLS {
		u.Scheme = "https"
	}
	out.RequestURI = ""
	out.Close = false
	out.Header = r.Header // rewritten in place: the handler owns it
	p.prepareHeaders(out, ri)
	var body *countingBody
	var replay []byte // a buffered body, sent again on a retry
	hasBody := r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
	switch {
	case hasBody && idempotent(r.Method) && r.ContentLength > 0 && r.ContentLength <= p.bodyBuffer():
		replay = make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, replay); err != nil {
			ri.status, ri.errReason = http.StatusBadRequest, "RequestBodyError"
			p.errorResponse(w, ri.status)
			return
		}
	case hasBody:
		body = &countingBody{r: r.Body}
		out.Body = body
	default:
		out.Body = nil
	}
	canRetryAfterSend := idempotent(r.Method) && body == nil

	attempts := p.Retry.Attempts
	if attempts == 0 {
		attempts = 3
	}
	var avoid string
	var retryHeld bool
	defer func() {
		if retryHeld {
			p.retrying.Add(-1)
		}
	}()
	for {
		ri.attempts++
		lease, err := p.pickTarget(g, r, avoid)
		if err != nil {
			ri.status, ri.errReason = http.StatusServiceUnavailable, "NoHealthyTargets"
			p.errorResponse(w, ri.status)
			return
		}
		ri.target = lease.Addr()
		u.Host = ri.target
		if replay != nil {
			out.Body = io.NopCloser(bytes.NewReader(replay))
		}
		t0 := time.Now()
		res, err := p.transportFor(g).RoundTrip(out)
		elapsed := time.Since(t0)
		if err == nil {
			ri.targetTime = elapsed
			g.Report(ri.target, healthcheck.Result{Status: res.StatusCode})
			if g.OnResult != nil {
				g.OnResult(ri.target, res.StatusCode, nil, elapsed)
			}
			p.respond(w, r, res, g, stuck, a, ri, lease)
			lease.Done(nil)
			return
		}
		if r.Context().Err() == nil {
			g.Report(ri.target, healthcheck.Result{Err: err})
			if g.OnResult != nil {
				g.OnResult(ri.target, 0, err, elapsed)
			}
		}
		lease.Done(err)
		if r.Context().Err() != nil {
			// The client went away: ALB logs 460 and sends nothing.
			ri.status, ri.errReason = 460, "ClientClosed"
			return
		}
		ri.status, ri.errReason = classify(err)
		var de dialError
		retryable := errors.As(err, &de) && (body == nil || body.n.Load() == 0)
		retryable = retryable || (canRetryAfterSend && ri.status == http.StatusBadGateway)
		if !retryable || ri.attempts >= attempts || (!retryHeld && !p.allowRetry()) {
			p.logger().Debug("target request failed", "target", ri.target, "err", err, "attempts", ri.attempts)
			p.errorResponse(w, ri.status)
			return
		}
		retryHeld = true
		avoid = ri.target
		if p.Metrics != nil {
			p.Metrics.retry(g)
		}
	}
}

func (p *HTTPProxy) pickTarget(g *HTTPTargetGroup, r *http.Request, avoid string) (Lease, error) {
	if g.Stickiness.Type != StickinessNone && avoid == "" {
		if addr := g.stickyTarget(r); addr != "" {
			if l, ok := g.Acquire(addr); ok {
				return l, nil
			}
		}
	}
	return g.Pick(PickInfo{Avoid: avoid})
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (p *HTTPProxy) respond(w http.ResponseWriter, r *http.Request, res *http.Response, g *HTTPTargetGroup, stuck bool, a *ForwardAction, ri *reqInfo, lease Lease) {
	ri.targetStatus = res.StatusCode
	ri.status = res.StatusCode
	if res.StatusCode == http.StatusSwitchingProtocols {
		p.upgrade(w, r, res, ri, lease)
		return
	}
	defer res.Body.Close()
	removeHopHeaders(res.Header)
	dst := w.Header()
	if hw, ok := w.(*h1ResponseWriter); ok && len(dst) == 0 && !hw.wroteHeader {
		// lbkit's own writer takes the response's header map as its own
		// instead of a copy field by field (the response is ours, and
		// the writer clears the map before its next request).
		hw.header = res.Header
		dst = res.Header
	} else {
		for k, vv := range res.Header {
			dst[k] = vv
		}
	}
	if g.Stickiness.Type != StickinessNone {
		g.setStickyCookies(dst, ri.target, res)
	}
	if a.Stickiness > 0 && !stuck {
		dst.Add("Set-Cookie", (&http.Cookie{Name: cookieGroupStickiness, Value: g.Name(), Path: "/", Expires: time.Now().Add(a.Stickiness).UTC()}).String())
	}
	if len(res.Trailer) > 0 {
		keys := make([]string, 0, len(res.Trailer))
		for k := range res.Trailer {
			keys = append(keys, k)
		}
		dst["Trailer"] = []string{strings.Join(keys, ", ")}
	}
	w.WriteHeader(res.StatusCode)
	streaming := res.ContentLength == -1
	n, err := copyBody(w, res.Body, streaming)
	ri.sent = n
	if err != nil {
		ri.errReason = "TargetBodyError"
		if r.Context().Err() == nil {
			p.logger().Debug("copying response body failed", "target", ri.target, "err", err)
		}
		// Headers are out: the only way to tell the client is to abort.
		panic(http.ErrAbortHandler)
	}
	for k, vv := range res.Trailer {
		dst[http.TrailerPrefix+k] = vv
	}
}

// copyBody copies the target's response to the client, flushing after each
// read when the response is streamed (no Content-Length: SSE, gRPC).
func copyBody(w http.ResponseWriter, src io.Reader, streaming bool) (int64, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	var total int64
	var rc *http.ResponseController
	if streaming {
		rc = http.NewResponseController(w)
	}
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
			if streaming {
				_ = rc.Flush()
			}
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// upgrade splices a 101 Switching Protocols exchange (WebSocket and other
// Upgrade protocols) between client and target.
func (p *HTTPProxy) upgrade(w http.ResponseWriter, r *http.Request, res *http.Response, ri *reqInfo, lease Lease) {
	backConn, ok := res.Body.(io.ReadWriteCloser)
	if !ok {
		ri.status, ri.errReason = http.StatusBadGateway, "UpgradeUnsupported"
		p.errorResponse(w, ri.status)
		return
	}
	defer backConn.Close()
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		ri.status, ri.errReason = http.StatusInternalServerError, "HijackFailed"
		p.errorResponse(w, ri.status)
		return
	}
	defer conn.Close()
	upType := upgradeType(res.Header)
	removeHopHeaders(res.Header)
	res.Header["Connection"] = []string{"Upgrade"}
	res.Header["Upgrade"] = []string{upType}
	res.Body = nil
	if err := res.Write(brw); err != nil {
		return
	}
	if err := brw.Flush(); err != nil {
		return
	}
	// Bytes the client sent after its request are already buffered.
	errc := make(chan error, 2)
	go spliceHalf(backConn, brw.Reader, errc)
	go spliceHalf(conn, backConn, errc)
	// The lease lasts as long as the upgraded connection: a draining
	// target keeps it until it ends or the deregistration delay expires.
	pending := 2
	select {
	case <-errc:
		pending--
	case <-lease.Expired():
	}
	// One side ended: close both so the other copy returns, then wait.
	conn.Close()
	backConn.Close()
	for ; pending > 0; pending-- {
		<-errc
	}
}

// spliceHalf copies one direction of an upgraded connection.
func spliceHalf(dst io.Writer, src io.Reader, errc chan<- error) {
	_, err := io.Copy(dst, src)
	errc <- err
}
