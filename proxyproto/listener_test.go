package proxyproto

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listen starts a Listener on 127.0.0.1, configured by cfg, closed at the
// end of the test.
func listen(t *testing.T, cfg func(*Listener)) *Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &Listener{Listener: ln}
	if cfg != nil {
		cfg(l)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// dial connects to l and sends b. The kernel completes the connection, so
// the test goroutine can Accept it afterwards without a helper goroutine.
func dial(t *testing.T, l net.Listener, b []byte) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if len(b) > 0 {
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	return c.(*net.TCPConn)
}

func accept(t *testing.T, l *Listener) *Conn {
	t.Helper()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c.(*Conn)
}

// readAll reads until EOF, bounded by a deadline so a bug fails the test
// instead of hanging it.
func readAll(t *testing.T, c net.Conn) ([]byte, error) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return nil, err
	}
	return io.ReadAll(c)
}

// peerClosed reports whether the server closed c: a read returns EOF or a
// reset, not a timeout.
func peerClosed(t *testing.T, c net.Conn) bool {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.ReadAll(c)
	return !isTimeout(err)
}

// Checklist §2.3 item 3: the application's first byte is the first byte
// after the header, whether the header arrives in one write or byte by byte.
func TestConnConsumesHeaderExactly(t *testing.T) {
	for _, hdr := range [][]byte{[]byte(v1Spec), v2TCP4TLVs, []byte(v1Unknown), v2Local12} {
		for _, split := range []bool{false, true} {
			name := strings.Fields(string(hdr))[0]
			if hdr[0] == '\r' {
				name = "v2"
			}
			t.Run(name+map[bool]string{false: "/one-write", true: "/byte-by-byte"}[split], func(t *testing.T) {
				payload := []byte("first byte after the header")
				// net.Pipe delivers each Write as its own Read: a
				// byte-by-byte header really arrives one byte at a time.
				client, server := net.Pipe()
				defer client.Close()
				c := NewConn(server, Require, time.Now().Add(10*time.Second), nil)
				defer c.Close()
				go func() {
					if split {
						for i := range hdr {
							if _, err := client.Write(hdr[i : i+1]); err != nil {
								return
							}
						}
						_, _ = client.Write(payload)
					} else {
						_, _ = client.Write(append(append([]byte{}, hdr...), payload...))
					}
					_ = client.Close()
				}()
				got, err := io.ReadAll(c)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, payload) {
					t.Fatalf("application read %q, want %q", got, payload)
				}
				h, err := c.ProxyHeader()
				if err != nil || h == nil {
					t.Fatalf("ProxyHeader = %v, %v", h, err)
				}
				var want Header
				if _, err := Parse(hdr, &want); err != nil {
					t.Fatal(err)
				}
				if !h.Equal(&want) {
					t.Errorf("header %v, want %v", h, &want)
				}
			})
		}
	}
}

// Checklist §2.3 item 4: a second header later in the stream is data.
func TestSecondHeaderIsApplicationData(t *testing.T) {
	l := listen(t, nil)
	second := v2(0x21, 0x11, -1, ipv4Block("6.6.6.6", "7.7.7.7", 6, 7))
	cl := dial(t, l, append(append(append([]byte{}, v2TCP4...), second...), "tail"...))
	_ = cl.CloseWrite()
	c := accept(t, l)
	got, err := readAll(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if want := append(append([]byte{}, second...), "tail"...); !bytes.Equal(got, want) {
		t.Fatalf("application read %q, want the second header verbatim %q", got, want)
	}
	if got, want := c.RemoteAddr().String(), "192.168.0.1:56324"; got != want {
		t.Errorf("RemoteAddr = %s, want %s (from the first header only)", got, want)
	}
}

// Checklist §2.3 item 5: the timeout runs from Accept, Accept never blocks
// on a silent client, a silent client is closed after the timeout, and the
// application's deadlines apply again after the header.
func TestHeaderTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	l := listen(t, func(l *Listener) { l.ReadHeaderTimeout = timeout })

	silent := dial(t, l, nil)
	talker := dial(t, l, append(append([]byte{}, v2TCP4...), "hi"...))

	start := time.Now()
	cs := accept(t, l) // the silent one: Accept returns without reading
	ct := accept(t, l)
	if d := time.Since(start); d > timeout/2 {
		t.Errorf("two Accepts took %v with a silent client queued", d)
	}
	// The talker is served while the silent client is still pending.
	buf := make([]byte, 2)
	if _, err := io.ReadFull(ct, buf); err != nil || string(buf) != "hi" {
		t.Fatalf("talker: %q, %v", buf, err)
	}

	_, err := cs.Read(buf)
	elapsed := time.Since(start)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("silent client: Read error %v, want a deadline error", err)
	}
	if elapsed < timeout || elapsed > 5*time.Second {
		t.Errorf("silent client failed after %v, want about %v from Accept", elapsed, timeout)
	}
	if !peerClosed(t, silent) {
		t.Error("silent client's connection was not closed")
	}
	// The talker's header deadline is gone: its reads are not cut at the
	// header timeout. Wait past it (this test is about time) and read.
	<-time.After(time.Until(start.Add(timeout + 50*time.Millisecond)))
	if _, err := talker.Write([]byte("late")); err != nil {
		t.Fatal(err)
	}
	buf = make([]byte, 4)
	if _, err := io.ReadFull(ct, buf); err != nil || string(buf) != "late" {
		t.Fatalf("talker after the header deadline: %q, %v (deadline not restored)", buf, err)
	}
}

func TestUserDeadlines(t *testing.T) {
	t.Run("earlier user deadline applies during the header", func(t *testing.T) {
		l := listen(t, func(l *Listener) { l.ReadHeaderTimeout = time.Minute })
		dial(t, l, nil)
		c := accept(t, l)
		if err := c.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err := c.Read(make([]byte, 1))
		if !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) > 10*time.Second {
			t.Fatalf("Read = %v after %v, want the user's deadline", err, time.Since(start))
		}
	})
	t.Run("user deadline restored after the header", func(t *testing.T) {
		l := listen(t, func(l *Listener) { l.ReadHeaderTimeout = time.Minute })
		dial(t, l, v2TCP4)
		c := accept(t, l)
		dl := time.Now().Add(30 * time.Millisecond)
		if err := c.SetReadDeadline(dl); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ProxyHeader(); err != nil {
			t.Fatal(err)
		}
		// No data follows: the read ends at the user's deadline, not the
		// header's (a minute) and not never.
		_, err := c.Read(make([]byte, 1))
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read = %v, want the user's deadline", err)
		}
		if time.Now().Before(dl) {
			t.Fatal("Read returned before the user's deadline")
		}
	})
}

// Checklist §2.3 item 6 and the policies of the issue.
func TestPolicies(t *testing.T) {
	type want struct {
		data   string // what the application reads ("" with err)
		remote string // RemoteAddr: "real" for the socket's
		err    error  // nil, or the class of the error
	}
	valid := append(append([]byte{}, v2TCP4...), "app"...)
	none := []byte("GET / HTTP/1.0\r\n")
	bad := append(v2(0x21, 0x13, -1, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2)), "app"...)
	tests := []struct {
		policy Policy
		in     []byte
		want   want
	}{
		{Require, valid, want{data: "app", remote: "192.168.0.1:56324"}},
		{Require, none, want{err: ErrNoHeader}},
		{Require, bad, want{err: ErrUnsupportedProtocol}},
		{Use, valid, want{data: "app", remote: "192.168.0.1:56324"}},
		{Use, none, want{data: string(none), remote: "real"}},
		{Use, bad, want{err: ErrUnsupportedProtocol}},
		// Streams that share a prefix with a signature are data.
		{Use, []byte("POST / HTTP/1.0\r\n"), want{data: "POST / HTTP/1.0\r\n", remote: "real"}},
		{Use, []byte("PROXIMITY\n"), want{data: "PROXIMITY\n", remote: "real"}},
		{Use, []byte("\r\n\r\nX"), want{data: "\r\n\r\nX", remote: "real"}},
		{Ignore, valid, want{data: "app", remote: "real"}},
		{Ignore, none, want{data: string(none), remote: "real"}},
		{Reject, valid, want{err: ErrRejected}},
		{Reject, none, want{data: string(none), remote: "real"}},
		{Skip, valid, want{data: string(valid), remote: "real"}},
	}
	for _, tt := range tests {
		t.Run(tt.policy.String()+"/"+strings.ReplaceAll(string(tt.in[:4]), "\r\n", "CRLF"), func(t *testing.T) {
			l := listen(t, func(l *Listener) {
				l.Policy = func(net.Addr) Policy { return tt.policy }
				l.ReadHeaderTimeout = 5 * time.Second
			})
			cl := dial(t, l, tt.in)
			_ = cl.CloseWrite()
			c := accept(t, l)
			got, err := readAll(t, c)
			if tt.want.err != nil {
				if !errors.Is(err, tt.want.err) {
					t.Fatalf("err = %v, want %v", err, tt.want.err)
				}
				if len(got) > 0 {
					t.Fatalf("application got %q from a refused connection", got)
				}
				if !peerClosed(t, cl) {
					t.Error("refused connection not closed")
				}
				return
			}
			if err != nil || string(got) != tt.want.data {
				t.Fatalf("read %q, %v; want %q", got, err, tt.want.data)
			}
			wantRemote := tt.want.remote
			if wantRemote == "real" {
				wantRemote = cl.LocalAddr().String()
			}
			if r := c.RemoteAddr().String(); r != wantRemote {
				t.Errorf("RemoteAddr = %s, want %s", r, wantRemote)
			}
		})
	}
}

// A peer that sends nothing sends no header, under Use: server-first
// protocols work behind an optional proxy.
func TestUseSilentPeer(t *testing.T) {
	l := listen(t, func(l *Listener) {
		l.Policy = func(net.Addr) Policy { return Use }
		l.ReadHeaderTimeout = 50 * time.Millisecond
	})
	cl := dial(t, l, nil)
	c := accept(t, l)
	if _, err := c.Write([]byte("220 banner\r\n")); err != nil {
		t.Fatalf("server-first write: %v", err)
	}
	buf := make([]byte, 12)
	if _, err := io.ReadFull(cl, buf); err != nil {
		t.Fatal(err)
	}
	if c.RemoteAddr().String() != cl.LocalAddr().String() {
		t.Errorf("RemoteAddr = %v, want the real %v", c.RemoteAddr(), cl.LocalAddr())
	}
}

func TestDropPolicyClosesInAccept(t *testing.T) {
	l := listen(t, func(l *Listener) {
		l.Policy = TrustedFrom([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Require, Drop)
	})
	dropped := dial(t, l, v2TCP4)
	// Accept drops the untrusted connection and goes on; close the
	// listener from here once the drop is seen so Accept returns.
	done := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		done <- err
	}()
	if !peerClosed(t, dropped) {
		t.Fatal("untrusted connection not closed")
	}
	_ = l.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close = %v", err)
	}
}

func TestTrustedFrom(t *testing.T) {
	pf := TrustedFrom([]netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("::ffff:192.168.0.0/112"), // IPv4-mapped form of 192.168.0.0/16
		netip.MustParsePrefix("fd00::/8"),
	}, Require, Reject)
	tests := []struct {
		addr net.Addr
		want Policy
	}{
		{&net.TCPAddr{IP: net.IPv4(10, 1, 2, 3).To4(), Port: 1}, Require},
		{&net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 1}, Require}, // 16-byte form
		{&net.TCPAddr{IP: net.ParseIP("::ffff:10.1.2.3"), Port: 1}, Require},
		{&net.TCPAddr{IP: net.ParseIP("192.168.7.7"), Port: 1}, Require},
		{&net.TCPAddr{IP: net.ParseIP("fd12::1"), Port: 1}, Require},
		{&net.TCPAddr{IP: net.ParseIP("11.0.0.1"), Port: 1}, Reject},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:11.0.0.1"), Port: 1}, Reject},
		{&net.UDPAddr{IP: net.ParseIP("10.0.0.1"), Port: 1}, Require},
		{&net.UnixAddr{Name: "/tmp/x", Net: "unix"}, Reject},
	}
	for _, tt := range tests {
		if got := pf(tt.addr); got != tt.want {
			t.Errorf("%v: %v, want %v", tt.addr, got, tt.want)
		}
	}
}

// A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; an IPv4 rule
// must still match them (cloudamqp/lavinmq#2070).
func TestTrustedFromDualStack(t *testing.T) {
	ln, err := net.Listen("tcp", "[::]:0")
	if err != nil {
		t.Skipf("no dual-stack listener here: %v", err)
	}
	l := &Listener{Listener: ln, Policy: TrustedFrom([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Require, Drop)}
	defer l.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	cl, err := net.Dial("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Skipf("no IPv4 on the dual-stack listener: %v", err)
	}
	defer cl.Close()
	if _, err := cl.Write(append(append([]byte{}, v2TCP4...), "x"...)); err != nil {
		t.Fatal(err)
	}
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.RemoteAddr().String(); got != "192.168.0.1:56324" {
		t.Fatalf("RemoteAddr = %s: the trusted IPv4 peer was not matched", got)
	}
}

// NLB health checks send LOCAL: the real addresses stay.
func TestLocalKeepsRealAddresses(t *testing.T) {
	l := listen(t, nil)
	cl := dial(t, l, append(append([]byte{}, v2Local12...), "ping"...))
	c := accept(t, l)
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("read %q, %v", buf, err)
	}
	if got, want := c.RemoteAddr().String(), cl.LocalAddr().String(); got != want {
		t.Errorf("RemoteAddr = %s, want the real %s", got, want)
	}
	if got, want := c.LocalAddr().String(), cl.RemoteAddr().String(); got != want {
		t.Errorf("LocalAddr = %s, want the real %s", got, want)
	}
	h, err := c.ProxyHeader()
	if err != nil || h == nil || h.Command != Local {
		t.Fatalf("ProxyHeader = %v, %v; want the LOCAL header", h, err)
	}
}

func TestConnExposesTLVs(t *testing.T) {
	l := listen(t, nil)
	dial(t, l, v2TCP4TLVs)
	c := accept(t, l)
	h, err := c.ProxyHeader()
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := h.AWSVPCEndpointID(); !ok || id != "vpce-08d2bf15fac5001c9" {
		t.Errorf("AWSVPCEndpointID = %q, %v", id, ok)
	}
	if a, ok := h.Authority(); !ok || a != "example.com" {
		t.Errorf("Authority = %q, %v", a, ok)
	}
	if got := c.LocalAddr().String(); got != "192.168.0.11:443" {
		t.Errorf("LocalAddr = %s, want the header's destination", got)
	}
}

func TestMaxHeaderSizeAndValidate(t *testing.T) {
	big := v2(0x21, 0x11, -1, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2), tlv(0x04, strings.Repeat("x", 600)))
	t.Run("over the cap", func(t *testing.T) {
		l := listen(t, func(l *Listener) { l.MaxHeaderSize = 512 })
		dial(t, l, big)
		_, err := accept(t, l).Read(make([]byte, 1))
		if !errors.Is(err, ErrHeaderTooLong) {
			t.Fatalf("err = %v, want ErrHeaderTooLong", err)
		}
	})
	t.Run("larger than the read buffer, under the cap", func(t *testing.T) {
		l := listen(t, nil)
		dial(t, l, append(append([]byte{}, big...), "z"...))
		c := accept(t, l)
		buf := make([]byte, 1)
		if _, err := io.ReadFull(c, buf); err != nil || buf[0] != 'z' {
			t.Fatalf("read %q, %v", buf, err)
		}
	})
	t.Run("validate refuses", func(t *testing.T) {
		l := listen(t, func(l *Listener) {
			l.Validate = func(h *Header) error {
				if _, ok := h.AWSVPCEndpointID(); !ok {
					return errors.New("no VPC endpoint")
				}
				return nil
			}
		})
		cl := dial(t, l, append(append([]byte{}, v2TCP4...), "x"...))
		_, err := accept(t, l).Read(make([]byte, 1))
		if !errors.Is(err, ErrRejected) {
			t.Fatalf("err = %v, want ErrRejected", err)
		}
		if !peerClosed(t, cl) {
			t.Error("not closed")
		}
	})
}

func TestDialer(t *testing.T) {
	l := listen(t, nil)
	client := &net.TCPAddr{IP: net.ParseIP("203.0.113.7"), Port: 40000}
	front := &net.TCPAddr{IP: net.ParseIP("198.51.100.1"), Port: 443}
	for _, tc := range []struct {
		name       string
		header     func() Header
		wantRemote func(dialed net.Conn) string
	}{
		{"proxy", func() Header {
			h, err := NewHeader(client, front)
			if err != nil {
				t.Fatal(err)
			}
			if err := h.AddCRC32C(); err != nil {
				t.Fatal(err)
			}
			return h
		}, func(net.Conn) string { return "203.0.113.7:40000" }},
		{"local health check", NewLocalHeader, func(d net.Conn) string { return d.LocalAddr().String() }},
		{"v1", func() Header {
			h, _ := NewHeader(client, front)
			h.Version = V1
			return h
		}, func(net.Conn) string { return "203.0.113.7:40000" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			h := tc.header()
			d := &Dialer{}
			dc, err := d.DialContext(ctx, "tcp", l.Addr().String(), &h)
			if err != nil {
				t.Fatal(err)
			}
			defer dc.Close()
			if _, err := dc.Write([]byte("payload")); err != nil {
				t.Fatal(err)
			}
			_ = dc.(*net.TCPConn).CloseWrite()
			c := accept(t, l)
			got, err := readAll(t, c)
			if err != nil || string(got) != "payload" {
				t.Fatalf("read %q, %v", got, err)
			}
			if r, want := c.RemoteAddr().String(), tc.wantRemote(dc); r != want {
				t.Errorf("RemoteAddr = %s, want %s", r, want)
			}
		})
	}
	t.Run("invalid header dials nothing", func(t *testing.T) {
		dialed := false
		d := &Dialer{DialFunc: func(context.Context, string, string) (net.Conn, error) { dialed = true; return nil, errors.New("no") }}
		_, err := d.DialContext(context.Background(), "tcp", "127.0.0.1:1", &Header{Version: V2, Command: Proxy, Protocol: TCP4})
		if !errors.Is(err, ErrInvalidAddress) || dialed {
			t.Fatalf("err = %v, dialed = %v", err, dialed)
		}
	})
}

// io.Copy through a Conn drains the bytes buffered with the header, then
// copies the rest (WriteTo), and writes go through ReadFrom.
func TestConnCopy(t *testing.T) {
	l := listen(t, nil)
	payload := bytes.Repeat([]byte("0123456789"), 100000)
	cl := dial(t, l, nil)
	go func() {
		_, _ = cl.Write(append(append([]byte{}, v2TCP4...), payload[:100]...))
		_, _ = cl.Write(payload[100:])
		_ = cl.CloseWrite()
	}()
	c := accept(t, l)
	var got bytes.Buffer
	if _, err := io.Copy(&got, c); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), payload) {
		t.Fatalf("copied %d bytes, want %d", got.Len(), len(payload))
	}
	if _, err := io.Copy(c, bytes.NewReader([]byte("back"))); err != nil {
		t.Fatal(err)
	}
	_ = c.CloseWrite()
	back, err := readAll(t, cl)
	if err != nil || string(back) != "back" {
		t.Fatalf("client read %q, %v", back, err)
	}
}
