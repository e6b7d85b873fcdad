package lb

import (
	"context"
	"net"
	"net/netip"

	"github.com/lbkit/lbkit/balancer"
	"github.com/lbkit/lbkit/proxyproto"
)

// writeProxyV2 writes a PROXY protocol v2 header for flow as the first
// bytes on c: the client's address as source and the listener's as
// destination, as NLB sends when proxy_protocol_v2.enabled is set. NLB
// writes it on the first ACK with payload; this proxy writes it at once,
// which is what HAProxy's send-proxy-v2 does and what lets server-first
// protocols work.
func writeProxyV2(ctx context.Context, c net.Conn, flow balancer.Flow) error {
	h := proxyproto.Header{Version: proxyproto.V2, Command: proxyproto.Proxy}
	src, dst := flow.Src, flow.Dst
	udp := flow.Proto == protoUDP
	switch {
	case src.Addr().Is4() && dst.Addr().Is4():
		h.Protocol = proxyproto.TCP4
		if udp {
			h.Protocol = proxyproto.UDP4
		}
	default:
		h.Protocol = proxyproto.TCP6
		if udp {
			h.Protocol = proxyproto.UDP6
		}
		src = netip.AddrPortFrom(netip.AddrFrom16(src.Addr().As16()), src.Port())
		dst = netip.AddrPortFrom(netip.AddrFrom16(dst.Addr().As16()), dst.Port())
	}
	h.Source, h.Destination = src, dst
	return proxyproto.WriteHeader(ctx, c, &h)
}

// writeProxyV2Local writes the v2 LOCAL header NLB sends on health check
// connections: no client information, so the target knows the connection
// is the load balancer's own.
func writeProxyV2Local(ctx context.Context, c net.Conn) error {
	h := proxyproto.NewLocalHeader()
	return proxyproto.WriteHeader(ctx, c, &h)
}
