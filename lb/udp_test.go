package lb

import (
	"bytes"
	"context"
	"fmt"
	"github.com/lbkit/lbkit/balancer"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// startUDPEcho runs a UDP server that answers every datagram with
// "<tag>|<datagram>", until the test ends.
func startUDPEcho(t testing.TB, tag string) string {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, maxDatagram)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			pc.WriteToUDPAddrPort(append([]byte(tag+"|"), buf[:n]...), from)
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return pc.LocalAddr().String()
}

// serveUDP starts p on a loopback socket and returns its address.
func serveUDP(t testing.TB, p *UDPProxy) string {
	t.Helper()
	if p.Logger == nil {
		p.Logger = quietLog
	}
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Serve(ctx, pc) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return pc.LocalAddr().String()
}

// udpRoundTrip sends msg on c and returns the reply, retrying a few times
// (UDP on loopback does not lose datagrams unless a buffer overflows).
func udpRoundTrip(c *net.UDPConn, msg string) (string, error) {
	buf := make([]byte, maxDatagram)
	var err error
	for range 5 {
		if _, err = c.Write([]byte(msg)); err != nil {
			continue
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		var n int
		n, err = c.Read(buf)
		if err == nil {
			return string(buf[:n]), nil
		}
	}
	return "", err
}

// TestUDPProxyFlows: many clients at once, each with several datagrams.
// Every reply reaches the client that asked (its own payload comes back),
// and every datagram of a flow goes to the same target.
func TestUDPProxyFlows(t *testing.T) {
	a, b := startUDPEcho(t, "a"), startUDPEcho(t, "b")
	reg := prometheus.NewRegistry()
	m, err := NewL4Metrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	tg := newTestTG(t, TargetGroupConfig{Algorithm: balancer.FlowHash{}}, a, b)
	p := &UDPProxy{Name: "u", TargetGroup: tg, Metrics: m}
	addr := serveUDP(t, p)
	const clients, perClient = 200, 5
	var wg sync.WaitGroup
	var mu sync.Mutex
	used := map[string]int{}
	var socks []*net.UDPConn
	defer func() {
		for _, c := range socks {
			c.Close()
		}
	}()
	errs := make(chan error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(mustAP(addr)))
			if err != nil {
				errs <- err
				return
			}
			// Sockets stay open until every client is done: a port freed
			// early could be reused by another client, which would then
			// join the first one's flow.
			mu.Lock()
			socks = append(socks, c)
			mu.Unlock()
			var target string
			for j := range perClient {
				msg := fmt.Sprintf("client %d datagram %d", i, j)
				got, err := udpRoundTrip(c, msg)
				if err != nil {
					errs <- fmt.Errorf("client %d: %w", i, err)
					return
				}
				tag, body, _ := strings.Cut(got, "|")
				if body != msg {
					errs <- fmt.Errorf("client %d got %q, want its own %q", i, body, msg)
					return
				}
				if target == "" {
					target = tag
				} else if tag != target {
					errs <- fmt.Errorf("client %d: flow moved from target %s to %s", i, target, tag)
					return
				}
			}
			mu.Lock()
			used[target]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if used["a"] < clients/4 || used["b"] < clients/4 {
		t.Errorf("flows per target = %v, want both well used", used)
	}
	if n := testutil.ToFloat64(m.newFlows.WithLabelValues("u", "udp")); n != clients {
		t.Errorf("new flows = %v, want %d (one per client)", n, clients)
	}
	if n := p.ActiveFlows(""); n != clients {
		t.Errorf("active flows = %d, want %d", n, clients)
	}
}

func TestUDPProxyIdleTimeout(t *testing.T) {
	a := startUDPEcho(t, "a")
	p := &UDPProxy{TargetGroup: newTestTG(t, TargetGroupConfig{}, a), IdleTimeout: time.Second}
	addr := serveUDP(t, p)
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(mustAP(addr)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := udpRoundTrip(c, "one"); err != nil {
		t.Fatal(err)
	}
	if n := p.ActiveFlows(a); n != 1 {
		t.Fatalf("active flows = %d, want 1", n)
	}
	waitFor(t, 10*time.Second, "the idle flow to end", func() bool { return p.ActiveFlows("") == 0 })
	// The same client starts a new flow.
	if got, err := udpRoundTrip(c, "two"); err != nil || got != "a|two" {
		t.Fatalf("after idle: %q, %v", got, err)
	}
}

func TestUDPProxyMaxFlows(t *testing.T) {
	a := startUDPEcho(t, "a")
	reg := prometheus.NewRegistry()
	m, _ := NewL4Metrics(reg)
	p := &UDPProxy{Name: "u", TargetGroup: newTestTG(t, TargetGroupConfig{}, a), MaxFlows: 2, Metrics: m}
	addr := serveUDP(t, p)
	var conns []*net.UDPConn
	for range 2 {
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(mustAP(addr)))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
		if _, err := udpRoundTrip(c, "x"); err != nil {
			t.Fatal(err)
		}
	}
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(mustAP(addr)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("third"))
	waitFor(t, 5*time.Second, "the third flow to be dropped", func() bool {
		return testutil.ToFloat64(m.droppedFlows.WithLabelValues("u", "flow_table_full")) >= 1
	})
	// Existing flows still work.
	if got, err := udpRoundTrip(conns[0], "still"); err != nil || got != "a|still" {
		t.Fatalf("existing flow after a drop: %q, %v", got, err)
	}
}

func TestUDPProxyLargeDatagram(t *testing.T) {
	a := startUDPEcho(t, "a")
	addr := serveUDP(t, &UDPProxy{TargetGroup: newTestTG(t, TargetGroupConfig{}, a)})
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(mustAP(addr)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := string(bytes.Repeat([]byte{'z'}, 60000))
	got, err := udpRoundTrip(c, msg)
	if err != nil || got != "a|"+msg {
		t.Fatalf("60000-byte datagram: got %d bytes, %v", len(got), err)
	}
}
