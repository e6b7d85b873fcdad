// Command embedded embeds lbkit's HTTP load balancer in a Go program, with
// no AWS anywhere: two target groups with ELB-style health checks, a
// routing function (/api/ to one group, everything else to the other),
// and a graceful shutdown.
//
//	go run ./examples/embedded
//
// It starts four small backends, the load balancer on a free loopback
// port, sends a few requests, stops one backend to show the health check
// taking it out, and exits.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/lbkit/lbkit/healthcheck"
	"github.com/lbkit/lbkit/lb"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "embedded:", err)
		os.Exit(1)
	}
}

// backend serves a page naming itself until stop is called.
func backend(name string) (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s\n", name)
	})}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	return ln.Addr().String(), func() { srv.Close(); <-done }, nil
}

func newGroup(name string, addrs ...string) (*lb.HTTPTargetGroup, error) {
	// ELB's HTTP health check, at a demo pace (ELB's minimum interval is
	// 5 s; Limits lets a program go faster).
	hc := healthcheck.DefaultConfig(healthcheck.HTTP)
	hc.Interval, hc.Timeout = 200*time.Millisecond, 100*time.Millisecond
	hc.HealthyThreshold, hc.UnhealthyThreshold = 2, 2
	limits := healthcheck.AWSLimits()
	limits.MinInterval, limits.MinTimeout, limits.WholeSeconds = 100*time.Millisecond, 50*time.Millisecond, false
	g, err := lb.NewHTTPTargetGroup(lb.TargetGroupConfig{
		Name:                name,
		HealthCheck:         &hc,
		HealthOptions:       healthcheck.Options{Limits: &limits},
		DeregistrationDelay: time.Second,
	})
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if err := g.Register(lb.Target{Addr: a}); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func run(ctx context.Context, w io.Writer) error {
	var stops []func()
	defer func() {
		for _, s := range stops {
			s()
		}
	}()
	addrs := map[string]string{}
	for _, name := range []string{"web-1", "web-2", "web-3", "api-1"} {
		a, stop, err := backend(name)
		if err != nil {
			return err
		}
		addrs[name] = a
		stops = append(stops, stop)
	}
	web, err := newGroup("web", addrs["web-1"], addrs["web-2"], addrs["web-3"])
	if err != nil {
		return err
	}
	defer web.Close()
	api, err := newGroup("api", addrs["api-1"])
	if err != nil {
		return err
	}
	defer api.Close()

	toWeb := &lb.ForwardAction{Groups: []lb.WeightedGroup{{Group: web, Weight: 1}}}
	toAPI := &lb.ForwardAction{Groups: []lb.WeightedGroup{{Group: api, Weight: 1}}}
	proxy := &lb.HTTPProxy{Router: lb.HTTPRouterFunc(func(r *http.Request) lb.HTTPAction {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			return toAPI
		}
		return toWeb
	})}
	defer proxy.CloseIdleConnections()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- (&lb.HTTPListener{Handler: proxy}).Serve(ctx, ln) }()
	defer func() { cancel(); <-served }()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(w, "load balancer on %s: /api/ → api (1 target), the rest → web (3 targets)\n", base)

	if err := waitHealthy(ctx, web, 3); err != nil {
		return err
	}
	if err := waitHealthy(ctx, api, 1); err != nil {
		return err
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	spread := func(path string, n int) (string, error) {
		m := map[string]int{}
		for range n {
			resp, err := c.Get(base + path)
			if err != nil {
				return "", err
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			m[strings.TrimSpace(string(b))]++
		}
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
		}
		return strings.Join(parts, " "), nil
	}
	for _, path := range []string{"/", "/api/users"} {
		s, err := spread(path, 6)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "GET %-10s 6 times → %s\n", path, s)
	}
	stops[2]() // web-3 goes away
	fmt.Fprintln(w, "web-3 stopped; waiting for its health check to fail")
	if err := waitHealthy(ctx, web, 2); err != nil {
		return err
	}
	for _, t := range web.Targets() {
		if t.Addr == addrs["web-3"] {
			fmt.Fprintf(w, "web-3 is %s\n", t.Health)
		}
	}
	s, err := spread("/", 6)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "GET %-10s 6 times → %s\n", "/", s)
	return nil
}

// waitHealthy polls until exactly n targets of g are healthy.
func waitHealthy(ctx context.Context, g *lb.HTTPTargetGroup, n int) error {
	deadline := time.Now().Add(10 * time.Second)
	for g.Counts()[lb.HealthHealthy] != n {
		if time.Now().After(deadline) {
			return fmt.Errorf("group %s: %d healthy targets, want %d", g.Name(), g.Counts()[lb.HealthHealthy], n)
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
