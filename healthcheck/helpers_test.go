package healthcheck

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// flipServer is a real HTTP server on 127.0.0.1 whose status code the test
// changes between probes.
type flipServer struct {
	*httptest.Server
	code     atomic.Int32
	requests atomic.Int64
	conns    atomic.Int64 // new connections accepted
	mu       sync.Mutex
	lastReq  *http.Request
	block    chan struct{} // while non-nil, handlers wait on it
}

func newFlipServer(t *testing.T, code int) *flipServer {
	t.Helper()
	s := &flipServer{}
	s.code.Store(int32(code))
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *flipServer) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.mu.Lock()
	s.lastReq = r.Clone(context.Background())
	block := s.block
	s.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}
	w.WriteHeader(int(s.code.Load()))
	_, _ = w.Write([]byte("ok"))
}

func (s *flipServer) target() Target { return Target{Addr: strings.TrimPrefix(s.URL, "http://")} }

func (s *flipServer) last() *http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastReq
}

// harness runs a Monitor on a fake clock with first probes due at once.
type harness struct {
	t   *testing.T
	m   *Monitor
	clk *fakeClock
}

func startMonitor(t *testing.T, cfg Config, opts Options) *harness {
	t.Helper()
	clk := newFakeClock()
	if opts.Clock == nil {
		opts.Clock = clk
	}
	if opts.Rand == nil {
		opts.Rand = func() uint64 { return 0 }
	}
	m, err := NewMonitor(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return &harness{t: t, m: m, clk: clk}
}

// waitProbes waits until n probe results were applied in total.
func (h *harness) waitProbes(n uint64) {
	h.t.Helper()
	waitFor(h.t, "probes", func() bool { return h.m.probed.Load() >= n })
}

// tick advances the clock by one interval and waits for k more probes.
func (h *harness) tick(k uint64) {
	h.t.Helper()
	n := h.m.probed.Load()
	h.clk.Advance(h.m.Config().Interval)
	h.waitProbes(n + k)
}

// waitFor polls cond until it holds or a generous real-time bound passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Microsecond) // polling period, bounded by deadline
	}
}

// recorder collects Updates from a subscription.
type recorder struct {
	mu      sync.Mutex
	updates []Update
}

func (r *recorder) add(u Update) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates = append(r.updates, u)
}

func (r *recorder) events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Event
	for _, u := range r.updates {
		out = append(out, u.Events...)
	}
	return out
}

func (r *recorder) last() *Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.updates) == 0 {
		return nil
	}
	return r.updates[len(r.updates)-1].Snapshot
}

// closedAddr returns a 127.0.0.1 address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
