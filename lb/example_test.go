package lb_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"

	"github.com/lbkit/lbkit/lb"
)

// A target group picks targets round robin and tracks in-flight work; a
// deregistered target drains and leaves once its last lease is done.
func ExampleTargetGroup() {
	tg, _ := lb.NewTargetGroup(lb.TargetGroupConfig{Name: "web"})
	defer tg.Close()
	tg.Register(lb.Target{Addr: "10.0.0.1:80"}, lb.Target{Addr: "10.0.0.2:80"})

	lease, _ := tg.Pick(lb.PickInfo{})
	fmt.Println("picked one of", len(tg.Targets()), "targets")
	drained, _ := tg.Deregister(lease.Addr())
	select {
	case <-drained:
		fmt.Println("drained too early")
	default:
		fmt.Println("draining while a request is in flight")
	}
	lease.Done(nil)
	<-drained
	fmt.Println("drained:", len(tg.Targets()), "target left")
	// Output:
	// picked one of 2 targets
	// draining while a request is in flight
	// drained: 1 target left
}

// An HTTP load balancer in front of two backends, with a redirect and a
// fixed response routed by path.
func ExampleHTTPProxy() {
	backend := func(name string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s saw X-Forwarded-For %s", name, r.Header.Get("X-Forwarded-For"))
		}))
	}
	a, b := backend("a"), backend("b")
	defer a.Close()
	defer b.Close()

	tg, _ := lb.NewHTTPTargetGroup(lb.TargetGroupConfig{Name: "app"})
	defer tg.Close()
	tg.Register(lb.Target{Addr: a.Listener.Addr().String()}, lb.Target{Addr: b.Listener.Addr().String()})

	forward := &lb.ForwardAction{Groups: []lb.WeightedGroup{{Group: tg, Weight: 1}}}
	legacy := &lb.RedirectAction{Path: "/v2/#{path}", Permanent: true}
	health := &lb.FixedResponseAction{StatusCode: 200, Body: "ok"}
	proxy := &lb.HTTPProxy{Router: lb.HTTPRouterFunc(func(r *http.Request) lb.HTTPAction {
		switch r.URL.Path {
		case "/old":
			return legacy
		case "/lb-health":
			return health
		}
		return forward
	})}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- (&lb.HTTPListener{Handler: proxy}).Serve(ctx, ln) }()

	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var lines []string
	for _, path := range []string{"/", "/", "/old", "/lb-health"} {
		res, err := c.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			fmt.Println(err)
			continue
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		lines = append(lines, fmt.Sprintf("%s %d %s%s", path, res.StatusCode, body, strings.TrimPrefix(res.Header.Get("Location"), "http://"+ln.Addr().String())))
	}
	sort.Strings(lines) // round robin starts at a random target
	fmt.Println(strings.Join(lines, "\n"))
	c.CloseIdleConnections()
	stop()
	fmt.Println("shutdown:", <-done)
	proxy.CloseIdleConnections()
	// Output:
	// / 200 a saw X-Forwarded-For 127.0.0.1
	// / 200 b saw X-Forwarded-For 127.0.0.1
	// /lb-health 200 ok
	// /old 301 /v2/old
	// shutdown: <nil>
}
