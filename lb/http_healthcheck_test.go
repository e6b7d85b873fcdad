package lb_test

import (
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbkit/lbkit/healthcheck"
	"github.com/lbkit/lbkit/lb"
	"github.com/lbkit/lbkit/lb/lbtest"
)

// fastClock runs the health monitor's time 100× faster than real time, so
// ELB's minimum 5 s interval takes 50 ms; nothing sleeps.
type fastClock struct {
	start time.Time
	speed float64
}

func (c fastClock) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.start)) * c.speed))
}

func (c fastClock) NewTimer(d time.Duration) healthcheck.Timer {
	return fastTimer{time.NewTimer(time.Duration(float64(d) / c.speed)), c.speed}
}

type fastTimer struct {
	t     *time.Timer
	speed float64
}

func (t fastTimer) C() <-chan time.Time   { return t.t.C }
func (t fastTimer) Reset(d time.Duration) { t.t.Reset(time.Duration(float64(d) / t.speed)) }
func (t fastTimer) Stop()                 { t.t.Stop() }

// flappy is a backend whose health check answer can be flipped; it keeps
// serving traffic either way and counts it apart from probes.
type flappy struct {
	*lbtest.Backend
	sick    atomic.Bool
	traffic atomic.Int64
}

func newFlappy(t *testing.T, name string) *flappy {
	f := &flappy{}
	f.Backend = lbtest.NewBackend(t, name, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			if f.sick.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			return
		}
		f.traffic.Add(1)
		io.WriteString(w, name)
	}))
	return f
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReliabilityHealthCheckFlapping runs real ELB-style HTTP health checks
// (package healthcheck) against backends whose health flaps while load
// flows: no request fails, and an unhealthy target stops getting traffic.
func TestReliabilityHealthCheckFlapping(t *testing.T) {
	hc := healthcheck.DefaultConfig(healthcheck.HTTP)
	hc.Path = "/health"
	hc.Interval, hc.Timeout = 5*time.Second, 2*time.Second
	hc.HealthyThreshold, hc.UnhealthyThreshold = 2, 2
	cfg := quietTG("hc")
	cfg.HealthCheck = &hc
	cfg.HealthOptions.Clock = fastClock{start: time.Now(), speed: 100}
	tg, err := lb.NewHTTPTargetGroup(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	var fs []*flappy
	for i := 0; i < 3; i++ {
		f := newFlappy(t, fmt.Sprintf("f%d", i))
		fs = append(fs, f)
		tg.Register(lb.Target{Addr: f.Addr()})
	}
	healthy := func(n int) func() bool { return func() bool { return tg.Counts()[lb.HealthHealthy] == n } }
	waitFor(t, "3 healthy targets", healthy(3))

	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, nil)
	load := lbtest.StartLoad(t, url, loadWorkers)
	load.WaitOK(t, stepOK, stepWait)
	for round := 0; round < 3; round++ {
		f := fs[round%3]
		f.sick.Store(true)
		waitFor(t, "the sick target to turn unhealthy", healthy(2))
		// Requests picked before it turned unhealthy may still be on
		// their way to it (a loaded machine can hold one back for a
		// while); the count starts once they are done.
		waitFor(t, "requests in flight on the sick target to finish", func() bool {
			for _, ts := range tg.Targets() {
				if ts.Addr == f.Addr() {
					return ts.InFlight == 0
				}
			}
			return true
		})
		before := f.traffic.Load()
		load.WaitOK(t, stepOK, stepWait)
		if d := f.traffic.Load() - before; d != 0 {
			t.Errorf("unhealthy target got %d requests", d)
		}
		f.sick.Store(false)
		waitFor(t, "the target to recover", healthy(3))
		load.WaitOK(t, stepOK, stepWait)
	}
	requireNoFailures(t, load)
	if st := tg.HealthMonitor().Snapshot().Count(healthcheck.StateHealthy); st != 3 {
		t.Errorf("monitor reports %d healthy", st)
	}
}
