// Command proxyproto puts an NLB-like TCP load balancer that sends PROXY
// protocol v2 (lb.TCPProxy with ProxyProtocolV2, NLB's
// proxy_protocol_v2.enabled) in front of a Go HTTP server that reads it
// (proxyproto.Listener), so the server sees the client's own address
// instead of the load balancer's.
//
//	go run ./examples/proxyproto
//
// The client connects from 127.0.0.2 (any 127/8 address is local on
// Linux) and the load balancer from 127.0.0.1, so the difference shows.
// A connection straight to the server, without a header, is refused:
// a server configured for the protocol must not guess.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"github.com/lbkit/lbkit/lb"
	"github.com/lbkit/lbkit/proxyproto"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "proxyproto:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The server: only the load balancer's address may connect, and it
	// must send a header.
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	pl := &proxyproto.Listener{
		Listener: raw,
		Policy:   proxyproto.TrustedFrom([]netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, proxyproto.Require, proxyproto.Drop),
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(rw, "hello %s\n", r.RemoteAddr) // the client's address, from the PROXY header
	})}
	srvDone := make(chan struct{})
	go func() { defer close(srvDone); _ = srv.Serve(pl) }()
	defer func() { srv.Close(); <-srvDone }()

	// The load balancer: an NLB-like TCP listener with PROXY protocol v2
	// toward its one target.
	tg, err := lb.NewTargetGroup(lb.TargetGroupConfig{Name: "web"})
	if err != nil {
		return err
	}
	defer tg.Close()
	if err := tg.Register(lb.Target{Addr: raw.Addr().String()}); err != nil {
		return err
	}
	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	proxy := &lb.TCPProxy{TargetGroup: tg, ProxyProtocolV2: true}
	proxyDone := make(chan error, 1)
	go func() { proxyDone <- proxy.Serve(ctx, front) }()
	defer func() { cancel(); <-proxyDone }()
	fmt.Fprintf(w, "server (PROXY protocol required) on %s; load balancer (proxy_protocol_v2) on %s\n", raw.Addr(), front.Addr())

	// A client from 127.0.0.2, through the load balancer.
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", front.Addr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Fprintf(w, "client %s → load balancer → server, which answered: %s", c.LocalAddr(), body)

	// Straight to the server from 127.0.0.2: dropped by the policy.
	direct, err := d.DialContext(ctx, "tcp", raw.Addr().String())
	if err != nil {
		return err
	}
	defer direct.Close()
	_ = direct.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(direct, "GET / HTTP/1.1\r\nHost: demo\r\n\r\n")
	if _, err := http.ReadResponse(bufio.NewReader(direct), nil); err != nil {
		fmt.Fprintf(w, "client %s → server directly, no header: connection closed (%v)\n", direct.LocalAddr(), errShort(err))
	} else {
		return fmt.Errorf("the server answered a connection without a PROXY header")
	}
	return nil
}

func errShort(err error) string {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return "EOF"
	}
	return "reset"
}
