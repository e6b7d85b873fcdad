package lb

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// h1Transport is the proxy's HTTP/1.1 client to plain-HTTP targets. It
// does what http.Transport does for a proxy's common case — keep-alive
// pools per target, request and response framing — on the request's own
// goroutine: no read and write loops per connection and no channel
// handoffs per request, which is where http.Transport spends a third of a
// proxy's CPU. Requests it does not handle (Upgrade, Expect:
// 100-continue, non-http schemes) go to fallback.
type h1Transport struct {
	dial           func(ctx context.Context, network, addr string) (net.Conn, error)
	headerTimeout  time.Duration
	idleTimeout    time.Duration
	maxIdlePerHost int
	fallback       http.RoundTripper

	mu   sync.Mutex
	idle map[string][]*h1Conn // LIFO per target
}

type h1Conn struct {
	conn     net.Conn
	br       *bufio.Reader
	bw       *bufio.Writer
	addr     string
	lastUsed time.Time
	reused   bool
	deadline time.Time // read deadline currently set (zero: none)
	abort    func()    // unblocks I/O on conn; made once, not per request
}

// refreshDeadline keeps a read deadline of headerTimeout ahead of now on c,
// with slack: it is moved only when less than 7/8 of it is left. A read
// that gets nothing for between 7/8 and all of headerTimeout fails (the
// proxy answers 504, or aborts a stalled body, as ALB's idle timeout
// does), while busy connections pay for one SetReadDeadline per
// headerTimeout/8 of wall time instead of two per request.
func (t *h1Transport) refreshDeadline(c *h1Conn) {
	if t.headerTimeout <= 0 {
		return
	}
	now := time.Now()
	if c.deadline.Sub(now) < t.headerTimeout-t.headerTimeout/8 {
		c.deadline = now.Add(t.headerTimeout)
		c.conn.SetReadDeadline(c.deadline)
	}
}

var _ http.RoundTripper = (*h1Transport)(nil)

// errStaleConn marks a failure on a reused idle connection before any
// response byte arrived: the target closed it while idle, and the request
// may be sent again on a fresh connection.
var errStaleConn = errors.New("lb: idle connection closed by target")

func (t *h1Transport) getConn(ctx context.Context, addr string) (*h1Conn, error) {
	now := time.Now()
	t.mu.Lock()
	for {
		list := t.idle[addr]
		if len(list) == 0 {
			break
		}
		c := list[len(list)-1]
		list[len(list)-1] = nil
		t.idle[addr] = list[:len(list)-1]
		if now.Sub(c.lastUsed) > t.idleTimeout {
			t.mu.Unlock()
			c.conn.Close()
			t.mu.Lock()
			continue
		}
		t.mu.Unlock()
		c.reused = true
		return c, nil
	}
	t.mu.Unlock()
	nc, err := t.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &h1Conn{conn: nc, br: bufio.NewReaderSize(nc, 4096), bw: bufio.NewWriterSize(nc, 4096), addr: addr}
	c.abort = func() { nc.SetDeadline(aLongTimeAgo) }
	return c, nil
}

func (t *h1Transport) putConn(c *h1Conn) {
	c.lastUsed = time.Now()
	t.mu.Lock()
	if len(t.idle[c.addr]) < t.maxIdlePerHost {
		if t.idle == nil {
			t.idle = map[string][]*h1Conn{}
		}
		t.idle[c.addr] = append(t.idle[c.addr], c)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	c.conn.Close()
}

// CloseIdleConnections closes every pooled connection.
func (t *h1Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, list := range idle {
		for _, c := range list {
			c.conn.Close()
		}
	}
	if c, ok := t.fallback.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (t *h1Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" || req.Header["Upgrade"] != nil || req.Header["Expect"] != nil || req.Method == http.MethodConnect {
		return t.fallback.RoundTrip(req)
	}
	for attempt := 0; ; attempt++ {
		res, err := t.roundTrip(req)
		// A reused connection that the target had closed: send again on a
		// fresh one if nothing of the body can have been consumed.
		if errors.Is(err, errStaleConn) && attempt == 0 && (req.Body == nil || req.Body == http.NoBody) {
			continue
		}
		return res, err
	}
}

func (t *h1Transport) roundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	c, err := t.getConn(ctx, req.URL.Host)
	if err != nil {
		return nil, err
	}
	// The client may go away or the request be cancelled: unblock any I/O.
	stop := context.AfterFunc(ctx, c.abort)
	fail := func(err error) (*http.Response, error) {
		stop()
		c.conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if err := writeRequest(c.bw, req); err != nil {
		if c.reused {
			return fail(fmt.Errorf("%w: %w", errStaleConn, err))
		}
		return fail(err)
	}
	t.refreshDeadline(c)
	var res *http.Response
	for {
		if fillHead(c.br) {
			var fast bool
			if res, fast = readResponseFast(c.br, req); fast {
				b := &h1Body{c: c, t: t, stop: stop, reuse: !req.Close}
				b.fixed = fixedBody{br: c.br, left: res.ContentLength}
				b.rc = &b.fixed
				res.Body = b
				return res, nil
			}
		}
		res, err = http.ReadResponse(c.br, req)
		if err != nil {
			if c.reused && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) && c.br.Buffered() == 0 {
				return fail(fmt.Errorf("%w: %w", errStaleConn, err))
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
				return fail(timeoutError{"lb: timeout awaiting response headers"})
			}
			return fail(err)
		}
		// 1xx informational responses other than 101 are skipped.
		if res.StatusCode >= 100 && res.StatusCode < 200 && res.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		break
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		c.conn.SetReadDeadline(time.Time{})
		// Not expected (Upgrade goes to fallback); do not pool.
		stop()
		res.Body = struct {
			io.Reader
			io.Writer
			io.Closer
		}{io.MultiReader(c.br, c.conn), c.conn, c.conn}
		return res, nil
	}
	reuse := !res.Close && !req.Close
	res.Body = &h1Body{rc: res.Body, c: c, t: t, stop: stop, reuse: reuse}
	return res, nil
}

// fillHead reads until a whole response head is buffered, the buffer is
// full or reading fails; it reports whether a head is there. Failures are
// left to http.ReadResponse, which meets them again and reports them.
func fillHead(br *bufio.Reader) bool {
	for {
		buf, _ := br.Peek(br.Buffered())
		if bytes.Contains(buf, crlfcrlf) {
			return true
		}
		if len(buf) == br.Size() {
			return false
		}
		if _, err := br.Peek(len(buf) + 1); err != nil {
			return false
		}
	}
}

// aLongTimeAgo is a deadline in the past: I/O fails at once.
var aLongTimeAgo = time.Unix(1, 0)

type timeoutError struct{ msg string }

func (e timeoutError) Error() string   { return e.msg }
func (e timeoutError) Timeout() bool   { return true }
func (e timeoutError) Temporary() bool { return true }

// h1Body returns its connection to the pool once the body is read to the
// end, and closes it otherwise.
type h1Body struct {
	rc    io.ReadCloser
	fixed fixedBody // rc for responses parsed by readResponseFast
	c     *h1Conn
	t     *h1Transport
	stop  func() bool
	reuse bool
	done  bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	if b.t.headerTimeout > 0 && len(p) > 0 {
		b.t.refreshDeadline(b.c)
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.finish(true)
	} else if err != nil {
		b.finish(false)
	}
	return n, err
}

func (b *h1Body) finish(complete bool) {
	if b.done {
		return
	}
	b.done = true
	notFired := b.stop()
	if complete && b.reuse && notFired {
		b.t.putConn(b.c)
		return
	}
	b.c.conn.Close()
}

func (b *h1Body) Close() error {
	if !b.done {
		b.finish(false)
	}
	return nil
}

// writeRequest writes req as an HTTP/1.1 request: request line, Host,
// headers as they are (the proxy already removed hop-by-hop ones), framing
// and body.
func writeRequest(w *bufio.Writer, req *http.Request) error {
	w.WriteString(req.Method)
	w.WriteByte(' ')
	uri := req.URL.RequestURI()
	w.WriteString(uri)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	w.WriteString(host)
	w.WriteString("\r\n")
	for k, vv := range req.Header {
		if k == "Host" || k == "Content-Length" || k == "Transfer-Encoding" {
			continue
		}
		for _, v := range vv {
			if !validHeaderValue(v) {
				return fmt.Errorf("lb: invalid header value for %q", k)
			}
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString("\r\n")
		}
	}
	hasBody := req.Body != nil && req.Body != http.NoBody
	chunked := false
	switch {
	case hasBody && req.ContentLength > 0:
		w.WriteString("Content-Length: ")
		w.WriteString(strconv.FormatInt(req.ContentLength, 10))
		w.WriteString("\r\n")
	case hasBody && req.ContentLength < 0:
		w.WriteString("Transfer-Encoding: chunked\r\n")
		chunked = true
	case req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch:
		w.WriteString("Content-Length: 0\r\n")
	}
	if req.Close {
		w.WriteString("Connection: close\r\n")
	}
	if _, err := w.WriteString("\r\n"); err != nil {
		return err
	}
	if hasBody {
		if chunked {
			cw := &chunkedWriter{w: w}
			if _, err := io.Copy(cw, req.Body); err != nil {
				return err
			}
			w.WriteString("0\r\n\r\n")
		} else if n, err := io.CopyN(w, req.Body, req.ContentLength); err != nil {
			return fmt.Errorf("lb: request body: %d of %d bytes: %w", n, req.ContentLength, err)
		}
	}
	return w.Flush()
}

type chunkedWriter struct{ w *bufio.Writer }

func (c *chunkedWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.w.WriteString(strconv.FormatInt(int64(len(p)), 16))
	c.w.WriteString("\r\n")
	c.w.Write(p)
	_, err := c.w.WriteString("\r\n")
	if err != nil {
		return 0, err
	}
	// Streamed bodies (gRPC-web, uploads) must not wait in the buffer.
	return len(p), c.w.Flush()
}

// validHeaderValue rejects CR and LF, which would split the request.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] == '\r' || v[i] == '\n' {
			return false
		}
	}
	return true
}
