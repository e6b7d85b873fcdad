package healthcheck

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func mustMatcher(t testing.TB, s string, lo, hi int) Matcher {
	t.Helper()
	m, err := ParseMatcher(s, lo, hi)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestHTTPCheckerMatcher(t *testing.T) {
	tests := []struct {
		matcher string
		code    int
		ok      bool
	}{
		{"200", 200, true},
		{"200", 204, false},
		{"200,202", 202, true},
		{"200,202", 201, false},
		{"200-299", 299, true},
		{"200-299", 301, false},
		{"200-399", 302, true},
		{"200-499", 404, true},
		{"500-599", 503, true},
	}
	srv := newFlipServer(t, 200)
	for _, tc := range tests {
		t.Run(tc.matcher+"/"+strconv.Itoa(tc.code), func(t *testing.T) {
			srv.code.Store(int32(tc.code))
			c := &HTTPChecker{Matcher: mustMatcher(t, tc.matcher, 200, 599)}
			defer c.Close()
			err := c.Check(context.Background(), srv.target())
			if (err == nil) != tc.ok {
				t.Fatalf("Check = %v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				var ce *CheckError
				if !errors.As(err, &ce) || ce.Reason != ReasonResponseCodeMismatch || ce.Code != tc.code {
					t.Fatalf("error %#v", err)
				}
			}
		})
	}
}

func TestHTTPCheckerRequest(t *testing.T) {
	srv := newFlipServer(t, 200)
	_, port, _ := net.SplitHostPort(srv.target().Addr)
	p, _ := strconv.Atoi(port)
	// The traffic port is wrong on purpose: Port overrides it.
	c := &HTTPChecker{Path: "/healthz?x=1", Host: "svc.example", Port: p}
	defer c.Close()
	if err := c.Check(context.Background(), Target{Addr: "127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	r := srv.last()
	if r.URL.Path != "/healthz" || r.URL.RawQuery != "x=1" || r.Host != "svc.example" || r.UserAgent() != UserAgent || r.Method != http.MethodGet {
		t.Fatalf("request %s %s host=%s ua=%s", r.Method, r.URL, r.Host, r.UserAgent())
	}
	// Zero checker: "/" and Host = address.
	var z HTTPChecker
	defer z.Close()
	if err := z.Check(context.Background(), srv.target()); err != nil {
		t.Fatal(err)
	}
	if r := srv.last(); r.URL.Path != "/" || r.Host != srv.target().Addr {
		t.Fatalf("zero checker sent %s host=%s", r.URL, r.Host)
	}
}

func TestHTTPCheckerKeepAlive(t *testing.T) {
	ctx := context.Background()
	t.Run("reuses one connection", func(t *testing.T) {
		srv := newFlipServer(t, 200)
		c := &HTTPChecker{}
		defer c.Close()
		for range 5 {
			if err := c.Check(ctx, srv.target()); err != nil {
				t.Fatal(err)
			}
		}
		if n := srv.conns.Load(); n != 1 {
			t.Fatalf("%d connections for 5 probes", n)
		}
	})
	t.Run("retries once when the server closed the idle connection", func(t *testing.T) {
		srv := newFlipServer(t, 200)
		c := &HTTPChecker{}
		defer c.Close()
		if err := c.Check(ctx, srv.target()); err != nil {
			t.Fatal(err)
		}
		srv.CloseClientConnections()
		if err := c.Check(ctx, srv.target()); err != nil {
			t.Fatalf("probe after the server closed the idle connection: %v", err)
		}
		if n := srv.conns.Load(); n != 2 {
			t.Fatalf("%d connections", n)
		}
	})
	t.Run("DisableKeepAlives", func(t *testing.T) {
		srv := newFlipServer(t, 200)
		c := &HTTPChecker{DisableKeepAlives: true}
		for range 3 {
			if err := c.Check(ctx, srv.target()); err != nil {
				t.Fatal(err)
			}
		}
		if n := srv.conns.Load(); n != 3 {
			t.Fatalf("%d connections for 3 probes", n)
		}
	})
	t.Run("Forget closes the idle connection", func(t *testing.T) {
		srv := newFlipServer(t, 200)
		c := &HTTPChecker{}
		defer c.Close()
		tg := srv.target()
		if err := c.Check(ctx, tg); err != nil {
			t.Fatal(err)
		}
		c.Forget(tg)
		if err := c.Check(ctx, tg); err != nil {
			t.Fatal(err)
		}
		if n := srv.conns.Load(); n != 2 {
			t.Fatalf("%d connections", n)
		}
	})
	t.Run("large bodies are not reused", func(t *testing.T) {
		big := strings.Repeat("x", maxBody+10)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(big)) }))
		defer srv.Close()
		c := &HTTPChecker{}
		defer c.Close()
		tg := Target{Addr: strings.TrimPrefix(srv.URL, "http://")}
		if err := c.Check(ctx, tg); err != nil {
			t.Fatal(err)
		}
		if c.takeIdle(tg) != nil {
			t.Fatal("connection with an unread body kept idle")
		}
	})
}

func TestHTTPCheckerTimeout(t *testing.T) {
	srv := newFlipServer(t, 200)
	srv.block = make(chan struct{})
	defer close(srv.block)
	c := &HTTPChecker{}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := c.Check(ctx, srv.target())
	if r, d := Classify(err); r != ReasonTimeout || d != "Request timed out" {
		t.Fatalf("Classify(%v) = %s, %s", err, r, d)
	}
}

func TestHTTPSChecker(t *testing.T) {
	// httptest's certificate is self-signed for example.com: ELB does not
	// verify target certificates, nor does the checker.
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			w.WriteHeader(400)
		}
	}))
	defer srv.Close()
	c, err := NewChecker(DefaultConfig(HTTPS))
	if err != nil {
		t.Fatal(err)
	}
	defer c.(*HTTPChecker).Close()
	tg := Target{Addr: strings.TrimPrefix(srv.URL, "https://")}
	for range 3 {
		if err := c.Check(context.Background(), tg); err != nil {
			t.Fatal(err)
		}
	}
	// Plain HTTP to a TLS port fails.
	plain := &HTTPChecker{}
	defer plain.Close()
	if err := plain.Check(context.Background(), tg); err == nil {
		t.Fatal("plain HTTP to a TLS server succeeded")
	}
}

func TestTCPChecker(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c := &TCPChecker{}
	if err := c.Check(context.Background(), Target{Addr: ln.Addr().String()}); err != nil {
		t.Fatal(err)
	}
	err = c.Check(context.Background(), Target{Addr: closedAddr(t)})
	if r, _ := Classify(err); err == nil || r != ReasonFailedHealthChecks {
		t.Fatalf("closed port: %v (%s)", err, r)
	}
	if err := c.Check(context.Background(), Target{Addr: "no-port"}); err == nil {
		t.Fatal("bad address accepted")
	}
}

// grpcServer is a real gRPC server on 127.0.0.1, optionally with the
// standard health service.
type grpcServer struct {
	addr   string
	srv    *grpc.Server
	health *health.Server
	done   chan struct{}
}

func startGRPC(t *testing.T, addr string, withHealth bool) *grpcServer {
	t.Helper()
	var ln net.Listener
	var err error
	// Rebinding a just-closed port can race with the kernel; retry briefly.
	for i := 0; ; i++ {
		ln, err = net.Listen("tcp", addr)
		if err == nil || i == 50 {
			break
		}
		time.Sleep(10 * time.Millisecond) // backoff for the rebind, bounded
	}
	if err != nil {
		t.Fatal(err)
	}
	g := &grpcServer{addr: ln.Addr().String(), srv: grpc.NewServer(), done: make(chan struct{})}
	if withHealth {
		g.health = health.NewServer()
		healthpb.RegisterHealthServer(g.srv, g.health)
	}
	go func() { defer close(g.done); _ = g.srv.Serve(ln) }()
	t.Cleanup(g.stop)
	return g
}

func (g *grpcServer) stop() {
	g.srv.Stop()
	<-g.done
}

func TestGRPCChecker(t *testing.T) {
	ctx := context.Background()
	g := startGRPC(t, "127.0.0.1:0", true)
	tg := Target{Addr: g.addr}
	c := &GRPCChecker{}
	defer c.Close()

	if err := c.Check(ctx, tg); err != nil {
		t.Fatalf("SERVING: %v", err)
	}
	g.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	err := c.Check(ctx, tg)
	var ce *CheckError
	if !errors.As(err, &ce) || ce.Reason != ReasonResponseCodeMismatch || ce.Code != 0 {
		t.Fatalf("NOT_SERVING: %v", err)
	}
	g.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	if err := c.Check(ctx, tg); err != nil {
		t.Fatalf("SERVING again: %v", err)
	}

	t.Run("named service", func(t *testing.T) {
		sc := &GRPCChecker{Service: "shop.Cart", Matcher: mustMatcher(t, "0", 0, 99)}
		defer sc.Close()
		// Unknown service: NotFound (5), not in the matcher.
		err := sc.Check(ctx, tg)
		if !errors.As(err, &ce) || ce.Code != 5 || ce.Description != "Health checks failed with these codes: [5]" {
			t.Fatalf("unknown service: %v", err)
		}
		g.health.SetServingStatus("shop.Cart", healthpb.HealthCheckResponse_SERVING)
		if err := sc.Check(ctx, tg); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("server down then back", func(t *testing.T) {
		g.stop()
		err := c.Check(ctx, tg)
		if r, _ := Classify(err); err == nil || r != ReasonFailedHealthChecks {
			t.Fatalf("server down: %v", err)
		}
		g2 := startGRPC(t, g.addr, true)
		_ = g2
		if err := c.Check(ctx, tg); err != nil {
			t.Fatalf("server back: %v", err)
		}
	})

	t.Run("no health service: Unimplemented matches 12", func(t *testing.T) {
		bare := startGRPC(t, "127.0.0.1:0", false)
		bt := Target{Addr: bare.addr}
		if err := c.Check(ctx, bt); err != nil {
			t.Fatalf("default matcher: %v", err)
		}
		strict := &GRPCChecker{Matcher: mustMatcher(t, "0", 0, 99)}
		defer strict.Close()
		err := strict.Check(ctx, bt)
		if !errors.As(err, &ce) || ce.Code != 12 || ce.Reason != ReasonResponseCodeMismatch {
			t.Fatalf("matcher 0: %v", err)
		}
	})
}

func TestGRPCMonitorFlip(t *testing.T) {
	g := startGRPC(t, "127.0.0.1:0", true)
	cfg := DefaultConfig(GRPC)
	cfg.HealthyThreshold = 2
	h := startMonitor(t, cfg, Options{})
	tg := Target{Addr: g.addr}
	h.m.Register(tg)
	h.waitProbes(1)
	if got := h.m.Health(tg); got.State != StateHealthy {
		t.Fatalf("got %+v", got)
	}
	g.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	h.tick(1)
	h.tick(1)
	if got := h.m.Health(tg); got.State != StateUnhealthy || got.Reason != ReasonResponseCodeMismatch {
		t.Fatalf("got %+v", got)
	}
	g.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	h.tick(1)
	h.tick(1)
	if got := h.m.Health(tg); got.State != StateHealthy {
		t.Fatalf("got %+v", got)
	}
}
