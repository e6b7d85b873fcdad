package lb_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbkit/lbkit/lb"
	"github.com/lbkit/lbkit/lb/lbtest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func quietTG(name string) lb.TargetGroupConfig {
	return lb.TargetGroupConfig{Name: name, Logger: slog.New(slog.DiscardHandler)}
}

func get(t *testing.T, c *http.Client, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func client(t *testing.T) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestHTTPForwardRoundRobin(t *testing.T) {
	bs := lbtest.NewBackends(t, 3)
	tg := lbtest.NewHTTPTargetGroup(t, quietTG("web"), bs...)
	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, nil)
	c := client(t)
	seen := map[string]int{}
	for i := 0; i < 30; i++ {
		res, body := get(t, c, url+"/x")
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		seen[body]++
	}
	for _, b := range bs {
		if seen[b.Name] != 10 {
			t.Errorf("round robin: %v", seen)
		}
	}
}

func TestHTTPHeaders(t *testing.T) { bothServers(t, testHTTPHeaders) }

func testHTTPHeaders(t *testing.T, std bool) {
	b := lbtest.NewBackend(t, "b", nil)
	tg := lbtest.NewHTTPTargetGroup(t, quietTG("h"), b)
	loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	tests := []struct {
		name    string
		proxy   *lb.HTTPProxy
		send    []string
		wantXFF string // "<absent>" for none
		check   func(t *testing.T, h http.Header)
	}{
		{name: "append untrusted replaces spoofed XFF", send: []string{"X-Forwarded-For", "6.6.6.6"}, wantXFF: "127.0.0.1"},
		{name: "append trusted extends", proxy: &lb.HTTPProxy{TrustedProxies: loop}, send: []string{"X-Forwarded-For", "6.6.6.6"}, wantXFF: "6.6.6.6, 127.0.0.1"},
		{name: "append with port", proxy: &lb.HTTPProxy{XFFClientPort: true}, wantXFF: "127.0.0.1:"},
		{name: "preserve", proxy: &lb.HTTPProxy{XFF: lb.XFFPreserve}, send: []string{"X-Forwarded-For", "6.6.6.6"}, wantXFF: "6.6.6.6"},
		{name: "remove", proxy: &lb.HTTPProxy{XFF: lb.XFFRemove}, send: []string{"X-Forwarded-For", "6.6.6.6"}, wantXFF: "<absent>"},
		{name: "proto and port rewritten for untrusted", send: []string{"X-Forwarded-Proto", "https", "X-Forwarded-Port", "443"}, wantXFF: "127.0.0.1",
			check: func(t *testing.T, h http.Header) {
				if h.Get("X-Forwarded-Proto") != "http" || h.Get("X-Forwarded-Port") == "443" {
					t.Errorf("proto/port = %q/%q", h.Get("X-Forwarded-Proto"), h.Get("X-Forwarded-Port"))
				}
			}},
		{name: "hop-by-hop removed", send: []string{"Connection", "X-Secret, keep-alive", "X-Secret", "1", "Keep-Alive", "timeout=5", "Proxy-Authorization", "x"}, wantXFF: "127.0.0.1",
			check: func(t *testing.T, h http.Header) {
				for _, k := range []string{"X-Secret", "Keep-Alive", "Proxy-Authorization", "Connection"} {
					if _, ok := h[k]; ok {
						t.Errorf("%s forwarded", k)
					}
				}
			}},
		{name: "trace id added", wantXFF: "127.0.0.1",
			check: func(t *testing.T, h http.Header) {
				if v := h.Get("X-Amzn-Trace-Id"); !strings.HasPrefix(v, "Root=1-") || len(v) != len("Root=1-")+8+1+24 {
					t.Errorf("trace id %q", v)
				}
			}},
		{name: "trace id kept", send: []string{"X-Amzn-Trace-Id", "Root=1-abc"}, wantXFF: "127.0.0.1",
			check: func(t *testing.T, h http.Header) {
				if v := h.Get("X-Amzn-Trace-Id"); v != "Root=1-abc" {
					t.Errorf("trace id %q", v)
				}
			}},
		{name: "trace id disabled", proxy: &lb.HTTPProxy{TraceHeader: "-"}, wantXFF: "127.0.0.1",
			check: func(t *testing.T, h http.Header) {
				if _, ok := h["X-Amzn-Trace-Id"]; ok {
					t.Error("trace id added")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.proxy
			if p == nil {
				p = &lb.HTTPProxy{}
			}
			p.Router = lb.ForwardTo(tg)
			url := lbtest.StartProxy(t, p, &lb.HTTPListener{StdServer: std})
			res, _ := get(t, client(t), url, tt.send...)
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			h := b.LastRequest().Header
			xff, ok := h["X-Forwarded-For"]
			switch {
			case tt.wantXFF == "<absent>":
				if ok {
					t.Errorf("XFF %q forwarded", xff)
				}
			case !ok || !strings.HasPrefix(strings.Join(xff, ","), tt.wantXFF):
				t.Errorf("XFF = %q, want %q", xff, tt.wantXFF)
			case !strings.HasSuffix(tt.wantXFF, ":") && strings.Join(xff, ",") != tt.wantXFF:
				t.Errorf("XFF = %q, want %q", xff, tt.wantXFF)
			}
			if tt.check != nil {
				tt.check(t, h)
			}
		})
	}
}

func TestHTTPRedirectAndFixed(t *testing.T) {
	actions := map[string]lb.HTTPAction{
		"/r1": &lb.RedirectAction{Protocol: "HTTPS", Port: "443", Permanent: true},
		"/r2": &lb.RedirectAction{Host: "new.example.com", Path: "/v2/#{path}", Query: "from=#{host}&#{query}"},
		"/r3": &lb.RedirectAction{Port: "8443", Protocol: "HTTPS"},
		"/f":  &lb.FixedResponseAction{StatusCode: 418, ContentType: "application/json", Body: `{"teapot":true}`},
	}
	router := lb.HTTPRouterFunc(func(r *http.Request) lb.HTTPAction { return actions[r.URL.Path] })
	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: router}, nil)
	tests := []struct {
		path, wantLoc string
		wantCode      int
	}{
		{"/r1?a=1", "https://example.com/r1?a=1", 301},
		{"/r2?a=1", "http://new.example.com:PORT/v2/r2?from=example.com&a=1", 302},
		{"/r3", "https://example.com:8443/r3", 302},
		{"/nothing", "", 503},
	}
	c := client(t)
	port := url[strings.LastIndexByte(url, ':')+1:]
	for _, tt := range tests {
		tt.wantLoc = strings.ReplaceAll(tt.wantLoc, "PORT", port)
		res, _ := get(t, c, url+tt.path, "Host", "example.com")
		if res.StatusCode != tt.wantCode || res.Header.Get("Location") != tt.wantLoc {
			t.Errorf("%s: %d %q, want %d %q", tt.path, res.StatusCode, res.Header.Get("Location"), tt.wantCode, tt.wantLoc)
		}
	}
	res, body := get(t, c, url+"/f")
	if res.StatusCode != 418 || res.Header.Get("Content-Type") != "application/json" || body != `{"teapot":true}` {
		t.Errorf("fixed response: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	for _, bad := range []interface{ Validate() error }{
		&lb.RedirectAction{Protocol: "ftp"}, &lb.RedirectAction{Path: "x"}, &lb.RedirectAction{Query: "?a"},
		&lb.FixedResponseAction{StatusCode: 302}, &lb.FixedResponseAction{Body: strings.Repeat("x", 1025)},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v validated", bad)
		}
	}
}

// closedAddr returns a loopback address nobody listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// rawBackend accepts connections and hands each to f.
func rawBackend(t *testing.T, f func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); f(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

func readRequestHead(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		l, err := br.ReadString('\n')
		if err != nil || l == "\r\n" {
			return
		}
	}
}

func TestHTTPErrors(t *testing.T) {
	garbage := rawBackend(t, func(c net.Conn) { readRequestHead(c); io.WriteString(c, "NOT HTTP\r\n\r\n") })
	reset := rawBackend(t, func(c net.Conn) {
		readRequestHead(c)
		c.(*net.TCPConn).SetLinger(0)
	})
	slowDone := make(chan struct{})
	slow := lbtest.NewBackend(t, "slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-slowDone:
		}
	}))
	t.Cleanup(func() { close(slowDone) })
	tests := []struct {
		name    string
		targets []string
		method  string
		want    int
	}{
		{"no targets", nil, "GET", 503},
		{"connection refused", []string{closedAddr(t)}, "GET", 502},
		{"garbage answer", []string{garbage}, "GET", 502},
		{"reset", []string{reset}, "GET", 502},
		{"reset POST", []string{reset}, "POST", 502},
		{"timeout", []string{slow.Addr()}, "GET", 504},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := lbtest.NewHTTPTargetGroup(t, quietTG("e"))
			for _, a := range tt.targets {
				tg.Register(lb.Target{Addr: a})
			}
			url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg), TargetTimeout: 200 * time.Millisecond, ErrorLog: slog.New(slog.DiscardHandler)}, nil)
			req, _ := http.NewRequest(tt.method, url, strings.NewReader("body"))
			res, err := client(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.want {
				t.Errorf("status %d, want %d", res.StatusCode, tt.want)
			}
		})
	}
}

func TestHTTPRetries(t *testing.T) {
	var resets atomic.Int64
	reset := rawBackend(t, func(c net.Conn) {
		resets.Add(1)
		readRequestHead(c)
		c.(*net.TCPConn).SetLinger(0)
	})
	good := lbtest.NewBackend(t, "good", nil)
	tests := []struct {
		name       string
		bad        string
		method     string
		body       string
		want       int
		wantResets bool
	}{
		{"dial error retried", closedAddr(t), "POST", "payload", 200, false},
		{"GET after reset retried", reset, "GET", "", 200, true},
		{"POST after reset not retried", reset, "POST", "payload", 502, true},
		{"PUT after reset retried with its buffered body", reset, "PUT", "payload", 200, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resets.Store(0)
			// Hash key routing pins the first attempt to the bad target.
			tg := lbtest.NewHTTPTargetGroup(t, quietTG("r"))
			tg.Register(lb.Target{Addr: tt.bad}, lb.Target{Addr: good.Addr()})
			url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg), ErrorLog: slog.New(slog.DiscardHandler)}, nil)
			c := client(t)
			var got502, got200 int
			for i := 0; i < 10; i++ {
				var body io.Reader
				if tt.body != "" {
					body = strings.NewReader(tt.body)
				}
				req, _ := http.NewRequest(tt.method, url, body)
				res, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				switch res.StatusCode {
				case 200:
					got200++
				case 502:
					got502++
				default:
					t.Fatalf("status %d", res.StatusCode)
				}
			}
			if tt.want == 200 && got502 > 0 {
				t.Errorf("%d requests failed, want all retried", got502)
			}
			if tt.want == 502 && got502 == 0 {
				t.Errorf("no request failed: a non-idempotent request was retried")
			}
			if tt.wantResets && resets.Load() == 0 {
				t.Errorf("the bad target was never tried")
			}
		})
	}
}

func TestHTTPStickiness(t *testing.T) {
	bs := lbtest.NewBackends(t, 3)
	tg := lbtest.NewHTTPTargetGroup(t, quietTG("s"), bs...)
	tg.Stickiness = lb.HTTPStickiness{Type: lb.StickinessLBCookie, Duration: time.Hour}
	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, nil)
	c := client(t)
	res, first := get(t, c, url)
	var cookie string
	for _, ck := range res.Cookies() {
		if ck.Name == "AWSALB" {
			cookie = ck.Value
		}
	}
	if cookie == "" {
		t.Fatal("no AWSALB cookie")
	}
	for i := 0; i < 10; i++ {
		_, body := get(t, c, url, "Cookie", "AWSALB="+cookie)
		if body != first {
			t.Fatalf("sticky request went to %s, first went to %s", body, first)
		}
	}
	// The target leaves: the cookie no longer binds.
	for _, b := range bs {
		if b.Name == first {
			tg.Deregister(b.Addr())
		}
	}
	if _, body := get(t, c, url, "Cookie", "AWSALB="+cookie); body == first {
		t.Fatal("request stuck to a deregistered target")
	}
}

func TestHTTPWeightedGroupsWithStickiness(t *testing.T) {
	blue := lbtest.NewHTTPTargetGroup(t, quietTG("blue"), lbtest.NewBackend(t, "blue", nil))
	green := lbtest.NewHTTPTargetGroup(t, quietTG("green"), lbtest.NewBackend(t, "green", nil))
	action := &lb.ForwardAction{Groups: []lb.WeightedGroup{{Group: blue, Weight: 80}, {Group: green, Weight: 20}}, Stickiness: time.Hour}
	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.HTTPRouterFunc(func(*http.Request) lb.HTTPAction { return action })}, nil)
	c := client(t)
	counts := map[string]int{}
	const n = 500
	for i := 0; i < n; i++ {
		_, body := get(t, c, url)
		counts[body]++
	}
	if g := float64(counts["green"]) / n; g < 0.12 || g > 0.28 {
		t.Errorf("green share %.2f, want about 0.20", g)
	}
	res, body := get(t, c, url)
	var ck string
	for _, k := range res.Cookies() {
		if k.Name == "AWSALBTG" {
			ck = k.Value
		}
	}
	if ck != body {
		t.Fatalf("group cookie %q for a response from %q", ck, body)
	}
	for i := 0; i < 20; i++ {
		if _, b := get(t, c, url, "Cookie", "AWSALBTG="+ck); b != body {
			t.Fatalf("group stickiness broken: %s then %s", body, b)
		}
	}
}

func TestHTTPUpgrade(t *testing.T) { bothServers(t, testHTTPUpgrade) }

func testHTTPUpgrade(t *testing.T, std bool) {
	// A backend that speaks a toy upgraded protocol: it echoes lines.
	echo := lbtest.NewBackend(t, "ws", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "want upgrade", 400)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		brw.Flush()
		for {
			l, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			brw.WriteString("echo " + l)
			brw.Flush()
		}
	}))
	tg := lbtest.NewHTTPTargetGroup(t, quietTG("ws"), echo)
	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, &lb.HTTPListener{StdServer: std})
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 101 || res.Header.Get("Upgrade") != "echo" {
		t.Fatalf("upgrade answer %d %v", res.StatusCode, res.Header)
	}
	for i := 0; i < 3; i++ {
		fmt.Fprintf(conn, "hello %d\n", i)
		l, err := br.ReadString('\n')
		if err != nil || l != fmt.Sprintf("echo hello %d\n", i) {
			t.Fatalf("echo: %q %v", l, err)
		}
	}
}

func TestHTTPSListenerSNIAndH2(t *testing.T) {
	b := lbtest.NewBackend(t, "b", nil)
	tg := lbtest.NewHTTPTargetGroup(t, quietTG("tls"), b)
	certA, certB := lbtest.Certificate(t, "a.example"), lbtest.Certificate(t, "b.example")
	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, &lb.HTTPListener{Certificates: []tls.Certificate{certA, certB}})
	for _, name := range []string{"a.example", "b.example"} {
		tr := &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: name}}
		c := &http.Client{Transport: tr}
		res, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		tr.CloseIdleConnections()
		if got := res.TLS.PeerCertificates[0].Subject.CommonName; got != name {
			t.Errorf("SNI %s got certificate %s", name, got)
		}
		if res.ProtoMajor != 2 {
			t.Errorf("protocol %s, want HTTP/2", res.Proto)
		}
		if h := b.LastRequest().Header; h.Get("X-Forwarded-Proto") != "https" {
			t.Errorf("X-Forwarded-Proto %q", h.Get("X-Forwarded-Proto"))
		}
	}
}

// TestHTTPGRPCStyleH2C: an h2c client, an h2c listener and an h2c target
// group pass a streamed body and trailers through, as gRPC needs.
func TestHTTPGRPCStyleH2C(t *testing.T) {
	backend := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			http.Error(w, "want h2", 400)
			return
		}
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status")
		w.WriteHeader(200)
		w.Write(bytes.ToUpper(b))
		w.Header().Set("Grpc-Status", "0")
	}), Protocols: new(http.Protocols)}
	backend.Protocols.SetUnencryptedHTTP2(true)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go backend.Serve(ln)
	t.Cleanup(func() { backend.Close() })

	tg := lbtest.NewHTTPTargetGroup(t, quietTG("grpc"))
	tg.Version = lb.GRPC
	tg.Register(lb.Target{Addr: ln.Addr().String()})
	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, &lb.HTTPListener{H2C: true})

	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("POST", url+"/pkg.Svc/Method", strings.NewReader("ping"))
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.ProtoMajor != 2 || string(body) != "PING" || res.Trailer.Get("Grpc-Status") != "0" {
		t.Fatalf("proto %s body %q trailer %v", res.Proto, body, res.Trailer)
	}
}

func TestHTTPAccessLogAndMetrics(t *testing.T) {
	b := lbtest.NewBackend(t, "b", nil)
	tg := lbtest.NewHTTPTargetGroup(t, quietTG("obs"), b)
	reg := prometheus.NewRegistry()
	m, err := lb.NewHTTPMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	var logBuf syncBuffer
	p := &lb.HTTPProxy{Router: lb.ForwardTo(tg), Metrics: m, Name: "app/test", AccessLog: slog.New(slog.NewJSONHandler(&logBuf, nil))}
	url := lbtest.StartProxy(t, p, &lb.HTTPListener{Metrics: m})
	c := client(t)
	for i := 0; i < 3; i++ {
		get(t, c, url+"/a?b=c", "User-Agent", "test-agent")
	}
	if v := gathered(t, reg, "lbkit_http_requests_total", "obs"); v != 3 {
		t.Errorf("requests = %v", v)
	}
	n, err := testutil.GatherAndCount(reg, "lbkit_http_target_responses_total", "lbkit_target_group_targets", "lbkit_http_target_response_seconds", "lbkit_http_new_connections_total")
	if err != nil || n == 0 {
		t.Errorf("gathered %d series: %v", n, err)
	}
	lines := strings.Split(strings.TrimSpace(logBuf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d access log lines", len(lines))
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"type": "http", "elb": "app/test", "target:port": b.Addr(), "elb_status_code": 200.0, "target_status_code": "200", "user_agent": "test-agent", "target_group": "obs", "actions_executed": "forward"}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("access log %s = %v, want %v", k, rec[k], v)
		}
	}
	if r, _ := rec["request"].(string); !strings.HasPrefix(r, "GET http://127.0.0.1:") || !strings.HasSuffix(r, "/a?b=c HTTP/1.1") {
		t.Errorf("request field %q", r)
	}
	m.ForgetTargetGroup(tg.TargetGroup)
	if v := gathered(t, reg, "lbkit_http_requests_total", "obs"); v != -1 {
		t.Errorf("forgotten group still exported: %v", v)
	}
}

// gathered returns the value of the series of metric name whose
// target_group label is group.
func gathered(t *testing.T, reg *prometheus.Registry, name, group string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "target_group" && l.GetValue() == group {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return -1
}

// syncBuffer is a bytes.Buffer safe for a logger and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
