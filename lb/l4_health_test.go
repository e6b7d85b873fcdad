package lb

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/lbkit/lbkit/healthcheck"
	"github.com/lbkit/lbkit/proxyproto"
)

// fastHealth is an NLB-style check at test speed (AWS's limits would
// make a test wait 10 s for a verdict).
func fastHealth(p healthcheck.Protocol) (*healthcheck.Config, *healthcheck.Limits) {
	c := NLBHealthCheck(p)
	// Timeouts generous enough for a loaded machine under -race.
	c.Interval, c.Timeout = 200*time.Millisecond, 150*time.Millisecond
	c.HealthyThreshold, c.UnhealthyThreshold = 2, 2
	return c, &healthcheck.Limits{
		MinInterval: time.Millisecond, MaxInterval: time.Hour,
		MinTimeout: time.Millisecond, MaxTimeout: time.Hour,
		MinThreshold: 1, MaxThreshold: 10,
		MaxDeregistrationDelay: time.Hour,
	}
}

// bufferedConn reads what a bufio.Reader already holds before the rest of
// the connection.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

func healthOf(tg *TargetGroup, addr string) Health {
	for _, ts := range tg.Targets() {
		if ts.Addr == addr {
			return ts.Health
		}
	}
	return HealthDraining
}

// TestL4HealthChecksSendLocalHeader: with proxy_protocol_v2 on, TCP,
// HTTP and HTTPS health checks start with a PROXY v2 LOCAL header (a
// target that requires the header accepts them and passes them), while
// client connections carry PROXY with the client's address.
func TestL4HealthChecksSendLocalHeader(t *testing.T) {
	pki := newTestPKI(t)
	cert := pki.leaf(t, "127.0.0.1")
	for _, proto := range []healthcheck.Protocol{healthcheck.TCP, healthcheck.HTTP, healthcheck.HTTPS} {
		t.Run(string(proto), func(t *testing.T) {
			cmds := make(chan proxyproto.Command, 100)
			target := startL4Target(t, func(c *net.TCPConn) {
				br := bufio.NewReader(c)
				var h proxyproto.Header
				if err := proxyproto.Read(br, &h); err != nil {
					return // no header: refuse, as a PROXY-only server does
				}
				select {
				case cmds <- h.Command:
				default:
				}
				if h.Command == proxyproto.Local && proto != healthcheck.TCP {
					var rw io.ReadWriter = struct {
						io.Reader
						io.Writer
					}{br, c}
					if proto == healthcheck.HTTPS {
						// The TLS handshake follows the header.
						tc := tls.Server(bufferedConn{c, br}, &tls.Config{Certificates: []tls.Certificate{cert}})
						if tc.Handshake() != nil {
							return
						}
						defer tc.Close()
						rw = tc
					}
					if req, err := http.ReadRequest(bufio.NewReader(rw)); err == nil {
						req.Body.Close()
						io.WriteString(rw, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
					}
					return
				}
				if h.Command == proxyproto.Proxy {
					io.Copy(c, br)
					c.CloseWrite()
				}
			})
			hc, limits := fastHealth(proto)
			checker, err := NewL4HealthChecker(*hc, true)
			if err != nil {
				t.Fatal(err)
			}
			tg := newTestTG(t, TargetGroupConfig{HealthCheck: hc, HealthOptions: healthcheck.Options{Checker: checker, Limits: limits}}, target.addr)
			waitFor(t, 10*time.Second, "the target to pass its health checks", func() bool { return healthOf(tg, target.addr) == HealthHealthy })
			if cmd := <-cmds; cmd != proxyproto.Local {
				t.Fatalf("health check connection sent %v, want LOCAL", cmd)
			}
			addr := serveTCP(t, &TCPProxy{TargetGroup: tg, ProxyProtocolV2: true})
			c := dialTCP(t, addr)
			defer c.Close()
			c.Write([]byte("data"))
			c.CloseWrite()
			b, err := io.ReadAll(c)
			if err != nil || string(b) != "data" {
				t.Fatalf("client connection through a PROXY-only target: %q, %v", b, err)
			}
		})
	}
}

// TestL4UnhealthyConnectionTermination: when a target's health checks
// fail (its listener is gone, its established connections are not), NLB
// resets its connections by default, and keeps them with
// KeepConnections.
func TestL4UnhealthyConnectionTermination(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy UnhealthyPolicy
		reset  bool
	}{
		{"default terminates", UnhealthyPolicy{}, true},
		{"keep connections", UnhealthyPolicy{KeepConnections: true}, false},
		{"keep, then drain interval", UnhealthyPolicy{KeepConnections: true, DrainingInterval: 50 * time.Millisecond}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := startL4Target(t, echoHandler)
			b := startL4Target(t, echoHandler)
			hc, limits := fastHealth(healthcheck.TCP)
			tg := newTestTG(t, TargetGroupConfig{HealthCheck: hc, HealthOptions: healthcheck.Options{Limits: limits}}, a.addr, b.addr)
			waitFor(t, 10*time.Second, "both targets healthy", func() bool {
				return healthOf(tg, a.addr) == HealthHealthy && healthOf(tg, b.addr) == HealthHealthy
			})
			p := &TCPProxy{TargetGroup: tg, Unhealthy: tc.policy}
			addr := serveTCP(t, p)
			// Open connections until one lands on a.
			var onA *net.TCPConn
			for i := 0; onA == nil && i < 200; i++ {
				c := dialTCP(t, addr)
				defer c.Close()
				echoOnce(t, c)
				if p.ActiveConns(a.addr) > 0 {
					onA = c
				}
			}
			if onA == nil {
				t.Fatal("no connection landed on target a")
			}
			a.ln.Close() // checks now fail; the established connection lives on
			waitFor(t, 10*time.Second, "target a unhealthy", func() bool { return healthOf(tg, a.addr) == HealthUnhealthy })
			if tc.reset {
				waitFor(t, 10*time.Second, "a's connection to be reset", func() bool { return p.ActiveConns(a.addr) == 0 })
				onA.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := onA.Read(make([]byte, 1)); err == nil {
					t.Fatal("read on a reset connection succeeded")
				}
				return
			}
			echoOnce(t, onA)
			if p.ActiveConns(a.addr) != 1 {
				t.Fatal("connection to the unhealthy target was closed")
			}
		})
	}
}

// TestL4UnhealthyDrainingFromMonitor: with the health check's
// KeepUnhealthyConnections and UnhealthyDrainingInterval (NLB's
// connection_termination.enabled=false, draining_interval_seconds), a
// failing target is unhealthy.draining — no new connections, its
// established one kept — and its connection is reset once it is unhealthy.
func TestL4UnhealthyDrainingFromMonitor(t *testing.T) {
	a := startL4Target(t, echoHandler)
	b := startL4Target(t, echoHandler)
	hc, limits := fastHealth(healthcheck.TCP)
	// Long enough to check the kept connection on a loaded machine.
	hc.KeepUnhealthyConnections, hc.UnhealthyDrainingInterval = true, 5*time.Second
	tg := newTestTG(t, TargetGroupConfig{HealthCheck: hc, HealthOptions: healthcheck.Options{Limits: limits}}, a.addr, b.addr)
	waitFor(t, 10*time.Second, "both targets healthy", func() bool {
		return healthOf(tg, a.addr) == HealthHealthy && healthOf(tg, b.addr) == HealthHealthy
	})
	p := &TCPProxy{TargetGroup: tg} // default policy: terminate
	addr := serveTCP(t, p)
	var onA *net.TCPConn
	for i := 0; onA == nil && i < 200; i++ {
		c := dialTCP(t, addr)
		defer c.Close()
		echoOnce(t, c)
		if p.ActiveConns(a.addr) > 0 {
			onA = c
		}
	}
	if onA == nil {
		t.Fatal("no connection landed on target a")
	}
	state := func() healthcheck.State { return tg.HealthMonitor().Health(healthcheck.Target{Addr: a.addr}).State }
	a.ln.Close()
	waitFor(t, 10*time.Second, "target a unhealthy.draining", func() bool { return state() == healthcheck.StateUnhealthyDraining })
	if healthOf(tg, a.addr) != HealthUnhealthy {
		t.Fatalf("unhealthy.draining target is %v to the group", healthOf(tg, a.addr))
	}
	echoOnce(t, onA) // kept while draining
	if state() != healthcheck.StateUnhealthyDraining {
		t.Skip("draining ended before the kept connection was checked (loaded machine)")
	}
	if p.ActiveConns(a.addr) != 1 {
		t.Fatal("connection to the unhealthy.draining target was closed")
	}
	for range 20 { // no new connections go to a
		c := dialTCP(t, addr)
		echoOnce(t, c)
		c.Close()
	}
	if n := p.ActiveConns(a.addr); n > 1 {
		t.Fatalf("%d connections on the unhealthy.draining target", n)
	}
	waitFor(t, 10*time.Second, "target a unhealthy", func() bool { return state() == healthcheck.StateUnhealthy })
	waitFor(t, 10*time.Second, "a's connection to be reset", func() bool { return p.ActiveConns(a.addr) == 0 })
	onA.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := onA.Read(make([]byte, 1)); err == nil {
		t.Fatal("read on a reset connection succeeded")
	}
}

func echoOnce(t *testing.T, c *net.TCPConn) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Time{})
}

// TestL4FailOpen: when every target fails its health checks (here: the
// checks go to a port where nothing listens), NLB fails open and routes to
// all of them; connections still go through and are not reset.
func TestL4FailOpen(t *testing.T) {
	target := startL4Target(t, echoHandler)
	hc, limits := fastHealth(healthcheck.TCP)
	hc.Port = net.TCPAddrFromAddrPort(mustAP(refusingAddr(t))).Port
	tg := newTestTG(t, TargetGroupConfig{HealthCheck: hc, HealthOptions: healthcheck.Options{Limits: limits}}, target.addr)
	waitFor(t, 10*time.Second, "the target to fail its checks", func() bool { return healthOf(tg, target.addr) == HealthUnhealthy })
	if !tg.FailingOpen() {
		t.Fatal("group with no healthy target is not failing open")
	}
	addr := serveTCP(t, &TCPProxy{TargetGroup: tg})
	c := dialTCP(t, addr)
	defer c.Close()
	echoOnce(t, c)
}
