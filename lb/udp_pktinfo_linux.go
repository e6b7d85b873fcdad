//go:build linux

package lb

import (
	"errors"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// enablePktinfo asks the kernel for each datagram's destination address
// (IP_PKTINFO, and IPV6_RECVPKTINFO on IPv6 sockets), so that a wildcard
// listener knows which of the host's addresses a client used.
func enablePktinfo(pc *net.UDPConn) error {
	rc, err := pc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		e4 := syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_PKTINFO, 1)
		e6 := syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_RECVPKTINFO, 1)
		if e4 != nil && e6 != nil {
			serr = errors.Join(e4, e6)
		}
	})
	return errors.Join(err, serr)
}

// pktinfoDst returns the destination address carried by a received
// datagram's control messages.
func pktinfoDst(oob []byte) (netip.Addr, bool) {
	if len(oob) == 0 {
		return netip.Addr{}, false
	}
	var cm4 ipv4.ControlMessage
	if cm4.Parse(oob) == nil && cm4.Dst != nil {
		if a, ok := netip.AddrFromSlice(cm4.Dst.To4()); ok {
			return a, true
		}
	}
	var cm6 ipv6.ControlMessage
	if cm6.Parse(oob) == nil && cm6.Dst != nil {
		if a, ok := netip.AddrFromSlice(cm6.Dst); ok {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// pktinfoSrc returns the control message that sends a reply to client
// from src.
func pktinfoSrc(src, client netip.Addr) []byte {
	if src.Is4() && client.Unmap().Is4() {
		return (&ipv4.ControlMessage{Src: src.AsSlice()}).Marshal()
	}
	return (&ipv6.ControlMessage{Src: src.AsSlice()}).Marshal()
}
