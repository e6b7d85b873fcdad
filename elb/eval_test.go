package elb

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// routeListener is a listener whose rules exercise every condition type;
// each rule answers with a fixed response whose body names the rule.
func routeListener() *Listener {
	fr := func(name string) Action { return FixedResponse(200, ContentTypeTextPlain, name) }
	l := &Listener{Port: 80, Protocol: ProtocolHTTP, DefaultActions: []Action{FixedResponse(404, "", "default")}}
	l.AddRule(50, fr("api-host"), HostHeader("api.example.com"), PathPattern("/v1/*"))
	l.AddRule(10, fr("admin"), PathPattern("/admin/*"), SourceIP("10.0.0.0/8", "2001:db8::/32"))
	l.AddRule(20, fr("post-only"), HTTPRequestMethod("POST", "PUT"), PathPattern("/submit"))
	l.AddRule(30, fr("canary"), HTTPHeader("X-Canary", "yes", "tru?"))
	l.AddRule(40, fr("debug"), QueryString(QueryStringKeyValue{Key: "debug", Value: "on"}, QueryStringKeyValue{Value: `lit\*`}))
	l.AddRule(60, fr("wild-host"), HostHeader("*.example.org"))
	l.AddRule(70, fr("img"), PathPattern("/img/*.png", "/img/?.gif"))
	l.AddRule(5, fr("both-headers"), HTTPHeader("X-A", "1"), HTTPHeader("X-B", "2"))
	return l
}

func TestRoute(t *testing.T) {
	rt, err := NewRouter(routeListener())
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"default when nothing matches", Request{Method: "GET", Host: "x.com", Path: "/"}, "default"},
		{"host and path ANDed", Request{Method: "GET", Host: "api.example.com", Path: "/v1/users"}, "api-host"},
		{"host matches, path does not", Request{Method: "GET", Host: "api.example.com", Path: "/v2/users"}, "default"},
		{"host is case-insensitive and port is ignored", Request{Method: "GET", Host: "API.Example.COM:8080", Path: "/v1/x"}, "api-host"},
		{"path is case-sensitive", Request{Method: "GET", Host: "api.example.com", Path: "/V1/x"}, "default"},
		{"source ip in CIDR", Request{Method: "GET", Path: "/admin/x", SourceIP: ip("10.1.2.3")}, "admin"},
		{"source ip v4-mapped", Request{Method: "GET", Path: "/admin/x", SourceIP: ip("::ffff:10.1.2.3")}, "admin"},
		{"source ip v6", Request{Method: "GET", Path: "/admin/x", SourceIP: ip("2001:db8::1")}, "admin"},
		{"source ip outside", Request{Method: "GET", Path: "/admin/x", SourceIP: ip("192.168.1.1")}, "default"},
		{"source ip ignores X-Forwarded-For", Request{Method: "GET", Path: "/admin/x", SourceIP: ip("192.168.1.1"), Header: http.Header{"X-Forwarded-For": {"10.0.0.1"}}}, "default"},
		{"no source ip", Request{Method: "GET", Path: "/admin/x"}, "default"},
		{"method values ORed", Request{Method: "PUT", Path: "/submit"}, "post-only"},
		{"method is case-sensitive", Request{Method: "post", Path: "/submit"}, "default"},
		{"header value case-insensitive", Request{Method: "GET", Path: "/", Header: http.Header{"X-Canary": {"YES"}}}, "canary"},
		{"header value wildcard", Request{Method: "GET", Path: "/", Header: http.Header{"X-Canary": {"true"}}}, "canary"},
		{"header any of several values", Request{Method: "GET", Path: "/", Header: http.Header{"X-Canary": {"no", "yes"}}}, "canary"},
		{"header absent", Request{Method: "GET", Path: "/", Header: http.Header{}}, "default"},
		{"two header conditions ANDed", Request{Method: "GET", Path: "/", Header: http.Header{"X-A": {"1"}, "X-B": {"2"}}}, "both-headers"},
		{"two header conditions, one missing", Request{Method: "GET", Path: "/", Header: http.Header{"X-A": {"1"}}}, "default"},
		{"priority order, not insertion order", Request{Method: "GET", Path: "/", Header: http.Header{"X-A": {"1"}, "X-B": {"2"}, "X-Canary": {"yes"}}}, "both-headers"},
		{"query key/value", Request{Method: "GET", Path: "/", RawQuery: "a=1&debug=on"}, "debug"},
		{"query case-insensitive", Request{Method: "GET", Path: "/", RawQuery: "DEBUG=ON"}, "debug"},
		{"query percent-decoded", Request{Method: "GET", Path: "/", RawQuery: "de%62ug=o%6E"}, "debug"},
		{"query value-only pattern, any key", Request{Method: "GET", Path: "/", RawQuery: "x=lit*"}, "debug"},
		{"query escaped star is literal", Request{Method: "GET", Path: "/", RawQuery: "x=litX"}, "default"},
		{"query key without value", Request{Method: "GET", Path: "/", RawQuery: "debug"}, "default"},
		{"query is not the path", Request{Method: "GET", Path: "/", RawQuery: "p=/img/a.png"}, "default"},
		{"wildcard host", Request{Method: "GET", Host: "a.b.example.org", Path: "/"}, "wild-host"},
		{"path values ORed", Request{Method: "GET", Path: "/img/x.gif"}, "img"},
		{"path star spans slashes", Request{Method: "GET", Path: "/img/a/b/c.png"}, "img"},
		{"path ? is one char", Request{Method: "GET", Path: "/img/xy.gif"}, "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := rt.Route(&tt.req)
			got := m.Action().FixedResponse.MessageBody
			if got != tt.want {
				t.Errorf("Route = %q, want %q", got, tt.want)
			}
			if m.Default() != (tt.want == "default") {
				t.Errorf("Default() = %v", m.Default())
			}
		})
	}
}

func TestRouteHTTP(t *testing.T) {
	rt, err := NewRouter(routeListener())
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "http://api.example.com:8080/v1/a%2Fb?x=1", nil)
	r.RemoteAddr = "10.9.9.9:5555"
	if got := rt.RouteHTTP(r).Action().FixedResponse.MessageBody; got != "api-host" {
		t.Errorf("RouteHTTP = %q, want api-host", got)
	}
	r = httptest.NewRequest("GET", "http://x/admin/", nil)
	r.RemoteAddr = "10.9.9.9:5555"
	if got := rt.RouteHTTP(r).Action().FixedResponse.MessageBody; got != "admin" {
		t.Errorf("RouteHTTP with RemoteAddr in 10/8 = %q, want admin", got)
	}
}

func TestRouteActionsOrdered(t *testing.T) {
	tg := NewTargetGroup("web", ProtocolHTTP, 80, TargetTypeIP)
	l := &Listener{Protocol: ProtocolHTTPS, Port: 443, DefaultActions: []Action{Forward(tg)}}
	r := l.AddRule(1, Forward(tg), PathPattern("/*")).Authenticate(AuthenticateCognito(AuthenticateCognitoConfig{UserPoolARN: "arn:x", UserPoolClientID: "c", UserPoolDomain: "d"}))
	r.Actions[0].Order, r.Actions[1].Order = 1, 2
	r.Actions[0], r.Actions[1] = r.Actions[1], r.Actions[0] // forward listed first, runs last
	rt, err := NewRouter(l)
	if err != nil {
		t.Fatal(err)
	}
	m := rt.Route(&Request{Path: "/x"})
	if len(m.Actions) != 2 || m.Actions[0].Type != ActionAuthenticateCognito || m.Action().Type != ActionForward {
		t.Fatalf("actions not in Order: %+v", m.Actions)
	}
}

func TestNewRouterErrors(t *testing.T) {
	if _, err := NewRouter(&Listener{Protocol: ProtocolTCP, DefaultActions: []Action{FixedResponse(200, "", "")}}); err != ErrUnroutable {
		t.Errorf("TCP listener: err = %v, want ErrUnroutable", err)
	}
	if _, err := NewRouter(&Listener{Protocol: ProtocolHTTP}); err != ErrUnroutable {
		t.Errorf("no default action: err = %v, want ErrUnroutable", err)
	}
	l := &Listener{Protocol: ProtocolHTTP, DefaultActions: []Action{FixedResponse(200, "", "")}}
	l.AddRule(1, FixedResponse(200, "", ""), SourceIP("not-a-cidr"))
	_, err := NewRouter(l)
	if e := AsErrors(err).First(); e == nil || e.Code != CodeValidationError {
		t.Errorf("bad CIDR: err = %v, want a ValidationError", err)
	}
}

func TestRouteDoesNotAllocate(t *testing.T) {
	rt, req := benchRouter(100)
	r := httptest.NewRequest("GET", "http://svc-99.example.com/svc/99/x?v=1&debug=true", nil)
	r.Header.Set("X-Tenant", "t-99")
	if n := testing.AllocsPerRun(100, func() { rt.Route(req) }); n != 0 {
		t.Errorf("Route allocates %v times per call", n)
	}
	if n := testing.AllocsPerRun(100, func() { rt.RouteHTTP(r) }); n != 0 {
		t.Errorf("RouteHTTP allocates %v times per call", n)
	}
}

// benchRouter builds a listener with n rules of mixed conditions (host,
// path, method, header, query, source IP) and a request that matches the
// last rule only, so every rule is evaluated.
func benchRouter(n int) (*Router, *Request) {
	l, req := benchListener(n)
	rt, err := NewRouter(l)
	if err != nil {
		panic(err)
	}
	return rt, req
}

// benchListener is benchRouter's listener and request.
func benchListener(n int) (*Listener, *Request) {
	l := &Listener{Port: 80, Protocol: ProtocolHTTP, DefaultActions: []Action{FixedResponse(404, "", "")}}
	tg := NewTargetGroup("tg", ProtocolHTTP, 80, TargetTypeIP)
	for i := 0; i < n; i++ {
		var conds []Condition
		switch i % 5 {
		case 0:
			conds = []Condition{HostHeader(fmt.Sprintf("svc-%d.example.com", i)), PathPattern(fmt.Sprintf("/svc/%d/*", i))}
		case 1:
			conds = []Condition{PathPattern(fmt.Sprintf("/api/v%d/*", i), fmt.Sprintf("/legacy/%d/*.json", i)), HTTPRequestMethod("GET", "HEAD")}
		case 2:
			conds = []Condition{HTTPHeader("X-Tenant", fmt.Sprintf("t-%d", i)), HostHeader("*.example.com")}
		case 3:
			conds = []Condition{QueryString(QueryStringKeyValue{Key: "v", Value: fmt.Sprint(i)}), PathPattern("/q/*")}
		case 4:
			conds = []Condition{SourceIP(fmt.Sprintf("10.%d.0.0/16", i)), PathPattern("/internal/*")}
		}
		l.AddRule(i+1, Forward(tg), conds...)
	}
	// The last rule (n-1 = 99, kind 4) matches; all before it fail.
	l.Rules[n-1].Conditions = []Condition{HostHeader(fmt.Sprintf("svc-%d.example.com", n-1)), PathPattern(fmt.Sprintf("/svc/%d/*", n-1)), HTTPHeader("X-Tenant", "T-99"), QueryString(QueryStringKeyValue{Key: "debug", Value: "t*"})}
	req := &Request{
		Method: "GET", Host: fmt.Sprintf("svc-%d.example.com", n-1), Path: fmt.Sprintf("/svc/%d/x", n-1),
		RawQuery: "v=1&debug=true", Header: http.Header{"X-Tenant": {"t-99"}, "Accept": {"*/*"}},
		SourceIP: netip.MustParseAddr("192.0.2.10"),
	}
	return l, req
}

// BenchmarkRoute evaluates a request against a listener with 100 rules
// (ALB's quota) of mixed conditions; only the last one matches. Target:
// ≤ 1 µs/op, 0 allocs/op.
func BenchmarkRoute(b *testing.B) {
	rt, req := benchRouter(100)
	if m := rt.Route(req); m.Default() || m.Rule.Priority != 100 {
		b.Fatalf("bench request does not reach rule 100: %+v", m.Rule)
	}
	reportCPU(b, func() { rt.Route(req) })
}

// BenchmarkRouteHTTP is BenchmarkRoute through the *http.Request path.
func BenchmarkRouteHTTP(b *testing.B) {
	rt, _ := benchRouter(100)
	r := httptest.NewRequest("GET", "http://svc-99.example.com/svc/99/x?v=1&debug=true", nil)
	r.Header.Set("X-Tenant", "t-99")
	r.RemoteAddr = "192.0.2.10:4000"
	reportCPU(b, func() { rt.RouteHTTP(r) })
}

var calibSink uint64

// BenchmarkCalibrate is the same-run reference for BenchmarkRoute on a
// shared machine: a chain of 1000 dependent multiply-adds, about 4000
// cycles on any x86-64 (3-cycle imul + 1-cycle add), touching no memory.
// Route's cost in cycles is about 4000 × Route/Calibrate.
func BenchmarkCalibrate(b *testing.B) {
	reportCPU(b, func() {
		x := calibSink
		for i := 0; i < 1000; i++ {
			x = x*2862933555777941757 + 3037000493
		}
		calibSink = x
	})
}
