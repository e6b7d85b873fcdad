package dsr

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestChecksumMatchesReference(t *testing.T) {
	for n := range 40 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*37 + 11)
		}
		if got, want := ^fold(checksum(b, 0)), csum(b, 0); got != want {
			t.Fatalf("len %d: checksum %#04x, reference %#04x", n, got, want)
		}
	}
}

func TestFinishChecksum(t *testing.T) {
	p := pktSpec{src: testClient, dst: testVIP, proto: protoTCP, sport: 1, dport: 80, payload: 33}.build()
	want := binary.BigEndian.Uint16(p[36:])
	// What a NEEDS_CSUM packet carries: the folded pseudo-header sum.
	var ph [12]byte
	copy(ph[0:], p[12:20])
	ph[9] = protoTCP
	binary.BigEndian.PutUint16(ph[10:], uint16(len(p)-20))
	binary.BigEndian.PutUint16(p[36:], fold(checksum(ph[:], 0)))
	if !finishChecksum(p, 20, 16) || binary.BigEndian.Uint16(p[36:]) != want {
		t.Fatalf("checksum %#04x, want %#04x", binary.BigEndian.Uint16(p[36:]), want)
	}
	if finishChecksum(p, 20, len(p)) {
		t.Fatal("accepted an offset past the packet")
	}
}

func TestSegmentTCP4(t *testing.T) {
	const mss = 1000
	for _, size := range []int{0, 1, 999, 1000, 1001, 4500, 64000} {
		p := pktSpec{src: testClient, dst: testVIP, proto: protoTCP, sport: 40000, dport: 80, tcpFlags: 0x19 | 0x80, payload: size}.build()
		hdr := []byte("0123456789abcdefghijkl") // 22 bytes, like VXLAN+Ethernet
		out, segSize, ok := segmentTCP4(nil, hdr, p, mss)
		if !ok {
			t.Fatalf("size %d: not segmented", size)
		}
		if segSize != 22+40+mss {
			t.Fatalf("segment size %d", segSize)
		}
		var data []byte
		segs := 0
		for len(out) > 0 {
			n := min(segSize, len(out))
			seg := out[:n]
			out = out[n:]
			if !bytes.Equal(seg[:22], hdr) {
				t.Fatal("encapsulation not copied")
			}
			ip := seg[22:]
			if int(binary.BigEndian.Uint16(ip[2:])) != len(ip) || fold(checksum(ip[:20], 0)) != 0xffff {
				t.Fatalf("segment %d: IP length %d for %d bytes or bad checksum", segs, binary.BigEndian.Uint16(ip[2:]), len(ip))
			}
			var ph [12]byte
			copy(ph[0:], ip[12:20])
			ph[9] = protoTCP
			binary.BigEndian.PutUint16(ph[10:], uint16(len(ip)-20))
			if fold(checksum(ip[20:], checksum(ph[:], 0))) != 0xffff {
				t.Fatalf("segment %d: bad TCP checksum", segs)
			}
			last := len(out) == 0
			flags := ip[33]
			if (flags&0x01 != 0) != last || (flags&0x08 != 0) != last || (flags&0x80 != 0) != (segs == 0) {
				t.Fatalf("segment %d (last %v): flags %#02x", segs, last, flags)
			}
			if seq := binary.BigEndian.Uint32(ip[24:]); seq != 1000+uint32(len(data)) {
				t.Fatalf("segment %d: seq %d, want %d", segs, seq, 1000+len(data))
			}
			data = append(data, ip[40:]...)
			segs++
		}
		if !bytes.Equal(data, p[40:]) {
			t.Fatalf("size %d: payload not preserved", size)
		}
		if want := max(1, (size+mss-1)/mss); segs != want {
			t.Fatalf("size %d: %d segments, want %d", size, segs, want)
		}
	}
}

func BenchmarkSegmentTCP4(b *testing.B) {
	p := pktSpec{src: testClient, dst: testVIP, proto: protoTCP, sport: 40000, dport: 80, tcpFlags: 0x10, payload: 64000}.build()
	hdr := make([]byte, 22)
	out := make([]byte, 0, 70000)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		out, _, _ = segmentTCP4(out[:0], hdr, p, 1410)
	}
}
