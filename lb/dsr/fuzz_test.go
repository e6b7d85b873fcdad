package dsr

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzForward feeds arbitrary bytes to the core. Invariants: no panic; the
// packet's bytes never change; a forwarded packet is IPv4 to a VIP, not a
// fragment, without options, and the frame is the encapsulation followed
// by the exact packet; any other verdict emits nothing.
func FuzzForward(f *testing.F) {
	for _, fx := range fixtures() {
		f.Add(fx.pkt, fx.mode == ModeVXLAN)
	}
	small := func(cfg *Config) { cfg.FlowCapacity = 256 }
	cores := map[bool]*Core{false: newTestCore(f, ModeL2, small), true: newTestCore(f, ModeVXLAN, small)}
	f.Fuzz(func(t *testing.T, pkt []byte, vxlan bool) {
		c := cores[vxlan]
		buf := withHeadroom(pkt)
		r := c.Forward(buf, t0)
		if !bytes.Equal(buf[Headroom:], pkt) {
			t.Fatal("Forward changed the packet")
		}
		if r.Verdict != VerdictForward {
			if r.Frame != nil {
				t.Fatalf("%v with a frame", r.Verdict)
			}
			return
		}
		hdr := ethHeaderLen
		if vxlan {
			hdr += vxlanHeaderLen
		}
		if len(r.Frame) != len(pkt)+hdr || !bytes.Equal(r.Frame[hdr:], pkt) {
			t.Fatal("frame is not encapsulation + the unchanged packet")
		}
		if pkt[0] != 0x45 || binary.BigEndian.Uint16(pkt[6:8])&0x3fff != 0 {
			t.Fatalf("forwarded a packet with options or a fragment: %x", pkt[:8])
		}
		if !c.isVIP(binary.BigEndian.Uint32(pkt[16:20])) {
			t.Fatal("forwarded a packet not addressed to a VIP")
		}
	})
}

// FuzzSegmentTCP4 cuts arbitrary packets at arbitrary MSS. Invariants: no
// panic; when it accepts, every segment has a valid IP and TCP checksum and
// the segments' payloads concatenate to the original payload.
func FuzzSegmentTCP4(f *testing.F) {
	for _, size := range []int{0, 1, 100, 3000} {
		f.Add(pktSpec{src: testClient, dst: testVIP, proto: protoTCP, sport: 1, dport: 80, tcpFlags: 0x18, payload: size}.build(), uint16(1000))
	}
	f.Add([]byte{0x45, 0, 0, 40}, uint16(0))
	f.Fuzz(func(t *testing.T, pkt []byte, mss uint16) {
		hdr := []byte{1, 2, 3}
		out, size, ok := segmentTCP4(nil, hdr, pkt, int(mss))
		if !ok {
			if len(out) != 0 {
				t.Fatal("output for a rejected packet")
			}
			return
		}
		thl := int(pkt[32]>>4) * 4
		var payload []byte
		for len(out) > 0 {
			seg := out[:min(size, len(out))]
			out = out[len(seg):]
			ip := seg[len(hdr):]
			if fold(checksum(ip[:20], 0)) != 0xffff {
				t.Fatal("bad IP checksum")
			}
			var ph [12]byte
			copy(ph[:8], ip[12:20])
			ph[9] = protoTCP
			binary.BigEndian.PutUint16(ph[10:], uint16(len(ip)-20))
			if fold(checksum(ip[20:], checksum(ph[:], 0))) != 0xffff {
				t.Fatal("bad TCP checksum")
			}
			payload = append(payload, ip[20+thl:]...)
		}
		if !bytes.Equal(payload, pkt[20+thl:]) {
			t.Fatal("payload changed")
		}
	})
}
