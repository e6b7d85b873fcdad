package lb

import (
	"github.com/lbkit/lbkit/balancer"
	"io"
	"net"
	"testing"
)

// BenchmarkTCPProxyConn measures one short proxied connection: connect,
// 64-byte request, 64-byte reply, close (the connection-rate workload of
// bench/l4-bench).
func BenchmarkTCPProxyConn(b *testing.B) {
	target := startL4Target(b, func(c *net.TCPConn) {
		buf := make([]byte, 64)
		if _, err := io.ReadFull(c, buf); err == nil {
			c.Write(buf)
		}
	})
	addr := serveTCP(b, &TCPProxy{TargetGroup: newTestTG(b, TargetGroupConfig{Algorithm: balancer.FlowHash{}}, target.addr)})
	b.ReportAllocs()
	req, resp := make([]byte, 64), make([]byte, 64)
	for b.Loop() {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		c.Write(req)
		if _, err := io.ReadFull(c, resp); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// BenchmarkTCPProxyBulk measures proxied upload throughput (SetBytes: MB/s).
func BenchmarkTCPProxyBulk(b *testing.B) {
	target := startL4Target(b, func(c *net.TCPConn) {
		buf := make([]byte, 256<<10)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	})
	addr := serveTCP(b, &TCPProxy{TargetGroup: newTestTG(b, TargetGroupConfig{}, target.addr)})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 256<<10)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
}
