//go:build !linux

package lb

import (
	"errors"
	"net"
	"net/netip"
)

// enablePktinfo is Linux-only here: wildcard listeners elsewhere reply
// from the host's default source address.
func enablePktinfo(pc *net.UDPConn) error {
	return errors.New("lb: per-datagram destination addresses need Linux")
}

func pktinfoDst(oob []byte) (netip.Addr, bool) { return netip.Addr{}, false }

func pktinfoSrc(src, client netip.Addr) []byte { return nil }
