package lb

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/lbkit/lbkit/balancer"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestTCPProxyForwards(t *testing.T) {
	target := startL4Target(t, echoHandler)
	for _, tc := range []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"one byte", 1},
		{"64KiB", 64 << 10},
		{"5MiB", 5 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := serveTCP(t, &TCPProxy{TargetGroup: newTestTG(t, TargetGroupConfig{}, target.addr)})
			c := dialTCP(t, addr)
			defer c.Close()
			want := make([]byte, tc.size)
			rand.Read(want)
			errc := make(chan error, 1)
			go func() {
				_, err := c.Write(want)
				if err == nil {
					err = c.CloseWrite()
				}
				errc <- err
			}()
			got, err := io.ReadAll(c)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if err := <-errc; err != nil {
				t.Fatalf("write: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("echo returned %d bytes, want %d identical bytes", len(got), len(want))
			}
		})
	}
}

// TestTCPProxyHalfClose: the client sends its request and shuts down its
// write side; the target answers only after it has seen the FIN. The answer
// must arrive whole, after the client's half-close went through the proxy.
func TestTCPProxyHalfClose(t *testing.T) {
	reply := bytes.Repeat([]byte("after-fin "), 100000) // ~1 MB
	target := startL4Target(t, func(c *net.TCPConn) {
		n, err := io.Copy(io.Discard, c) // until the client's FIN
		if err != nil {
			return
		}
		c.Write(append([]byte{byte(n >> 8), byte(n)}, reply...))
		c.CloseWrite()
	})
	addr := serveTCP(t, &TCPProxy{TargetGroup: newTestTG(t, TargetGroupConfig{}, target.addr)})
	for i := range 20 {
		c := dialTCP(t, addr)
		if _, err := c.Write(make([]byte, 300)); err != nil {
			t.Fatal(err)
		}
		if err := c.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil {
			t.Fatalf("conn %d: read after half-close: %v", i, err)
		}
		if len(got) != 2+len(reply) || got[0] != 300>>8 || got[1] != 300&0xff || !bytes.Equal(got[2:], reply) {
			t.Fatalf("conn %d: got %d bytes after half-close, want %d (target saw the whole request)", i, len(got), 2+len(reply))
		}
	}
}

// TestTCPProxyTargetHalfClose: the target closes first (server-first
// goodbye) while the client is still sending; the client's later bytes
// must still reach the target.
func TestTCPProxyTargetHalfClose(t *testing.T) {
	got := make(chan int64, 1)
	target := startL4Target(t, func(c *net.TCPConn) {
		c.Write([]byte("bye"))
		c.CloseWrite()
		n, _ := io.Copy(io.Discard, c)
		got <- n
	})
	addr := serveTCP(t, &TCPProxy{TargetGroup: newTestTG(t, TargetGroupConfig{}, target.addr)})
	c := dialTCP(t, addr)
	defer c.Close()
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "bye" {
		t.Fatalf("read = %q, %v; want the target's bye then EOF", b, err)
	}
	const n = 3 << 20
	if _, err := c.Write(make([]byte, n)); err != nil {
		t.Fatalf("write after the target's FIN: %v", err)
	}
	c.CloseWrite()
	select {
	case m := <-got:
		if m != n {
			t.Fatalf("target read %d bytes after its own FIN, want %d", m, n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("target never saw the client's FIN")
	}
}

func TestTCPProxyIdleTimeout(t *testing.T) {
	target := startL4Target(t, func(c *net.TCPConn) {
		// Send a byte every 20 ms for 200 ms, then go silent until the
		// proxy closes the connection.
		for range 10 {
			if _, err := c.Write([]byte{'.'}); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond) // the trickle's pace, not a wait
		}
		io.Copy(io.Discard, c)
	})
	// The timeout is 25 times the trickle's period, so that a loaded
	// machine (tests run under -race beside other work) does not make the
	// trickle itself look idle.
	const idle = 500 * time.Millisecond
	addr := serveTCP(t, &TCPProxy{TargetGroup: newTestTG(t, TargetGroupConfig{}, target.addr), IdleTimeout: idle})
	c := dialTCP(t, addr)
	defer c.Close()
	start := time.Now()
	b, err := io.ReadAll(c)
	el := time.Since(start)
	// The client sent nothing for the whole life of the connection: only
	// the target's trickle kept it alive. All ten bytes must arrive, then
	// the proxy closes it once both directions are quiet.
	if len(b) != 10 {
		t.Fatalf("got %d bytes before the idle close, want 10 (a one-way trickle keeps the connection alive); err %v", len(b), err)
	}
	if el < idle {
		t.Fatalf("connection closed after %v, before the idle timeout %v", el, idle)
	}
	if el > 30*time.Second {
		t.Fatalf("idle connection closed only after %v", el)
	}
}

func TestTCPProxyRetriesAnotherTarget(t *testing.T) {
	deadAddr := refusingAddr(t)
	live := startL4Target(t, echoHandler)
	reg := prometheus.NewRegistry()
	m, err := NewL4Metrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	tg := newTestTG(t, TargetGroupConfig{Name: "retry", Algorithm: balancer.FlowHash{}}, deadAddr, live.addr)
	addr := serveTCP(t, &TCPProxy{Name: "l", TargetGroup: tg, Metrics: m})
	for i := range 20 {
		c := dialTCP(t, addr)
		c.Write([]byte("hi"))
		c.CloseWrite()
		b, err := io.ReadAll(c)
		c.Close()
		if string(b) != "hi" {
			t.Fatalf("conn %d: got %q, %v; want the live target's echo", i, b, err)
		}
	}
	if n := testutil.ToFloat64(m.targetErrors.WithLabelValues("l", deadAddr)); n == 0 {
		t.Errorf("target connection errors for the dead target = 0, want > 0")
	}
	if n := testutil.ToFloat64(m.newFlows.WithLabelValues("l", "tcp")); n < 20 {
		t.Errorf("new flows = %v, want 20", n)
	}
}

func TestTCPProxyNoTargetResets(t *testing.T) {
	tg := newTestTG(t, TargetGroupConfig{})
	addr := serveTCP(t, &TCPProxy{TargetGroup: tg})
	for range 5 {
		// The reset may reach the client during its connect or its read.
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			continue
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = c.Read(make([]byte, 1))
		c.Close()
		var ne net.Error
		if err == nil || errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("read on a connection with no target = %v, want a reset", err)
		}
	}
}

func TestTCPProxyConfigErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = (&TCPProxy{}).Serve(context.Background(), ln)
	if !errors.Is(err, ErrL4Config) {
		t.Fatalf("Serve without a target group = %v, want ErrL4Config", err)
	}
	if _, err := ln.Accept(); err == nil {
		t.Fatal("Serve left the listener open after refusing to start")
	}
}

// TestTCPProxyDeregistration: a deregistered target gets no new
// connections; its open connection continues through the deregistration
// delay and, with ConnectionTermination, is reset when the delay ends.
func TestTCPProxyDeregistration(t *testing.T) {
	for _, tc := range []struct {
		name      string
		terminate bool
	}{{"connections continue", false}, {"connection termination", true}} {
		t.Run(tc.name, func(t *testing.T) {
			a := startL4Target(t, echoHandler)
			b := startL4Target(t, echoHandler)
			tg := newTestTG(t, TargetGroupConfig{DeregistrationDelay: 100 * time.Millisecond}, a.addr)
			p := &TCPProxy{TargetGroup: tg, ConnectionTermination: tc.terminate}
			addr := serveTCP(t, p)
			c := dialTCP(t, addr)
			defer c.Close()
			echo := func(c *net.TCPConn) error {
				c.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Write([]byte("ping")); err != nil {
					return err
				}
				buf := make([]byte, 4)
				_, err := io.ReadFull(c, buf)
				return err
			}
			if err := echo(c); err != nil {
				t.Fatal(err)
			}
			if err := tg.Register(Target{Addr: b.addr}); err != nil {
				t.Fatal(err)
			}
			done, err := tg.Deregister(a.addr)
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("deregistration delay never ended")
			}
			// New connections go to b only.
			for range 5 {
				n := dialTCP(t, addr)
				if err := echo(n); err != nil {
					t.Fatal(err)
				}
				n.Close()
			}
			if tc.terminate {
				waitFor(t, 10*time.Second, "the drained connection to be reset", func() bool { return p.ActiveConns(a.addr) == 0 })
				if err := echo(c); err == nil {
					t.Fatal("connection to a deregistered target survived the delay with connection termination on")
				}
				return
			}
			if err := echo(c); err != nil {
				t.Fatalf("connection to a deregistered target was cut after the delay: %v", err)
			}
		})
	}
}

func TestTCPProxyShutdownResetsConnections(t *testing.T) {
	target := startL4Target(t, echoHandler)
	p := &TCPProxy{TargetGroup: newTestTG(t, TargetGroupConfig{}, target.addr), Logger: quietLog}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Serve(ctx, ln) }()
	c := dialTCP(t, ln.Addr().String())
	defer c.Close()
	c.Write([]byte("x"))
	io.ReadFull(c, make([]byte, 1))
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Serve after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection survived the proxy's shutdown")
	}
}

// TestL4RetryPicksAnotherTarget: with NLB's flow hash a flow maps to the
// same target in every balancer instance (a restarted one included), and
// a retry must not be keyed by the same 5-tuple (it would hash to the
// failed target again).
func TestL4RetryPicksAnotherTarget(t *testing.T) {
	targets := []string{"127.0.0.1:1001", "127.0.0.1:1002", "127.0.0.1:1003"}
	tg := newTestTG(t, TargetGroupConfig{Algorithm: balancer.FlowHash{}}, targets...)
	// Another instance, its targets registered in another order.
	restarted := newTestTG(t, TargetGroupConfig{Algorithm: balancer.FlowHash{}}, targets[2], targets[0], targets[1])
	for port := range 200 {
		flow := balancer.Flow{Proto: protoTCP, Src: mustAP("10.0.0.1:" + itoa(40000+port)), Dst: mustAP("10.0.0.9:80")}
		info := l4PickInfo(flow)
		first, err := tg.Pick(info)
		if err != nil {
			t.Fatal(err)
		}
		first.Done(nil)
		again, _ := tg.Pick(info)
		again.Done(nil)
		other, _ := restarted.Pick(info)
		other.Done(nil)
		if again.Addr() != first.Addr() || other.Addr() != first.Addr() {
			t.Fatalf("flow %v: picked %s, then %s, and %s in another instance; the flow hash must be stable", flow, first.Addr(), again.Addr(), other.Addr())
		}
		retry, _, err := pickAvoiding(tg, l4Rekey(info), []string{first.Addr()})
		if err != nil {
			t.Fatal(err)
		}
		retry.Done(nil)
		if retry.Addr() == first.Addr() {
			t.Fatalf("flow %v: retry picked the failed target %s again", flow, first.Addr())
		}
	}
}

// TestTCPProxyConnectTimeout: a target whose accept queue is full drops
// SYNs, so connects to it hang; the proxy gives up after ConnectTimeout
// and retries on another target.
func TestTCPProxyConnectTimeout(t *testing.T) {
	stuck := stuckAddr(t)
	live := startL4Target(t, echoHandler)
	reg := prometheus.NewRegistry()
	m, _ := NewL4Metrics(reg)
	// Round robin: some first picks are sure to land on the stuck target.
	tg := newTestTG(t, TargetGroupConfig{}, stuck, live.addr)
	addr := serveTCP(t, &TCPProxy{Name: "l", TargetGroup: tg, ConnectTimeout: 300 * time.Millisecond, Metrics: m})
	for i := range 6 {
		c := dialTCP(t, addr)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte("hi"))
		c.CloseWrite()
		b, err := io.ReadAll(c)
		c.Close()
		if string(b) != "hi" {
			t.Fatalf("conn %d: got %q, %v; want the live target's echo after a connect timeout", i, b, err)
		}
	}
	if n := testutil.ToFloat64(m.targetErrors.WithLabelValues("l", stuck)); n == 0 {
		t.Error("no connect timeout was counted for the stuck target")
	}
}

// stuckAddr returns a loopback address whose listener never accepts and
// whose accept queue is already full, so new SYNs are dropped.
func stuckAddr(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	addr := "127.0.0.1:" + itoa(sa.(*syscall.SockaddrInet4).Port)
	// Fill the queue (backlog 0 holds one connection).
	for range 2 {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			t.Cleanup(func() { c.Close() })
		}
	}
	return addr
}
