package lb

import (
	"context"
	"io"
	"net"
	"testing"
)

func TestTCPUDPProxyOnePort(t *testing.T) {
	tcpTarget := startL4Target(t, echoHandler)
	udpTarget := startUDPEcho(t, "u")
	// NLB's TCP_UDP targets serve both on one port; here the two test
	// servers have different ports, so each half gets its own group.
	tcp := &TCPProxy{TargetGroup: newTestTG(t, TargetGroupConfig{}, tcpTarget.addr), Logger: quietLog}
	udp := &UDPProxy{TargetGroup: newTestTG(t, TargetGroupConfig{}, udpTarget), Logger: quietLog}
	ln, pc, err := ListenTCPUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if ln.Addr().(*net.TCPAddr).Port != pc.LocalAddr().(*net.UDPAddr).Port {
		t.Fatalf("TCP on %v, UDP on %v: want one port", ln.Addr(), pc.LocalAddr())
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- (&TCPUDPProxy{TCP: tcp, UDP: udp}).Serve(ctx, ln, pc) }()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	c := dialTCP(t, ln.Addr().String())
	c.Write([]byte("over tcp"))
	c.CloseWrite()
	b, err := io.ReadAll(c)
	c.Close()
	if err != nil || string(b) != "over tcp" {
		t.Fatalf("TCP: %q, %v", b, err)
	}
	u, err := net.DialUDP("udp", nil, pc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if got, err := udpRoundTrip(u, "over udp"); err != nil || got != "u|over udp" {
		t.Fatalf("UDP: %q, %v", got, err)
	}
}

func TestTCPUDPProxyConfigError(t *testing.T) {
	ln, pc, err := ListenTCPUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := (&TCPUDPProxy{}).Serve(context.Background(), ln, pc); err == nil {
		t.Fatal("Serve with no halves succeeded")
	}
}
