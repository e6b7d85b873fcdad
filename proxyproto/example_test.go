package proxyproto_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/lbkit/lbkit/proxyproto"
)

// A server behind a proxy: the Listener removes the header and RemoteAddr
// reports the client the proxy relayed.
func ExampleListener() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	pl := &proxyproto.Listener{
		Listener: ln,
		// Only loopback may connect, and it must send a header.
		Policy:            proxyproto.TrustedFrom([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, proxyproto.Require, proxyproto.Drop),
		ReadHeaderTimeout: 5 * time.Second,
	}
	defer pl.Close()

	// The proxy's side: a header for client 203.0.113.7, then data.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Fprint(c, "PROXY TCP4 203.0.113.7 198.51.100.1 40000 443\r\nhello\n")

	conn, err := pl.Accept()
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	line, _ := bufio.NewReader(conn).ReadString('\n')
	fmt.Printf("client %v sent %q\n", conn.RemoteAddr(), line)
	// Output: client 203.0.113.7:40000 sent "hello\n"
}

// A proxy toward a target: the Dialer sends the client's addresses first.
func ExampleDialer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	target := &proxyproto.Listener{Listener: ln}
	defer target.Close()

	client := &net.TCPAddr{IP: net.ParseIP("203.0.113.7"), Port: 40000}
	front := &net.TCPAddr{IP: net.ParseIP("198.51.100.1"), Port: 443}
	h, err := proxyproto.NewHeader(client, front)
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := (&proxyproto.Dialer{}).DialContext(ctx, "tcp", ln.Addr().String(), &h)
	if err != nil {
		panic(err)
	}
	defer c.Close()

	conn, err := target.Accept()
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	fmt.Println("target sees", conn.RemoteAddr(), "->", conn.LocalAddr())
	// Output: target sees 203.0.113.7:40000 -> 198.51.100.1:443
}

// Read parses into a caller-owned Header and leaves the reader at the
// first byte after the header.
func ExampleRead() {
	in := "PROXY TCP6 2001:db8::7 2001:db8::1 40000 443\r\nGET / HTTP/1.1\r\n"
	br := bufio.NewReader(strings.NewReader(in))
	var h proxyproto.Header
	if err := proxyproto.Read(br, &h); err != nil {
		panic(err)
	}
	rest, _ := io.ReadAll(br)
	fmt.Println(h.Version, h.Protocol, h.Source, h.Destination)
	fmt.Printf("%q\n", rest)
	// Output:
	// 1 TCP6 [2001:db8::7]:40000 [2001:db8::1]:443
	// "GET / HTTP/1.1\r\n"
}

// A v2 header with TLVs, as AWS PrivateLink sends it, and its checksum.
func ExampleHeader_Format() {
	h := proxyproto.Header{
		Version:     proxyproto.V2,
		Command:     proxyproto.Proxy,
		Protocol:    proxyproto.TCP4,
		Source:      netip.MustParseAddrPort("10.0.0.7:40000"),
		Destination: netip.MustParseAddrPort("10.0.1.1:443"),
	}
	_ = h.AddAWSVPCEndpointID("vpce-08d2bf15fac5001c9")
	_ = h.AddCRC32C()
	wire, err := h.Format()
	if err != nil {
		panic(err)
	}

	var back proxyproto.Header
	n, err := proxyproto.Parse(wire, &back)
	if err != nil {
		panic(err)
	}
	id, _ := back.AWSVPCEndpointID()
	crc, _ := back.CRC32C()
	fmt.Println(n, back.Source, id, crc != 0)
	fmt.Println(bytes.Equal(wire[:12], []byte("\r\n\r\n\x00\r\nQUIT\n")))
	// Output:
	// 61 10.0.0.7:40000 vpce-08d2bf15fac5001c9 true
	// true
}

// Malformed input gives a typed error; ErrInvalidHeader covers them all.
func ExampleParse_errors() {
	var h proxyproto.Header
	for _, in := range []string{
		"PROXY TCP4 1.2.3.4 5.6.7.8 65536 80\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 80\n",
		"GET / HTTP/1.1\r\n",
	} {
		_, err := proxyproto.Parse([]byte(in), &h)
		fmt.Println(err)
	}
	// Output:
	// proxyproto: invalid header: malformed v1 line
	// proxyproto: invalid header: malformed v1 line
	// proxyproto: no PROXY protocol header
}
