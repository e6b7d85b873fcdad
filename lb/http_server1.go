package lb

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// h1Server serves plain HTTP/1.x connections on the request's own
// goroutine, one per connection, as net/http does, but without what a proxy
// does not need and pays for on every request: a background read per
// request to notice clients going away, a context per request, and header
// copies. Requests are parsed with http.ReadRequest (the same parser as
// net/http); HTTPListener keeps net/http for TLS and HTTP/2.
//
// What it does not do that net/http does: it notices a client that goes
// away only when writing the response (the request context ends when the
// connection closes), and it does not add a Date header to responses the
// proxy generates itself.
type h1Server struct {
	handler        http.Handler
	headerTimeout  time.Duration
	idleTimeout    time.Duration
	bodyTimeout    time.Duration
	maxHeaderBytes int
	log            *slog.Logger
	metrics        *HTTPMetrics
	connContext    func(context.Context, net.Conn) context.Context

	mu       sync.Mutex
	conns    map[*h1ServerConn]struct{}
	shutting atomic.Bool
	wg       sync.WaitGroup
}

type h1ServerConn struct {
	c        net.Conn
	idle     atomic.Bool
	limit    limitedConn
	br       *bufio.Reader
	bw       *bufio.Writer
	deadline time.Time // the read deadline last set
}

var crlfcrlf = []byte("\r\n\r\n")

func (sc *h1ServerConn) setDeadline(t time.Time) {
	sc.deadline = t
	sc.c.SetReadDeadline(t)
}

// lazyDeadline makes the read deadline between 7/8 of d and d from now,
// moving it only when it is outside that window: a busy connection pays for
// one timer update per d/8 instead of one per request.
func (sc *h1ServerConn) lazyDeadline(d time.Duration) {
	now := time.Now()
	left := sc.deadline.Sub(now)
	if sc.deadline.IsZero() || left < d-d/8 || left > d {
		sc.setDeadline(now.Add(d))
	}
}

// limitedConn caps how much the header parser may read (MaxHeaderBytes).
type limitedConn struct {
	net.Conn
	left int64 // < 0: unlimited
}

func (l *limitedConn) Read(p []byte) (int, error) {
	if l.left == 0 {
		return 0, errHeaderTooLarge
	}
	if l.left > 0 && int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.Conn.Read(p)
	if l.left > 0 {
		l.left -= int64(n)
	}
	return n, err
}

var errHeaderTooLarge = errors.New("lb: request header too large")

// serve accepts until ln fails or ctx ends, then shuts down gracefully
// within grace.
func (s *h1Server) serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	s.conns = map[*h1ServerConn]struct{}{}
	baseCtx, cancelAll := context.WithCancel(context.Background())
	defer cancelAll()
	acceptErr := make(chan error, 1)
	go func() {
		var backoff time.Duration
		for {
			c, err := ln.Accept()
			if err != nil {
				// Out of file descriptors and the like pass: back off as
				// net/http does instead of spinning or giving up.
				if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ECONNABORTED) {
					backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
					s.log.Warn("accept failed; retrying", "err", err, "in", backoff)
					select {
					case <-time.After(backoff):
						continue
					case <-ctx.Done():
					}
				}
				acceptErr <- err
				return
			}
			backoff = 0
			sc := &h1ServerConn{c: c}
			s.mu.Lock()
			if s.shutting.Load() {
				s.mu.Unlock()
				c.Close()
				continue
			}
			s.conns[sc] = struct{}{}
			s.wg.Add(1)
			s.mu.Unlock()
			go s.serveConn(baseCtx, sc)
		}
	}()
	var err error
	select {
	case err = <-acceptErr:
	case <-ctx.Done():
	}
	ln.Close()
	if err == nil {
		<-acceptErr // the accept loop has stopped
	}
	// Graceful: idle connections close now, busy ones after their
	// current response.
	s.mu.Lock()
	s.shutting.Store(true)
	for sc := range s.conns {
		if sc.idle.Load() {
			sc.c.SetReadDeadline(aLongTimeAgo)
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		s.mu.Lock()
		for sc := range s.conns {
			sc.c.Close()
		}
		s.mu.Unlock()
		cancelAll()
		<-done
		if err == nil {
			err = context.DeadlineExceeded
		}
	}
	if err != nil && ctx.Err() != nil && errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

var h1BufPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
var h1WBufPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}

func (s *h1Server) serveConn(base context.Context, sc *h1ServerConn) {
	defer s.wg.Done()
	if s.metrics != nil {
		s.metrics.connState(http.StateNew)
	}
	hijacked := false
	defer func() {
		if !hijacked {
			sc.c.Close()
		}
		s.mu.Lock()
		delete(s.conns, sc)
		s.mu.Unlock()
		if s.metrics != nil {
			s.metrics.connState(http.StateClosed)
		}
	}()
	ctx, cancel := context.WithCancel(base)
	defer cancel()
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, sc.c.LocalAddr())
	if s.connContext != nil {
		ctx = s.connContext(ctx, sc.c)
	}
	sc.limit = limitedConn{Conn: sc.c, left: -1}
	sc.br = h1BufPool.Get().(*bufio.Reader)
	sc.br.Reset(&sc.limit)
	sc.bw = h1WBufPool.Get().(*bufio.Writer)
	sc.bw.Reset(sc.c)
	defer func() {
		if !hijacked {
			sc.br.Reset(nil)
			h1BufPool.Put(sc.br)
			sc.bw.Reset(nil)
			h1WBufPool.Put(sc.bw)
		}
	}()
	remote := sc.c.RemoteAddr().String()
	w := &h1ResponseWriter{sc: sc, header: make(http.Header, 8)}
	// Requests parsed by the fast path are copies of tmpl, which carries
	// the connection's context (one allocation per request, not two).
	tmpl := (&http.Request{RemoteAddr: remote}).WithContext(ctx)
	for {
		// Wait for the next request with the idle timeout, then give its
		// headers the header timeout from their first byte.
		// Deadlines cost a runtime timer update each, so they are set only
		// when needed: the idle deadline lazily (see lazyDeadline), the
		// header deadline only when the request head is not already
		// buffered in full, which is the common case.
		if sc.br.Buffered() == 0 {
			sc.lazyDeadline(s.idleTimeout)
			sc.idle.Store(true)
			if s.shutting.Load() {
				return
			}
			if _, err := sc.br.Peek(1); err != nil {
				return
			}
			sc.idle.Store(false)
		}
		buf, _ := sc.br.Peek(sc.br.Buffered())
		complete := bytes.Contains(buf, crlfcrlf)
		if !complete {
			sc.setDeadline(time.Now().Add(s.headerTimeout))
		}
		var req *http.Request
		fast := false
		if complete {
			req, fast = readRequestFast(sc.br, tmpl, s.maxHeaderBytes+4096)
		}
		if !fast {
			sc.limit.left = int64(s.maxHeaderBytes) + 4096 - int64(sc.br.Buffered())
			r, err := http.ReadRequest(sc.br)
			sc.limit.left = -1
			if err != nil {
				s.badRequest(sc, err)
				return
			}
			if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
				if s.bodyTimeout > 0 {
					sc.setDeadline(time.Now().Add(s.bodyTimeout))
				} else {
					sc.setDeadline(time.Time{})
				}
			}
			r.RemoteAddr = remote
			req = r.WithContext(ctx)
		}
		if req.ProtoMajor != 1 || (req.ProtoMinor == 1 && req.Host == "" && len(req.Header["Host"]) == 0) {
			s.writeError(sc, "400 Bad Request")
			return
		}
		if expectContinue(req) {
			sc.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			sc.bw.Flush()
		}
		w.reset(req)
		if !s.serveOne(w, req) {
			hijacked = w.hijacked
			return
		}
		if w.closeAfter || s.shutting.Load() {
			return
		}
		// Keep-alive needs the request body consumed; give up on big ones.
		if req.Body != nil && req.Body != http.NoBody {
			if n, _ := io.CopyN(io.Discard, req.Body, 256<<10); n == 256<<10 {
				return
			}
		}
	}
}

func expectContinue(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Expect"), "100-continue") && r.ProtoAtLeast(1, 1)
}

// serveOne runs the handler and finishes the response; false means the
// connection must not be reused.
func (s *h1Server) serveOne(w *h1ResponseWriter, req *http.Request) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				s.log.Error("panic serving request", "remote", req.RemoteAddr, "panic", v)
			}
			ok = false
		}
	}()
	s.handler.ServeHTTP(w, req)
	if w.hijacked {
		return false
	}
	return w.finish() == nil
}

func (s *h1Server) badRequest(sc *h1ServerConn, err error) {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		return
	case errors.As(err, &ne) && ne.Timeout():
		if s.metrics != nil {
			s.metrics.reject("HeaderTimeout")
		}
		return // slow or idle client: cut off without an answer, as net/http does
	case errors.Is(err, errHeaderTooLarge):
		s.writeError(sc, "431 Request Header Fields Too Large")
	default:
		if strings.Contains(err.Error(), "unsupported transfer encoding") {
			s.writeError(sc, "501 Not Implemented")
			return
		}
		s.writeError(sc, "400 Bad Request")
	}
}

func (s *h1Server) writeError(sc *h1ServerConn, status string) {
	sc.c.SetWriteDeadline(time.Now().Add(time.Second))
	body := status + "\n"
	io.WriteString(sc.c, "HTTP/1.1 "+status+"\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
}

// h1ResponseWriter writes one response at a time on a connection.
type h1ResponseWriter struct {
	sc     *h1ServerConn
	req    *http.Request
	header http.Header

	status      int
	wroteHeader bool
	chunked     bool
	noBody      bool  // HEAD, 1xx, 204, 304
	remaining   int64 // declared Content-Length left, -1 if none
	closeAfter  bool
	hijacked    bool
	err         error
}

var (
	_ http.ResponseWriter = (*h1ResponseWriter)(nil)
	_ http.Flusher        = (*h1ResponseWriter)(nil)
	_ http.Hijacker       = (*h1ResponseWriter)(nil)
)

func (w *h1ResponseWriter) reset(req *http.Request) {
	clear(w.header)
	w.req = req
	w.status, w.wroteHeader, w.chunked, w.noBody = 0, false, false, false
	w.remaining, w.closeAfter, w.hijacked, w.err = -1, req.Close || req.ProtoMinor == 0, false, nil
}

func (w *h1ResponseWriter) Header() http.Header { return w.header }

func (w *h1ResponseWriter) WriteHeader(code int) {
	if w.wroteHeader || w.hijacked {
		return
	}
	if code < 100 || code > 999 {
		panic("lb: invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		// Informational: write it, the final response follows.
		w.writeStatusLine(code)
		w.writeHeaderFields(false)
		w.sc.bw.WriteString("\r\n")
		return
	}
	w.wroteHeader = true
	w.status = code
	bw := w.sc.bw
	h := w.header
	w.noBody = w.req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified
	if v := h.Get("Connection"); v != "" && strings.EqualFold(strings.TrimSpace(v), "close") {
		w.closeAfter = true
	}
	w.writeStatusLine(code)
	if cl := h["Content-Length"]; len(cl) > 0 {
		if n, err := strconv.ParseInt(cl[0], 10, 64); err == nil && n >= 0 {
			w.remaining = n
		}
	}
	if w.remaining < 0 && !w.noBody {
		if w.req.ProtoMinor >= 1 {
			w.chunked = true
		} else {
			w.closeAfter = true // HTTP/1.0: the body ends with the connection
		}
	}
	w.writeHeaderFields(true)
	if w.chunked {
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	if w.closeAfter {
		bw.WriteString("Connection: close\r\n")
	} else if w.req.ProtoMinor == 0 {
		bw.WriteString("Connection: keep-alive\r\n")
	}
	bw.WriteString("\r\n")
}

// statusLines holds the status lines of the codes net/http knows, built
// once instead of formatted per response.
var statusLines = func() (lines [600]string) {
	for code := 100; code < len(lines); code++ {
		if text := http.StatusText(code); text != "" {
			lines[code] = "HTTP/1.1 " + strconv.Itoa(code) + " " + text + "\r\n"
		}
	}
	return lines
}()

func (w *h1ResponseWriter) writeStatusLine(code int) {
	bw := w.sc.bw
	if code < len(statusLines) && statusLines[code] != "" {
		bw.WriteString(statusLines[code])
		return
	}
	bw.WriteString("HTTP/1.1 ")
	bw.WriteString(strconv.Itoa(code))
	bw.WriteByte(' ')
	text := http.StatusText(code)
	if text == "" {
		text = "status code " + strconv.Itoa(code)
	}
	bw.WriteString(text)
	bw.WriteString("\r\n")
}

// writeHeaderFields writes the handler's fields, skipping framing ones the
// writer sets itself and trailer placeholders.
func (w *h1ResponseWriter) writeHeaderFields(final bool) {
	bw := w.sc.bw
	for k, vv := range w.header {
		if k == "Transfer-Encoding" || k == "Connection" || strings.HasPrefix(k, http.TrailerPrefix) {
			continue
		}
		if k == "Trailer" && (!final || !w.chunked) {
			continue
		}
		for _, v := range vv {
			if !validHeaderValue(v) {
				continue
			}
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
}

func (w *h1ResponseWriter) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if !w.wroteHeader {
		if w.header.Get("Content-Type") == "" && len(p) > 0 {
			w.header.Set("Content-Type", http.DetectContentType(p))
		}
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.noBody || len(p) == 0 {
		return len(p), nil
	}
	if w.remaining >= 0 {
		if int64(len(p)) > w.remaining {
			return 0, http.ErrContentLength
		}
		w.remaining -= int64(len(p))
	}
	bw := w.sc.bw
	if w.chunked {
		bw.WriteString(strconv.FormatInt(int64(len(p)), 16))
		bw.WriteString("\r\n")
	}
	n, err := bw.Write(p)
	if w.chunked && err == nil {
		_, err = bw.WriteString("\r\n")
	}
	if err != nil {
		w.err = err
	}
	return n, err
}

// Flush sends what is buffered (streaming responses).
func (w *h1ResponseWriter) Flush() {
	if w.hijacked {
		return
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if err := w.sc.bw.Flush(); err != nil && w.err == nil {
		w.err = err
	}
}

// Hijack hands the connection over (WebSocket and other Upgrades).
func (w *h1ResponseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	if w.wroteHeader {
		if err := w.sc.bw.Flush(); err != nil {
			return nil, nil, err
		}
	}
	w.hijacked = true
	w.sc.c.SetDeadline(time.Time{})
	return w.sc.c, bufio.NewReadWriter(w.sc.br, w.sc.bw), nil
}

// finish completes the response: status if none, last chunk and trailers,
// flush.
func (w *h1ResponseWriter) finish() error {
	if !w.wroteHeader {
		if _, ok := w.header["Content-Length"]; !ok {
			w.header["Content-Length"] = []string{"0"}
		}
		w.WriteHeader(http.StatusOK)
	}
	bw := w.sc.bw
	if w.chunked {
		bw.WriteString("0\r\n")
		for k, vv := range w.header {
			name, isTrailer := strings.CutPrefix(k, http.TrailerPrefix)
			if !isTrailer {
				continue
			}
			for _, v := range vv {
				if validHeaderValue(v) {
					bw.WriteString(name)
					bw.WriteString(": ")
					bw.WriteString(v)
					bw.WriteString("\r\n")
				}
			}
		}
		bw.WriteString("\r\n")
	}
	if w.remaining > 0 && !w.noBody {
		w.closeAfter = true // short body: the client cannot reuse the connection
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return w.err
}
