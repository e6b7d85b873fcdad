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
