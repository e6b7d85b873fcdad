package healthcheck

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSmokeHTTPFlip(t *testing.T) {
	var code atomic.Int32
	code.Store(200)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(code.Load()))
	}))
	defer srv.Close()
	clk := newFakeClock()
	cfg := DefaultConfig(HTTP)
	m, err := NewMonitor(cfg, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	tg := Target{Addr: strings.TrimPrefix(srv.URL, "http://")}
	m.Register(tg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	step := func(want State) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for m.Health(tg).State != want {
			if time.Now().After(deadline) {
				t.Fatalf("state %v, want %v", m.Health(tg), want)
			}
			clk.Advance(time.Second)
			time.Sleep(time.Millisecond)
		}
	}
	step(StateHealthy)
	code.Store(503)
	step(StateUnhealthy)
	if h := m.Health(tg); h.Reason != ReasonResponseCodeMismatch || h.Description != "Health checks failed with these codes: [503]" {
		t.Fatalf("got %+v", h)
	}
	code.Store(200)
	step(StateHealthy)
}
