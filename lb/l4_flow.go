package lb

import (
	"encoding/binary"
	"net"
	"net/netip"
)

// L4Flow is the 5-tuple of a TCP connection or UDP flow as the load
// balancer sees it: protocol, client address and the listener address the
// client reached.
type L4Flow struct {
	// Network is "tcp" or "udp".
	Network string
	// Client is the source address and port.
	Client netip.AddrPort
	// Local is the destination address and port: the listener's.
	Local netip.AddrPort
}

// Hash returns NLB's flow hash of the 5-tuple. It is a fixed function of
// the tuple (no per-process seed), so every balancer instance, before and
// after a restart, maps a flow to the same target of the same target set.
// NLB also mixes in the TCP sequence number of the SYN; a user-space proxy
// cannot read it, so two connections that reuse a 5-tuple land on the same
// target here.
func (f L4Flow) Hash() uint64 {
	var b [2 + 16 + 2 + 16 + 2]byte
	b[0] = 6
	if f.Network == "udp" {
		b[0] = 17
	}
	c, l := f.Client.Addr().As16(), f.Local.Addr().As16()
	copy(b[2:18], c[:])
	binary.BigEndian.PutUint16(b[18:20], f.Client.Port())
	copy(b[20:36], l[:])
	binary.BigEndian.PutUint16(b[36:38], f.Local.Port())
	// FNV-1a then SplitMix64's finalizer: FNV alone spreads neighbouring
	// source ports badly (see research/dataplane.md §5.1).
	h := uint64(14695981039346656037)
	for _, x := range b {
		h ^= uint64(x)
		h *= 1099511628211
	}
	return mix64(h)
}

// l4FlowOf builds the flow of an accepted connection.
func l4FlowOf(network string, remote, local net.Addr) L4Flow {
	return L4Flow{Network: network, Client: addrPort(remote), Local: addrPort(local)}
}

// addrPort converts a *net.TCPAddr or *net.UDPAddr (or anything whose
// String is host:port) into a netip.AddrPort, unmapping IPv4-in-IPv6. It
// returns the zero AddrPort when the address is not IP.
func addrPort(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch v := a.(type) {
	case *net.TCPAddr:
		ap = v.AddrPort()
	case *net.UDPAddr:
		ap = v.AddrPort()
	default:
		if a == nil {
			return netip.AddrPort{}
		}
		ap, _ = netip.ParseAddrPort(a.String())
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
