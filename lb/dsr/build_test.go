package dsr

import (
	"encoding/binary"
	"net/netip"
)

// pktSpec describes a test packet; build turns it into IPv4 bytes with
// correct checksums, so fixtures read as what they are.
type pktSpec struct {
	src, dst     string
	proto        uint8
	sport, dport uint16
	tcpFlags     uint8
	payload      int    // payload bytes (0x61 'a' …)
	fragOff      uint16 // flags+offset field, e.g. 0x2000 (MF)
	options      int    // bytes of IP options (multiple of 4)
	icmpType     uint8
	icmpCode     uint8
	inner        []byte // ICMP: quoted packet
	truncate     int    // cut this many bytes off the end
}

func ip4(s string) [4]byte { return netip.MustParseAddr(s).As4() }

func (p pktSpec) build() []byte {
	var l4 []byte
	switch p.proto {
	case protoTCP:
		l4 = make([]byte, 20+p.payload)
		binary.BigEndian.PutUint16(l4[0:], p.sport)
		binary.BigEndian.PutUint16(l4[2:], p.dport)
		binary.BigEndian.PutUint32(l4[4:], 1000) // seq
		l4[12] = 5 << 4
		l4[13] = p.tcpFlags
		binary.BigEndian.PutUint16(l4[14:], 65535)
	case protoUDP:
		l4 = make([]byte, 8+p.payload)
		binary.BigEndian.PutUint16(l4[0:], p.sport)
		binary.BigEndian.PutUint16(l4[2:], p.dport)
		binary.BigEndian.PutUint16(l4[4:], uint16(len(l4)))
	case protoICMP:
		l4 = make([]byte, 8, 8+len(p.inner))
		l4[0], l4[1] = p.icmpType, p.icmpCode
		if p.icmpType == 3 && p.icmpCode == 4 {
			binary.BigEndian.PutUint16(l4[6:], 1400) // next-hop MTU
		}
		l4 = append(l4, p.inner...)
	default:
		l4 = make([]byte, 8+p.payload)
	}
	off := len(l4) - p.payload
	for i := 0; i < p.payload; i++ {
		l4[off+i] = 'a' + byte(i%26)
	}
	ihl := 20 + p.options
	h := make([]byte, ihl, ihl+len(l4))
	h[0] = 0x40 | byte(ihl/4)
	binary.BigEndian.PutUint16(h[2:], uint16(ihl+len(l4)))
	binary.BigEndian.PutUint16(h[4:], 0x1234)
	binary.BigEndian.PutUint16(h[6:], p.fragOff)
	h[8] = 63
	h[9] = p.proto
	s, d := ip4(p.src), ip4(p.dst)
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	for i := 20; i < ihl; i++ {
		h[i] = 1 // NOP options
	}
	binary.BigEndian.PutUint16(h[10:], csum(h, 0))
	switch p.proto {
	case protoTCP, protoUDP:
		var ph [12]byte
		copy(ph[0:], s[:])
		copy(ph[4:], d[:])
		ph[9] = p.proto
		binary.BigEndian.PutUint16(ph[10:], uint16(len(l4)))
		at := 16
		if p.proto == protoUDP {
			at = 6
		}
		binary.BigEndian.PutUint16(l4[at:], csum(l4, sum(ph[:])))
	case protoICMP:
		binary.BigEndian.PutUint16(l4[2:], csum(l4, 0))
	}
	pkt := append(h, l4...)
	return pkt[:len(pkt)-p.truncate]
}

func sum(b []byte) uint32 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	return s
}

func csum(b []byte, initial uint32) uint16 {
	s := initial + sum(b)
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// withHeadroom returns a buffer holding pkt after Headroom free bytes.
func withHeadroom(pkt []byte) []byte {
	buf := make([]byte, Headroom+len(pkt))
	copy(buf[Headroom:], pkt)
	return buf
}
