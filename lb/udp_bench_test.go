package lb

import (
	"net"
	"testing"
)

// BenchmarkUDPProxyRoundTrip measures one datagram through the proxy and
// its reply back, on an established flow.
func BenchmarkUDPProxyRoundTrip(b *testing.B) {
	echo := startUDPEcho(b, "e")
	addr := serveUDP(b, &UDPProxy{TargetGroup: newTestTG(b, TargetGroupConfig{}, echo)})
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(mustAP(addr)))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := udpRoundTrip(c, "warm up"); err != nil {
		b.Fatal(err)
	}
	msg, buf := make([]byte, 64), make([]byte, 2048)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}
