package local_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/local"
	"github.com/lbkit/lbkit/lb"
)

// backend is a real HTTP server that names itself.
type backend struct {
	name string
	srv  *httptest.Server
	host string
	port int
}

func newBackend(t *testing.T, name string) *backend {
	t.Helper()
	b := &backend{name: name}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, name)
	}))
	t.Cleanup(b.srv.Close)
	h, p, _ := net.SplitHostPort(b.srv.Listener.Addr().String())
	b.host = h
	b.port, _ = strconv.Atoi(p)
	return b
}

func (b *backend) target() elb.Target { return elb.Target{ID: b.host, Port: b.port} }

// fastHC is a health check that TimeScale 0.02 turns into 100 ms checks.
func fastHC() elb.HealthCheck {
	return elb.HealthCheck{IntervalSeconds: 5, TimeoutSeconds: 2, HealthyThreshold: 2, UnhealthyThreshold: 2}
}

func albStack(web, api []*backend) *elb.Stack {
	s := &elb.Stack{}
	w := s.AddTargetGroup(elb.NewTargetGroup("web", elb.ProtocolHTTP, 80, elb.TargetTypeIP))
	a := s.AddTargetGroup(elb.NewTargetGroup("api", elb.ProtocolHTTP, 80, elb.TargetTypeIP))
	for _, tg := range []*elb.TargetGroup{w, a} {
		tg.VPCID = "vpc-1"
		tg.HealthCheck = fastHC()
		tg.Attributes.DeregistrationDelaySeconds = elb.Int(1)
	}
	for _, b := range web {
		w.Targets = append(w.Targets, b.target())
	}
	for _, b := range api {
		a.Targets = append(a.Targets, b.target())
	}
	alb := s.AddLoadBalancer(elb.NewApplicationLoadBalancer("demo"))
	alb.Subnets = []string{"subnet-a", "subnet-b"}
	l := alb.AddListener(elb.ProtocolHTTP, 80, elb.Forward(w))
	l.AddRule(10, elb.Forward(a), elb.PathPattern("/api/*"))
	l.AddRule(20, elb.FixedResponse(418, elb.ContentTypeTextPlain, "teapot"), elb.PathPattern("/tea"))
	return s
}

func start(t *testing.T, s *elb.Stack) *local.Stack {
	t.Helper()
	st, err := local.Start(context.Background(), s, local.Options{TimeScale: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls cond every 20 ms for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func healthStates(t *testing.T, st *local.Stack, tg string) map[string]string {
	t.Helper()
	hs, err := st.TargetHealth(tg)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, h := range hs {
		out[h.Addr] = h.State
	}
	return out
}

func allHealthy(t *testing.T, st *local.Stack, tg string, n int) func() bool {
	return func() bool {
		hs := healthStates(t, st, tg)
		c := 0
		for _, s := range hs {
			if s == "healthy" {
				c++
			}
		}
		return c == n
	}
}

func TestALBRoutesByRules(t *testing.T) {
	w1, w2, a1 := newBackend(t, "web-1"), newBackend(t, "web-2"), newBackend(t, "api-1")
	st := start(t, albStack([]*backend{w1, w2}, []*backend{a1}))
	addr, ok := st.Addr("demo", 80)
	if !ok {
		t.Fatal("no address for demo:80")
	}
	waitFor(t, 5*time.Second, "web healthy", allHealthy(t, st, "web", 2))
	waitFor(t, 5*time.Second, "api healthy", allHealthy(t, st, "api", 1))
	tests := []struct {
		path string
		code int
		body []string
	}{
		{"/", 200, []string{"web-1", "web-2"}},
		{"/api/users", 200, []string{"api-1"}},
		{"/tea", 418, []string{"teapot"}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			seen := map[string]int{}
			for range 10 {
				code, body := get(t, "http://"+addr+tc.path)
				if code != tc.code {
					t.Fatalf("status %d, want %d (%q)", code, tc.code, body)
				}
				seen[body]++
			}
			for _, b := range tc.body {
				if seen[b] == 0 {
					t.Errorf("no answer from %q; saw %v", b, seen)
				}
			}
			if len(seen) != len(tc.body) {
				t.Errorf("answers %v, want only %v", seen, tc.body)
			}
		})
	}
	ls := st.Listeners()
	if len(ls) != 1 || ls[0].Addr != addr || ls[0].Port != 80 {
		t.Errorf("Listeners() = %+v", ls)
	}
}

func TestApplyWithoutDroppingRequests(t *testing.T) {
	w1, w2, a1 := newBackend(t, "web-1"), newBackend(t, "web-2"), newBackend(t, "api-1")
	st := start(t, albStack([]*backend{w1}, []*backend{a1}))
	addr, _ := st.Addr("demo", 80)
	waitFor(t, 5*time.Second, "web healthy", allHealthy(t, st, "web", 1))

	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	var ok, bad atomic.Int64
	var badMu sync.Mutex
	var badBodies []string
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				resp, err := c.Get("http://" + addr + "/")
				if err != nil {
					bad.Add(1)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					bad.Add(1)
					badMu.Lock()
					badBodies = append(badBodies, fmt.Sprintf("%d %s", resp.StatusCode, b))
					badMu.Unlock()
					continue
				}
				ok.Add(1)
			}
		}()
	}
	// Swap: add web-2, remove web-1 (it drains), then route "/" to api.
	s2 := albStack([]*backend{w1, w2}, []*backend{a1})
	if err := st.Apply(s2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "web-2 healthy", allHealthy(t, st, "web", 2))
	s3 := albStack([]*backend{w2}, []*backend{a1})
	if err := st.Apply(s3); err != nil {
		t.Fatal(err)
	}
	s4 := albStack([]*backend{w2}, []*backend{a1})
	s4.LoadBalancers[0].Listeners[0].DefaultActions = []elb.Action{elb.Forward(s4.TargetGroups[1])}
	if err := st.Apply(s4); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "requests after the changes", func() bool { return ok.Load() > 200 })
	cancel()
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d of %d requests failed during Apply: %v", bad.Load(), bad.Load()+ok.Load(), badBodies)
	}
	if _, body := get(t, "http://"+addr+"/"); body != "api-1" {
		t.Errorf("after the last Apply, / answered %q, want api-1", body)
	}
	// web-1 was deregistered: it drains, then leaves.
	waitFor(t, 5*time.Second, "web-1 gone", func() bool {
		_, there := healthStates(t, st, "web")[w1.srv.Listener.Addr().String()]
		return !there
	})
}

func TestApplyInvalidChangesNothing(t *testing.T) {
	w1 := newBackend(t, "web-1")
	st := start(t, albStack([]*backend{w1}, nil))
	addr, _ := st.Addr("demo", 80)
	bad := albStack([]*backend{w1}, nil)
	bad.LoadBalancers[0].Listeners[0].Rules[0].Priority = 0
	if err := st.Apply(bad); err == nil {
		t.Fatal("Apply accepted priority 0")
	}
	if code, body := get(t, "http://"+addr+"/tea"); code != 418 {
		t.Errorf("after a rejected Apply: %d %q", code, body)
	}
	// A group that cannot run (an instance target, with no Resolve) is
	// caught before the groups before it change.
	w2 := newBackend(t, "web-2")
	bad = albStack([]*backend{w1, w2}, nil)
	bad.TargetGroups[1].TargetType = elb.TargetTypeInstance
	bad.TargetGroups[1].Targets = []elb.Target{{ID: "i-0123456789abcdef0"}}
	if err := st.Apply(bad); err == nil || !strings.Contains(err.Error(), "Options.Resolve") {
		t.Fatalf("Apply with an instance target = %v", err)
	}
	if hs, _ := st.TargetHealth("web"); len(hs) != 1 {
		t.Errorf("web has %d targets after a rejected Apply, want 1", len(hs))
	}
}

func TestUnhealthyTargetIsAvoided(t *testing.T) {
	w1, w2 := newBackend(t, "web-1"), newBackend(t, "web-2")
	st := start(t, albStack([]*backend{w1, w2}, nil))
	addr, _ := st.Addr("demo", 80)
	waitFor(t, 5*time.Second, "web healthy", allHealthy(t, st, "web", 2))
	w2.srv.Close()
	w2addr := w2.srv.Listener.Addr().String()
	waitFor(t, 5*time.Second, "web-2 unhealthy", func() bool { return healthStates(t, st, "web")[w2addr] == "unhealthy" })
	hs, _ := st.TargetHealth("web")
	for _, h := range hs {
		if h.Addr == w2addr && (h.Reason == "" || h.Target.ID != "127.0.0.1") {
			t.Errorf("unhealthy target reported as %+v", h)
		}
	}
	for range 10 {
		if code, body := get(t, "http://"+addr+"/"); code != 200 || body != "web-1" {
			t.Fatalf("got %d %q, want 200 web-1", code, body)
		}
	}
}

func TestUnusedTargetGroup(t *testing.T) {
	w1 := newBackend(t, "web-1")
	s := albStack([]*backend{w1}, nil)
	s.TargetGroups[1].Targets = []elb.Target{w1.target()}                             // api: registered but...
	s.LoadBalancers[0].Listeners[0].Rules = s.LoadBalancers[0].Listeners[0].Rules[1:] // ...no rule forwards to it
	st := start(t, s)
	waitFor(t, 5*time.Second, "web healthy", allHealthy(t, st, "web", 1))
	hs, err := st.TargetHealth("api")
	if err != nil || len(hs) != 1 || hs[0].State != "unused" {
		t.Fatalf("api health = %+v, %v; want unused", hs, err)
	}
	if _, err := st.TargetHealth("nope"); err == nil {
		t.Error("TargetHealth of a missing group succeeded")
	}
}

// echoServer answers each line with name + ": " + line.
func echoServer(t *testing.T, name string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveEcho(t, ln, name)
	return ln
}

func serveEcho(t *testing.T, ln net.Listener, name string) {
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				r := bufio.NewScanner(c)
				for r.Scan() {
					fmt.Fprintf(c, "%s: %s\n", name, r.Text())
				}
			}()
		}
	}()
}

func nlbStack(tgName string, targets ...net.Listener) *elb.Stack {
	s := &elb.Stack{}
	tg := s.AddTargetGroup(elb.NewTargetGroup(tgName, elb.ProtocolTCP, 7, elb.TargetTypeIP))
	tg.VPCID = "vpc-1"
	tg.HealthCheck = elb.HealthCheck{IntervalSeconds: 5, TimeoutSeconds: 2, HealthyThreshold: 2, UnhealthyThreshold: 2}
	tg.Attributes.DeregistrationDelaySeconds = elb.Int(0)
	for _, ln := range targets {
		a := ln.Addr().(*net.TCPAddr)
		tg.Targets = append(tg.Targets, elb.Target{ID: a.IP.String(), Port: a.Port})
	}
	n := s.AddLoadBalancer(elb.NewNetworkLoadBalancer("echo"))
	n.Subnets = []string{"subnet-a"}
	n.AddListener(elb.ProtocolTCP, 7, elb.Forward(tg))
	return s
}

func echo(t *testing.T, addr, line string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintln(c, line)
	s, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(s)
}

func TestNLBTCPAndTargetGroupSwap(t *testing.T) {
	e1, e2 := echoServer(t, "one"), echoServer(t, "two")
	st := start(t, nlbStack("tcp-one", e1))
	addr, ok := st.Addr("echo", 7)
	if !ok {
		t.Fatal("no address for echo:7")
	}
	waitFor(t, 5*time.Second, "tcp-one healthy", allHealthy(t, st, "tcp-one", 1))
	if got := echo(t, addr, "hi"); got != "one: hi" {
		t.Fatalf("echo = %q", got)
	}
	// A connection open across the change keeps its target.
	held, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := st.Apply(nlbStack("tcp-two", e2)); err != nil {
		t.Fatal(err)
	}
	if got := echo(t, addr, "hi"); got != "two: hi" {
		t.Fatalf("after the swap, echo = %q", got)
	}
	if a2, _ := st.Addr("echo", 7); a2 != addr {
		t.Errorf("listener moved from %s to %s", addr, a2)
	}
}

func TestCloseIsIdempotentAndApplyAfterCloseFails(t *testing.T) {
	st, err := local.Start(context.Background(), albStack(nil, nil), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	st.Close()
	if err := st.Apply(albStack(nil, nil)); err != local.ErrClosed {
		t.Errorf("Apply after Close = %v", err)
	}
}

func TestStartFailsOnBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = local.Start(context.Background(), albStack(nil, nil), local.Options{
		Listen: func(*elb.LoadBalancer, *elb.Listener) string { return ln.Addr().String() },
	})
	if err == nil {
		t.Fatal("Start bound a busy port")
	}
}

func splitHostPort(a string) (string, int) {
	h, p, _ := net.SplitHostPort(a)
	n, _ := strconv.Atoi(p)
	return h, n
}

func newBenchBackend(b *testing.B) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	b.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// udpEcho answers each datagram with name + ": " + datagram.
func udpEcho(t *testing.T, name string) *net.UDPConn {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	serveUDPEcho(t, pc, name)
	return pc
}

func serveUDPEcho(t *testing.T, pc *net.UDPConn, name string) {
	done := make(chan struct{})
	t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFromUDP(buf)
			if err != nil {
				return
			}
			pc.WriteToUDP([]byte(name+": "+string(buf[:n])), from)
		}
	}()
}

func TestNLBUDP(t *testing.T) {
	u := udpEcho(t, "dns")
	s := &elb.Stack{}
	tg := s.AddTargetGroup(elb.NewTargetGroup("udp", elb.ProtocolUDP, 53, elb.TargetTypeIP))
	tg.VPCID = "vpc-1"
	tg.HealthCheck.Enabled = elb.Bool(false)
	a := u.LocalAddr().(*net.UDPAddr)
	tg.Targets = []elb.Target{{ID: a.IP.String(), Port: a.Port}}
	n := s.AddLoadBalancer(elb.NewNetworkLoadBalancer("dns"))
	n.Subnets = []string{"subnet-a"}
	n.AddListener(elb.ProtocolUDP, 53, elb.Forward(tg))
	st := start(t, s)
	addr, ok := st.Addr("dns", 53)
	if !ok {
		t.Fatal("no address for dns:53")
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("query"))
	buf := make([]byte, 100)
	k, err := c.Read(buf)
	if err != nil || string(buf[:k]) != "dns: query" {
		t.Fatalf("UDP answer %q, %v", buf[:k], err)
	}
	if hs, _ := st.TargetHealth("udp"); len(hs) != 1 || hs[0].State != "unavailable" {
		t.Errorf("health with checks disabled = %+v, want unavailable", hs)
	}
}

func TestHTTPSListener(t *testing.T) {
	w1 := newBackend(t, "web-1")
	s := albStack([]*backend{w1}, nil)
	s.LoadBalancers[0].Listeners[0].Protocol = elb.ProtocolHTTPS
	s.LoadBalancers[0].Listeners[0].Port = 443
	s.LoadBalancers[0].Listeners[0].Certificates = []string{"arn:aws:acm:us-east-1:123456789012:certificate/x"}
	st := start(t, s)
	addr, _ := st.Addr("demo", 443)
	waitFor(t, 5*time.Second, "web healthy", allHealthy(t, st, "web", 1))
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "web-1" || resp.TLS == nil {
		t.Errorf("HTTPS answer %q (TLS %v)", b, resp.TLS != nil)
	}
}

func TestApplyAddsAndRemovesListeners(t *testing.T) {
	w1 := newBackend(t, "web-1")
	st := start(t, albStack([]*backend{w1}, nil))
	s2 := albStack([]*backend{w1}, nil)
	s2.LoadBalancers[0].AddListener(elb.ProtocolHTTP, 8080, elb.FixedResponse(200, "", "second"))
	if err := st.Apply(s2); err != nil {
		t.Fatal(err)
	}
	addr, ok := st.Addr("demo", 8080)
	if !ok {
		t.Fatal("listener 8080 not started")
	}
	if code, body := get(t, "http://"+addr+"/"); code != 200 || body != "second" {
		t.Fatalf("listener 8080 answered %d %q", code, body)
	}
	if err := st.Apply(albStack([]*backend{w1}, nil)); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Addr("demo", 8080); ok {
		t.Error("listener 8080 still listed after removal")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("listener 8080 still accepts connections after removal")
	}
	if len(st.Listeners()) != 1 {
		t.Errorf("Listeners() = %v", st.Listeners())
	}
}

func TestMetrics(t *testing.T) {
	w1 := newBackend(t, "web-1")
	reg := prometheus.NewRegistry()
	st, err := local.Start(context.Background(), albStack([]*backend{w1}, nil), local.Options{TimeScale: 0.02, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	addr, _ := st.Addr("demo", 80)
	get(t, "http://"+addr+"/tea")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) == 0 {
		t.Fatal("no metrics gathered")
	}
	// A second stack on the same registry is refused, not silently merged.
	if _, err := local.Start(context.Background(), albStack(nil, nil), local.Options{Metrics: reg}); err == nil {
		t.Error("a second stack registered the same metrics")
	}
}

func TestNLBTCPUDP(t *testing.T) {
	// One target answering on TCP and UDP on the same port.
	ln, pc, err := lb.ListenTCPUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// Free the pair and bind it again with echo servers.
	pc.Close()
	ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	echoServerAt(t, "both", ln.Addr().String())
	udpEchoAt(t, "both", ln.Addr().String())
	s := &elb.Stack{}
	tg := s.AddTargetGroup(elb.NewTargetGroup("both", elb.ProtocolTCPUDP, 53, elb.TargetTypeIP))
	tg.VPCID = "vpc-1"
	tg.HealthCheck = elb.HealthCheck{Protocol: elb.ProtocolTCP, IntervalSeconds: 5, TimeoutSeconds: 2, HealthyThreshold: 2, UnhealthyThreshold: 2}
	tg.Targets = []elb.Target{{ID: "127.0.0.1", Port: port}}
	n := s.AddLoadBalancer(elb.NewNetworkLoadBalancer("dns"))
	n.Subnets = []string{"subnet-a"}
	n.AddListener(elb.ProtocolTCPUDP, 53, elb.Forward(tg))
	st := start(t, s)
	addr, _ := st.Addr("dns", 53)
	waitFor(t, 5*time.Second, "target healthy", allHealthy(t, st, "both", 1))
	if got := echo(t, addr, "tcp"); got != "both: tcp" {
		t.Errorf("TCP answer %q", got)
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("udp"))
	buf := make([]byte, 100)
	k, err := c.Read(buf)
	if err != nil || string(buf[:k]) != "both: udp" {
		t.Errorf("UDP answer %q, %v", buf[:k], err)
	}
}

func echoServerAt(t *testing.T, name, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot bind %s again: %v", addr, err)
	}
	serveEcho(t, ln, name)
	return ln
}

func udpEchoAt(t *testing.T, name, addr string) *net.UDPConn {
	t.Helper()
	ua, _ := net.ResolveUDPAddr("udp", addr)
	pc, err := net.ListenUDP("udp", ua)
	if err != nil {
		t.Skipf("cannot bind UDP %s: %v", addr, err)
	}
	serveUDPEcho(t, pc, name)
	return pc
}

func TestNLBTLSListener(t *testing.T) {
	e := echoServer(t, "tls-backend")
	s := nlbStack("tcp-tls", e)
	l := s.LoadBalancers[0].Listeners[0]
	l.Protocol, l.Port = elb.ProtocolTLS, 443
	l.Certificates = []string{"arn:aws:acm:us-east-1:123456789012:certificate/x"}
	st := start(t, s)
	addr, _ := st.Addr("echo", 443)
	waitFor(t, 5*time.Second, "target healthy", allHealthy(t, st, "tcp-tls", 1))
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintln(c, "hi")
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "tls-backend: hi" {
		t.Fatalf("TLS answer %q, %v", line, err)
	}
}
