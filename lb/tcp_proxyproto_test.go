package lb

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
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
	socks := testenv.ListenSockets(t, 1)
	port := socks[0].Port
	testenv.StartHAProxy(t, fmt.Sprintf(`global
  maxconn 100
defaults
  mode http
  timeout connect 5s
  timeout client 10s
  timeout server 10s
frontend fe
  bind %s accept-proxy
  http-request return status 200 content-type text/plain lf-string "src=%%[src]:%%[src_port] dst=%%[dst]:%%[dst_port]"
`, testenv.HAProxyBind(0)), socks)

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
