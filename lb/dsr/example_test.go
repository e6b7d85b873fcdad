package dsr_test

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/lbkit/lbkit/lb/dsr"
)

// A Core decides per packet, without I/O: the packet sits after
// dsr.Headroom free bytes, where the core writes the Ethernet header.
func ExampleCore() {
	core, err := dsr.NewCore(dsr.Config{
		VIPs:      []netip.Addr{netip.MustParseAddr("10.0.0.100")},
		SourceMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
	})
	if err != nil {
		panic(err)
	}
	err = core.SetBackends([]dsr.Backend{
		{Addr: netip.MustParseAddr("10.0.0.11"), MAC: net.HardwareAddr{2, 0, 0, 0, 0, 0x11}, Weight: 1},
		{Addr: netip.MustParseAddr("10.0.0.12"), MAC: net.HardwareAddr{2, 0, 0, 0, 0, 0x12}, Weight: 1},
	})
	if err != nil {
		panic(err)
	}
	// A UDP packet 10.0.0.1:5000 → 10.0.0.100:53 (checksums omitted).
	pkt := []byte{
		0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 100,
		0x13, 0x88, 0, 53, 0, 8, 0, 0,
	}
	buf := make([]byte, dsr.Headroom+len(pkt))
	copy(buf[dsr.Headroom:], pkt)

	r := core.Forward(buf, time.Now())
	fmt.Println(r.Verdict, r.Backend, len(r.Frame)-len(pkt), "bytes of Ethernet header")
	fmt.Printf("to %x from %x\n", r.Frame[0:6], r.Frame[6:12])
	// Output:
	// forward 10.0.0.11 14 bytes of Ethernet header
	// to 020000000011 from 020000000002
}
