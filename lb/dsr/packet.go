package dsr

import (
	"encoding/binary"
)

// IP protocol numbers the core understands (IANA "Assigned Internet
// Protocol Numbers").
const (
	protoICMP = 1
	protoTCP  = 6
	protoUDP  = 17
)

// TCP flags (RFC 9293 §3.1) that shorten a flow's idle timeout.
const (
	tcpFIN = 0x01
	tcpRST = 0x04
)

// flowKey is an IPv4 5-tuple packed into two words: the flow table
// compares keys with two integer compares and no byte slices.
type flowKey struct {
	addrs uint64 // source address << 32 | destination address
	ports uint32 // source port << 16 | destination port
	proto uint8
}

// parsed is what the core reads from one packet.
type parsed struct {
	key     flowKey
	tcpFlag uint8
	// icmp is set for an ICMP "fragmentation needed" message about a VIP
	// flow: key is then the flow the message is about, already reversed to
	// the inbound direction.
	icmp bool
}

// parse reads an IPv4 packet. It returns the verdict for packets it will
// not forward (ignored or dropped, with the reason) and the flow otherwise.
// isVIP says whether an address (as a big-endian uint32) is served.
func parse(pkt []byte, isVIP func(uint32) bool) (parsed, Verdict, DropReason) {
	var p parsed
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		if len(pkt) > 0 && pkt[0]>>4 == 6 {
			return p, VerdictIgnore, 0 // IPv6 is not served (yet)
		}
		return p, VerdictDrop, DropMalformed
	}
	dst := binary.BigEndian.Uint32(pkt[16:20])
	if !isVIP(dst) {
		return p, VerdictIgnore, 0
	}
	ihl := int(pkt[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(pkt[2:4]))
	if ihl < 20 || total < ihl || total > len(pkt) {
		// A GSO super-packet read from a TUN with offloads may carry a
		// total length of 0 (its length is the buffer's); accept it.
		if !(total == 0 && ihl == 20 && len(pkt) > 0xffff) {
			return p, VerdictDrop, DropMalformed
		}
		total = len(pkt)
	}
	if ihl > 20 {
		return p, VerdictDrop, DropIPOptions
	}
	// Flags and fragment offset: MF set or a non-zero offset is a fragment.
	if binary.BigEndian.Uint16(pkt[6:8])&0x3fff != 0 {
		return p, VerdictDrop, DropFragment
	}
	src := binary.BigEndian.Uint32(pkt[12:16])
	l4 := pkt[ihl:total]
	switch proto := pkt[9]; proto {
	case protoTCP:
		if len(l4) < 20 {
			return p, VerdictDrop, DropMalformed
		}
		p.tcpFlag = l4[13]
		fallthrough
	case protoUDP:
		if len(l4) < 8 {
			return p, VerdictDrop, DropMalformed
		}
		p.key = flowKey{
			addrs: uint64(src)<<32 | uint64(dst),
			ports: binary.BigEndian.Uint32(l4[0:4]),
			proto: proto,
		}
		return p, VerdictForward, 0
	case protoICMP:
		return parseICMP(l4, isVIP)
	default:
		return p, VerdictDrop, DropProtocol
	}
}

// parseICMP accepts "destination unreachable / fragmentation needed"
// (RFC 792, RFC 1191) about a packet a backend sent from the VIP: the
// message belongs to that flow's backend, whose TCP stack lowers its path
// MTU. Katran and GLB Director route it the same way. Any other ICMP to
// the VIP (echo, for instance) has no backend and is dropped.
func parseICMP(l4 []byte, isVIP func(uint32) bool) (parsed, Verdict, DropReason) {
	var p parsed
	if len(l4) < 8 {
		return p, VerdictDrop, DropMalformed
	}
	if l4[0] != 3 || l4[1] != 4 {
		return p, VerdictDrop, DropICMP
	}
	inner := l4[8:]
	// The quoted header is at least 20 bytes plus the first 8 of the
	// transport header: enough for both ports.
	if len(inner) < 28 || inner[0]>>4 != 4 {
		return p, VerdictDrop, DropMalformed
	}
	ihl := int(inner[0]&0x0f) * 4
	if ihl < 20 || len(inner) < ihl+8 {
		return p, VerdictDrop, DropMalformed
	}
	proto := inner[9]
	if proto != protoTCP && proto != protoUDP {
		return p, VerdictDrop, DropICMP
	}
	isrc := binary.BigEndian.Uint32(inner[12:16])
	idst := binary.BigEndian.Uint32(inner[16:20])
	if !isVIP(isrc) {
		return p, VerdictDrop, DropICMP
	}
	sport := binary.BigEndian.Uint16(inner[ihl : ihl+2])
	dport := binary.BigEndian.Uint16(inner[ihl+2 : ihl+4])
	// Reverse: the inbound flow is client (inner dst) → VIP (inner src).
	p.key = flowKey{
		addrs: uint64(idst)<<32 | uint64(isrc),
		ports: uint32(dport)<<16 | uint32(sport),
		proto: proto,
	}
	p.icmp = true
	return p, VerdictForward, 0
}
