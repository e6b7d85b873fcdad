package proxyproto

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/lbkit/lbkit/internal/testenv"
)

// The HAProxy interop tests start the Debian haproxy with a generated
// configuration on 127.0.0.1 ports, in both directions:
//
//   - client → HAProxy (send-proxy / send-proxy-v2) → our Listener: the
//     Listener sees the client's real address, and verifies HAProxy's
//     CRC32C and reads its UNIQUE_ID TLV; HAProxy's health checks arrive
//     as LOCAL headers;
//   - our Dialer → HAProxy (accept-proxy) answering HTTP with the source
//     address and AUTHORITY it read from our header.

const haproxyConfig = `
global
	maxconn 100
defaults
	timeout connect 5s
	timeout client 10s
	timeout server 10s
	timeout check 2s

frontend fe_v2
	mode tcp
	bind {{.V2Bind}}
	unique-id-format conn-%ci-%cp
	default_backend be_v2
backend be_v2
	mode tcp
	server target {{.Target}} send-proxy-v2 proxy-v2-options crc32c,unique-id

frontend fe_v1
	mode tcp
	bind {{.V1Bind}}
	default_backend be_v1
backend be_v1
	mode tcp
	server target {{.Target}} send-proxy

backend be_check
	mode tcp
	server target {{.CheckTarget}} send-proxy-v2 check check-send-proxy inter 200ms

frontend fe_accept
	mode http
	bind {{.AcceptBind}} accept-proxy
	http-request return status 200 content-type text/plain lf-string "%[src]:%[src_port] %[dst]:%[dst_port] authority=%[fc_pp_authority]"
`

type haproxyPorts struct {
	V2Port, V1Port, AcceptPort int
	V2Bind, V1Bind, AcceptBind string // bind addresses of inherited sockets
	Target, CheckTarget        string
}

// startHAProxy runs haproxy with haproxyConfig until the test ends, its
// frontends on sockets the test holds (so no parallel test can take their
// ports).
func startHAProxy(t *testing.T, p *haproxyPorts) {
	t.Helper()
	socks := testenv.ListenSockets(t, 3)
	p.V2Port, p.V2Bind = socks[0].Port, testenv.HAProxyBind(0)
	p.V1Port, p.V1Bind = socks[1].Port, testenv.HAProxyBind(1)
	p.AcceptPort, p.AcceptBind = socks[2].Port, testenv.HAProxyBind(2)
	var buf bytes.Buffer
	if err := template.Must(template.New("cfg").Parse(haproxyConfig)).Execute(&buf, p); err != nil {
		t.Fatal(err)
	}
	testenv.StartHAProxy(t, buf.String(), socks)
}

func TestHAProxyInterop(t *testing.T) {
	target := listen(t, func(l *Listener) { l.ReadHeaderTimeout = 5 * time.Second })
	checks := listen(t, nil)
	p := haproxyPorts{Target: target.Addr().String(), CheckTarget: checks.Addr().String()}
	startHAProxy(t, &p)

	// HAProxy's health checks reach the target too, carrying headers of
	// their own. Serve the target in the background and hand the test only
	// connections that send a payload.
	type served struct {
		hdr    *Header
		remote net.Addr
		data   string
		err    error
	}
	got := make(chan served, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := target.Accept()
			if err != nil {
				return
			}
			pc := c.(*Conn)
			h, err := pc.ProxyHeader()
			line, _ := bufio.NewReader(pc).ReadString('\n')
			if line != "" || err != nil {
				var hc *Header
				if h != nil {
					cl := h.Clone()
					hc = &cl
				}
				got <- served{hc, pc.RemoteAddr(), line, err}
				_, _ = pc.Write([]byte("ok\n"))
			}
			_ = pc.Close()
		}
	}()
	t.Cleanup(func() { _ = target.Close(); <-done })

	for _, tc := range []struct {
		name    string
		port    int
		version Version
	}{{"send-proxy-v2", p.V2Port, V2}, {"send-proxy", p.V1Port, V1}} {
		t.Run(tc.name, func(t *testing.T) {
			cl, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", tc.port))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if _, err := cl.Write([]byte("hello through haproxy\n")); err != nil {
				t.Fatal(err)
			}
			var s served
			select {
			case s = <-got:
			case <-time.After(10 * time.Second):
				t.Fatal("no connection reached the target through haproxy")
			}
			if s.err != nil {
				t.Fatalf("target: %v", s.err)
			}
			if s.data != "hello through haproxy\n" {
				t.Errorf("target read %q", s.data)
			}
			// End to end: the target sees the client's own address.
			if s.remote.String() != cl.LocalAddr().String() {
				t.Errorf("target saw RemoteAddr %v, client is %v", s.remote, cl.LocalAddr())
			}
			if s.hdr.Version != tc.version || s.hdr.Command != Proxy || s.hdr.Protocol != TCP4 {
				t.Errorf("header %v", s.hdr)
			}
			if tc.version == V2 {
				if _, ok := s.hdr.CRC32C(); !ok {
					t.Error("no CRC32C TLV from haproxy (proxy-v2-options crc32c)")
				}
				port := cl.LocalAddr().(*net.TCPAddr).Port
				if id, ok := s.hdr.UniqueID(); !ok || string(id) != fmt.Sprintf("conn-127.0.0.1-%d", port) {
					t.Errorf("UNIQUE_ID = %q, %v", id, ok)
				}
			}
			reply := make([]byte, 3)
			if _, err := io.ReadFull(cl, reply); err != nil || string(reply) != "ok\n" {
				t.Errorf("reply through haproxy: %q, %v", reply, err)
			}
		})
	}

	t.Run("health checks send LOCAL", func(t *testing.T) {
		_ = checks.Listener.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
		c, err := checks.Accept()
		if err != nil {
			t.Fatalf("no health check from haproxy: %v", err)
		}
		defer c.Close()
		pc := c.(*Conn)
		h, err := pc.ProxyHeader()
		if err != nil {
			t.Fatal(err)
		}
		if h.Command != Local {
			t.Errorf("health check header %v, want LOCAL", h)
		}
		real := pc.NetConn().RemoteAddr().String()
		if pc.RemoteAddr().String() != real {
			t.Errorf("RemoteAddr %v, want the real %v", pc.RemoteAddr(), real)
		}
	})

	for _, tc := range []struct {
		name   string
		header func(t *testing.T) Header
		want   string
	}{
		{"dialer v2 to accept-proxy", func(t *testing.T) Header {
			h, err := NewHeader(&net.TCPAddr{IP: net.ParseIP("203.0.113.7"), Port: 40000}, &net.TCPAddr{IP: net.ParseIP("198.51.100.1"), Port: 443})
			if err != nil {
				t.Fatal(err)
			}
			if err := h.AddAuthority("shop.example"); err != nil {
				t.Fatal(err)
			}
			if err := h.AddCRC32C(); err != nil {
				t.Fatal(err)
			}
			return h
		}, "203.0.113.7:40000 198.51.100.1:443 authority=shop.example"},
		{"dialer v2 IPv6 to accept-proxy", func(t *testing.T) Header {
			h, err := NewHeader(&net.TCPAddr{IP: net.ParseIP("2001:db8::7"), Port: 40001}, &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 443})
			if err != nil {
				t.Fatal(err)
			}
			return h
		}, "2001:db8::7:40001 2001:db8::1:443 authority="},
		{"dialer v1 to accept-proxy", func(t *testing.T) Header {
			h, err := NewHeader(&net.TCPAddr{IP: net.ParseIP("203.0.113.8"), Port: 40002}, &net.TCPAddr{IP: net.ParseIP("198.51.100.1"), Port: 80})
			if err != nil {
				t.Fatal(err)
			}
			h.Version = V1
			return h
		}, "203.0.113.8:40002 198.51.100.1:80 authority="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			h := tc.header(t)
			d := &Dialer{}
			tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr, &h)
			}}
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/", p.AcceptPort), nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if got := strings.TrimSpace(string(body)); got != tc.want {
				t.Errorf("haproxy saw %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("haproxy rejects a bad CRC32C from us", func(t *testing.T) {
		h, _ := NewHeader(&net.TCPAddr{IP: net.ParseIP("203.0.113.9"), Port: 1}, &net.TCPAddr{IP: net.ParseIP("198.51.100.1"), Port: 2})
		_ = h.AddCRC32C()
		wire, err := h.Format()
		if err != nil {
			t.Fatal(err)
		}
		wire[len(wire)-1] ^= 0xFF // corrupt the checksum
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p.AcceptPort))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = c.Write(append(wire, "GET / HTTP/1.0\r\n\r\n"...))
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, _ := io.ReadAll(c)
		if bytes.Contains(resp, []byte("203.0.113.9")) {
			t.Errorf("haproxy accepted a header with a bad CRC32C: %q", resp)
		}
	})
}
