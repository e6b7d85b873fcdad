package lb_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/lbkit/lbkit/balancer"
	"github.com/lbkit/lbkit/lb"
)

// An NLB-like TCP listener: one target group with NLB's flow hash, bytes
// forwarded by splice(2), half-closes passed through.
func ExampleTCPProxy() {
	// A target: echoes until the client's FIN, then closes.
	target, _ := net.Listen("tcp", "127.0.0.1:0")
	defer target.Close()
	go func() {
		for {
			c, err := target.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()

	tg, _ := lb.NewTargetGroup(lb.TargetGroupConfig{Name: "tcp-targets", Algorithm: balancer.FlowHash{}})
	defer tg.Close()
	tg.Register(lb.Target{Addr: target.Addr().String()})

	proxy := &lb.TCPProxy{TargetGroup: tg, Logger: slog.New(slog.DiscardHandler)}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- proxy.Serve(ctx, ln) }()

	c, _ := net.Dial("tcp", ln.Addr().String())
	c.Write([]byte("hello through the proxy"))
	c.(*net.TCPConn).CloseWrite() // the FIN reaches the target; its reply still flows back
	reply, _ := io.ReadAll(c)
	c.Close()
	fmt.Println(string(reply))

	stop()
	fmt.Println("Serve:", <-done)
	// Output:
	// hello through the proxy
	// Serve: <nil>
}

// An NLB-like UDP listener: each client's datagrams stick to one target,
// and the target's replies come back to that client.
func ExampleUDPProxy() {
	target, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer target.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := target.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			target.WriteToUDPAddrPort(append([]byte("echo: "), buf[:n]...), from)
		}
	}()

	tg, _ := lb.NewTargetGroup(lb.TargetGroupConfig{Name: "udp-targets", Algorithm: balancer.FlowHash{}})
	defer tg.Close()
	tg.Register(lb.Target{Addr: target.LocalAddr().String()})

	proxy := &lb.UDPProxy{TargetGroup: tg, Logger: slog.New(slog.DiscardHandler)}
	pc, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- proxy.Serve(ctx, pc) }()

	c, _ := net.DialUDP("udp", nil, pc.LocalAddr().(*net.UDPAddr))
	c.Write([]byte("ping"))
	buf := make([]byte, 1500)
	n, _ := c.Read(buf)
	c.Close()
	fmt.Println(string(buf[:n]))

	stop()
	fmt.Println("Serve:", <-done)
	// Output:
	// echo: ping
	// Serve: <nil>
}
