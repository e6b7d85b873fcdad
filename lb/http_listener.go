package lb

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// HTTP listener defaults, from ALB where ALB has one.
const (
	// DefaultIdleTimeout is ALB's idle_timeout.timeout_seconds.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultClientKeepAlive is ALB's client_keep_alive.seconds: a client
	// connection is closed after its first response past this age.
	DefaultClientKeepAlive = 3600 * time.Second
	// DefaultHeaderTimeout cuts off clients that send request headers too
	// slowly (slowloris).
	DefaultHeaderTimeout = 20 * time.Second
	// DefaultMaxHeaderBytes is ALB's limit on a request's headers (64 KiB).
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultShutdownTimeout bounds the wait for in-flight requests when
	// the listener's context ends.
	DefaultShutdownTimeout = 30 * time.Second
)

// HTTPListener serves an http.Handler (usually an [HTTPProxy]) the way an
// ALB listener does: HTTP/1.1, HTTPS with certificates chosen by SNI, HTTP/2
// (h2 over TLS, h2c on plain listeners when enabled), ALB's timeouts, the
// rejection of requests with ambiguous framing, and a graceful shutdown.
//
// Set its fields, then call ListenAndServe or Serve once.
type HTTPListener struct {
	// Addr is the address to listen on (ListenAndServe). Empty means ":http"
	// or ":https".
	Addr string
	// Handler serves requests. Nil answers 503.
	Handler http.Handler
	// Certificates, if any, make this an HTTPS listener. The certificate
	// is chosen by SNI among them (the first is the default), as ALB does
	// with a listener's certificate list.
	Certificates []tls.Certificate
	// TLSConfig, if set, is the TLS configuration (its Certificates or
	// GetCertificate choose by SNI); Certificates are added to it. Nil with
	// Certificates means TLS 1.2+ with Go's default cipher suites (close to
	// ALB's ELBSecurityPolicy-TLS13-1-2-2021-06).
	TLSConfig *tls.Config
	// DisableHTTP2 turns HTTP/2 off (ALB's routing.http2.enabled=false).
	DisableHTTP2 bool
	// H2C accepts HTTP/2 without TLS (prior knowledge) on plain listeners,
	// so gRPC clients can connect in cleartext.
	H2C bool
	// IdleTimeout closes idle client connections. Zero means
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// ClientKeepAlive closes a client connection after its first response
	// past this age. Zero means DefaultClientKeepAlive; negative disables.
	ClientKeepAlive time.Duration
	// HeaderTimeout bounds the time to read request headers. Zero means
	// DefaultHeaderTimeout.
	HeaderTimeout time.Duration
	// BodyTimeout bounds the time to read a request (headers and body).
	// Zero means no limit beyond IdleTimeout between reads.
	BodyTimeout time.Duration
	// MaxHeaderBytes caps request headers. Zero means DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// AllowAmbiguousFraming disables the rejection (400) of HTTP/1
	// requests with both Content-Length and Transfer-Encoding, which ALB's
	// desync mitigation classifies as ambiguous. Go would otherwise honour
	// Transfer-Encoding and drop Content-Length.
	AllowAmbiguousFraming bool
	// ShutdownTimeout bounds the graceful shutdown when ctx ends. Zero
	// means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// StdServer serves plain HTTP/1.1 with net/http's server instead of
	// lbkit's leaner one (TLS and HTTP/2 always use net/http). lbkit's
	// server needs about a third less CPU per proxied request; unlike
	// net/http's, it notices a client that went away only when writing
	// the response, so a request's context does not end before.
	StdServer bool
	// WrapListener, if set, wraps the raw TCP listener before TLS: the
	// place for a PROXY protocol listener (package proxyproto) or
	// connection limits.
	WrapListener func(net.Listener) net.Listener
	// Metrics, if set, counts connections and rejected requests.
	Metrics *HTTPMetrics
	// ErrorLog receives server errors. Nil means slog.Default().
	ErrorLog *slog.Logger

	mu   sync.Mutex
	addr net.Addr
	up   chan struct{}
}

// Ready returns a channel closed once the listener is bound; Addr then
// returns the bound address.
func (l *HTTPListener) Ready() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.up == nil {
		l.up = make(chan struct{})
	}
	return l.up
}

// BoundAddr returns the address the listener is bound to, or nil before.
func (l *HTTPListener) BoundAddr() net.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addr
}

// ListenAndServe binds Addr and serves until ctx ends, then shuts down
// gracefully: it stops accepting, lets in-flight requests finish (up to
// ShutdownTimeout) and returns nil. Errors binding or serving are returned.
func (l *HTTPListener) ListenAndServe(ctx context.Context) error {
	addr := l.Addr
	if addr == "" {
		addr = ":http"
		if l.isTLS() {
			addr = ":https"
		}
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("lb: listen %s: %w", addr, err)
	}
	return l.Serve(ctx, ln)
}

func (l *HTTPListener) isTLS() bool {
	return len(l.Certificates) > 0 || (l.TLSConfig != nil && (len(l.TLSConfig.Certificates) > 0 || l.TLSConfig.GetCertificate != nil || l.TLSConfig.GetConfigForClient != nil))
}

type connCtxKey struct{}

// connInfo is per-connection state the handler wrapper reads.
type connInfo struct {
	start  time.Time
	framer *framingConn // nil when not sniffing (TLS, h2)
}

// Serve serves on ln (which it closes) until ctx ends; see ListenAndServe.
func (l *HTTPListener) Serve(ctx context.Context, ln net.Listener) error {
	if l.WrapListener != nil {
		ln = l.WrapListener(ln)
	}
	tlsOn := l.isTLS()
	if !tlsOn && !l.AllowAmbiguousFraming {
		ln = &framingListener{Listener: ln}
	}
	log := l.ErrorLog
	if log == nil {
		log = slog.Default()
	}
	srv := &http.Server{
		Handler:           l.wrap(l.Handler),
		ReadHeaderTimeout: durOr(l.HeaderTimeout, DefaultHeaderTimeout),
		ReadTimeout:       l.BodyTimeout,
		IdleTimeout:       durOr(l.IdleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		Protocols:         new(http.Protocols),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			ci := &connInfo{start: time.Now()}
			if fc, ok := c.(*framingConn); ok {
				ci.framer = fc
			}
			return context.WithValue(ctx, connCtxKey{}, ci)
		},
	}
	if srv.MaxHeaderBytes == 0 {
		srv.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	srv.Protocols.SetHTTP1(true)
	if !l.DisableHTTP2 {
		if tlsOn {
			srv.Protocols.SetHTTP2(true)
		} else if l.H2C {
			srv.Protocols.SetUnencryptedHTTP2(true)
		}
	}
	if l.Metrics != nil {
		m := l.Metrics
		srv.ConnState = func(_ net.Conn, s http.ConnState) { m.connState(s) }
	}
	if tlsOn {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if l.TLSConfig != nil {
			cfg = l.TLSConfig.Clone()
		}
		cfg.Certificates = append(cfg.Certificates, l.Certificates...)
		srv.TLSConfig = cfg
	}

	l.mu.Lock()
	l.addr = ln.Addr()
	if l.up == nil {
		l.up = make(chan struct{})
	}
	close(l.up)
	l.mu.Unlock()

	if !tlsOn && !(l.H2C && !l.DisableHTTP2) && !l.StdServer {
		s := &h1Server{
			handler:        srv.Handler,
			headerTimeout:  srv.ReadHeaderTimeout,
			idleTimeout:    srv.IdleTimeout,
			bodyTimeout:    srv.ReadTimeout,
			maxHeaderBytes: srv.MaxHeaderBytes,
			log:            log,
			metrics:        l.Metrics,
			connContext:    srv.ConnContext,
		}
		if err := s.serve(ctx, ln, durOr(l.ShutdownTimeout, DefaultShutdownTimeout)); err != nil {
			return fmt.Errorf("lb: serve: %w", err)
		}
		return nil
	}

	errc := make(chan error, 1)
	go func() {
		if tlsOn {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("lb: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), durOr(l.ShutdownTimeout, DefaultShutdownTimeout))
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		srv.Close()
		return fmt.Errorf("lb: shutdown: %w", err)
	}
	return nil
}

func durOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// wrap adds the listener's per-request rules around the handler.
func (l *HTTPListener) wrap(h http.Handler) http.Handler {
	keepAlive := durOr(l.ClientKeepAlive, DefaultClientKeepAlive)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ci, _ := r.Context().Value(connCtxKey{}).(*connInfo)
		if ci != nil {
			if ci.framer != nil && r.ProtoMajor == 1 && ci.framer.ambiguous() {
				if l.Metrics != nil {
					l.Metrics.reject("AmbiguousFraming")
				}
				w.Header().Set("Connection", "close")
				http.Error(w, "400 Bad Request: both Content-Length and Transfer-Encoding", http.StatusBadRequest)
				return
			}
			if keepAlive > 0 && r.ProtoMajor == 1 && time.Since(ci.start) > keepAlive {
				w.Header().Set("Connection", "close")
			}
		}
		if h == nil {
			http.Error(w, "503 Service Temporarily Unavailable", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}
