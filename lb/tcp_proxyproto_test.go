package lb

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbkit/lbkit/internal/testenv"
	"github.com/lbkit/lbkit/proxyproto"
)

// TestTCPProxyProxyProtocolV2 reads our header with package proxyproto on
// the target side: the client's address and the listener's, then the
// client's bytes, unchanged.
func TestTCPProxyProxyProtocolV2(t *testing.T) {
	for _, tc := range []struct {
		name, listen, clientIP string
		want                   proxyproto.Protocol
	}{
		{"IPv4", "127.0.0.1:0", "127.0.0.2", proxyproto.TCP4},
		{"IPv6", "[::1]:0", "::1", proxyproto.TCP6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan string, 1)
			target := startL4Target(t, func(c *net.TCPConn) {
				br := bufio.NewReader(c)
				var h proxyproto.Header
				if err := proxyproto.Read(br, &h); err != nil {
					got <- "error: " + err.Error()
					return
				}
				rest, _ := io.ReadAll(br)
				got <- fmt.Sprintf("%v %v %v %v %s", h.Command, h.Protocol, h.Source, h.Destination, rest)
			})
			ln, err := net.Listen("tcp", tc.listen)
			if err != nil {
				t.Skipf("no %s loopback: %v", tc.name, err)
			}
			p := &TCPProxy{TargetGroup: newTestTG(t, TargetGroupConfig{}, target.addr), ProxyProtocolV2: true, Logger: quietLog}
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() { errc <- p.Serve(ctx, ln) }()
			defer func() { cancel(); <-errc }()
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(tc.clientIP)}}
			c, err := d.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write([]byte("payload"))
			c.(*net.TCPConn).CloseWrite()
			want := fmt.Sprintf("%v %v %v %v payload", proxyproto.Proxy, tc.want, c.LocalAddr(), ln.Addr())
			select {
			case g := <-got:
				if g != want {
					t.Fatalf("target saw %q, want %q", g, want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("target saw nothing")
			}
		})
	}
}

// TestTCPProxyProxyProtocolV2HAProxy: a real HAProxy with accept-proxy
// behind our proxy reports the client's true address (a distinct loopback
// address and its port) from our PROXY v2 header.
func TestTCPProxyProxyProtocolV2HAProxy(t *testing.T) {
	haproxy := testenv.MustHaveProgram(t, "haproxy", "haproxy")
	port, sock := inheritableListener(t)
	cfg := fmt.Sprintf(`global
  maxconn 100
defaults
  mode http
  timeout connect 5s
  timeout client 10s
  timeout server 10s
frontend fe
  bind fd@3 accept-proxy
  http-request return status 200 content-type text/plain lf-string "src=%%[src]:%%[src_port] dst=%%[dst]:%%[dst_port]"
`)
	startHAProxy(t, haproxy, cfg, sock)

	tg := newTestTG(t, TargetGroupConfig{}, fmt.Sprintf("127.0.0.1:%d", port))
	addr := serveTCP(t, &TCPProxy{TargetGroup: tg, ProxyProtocolV2: true})
	for i := range 3 {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		b, err := io.ReadAll(c)
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("src=%s dst=%s", c.LocalAddr(), addr)
		if !strings.HasSuffix(string(b), want) {
			t.Fatalf("HAProxy answered %q, want a body %q", b, want)
		}
	}
}

// inheritableListener opens a listening socket on a free loopback port for
// HAProxy to inherit as fd 3 ("bind fd@3"), so no parallel test can take
// the port between choosing it and HAProxy binding it.
func inheritableListener(t testing.TB) (int, *os.File) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close() // the dup below keeps the socket listening
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return ln.Addr().(*net.TCPAddr).Port, f
}

// startHAProxy runs haproxy in the foreground with cfg until the test
// ends; sock is its inherited listening socket (fd 3).
func startHAProxy(t testing.TB, haproxy, cfg string, sock *os.File) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	check := exec.Command(haproxy, "-c", "-f", path)
	check.ExtraFiles = []*os.File{sock}
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, haproxy, "-db", "-f", path)
	cmd.ExtraFiles = []*os.File{sock}
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("haproxy output:\n%s", stderr.String())
		}
	})
}
