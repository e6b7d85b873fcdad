package lb_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lbkit/lbkit/healthcheck"
	"github.com/lbkit/lbkit/lb"
	"github.com/lbkit/lbkit/lb/lbtest"
	"github.com/lbkit/lbkit/proxyproto"
)

// A listener behind an NLB (or HAProxy) takes the client address from the
// PROXY protocol header: X-Forwarded-For carries it, not the peer's.
func TestHTTPProxyProtocolListener(t *testing.T) {
	b := lbtest.NewBackend(t, "b", nil)
	tg := lbtest.NewHTTPTargetGroup(t, quietTG("pp"), b)
	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, &lb.HTTPListener{
		WrapListener: func(ln net.Listener) net.Listener { return &proxyproto.Listener{Listener: ln} },
	})
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "PROXY TCP4 203.0.113.7 127.0.0.1 40000 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got := b.LastRequest().Header.Get("X-Forwarded-For"); got != "203.0.113.7" {
		t.Errorf("X-Forwarded-For %q, want the PROXY header's source", got)
	}
}

// Passive outlier detection: a target answering 500s is ejected after
// Consecutive5xx failures, from real request results.
func TestHTTPOutlierEjection(t *testing.T) {
	good := lbtest.NewBackends(t, 2)
	bad := lbtest.NewBackend(t, "bad", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	hc := healthcheck.DefaultConfig(healthcheck.HTTP)
	hc.Disabled = true // no active checks: targets are routable ("unavailable")
	od := healthcheck.DefaultOutlierConfig()
	od.Consecutive5xx = 3
	od.BaseEjectionTime, od.MaxEjectionTime = time.Hour, time.Hour
	cfg := quietTG("od")
	cfg.HealthCheck = &hc
	cfg.HealthOptions.Outlier = &od
	tg := lbtest.NewHTTPTargetGroup(t, cfg, append(good, bad)...)
	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, nil)
	c := client(t)
	waitFor(t, "bad to be ejected", func() bool {
		get(t, c, url)
		return tg.Counts()[lb.HealthUnhealthy] == 1
	})
	for i := 0; i < 30; i++ {
		if res, body := get(t, c, url); res.StatusCode != 200 || body == "bad" {
			t.Fatalf("request after ejection: %d %q", res.StatusCode, body)
		}
	}
}

func TestHTTPAppCookieStickiness(t *testing.T) {
	var bs []*lbtest.Backend
	for _, name := range []string{"a", "b", "c"} {
		name := name
		bs = append(bs, lbtest.NewBackend(t, name, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := r.Cookie("SESSION"); err != nil {
				http.SetCookie(w, &http.Cookie{Name: "SESSION", Value: name})
			}
			io.WriteString(w, name)
		})))
	}
	tg := lbtest.NewHTTPTargetGroup(t, quietTG("app"), bs...)
	tg.Stickiness = lb.HTTPStickiness{Type: lb.StickinessAppCookie, CookieName: "SESSION"}
	if err := tg.Validate(); err != nil {
		t.Fatal(err)
	}
	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, nil)
	c := client(t)
	res, first := get(t, c, url)
	var app string
	for _, ck := range res.Cookies() {
		if ck.Name == "AWSALBAPP-0" {
			app = ck.Value
		}
	}
	if app == "" {
		t.Fatal("no AWSALBAPP-0 cookie after the application set its cookie")
	}
	for i := 0; i < 10; i++ {
		if _, body := get(t, c, url, "Cookie", "SESSION="+first+"; AWSALBAPP-0="+app); body != first {
			t.Fatalf("app-cookie request went to %s, session is on %s", body, first)
		}
	}
	bad := &lb.HTTPTargetGroup{TargetGroup: tg.TargetGroup, Stickiness: lb.HTTPStickiness{Type: lb.StickinessAppCookie, CookieName: "AWSALBTG"}}
	if bad.Validate() == nil {
		t.Error("reserved app cookie name accepted")
	}
}

// ALB answers 463 when X-Forwarded-For holds more than 30 addresses.
func TestHTTPTooManyForwardedFor(t *testing.T) {
	b := lbtest.NewBackend(t, "b", nil)
	tg := lbtest.NewHTTPTargetGroup(t, quietTG("463"), b)
	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg), XFF: lb.XFFPreserve}, nil)
	long := strings.TrimSuffix(strings.Repeat("10.0.0.1, ", 31), ", ")
	if res, _ := get(t, client(t), url, "X-Forwarded-For", long); res.StatusCode != 463 {
		t.Errorf("status %d, want 463", res.StatusCode)
	}
	if b.Requests.Load() != 0 {
		t.Error("request forwarded")
	}
}

// HTTPS targets (self-signed, not verified, as ELB does), over HTTP/1.1
// and HTTP/2.
func TestHTTPSTargets(t *testing.T) {
	for _, v := range []lb.HTTPVersion{lb.HTTP1, lb.HTTP2} {
		t.Run(v.String(), func(t *testing.T) {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, "%s tls=%v", r.Proto, r.TLS != nil)
			}))
			srv.EnableHTTP2 = true
			srv.StartTLS()
			t.Cleanup(srv.Close)
			tg := lbtest.NewHTTPTargetGroup(t, quietTG("tls-targets"))
			tg.TLS, tg.Version = true, v
			tg.Register(lb.Target{Addr: srv.Listener.Addr().String()})
			url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, nil)
			res, body := get(t, client(t), url)
			want := "HTTP/1.1 tls=true"
			if v == lb.HTTP2 {
				want = "HTTP/2.0 tls=true"
			}
			if res.StatusCode != 200 || body != want {
				t.Fatalf("%d %q, want %q", res.StatusCode, body, want)
			}
		})
	}
}
