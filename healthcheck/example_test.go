package healthcheck_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/lbkit/lbkit/healthcheck"
)

func ExampleMonitor() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	}))
	defer backend.Close()

	cfg := healthcheck.DefaultConfig(healthcheck.HTTP)
	cfg.Path = "/healthz"
	m, err := healthcheck.NewMonitor(cfg, healthcheck.Options{
		// Probe at once instead of at a random point of the first interval,
		// so that the example is quick.
		Rand: func() uint64 { return 0 },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	healthy := make(chan []healthcheck.Target, 1)
	m.Subscribe(func(u healthcheck.Update) {
		for _, ev := range u.Events {
			fmt.Println(strings.TrimSpace(fmt.Sprint(ev.Old.State, " -> ", ev.New.State, " ", ev.New.Description)))
			if ev.New.State == healthcheck.StateHealthy {
				healthy <- u.Snapshot.Available() // what a balancer is fed
			}
		}
	})
	m.Register(healthcheck.Target{Addr: strings.TrimPrefix(backend.URL, "http://")})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	fmt.Println("available:", len(<-healthy))
	cancel()
	<-done
	// Output:
	// unused -> initial Target registration is in progress
	// initial -> healthy
	// available: 1
}

func ExampleDefaultConfig() {
	for _, p := range []healthcheck.Protocol{healthcheck.HTTP, healthcheck.GRPC, healthcheck.TCP} {
		c := healthcheck.DefaultConfig(p)
		fmt.Printf("%s: every %v, timeout %v, healthy %d, unhealthy %d, matcher %q\n",
			p, c.Interval, c.Timeout, c.HealthyThreshold, c.UnhealthyThreshold, c.Matcher)
	}
	// Output:
	// HTTP: every 30s, timeout 5s, healthy 5, unhealthy 2, matcher "200"
	// GRPC: every 30s, timeout 5s, healthy 5, unhealthy 2, matcher "12"
	// TCP: every 30s, timeout 10s, healthy 5, unhealthy 2, matcher ""
}

func ExampleConfig_Validate() {
	c := healthcheck.DefaultConfig(healthcheck.HTTP)
	c.Interval = 10 * time.Second
	c.Timeout = 10 * time.Second
	c.UnhealthyThreshold = 1
	err := c.Validate()
	fmt.Println(err)
	var ce *healthcheck.ConfigError
	if errors.As(err, &ce) {
		fmt.Println("first bad field:", ce.Field)
	}
	// Output:
	// healthcheck: invalid Timeout 10s: must be smaller than the interval 10s
	// healthcheck: invalid UnhealthyThreshold 1: must be between 2 and 10
	// first bad field: Timeout
}

func ExampleParseMatcher() {
	m, err := healthcheck.ParseMatcher("200,300-399", 200, 599)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Match(200), m.Match(204), m.Match(302))
	_, err = healthcheck.ParseMatcher("100", 200, 599)
	fmt.Println(err)
	// Output:
	// true false true
	// code 100 is outside 200–599
}

func ExampleHTTPChecker() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer backend.Close()

	c := &healthcheck.HTTPChecker{Path: "/ready"}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.Check(ctx, healthcheck.Target{Addr: strings.TrimPrefix(backend.URL, "http://")})
	reason, description := healthcheck.Classify(err)
	fmt.Println(reason)
	fmt.Println(description)
	// Output:
	// Target.ResponseCodeMismatch
	// Health checks failed with these codes: [503]
}

func ExampleMonitor_Report() {
	oc := healthcheck.DefaultOutlierConfig()
	cfg := healthcheck.DefaultConfig(healthcheck.HTTP)
	cfg.Disabled = true // passive detection only: targets are "unavailable" and routable
	m, err := healthcheck.NewMonitor(cfg, healthcheck.Options{Outlier: &oc})
	if err != nil {
		fmt.Println(err)
		return
	}
	a := healthcheck.Target{Addr: "10.0.0.1:8080"}
	m.Register(a, healthcheck.Target{Addr: "10.0.0.2:8080"})
	for range 5 { // what the proxy saw
		m.Report(a, healthcheck.Result{Status: http.StatusBadGateway})
	}
	h := m.Health(a)
	fmt.Println(h.State, "ejected:", h.Ejected)
	fmt.Println(m.Snapshot().Available())
	// Output:
	// unavailable ejected: true
	// [10.0.0.2:8080]
}

// An NLB target group that keeps an unhealthy target's connections for ten
// minutes: a target that fails its checks is unhealthy.draining (no new
// connections) for that long, then unhealthy. AWS accepts a draining
// interval only with connection termination disabled.
func ExampleConfig_unhealthyDraining() {
	cfg := healthcheck.DefaultNLBConfig(healthcheck.TCP)
	cfg.UnhealthyDrainingInterval = 10 * time.Minute
	var ce *healthcheck.ConfigError
	if errors.As(cfg.Validate(), &ce) {
		fmt.Println(ce.Field+":", ce.Reason)
	}
	cfg.KeepUnhealthyConnections = true // connection_termination.enabled=false
	fmt.Println(cfg.Validate())
	// Output:
	// UnhealthyDrainingInterval: requires KeepUnhealthyConnections (connection termination disabled)
	// <nil>
}
