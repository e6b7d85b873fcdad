// Package lbtest starts loopback backends, target groups, proxies and
// steady load for tests of code built on package lb — users' tests and
// lbkit's own.
//
// Typical usage:
//
//	backends := lbtest.NewBackends(t, 3)
//	tg := lbtest.NewHTTPTargetGroup(t, lb.TargetGroupConfig{Name: "web"}, backends...)
//	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, nil)
//	load := lbtest.StartLoad(t, url, 8)
//	// ... change the target group ...
//	res := load.Stop() // res.Failed should be 0
//
// Everything binds 127.0.0.1 and is torn down by t.Cleanup. It does not
// generate benchmark-grade load (see bench/ for that).
package lbtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbkit/lbkit/lb"
)

// Backend is an HTTP server on 127.0.0.1. Its default handler answers 200
// with the backend's name as body and in the X-Backend header.
type Backend struct {
	*httptest.Server
	Name string
	// Requests counts requests served.
	Requests atomic.Int64

	mu   sync.Mutex
	last *http.Request
}

// Addr returns the backend's host:port, as a target address.
func (b *Backend) Addr() string { return b.Listener.Addr().String() }

// LastRequest returns a copy of the last request's headers, host, and
// remote address (nil before the first request).
func (b *Backend) LastRequest() *http.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// NewBackend starts a backend. h, if not nil, serves requests instead of
// the default handler (requests are still counted and recorded).
func NewBackend(t testing.TB, name string, h http.Handler) *Backend {
	t.Helper()
	b := &Backend{Name: name}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.Requests.Add(1)
		rec := &http.Request{Method: r.Method, Host: r.Host, RemoteAddr: r.RemoteAddr, Header: r.Header.Clone(), URL: r.URL, Proto: r.Proto, ProtoMajor: r.ProtoMajor}
		b.mu.Lock()
		b.last = rec
		b.mu.Unlock()
		if h != nil {
			h.ServeHTTP(w, r)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Backend", name)
		_, _ = io.WriteString(w, name)
	}))
	t.Cleanup(b.Close)
	return b
}

// NewBackends starts n default backends named b0, b1, ...
func NewBackends(t testing.TB, n int) []*Backend {
	t.Helper()
	out := make([]*Backend, n)
	for i := range out {
		out[i] = NewBackend(t, fmt.Sprintf("b%d", i), nil)
	}
	return out
}

// NewHTTPTargetGroup creates an HTTP target group with the backends
// registered, closed by t.Cleanup.
func NewHTTPTargetGroup(t testing.TB, cfg lb.TargetGroupConfig, backends ...*Backend) *lb.HTTPTargetGroup {
	t.Helper()
	g, err := lb.NewHTTPTargetGroup(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	for _, b := range backends {
		if err := g.Register(lb.Target{Addr: b.Addr()}); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// StartProxy serves proxy through an HTTPListener bound to 127.0.0.1:0 and
// returns its base URL ("http://127.0.0.1:port", or https with
// certificates). l may be nil for defaults; its Handler and Addr are set
// here. t.Cleanup shuts it down and waits.
func StartProxy(t testing.TB, proxy http.Handler, l *lb.HTTPListener) string {
	t.Helper()
	if l == nil {
		l = &lb.HTTPListener{}
	}
	l.Handler = proxy
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("proxy shutdown: %v", err)
		}
		if p, ok := proxy.(*lb.HTTPProxy); ok {
			p.CloseIdleConnections()
		}
	})
	<-l.Ready()
	scheme := "http"
	if len(l.Certificates) > 0 || l.TLSConfig != nil {
		scheme = "https"
	}
	return scheme + "://" + ln.Addr().String()
}

// Load sends requests in a loop from several workers until stopped.
type Load struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	ok     atomic.Int64
	failed atomic.Int64
	mu     sync.Mutex
	errs   []string
	client *http.Client
}

// LoadResult is what a Load saw.
type LoadResult struct {
	OK, Failed int64
	// Errors holds up to 20 failure descriptions.
	Errors []string
}

// StartLoad starts workers sending GET url with keep-alive. A request
// fails if it errors or answers anything but 200. Stop it with Stop (also
// done by t.Cleanup).
func StartLoad(t testing.TB, url string, workers int) *Load {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tr := &http.Transport{MaxIdleConnsPerHost: workers, DisableCompression: true}
	l := &Load{cancel: cancel, client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
	for i := 0; i < workers; i++ {
		l.wg.Add(1)
		go l.worker(ctx, url)
	}
	t.Cleanup(func() { l.Stop(); tr.CloseIdleConnections() })
	return l
}

func (l *Load) worker(ctx context.Context, url string) {
	defer l.wg.Done()
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		res, err := l.client.Do(req)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return
			}
			l.fail(err.Error())
			continue
		}
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			l.fail("body: " + err.Error())
		case res.StatusCode != http.StatusOK:
			l.fail(res.Status)
		default:
			l.ok.Add(1)
		}
	}
}

func (l *Load) fail(msg string) {
	l.failed.Add(1)
	l.mu.Lock()
	if len(l.errs) < 20 {
		l.errs = append(l.errs, msg)
	}
	l.mu.Unlock()
}

// OK returns the number of successful requests so far.
func (l *Load) OK() int64 { return l.ok.Load() }

// WaitOK blocks until at least n more requests succeeded, or fails after
// timeout. Tests use it to let load flow between changes without sleeping.
func (l *Load) WaitOK(t testing.TB, n int64, timeout time.Duration) {
	t.Helper()
	target := l.ok.Load() + n
	deadline := time.Now().Add(timeout)
	for l.ok.Load() < target {
		if time.Now().After(deadline) {
			t.Fatalf("load: %d requests succeeded, waited for %d (failed %d)", l.ok.Load(), target, l.failed.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

// Stop stops the workers, waits for them and returns the totals. It may
// be called more than once.
func (l *Load) Stop() LoadResult {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return LoadResult{OK: l.ok.Load(), Failed: l.failed.Load(), Errors: append([]string(nil), l.errs...)}
}
