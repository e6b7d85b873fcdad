package dsr

import (
	"encoding/binary"
	"math/bits"
)

// virtio-net header fields (struct virtio_net_hdr, little-endian as the
// TUN and AF_PACKET write it on x86 and arm64).
const (
	vnetNeedsCsum = 1 // flags: the checksum at csum_start+csum_offset is partial
	vnetGSONone   = 0
	vnetGSOTCPv4  = 1
	vnetGSOECN    = 0x80
)

// checksum is the Internet checksum sum (RFC 1071) of b added to initial,
// not yet folded or complemented; eight bytes per step.
func checksum(b []byte, initial uint64) uint64 {
	s := initial
	var carry uint64
	for len(b) >= 8 {
		s, carry = bits.Add64(s, binary.BigEndian.Uint64(b), carry)
		b = b[8:]
	}
	s += carry
	if len(b) >= 4 {
		s, carry = bits.Add64(s, uint64(binary.BigEndian.Uint32(b)), 0)
		s += carry
		b = b[4:]
	}
	if len(b) >= 2 {
		s, carry = bits.Add64(s, uint64(binary.BigEndian.Uint16(b)), 0)
		s += carry
		b = b[2:]
	}
	if len(b) == 1 {
		s, carry = bits.Add64(s, uint64(b[0])<<8, 0)
		s += carry
	}
	return s
}

func fold(s uint64) uint16 {
	s = s>>32 + s&0xffffffff
	s = s>>32 + s&0xffffffff
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	return uint16(s)
}

// finishChecksum completes a partial checksum (virtio NEEDS_CSUM): the
// field at start+off holds the folded pseudo-header sum; the checksum of
// pkt[start:] including it is the final value.
func finishChecksum(pkt []byte, start, off int) bool {
	if start < 0 || off < 0 || start+off+2 > len(pkt) {
		return false
	}
	binary.BigEndian.PutUint16(pkt[start+off:], ^fold(checksum(pkt[start:], 0)))
	return true
}

// segmentTCP4 cuts a TCP/IPv4 super-packet (as a TUN with TSO hands it
// over) into segments of at most mss payload bytes, each prefixed by hdr
// (the encapsulation), with the IP total length, ID and checksum and the
// TCP sequence number, flags and checksum of each segment, as the kernel's
// own segmentation would produce. It appends the segments to dst and
// returns it with the size of every segment but the last. ok is false for
// anything but an option-less IPv4 header followed by TCP.
func segmentTCP4(dst, hdr, pkt []byte, mss int) (out []byte, segSize int, ok bool) {
	if len(pkt) < 40 || pkt[0] != 0x45 || pkt[9] != protoTCP || mss <= 0 {
		return dst, 0, false
	}
	thl := int(pkt[20+12]>>4) * 4
	if thl < 20 || 20+thl > len(pkt) {
		return dst, 0, false
	}
	ip, tcp, data := pkt[:20], pkt[20:20+thl], pkt[20+thl:]
	id := binary.BigEndian.Uint16(ip[4:])
	seq := binary.BigEndian.Uint32(tcp[4:])
	flags := tcp[13]
	// Pseudo-header sum without the length, which varies per segment.
	pseudo := checksum(ip[12:20], uint64(protoTCP))
	segSize = len(hdr) + 20 + thl + mss
	for i := 0; i == 0 || len(data) > 0; i++ {
		n := min(mss, len(data))
		start := len(dst)
		dst = append(dst, hdr...)
		dst = append(dst, ip...)
		dst = append(dst, tcp...)
		dst = append(dst, data[:n]...)
		data = data[n:]
		sip := dst[start+len(hdr):]
		stcp := sip[20:]
		binary.BigEndian.PutUint16(sip[2:], uint16(20+thl+n))
		binary.BigEndian.PutUint16(sip[4:], id+uint16(i))
		binary.BigEndian.PutUint16(sip[10:], 0)
		binary.BigEndian.PutUint16(sip[10:], ^fold(checksum(sip[:20], 0)))
		binary.BigEndian.PutUint32(stcp[4:], seq+uint32(i*mss))
		f := flags
		if len(data) > 0 {
			f &^= tcpFIN | 0x08 // FIN and PSH only on the last segment
		}
		if i > 0 {
			f &^= 0x80 // CWR only on the first
		}
		stcp[13] = f
		binary.BigEndian.PutUint16(stcp[16:], 0)
		binary.BigEndian.PutUint16(stcp[16:], ^fold(checksum(stcp[:thl+n], pseudo+uint64(thl+n))))
	}
	return dst, segSize, true
}
