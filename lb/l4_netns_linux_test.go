//go:build linux

package lb

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/lbkit/lbkit/balancer"
	"github.com/lbkit/lbkit/internal/netns"
	"github.com/lbkit/lbkit/internal/testenv"
)

// transparentTopology builds client — lb — target namespaces. The lb
// namespace delivers everything that arrives from the target side locally
// (policy routing table 100), which is what lets a transparent socket
// bound to the client's address receive the target's replies.
func transparentTopology(t *testing.T) (client, lbns, target *netns.NS) {
	testenv.MustBeRoot(t, "creates network namespaces and uses IP_TRANSPARENT")
	testenv.MustHaveProgram(t, "ip", "iproute2")
	client, lbns, target = netns.New(t, "c"), netns.New(t, "lb"), netns.New(t, "t")
	netns.Veth(t, client, "eth0", lbns, "to-c")
	netns.Veth(t, target, "eth0", lbns, "to-t")
	client.MustIP(t, "addr", "add", "10.77.1.2/24", "dev", "eth0")
	client.MustIP(t, "route", "add", "default", "via", "10.77.1.1")
	lbns.MustIP(t, "addr", "add", "10.77.1.1/24", "dev", "to-c")
	lbns.MustIP(t, "addr", "add", "10.77.2.1/24", "dev", "to-t")
	target.MustIP(t, "addr", "add", "10.77.2.2/24", "dev", "eth0")
	target.MustIP(t, "route", "add", "default", "via", "10.77.2.1")
	lbns.MustIP(t, "rule", "add", "iif", "to-t", "lookup", "100")
	lbns.MustIP(t, "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", "100")
	return client, lbns, target
}

// TestTCPProxyPreserveClientIP: the target sees the client's own address
// and port, not the balancer's, when PreserveClientIP is on; the
// balancer's address when it is off.
func TestTCPProxyPreserveClientIP(t *testing.T) {
	client, lbns, target := transparentTopology(t)
	var tln net.Listener
	if err := target.Do(func() (err error) { tln, err = net.Listen("tcp", "10.77.2.2:8080"); return }); err != nil {
		t.Fatal(err)
	}
	tgt := &l4Target{ln: tln, conns: map[net.Conn]struct{}{}, addr: tln.Addr().String()}
	serveL4Target(t, tgt, func(c *net.TCPConn) { fmt.Fprint(c, c.RemoteAddr()) })

	for _, preserve := range []bool{true, false} {
		t.Run(fmt.Sprintf("preserve=%v", preserve), func(t *testing.T) {
			p := &TCPProxy{
				TargetGroup:      newTestTG(t, TargetGroupConfig{Algorithm: balancer.FlowHash{}}, tgt.addr),
				PreserveClientIP: preserve,
				Logger:           quietLog,
			}
			// Connections to targets are made in the balancer's namespace.
			p.dialer = func(ctx context.Context, addr string, flow balancer.Flow) (c net.Conn, err error) {
				err = lbns.Do(func() error {
					c, err = dialTCPTarget(ctx, addr, flow, preserve)
					return err
				})
				return c, err
			}
			var ln net.Listener
			if err := lbns.Do(func() (err error) { ln, err = net.Listen("tcp", "10.77.1.1:0"); return }); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() { errc <- p.Serve(ctx, ln) }()
			defer func() { cancel(); <-errc }()

			var c net.Conn
			if err := client.Do(func() (err error) {
				c, err = net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
				return
			}); err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 64)
			n, err := c.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			got := string(buf[:n])
			want := c.LocalAddr().String() // 10.77.1.2:port
			if !preserve {
				want = "10.77.2.1:"
			}
			if !strings.HasPrefix(got, want) {
				t.Fatalf("target saw the client as %s, want %s", got, want)
			}
		})
	}
}

// TestUDPProxyPreserveClientIP: the UDP target sees the client's address
// and its replies still reach the client through the balancer.
func TestUDPProxyPreserveClientIP(t *testing.T) {
	client, lbns, target := transparentTopology(t)
	var tpc *net.UDPConn
	if err := target.Do(func() (err error) {
		tpc, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(10, 77, 2, 2), Port: 5353})
		return
	}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			_, from, err := tpc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			tpc.WriteToUDPAddrPort([]byte(from.String()), from)
		}
	}()
	defer func() { tpc.Close(); <-done }()

	p := &UDPProxy{TargetGroup: newTestTG(t, TargetGroupConfig{}, tpc.LocalAddr().String()), PreserveClientIP: true, Logger: quietLog}
	var pc *net.UDPConn
	if err := lbns.Do(func() (err error) {
		pc, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(10, 77, 1, 1), Port: 53})
		return
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	// Serve runs in the balancer's namespace: each flow's socket toward
	// its target is created by Serve's own goroutine.
	go func() { errc <- lbns.Do(func() error { return p.Serve(ctx, pc) }) }()
	defer func() { cancel(); <-errc }()

	var c *net.UDPConn
	if err := client.Do(func() (err error) {
		c, err = net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(10, 77, 1, 1), Port: 53})
		return
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := udpRoundTrip(c, "who am i")
	if err != nil {
		t.Fatal(err)
	}
	if want := c.LocalAddr().String(); got != want {
		t.Fatalf("UDP target saw the client as %s, want %s", got, want)
	}
}

// serveL4Target runs tg's accept loop (for a listener made elsewhere).
func serveL4Target(t *testing.T, tg *l4Target, handle func(c *net.TCPConn)) {
	tg.wg.Add(1)
	go func() {
		defer tg.wg.Done()
		for {
			c, err := tg.ln.Accept()
			if err != nil {
				return
			}
			tg.mu.Lock()
			tg.conns[c] = struct{}{}
			tg.mu.Unlock()
			tg.wg.Add(1)
			go func() {
				defer tg.wg.Done()
				defer func() {
					tg.mu.Lock()
					delete(tg.conns, c)
					tg.mu.Unlock()
					c.Close()
				}()
				handle(c.(*net.TCPConn))
			}()
		}
	}()
	t.Cleanup(tg.Close)
}

// TestUDPProxyWildcardRepliesFromDialedAddress: a listener bound to
// 0.0.0.0 answers each client from the address the client sent to; a
// client with a connected socket would drop a reply from another address.
func TestUDPProxyWildcardRepliesFromDialedAddress(t *testing.T) {
	testenv.MustBeRoot(t, "binds a wildcard address inside a network namespace of its own")
	testenv.MustHaveProgram(t, "ip", "iproute2")
	ns := netns.New(t, "wild")
	var echo, pc *net.UDPConn
	if err := ns.Do(func() (err error) {
		if echo, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			return err
		}
		pc, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4zero})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := echo.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			echo.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	defer func() { echo.Close(); <-done }()

	p := &UDPProxy{TargetGroup: newTestTG(t, TargetGroupConfig{}, echo.LocalAddr().String()), Logger: quietLog}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- ns.Do(func() error { return p.Serve(ctx, pc) }) }()
	defer func() { cancel(); <-errc }()

	port := pc.LocalAddr().(*net.UDPAddr).Port
	for _, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.1"} {
		var c *net.UDPConn
		if err := ns.Do(func() (err error) {
			c, err = net.DialUDP("udp", nil, &net.UDPAddr{IP: net.ParseIP(ip), Port: port})
			return
		}); err != nil {
			t.Fatal(err)
		}
		got, err := udpRoundTrip(c, "to "+ip)
		c.Close()
		if err != nil || got != "to "+ip {
			t.Fatalf("via %s: %q, %v (a reply from another address is dropped by the client)", ip, got, err)
		}
	}
}
