// Package proxyproto reads and writes PROXY protocol headers, versions 1
// (text) and 2 (binary), as HAProxy's specification defines them: the
// header a proxy or load balancer (HAProxy, Envoy, NGINX, AWS NLB) puts at
// the start of a TCP connection so the server learns the client's address.
//
// Typical usage, on a server behind a proxy:
//
//	ln, _ := net.Listen("tcp", ":8080")
//	pl := &proxyproto.Listener{
//		Listener: ln,
//		// Only the proxies may connect, and they must send a header.
//		Policy: proxyproto.TrustedFrom(proxies, proxyproto.Require, proxyproto.Drop),
//	}
//	http.Serve(pl, handler) // r.RemoteAddr is the client's address
//
// and on a proxy, toward a target:
//
//	h, _ := proxyproto.NewHeader(client.RemoteAddr(), client.LocalAddr())
//	target, err := (&proxyproto.Dialer{}).DialContext(ctx, "tcp", addr, &h)
//
// At the lowest level, [Read] parses a header from a bufio.Reader into a
// caller-owned [Header] (no allocation once the Header's storage has
// grown), [Parse] does the same on a byte slice (a UDP datagram), and
// [Header.Format], [Header.AppendFormat] and [Header.WriteTo] encode one.
//
// The receiver follows the spec strictly, as HAProxy does: the header is
// accepted only at the start of a connection, never later (a second header
// is application data); it is consumed exactly, however it is split across
// segments; v1 lines are capped at 107 bytes and v2 headers at a
// configurable size checked before anything is allocated; v2 version,
// command and family/transport bytes off the spec's lists are rejected;
// TLVs must fit the header exactly; a CRC32C TLV is verified. A LOCAL
// header (AWS NLB health checks) is accepted and the real addresses kept.
// Every malformed input gives an error wrapping [ErrInvalidHeader] and
// closes the connection without passing a byte to the application.
//
// TLVs: typed accessors and adders for ALPN, AUTHORITY, CRC32C, NOOP,
// UNIQUE_ID, SSL (with its sub-TLVs), NETNS, and the AWS (0xEA, VPC
// endpoint ID), Azure (0xEE, Private Endpoint LinkID) and Google Cloud
// (0xE0, PSC connection ID) ones; [Header.TLVs] and [Header.TLV] give raw
// access to any other.
//
// What it does not do: it does not guess whether a header is present
// unless a [Policy] says so; it has no net.PacketConn wrapper (for UDP,
// each datagram carries its own header: call [Parse] on it, and keep the
// reply flow table in the application); it does not terminate TLS.
//
// The API is experimental (v0) and may change.
package proxyproto
