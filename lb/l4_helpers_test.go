package lb

import (
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// quietLog drops log output in tests; set LBKIT_TEST_LOG to see it.
var quietLog = slog.New(slog.DiscardHandler)

// l4Target is a TCP server on loopback for the L4 tests. Its handler runs
// per connection in a goroutine the target owns; Close waits for them.
type l4Target struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	addr  string
}

func startL4Target(t testing.TB, handle func(c *net.TCPConn)) *l4Target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tg := &l4Target{ln: ln, conns: map[net.Conn]struct{}{}, addr: ln.Addr().String()}
	tg.wg.Add(1)
	go func() {
		defer tg.wg.Done()
		for {
			c, err := ln.Accept()
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
	return tg
}

// Close stops accepting, closes open connections and waits for handlers.
func (tg *l4Target) Close() {
	tg.ln.Close()
	tg.mu.Lock()
	for c := range tg.conns {
		c.Close()
	}
	tg.mu.Unlock()
	tg.wg.Wait()
}

// echoHandler copies everything back, then half-closes after the client's FIN.
func echoHandler(c *net.TCPConn) {
	io.Copy(c, c)
	c.CloseWrite()
}

// shaHandler reads until EOF, then writes the SHA-256 of what it read and
// closes: the integrity oracle for bulk streams.
func shaHandler(c *net.TCPConn) {
	h := sha256.New()
	if _, err := io.Copy(h, c); err != nil {
		return
	}
	c.Write(h.Sum(nil))
	c.CloseWrite()
}

// newTestTG returns a target group holding addrs, closed at cleanup.
func newTestTG(t testing.TB, cfg TargetGroupConfig, addrs ...string) *TargetGroup {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLog
	}
	tg, err := NewTargetGroup(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	for _, a := range addrs {
		if err := tg.Register(Target{Addr: a}); err != nil {
			t.Fatal(err)
		}
	}
	return tg
}

// serveTCP starts p on a loopback listener and returns its address; the
// proxy stops (and Serve's return is checked) at cleanup.
func serveTCP(t testing.TB, p *TCPProxy) string {
	t.Helper()
	if p.Logger == nil {
		p.Logger = quietLog
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// waitFor polls cond every few milliseconds until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond) // polling interval, not a wait for an event
	}
}

// dialTCP connects to addr with a test-sized timeout.
func dialTCP(t testing.TB, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return c.(*net.TCPConn)
}

// refusingAddr returns a loopback address where connections are refused:
// a socket bound to the port but not listening. Holding the port (rather
// than closing a listener) keeps other processes on this shared machine
// from taking it.
func refusingAddr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + itoa(sa.(*syscall.SockaddrInet4).Port)
}
