package lb

import (
	"net"
	"net/netip"
	"slices"

	"github.com/lbkit/lbkit/balancer"
)

// IP protocol numbers of balancer.Flow.Proto.
const (
	protoTCP = 6
	protoUDP = 17
)

// l4FlowOf builds the 5-tuple of an accepted connection or datagram:
// the client's address as source, the listener's as destination.
func l4FlowOf(proto uint8, remote, local net.Addr) balancer.Flow {
	return balancer.Flow{Proto: proto, Src: addrPort(remote), Dst: addrPort(local)}
}

// l4PickInfo is the first pick of a new flow: the 5-tuple, for
// balancer.FlowHash (NLB's flow hash), and its hash for the other hashing
// algorithms. Non-hashing algorithms ignore both.
func l4PickInfo(flow balancer.Flow) PickInfo {
	return PickInfo{PickInfo: balancer.PickInfo{Flow: flow, Hash: flow.Hash()}}
}

// l4Rekey returns info for another try: without the 5-tuple (which would
// hash to the same target again) and with a new hash.
func l4Rekey(info PickInfo) PickInfo {
	info.Flow = balancer.Flow{}
	info.Hash = l4Mix(info.Hash + 1)
	return info
}

// pickAvoiding picks a target not in failed, re-keying the pick a bounded
// number of times (hashing algorithms return the same target for the
// same key). If every try lands on a failed target it returns
// ErrNoTarget wrapping the last dial error.
func pickAvoiding(tg *TargetGroup, info PickInfo, failed []string) (Lease, PickInfo, error) {
	for range 8 {
		lease, err := tg.Pick(info)
		if err != nil {
			return Lease{}, info, err
		}
		if !slices.Contains(failed, lease.Addr()) {
			return lease, info, nil
		}
		lease.Done(nil)
		info = l4Rekey(info)
	}
	return Lease{}, info, ErrNoTarget
}

// l4Mix is SplitMix64's finalizer.
func l4Mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
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
