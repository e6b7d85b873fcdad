package dsr

import (
	"testing"
	"time"
)

// BenchmarkForward measures the core as a pure function: one packet per
// op, on one goroutine (so ns/op inverts to packets/s per core).
//   - hit: 4096 established flows, round robin (the steady state);
//   - new: every packet a new flow in a full table (a SYN flood);
//   - vxlan: as hit, with VXLAN encapsulation.
func BenchmarkForward(b *testing.B) {
	for _, bc := range []struct {
		name  string
		mode  Mode
		flows int
	}{
		{"hit", ModeL2, 4096},
		{"new", ModeL2, 1 << 16},
		{"vxlan", ModeVXLAN, 4096},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := newTestCore(b, bc.mode, func(cfg *Config) {
				if bc.name == "new" {
					cfg.FlowCapacity = 1024
				}
			})
			bufs := make([][]byte, bc.flows)
			for i := range bufs {
				p := pktSpec{src: "10.1.0.0", dst: testVIP, proto: protoTCP, sport: uint16(i), dport: 80, tcpFlags: 0x10, payload: 18}
				a := ip4(p.src)
				a[2] = byte(i >> 16)
				p.src = "10.1." + itoa(int(a[2])) + ".0"
				bufs[i] = withHeadroom(p.build())
			}
			now := t0
			b.ReportAllocs()
			b.SetBytes(int64(len(bufs[0]) - Headroom))
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if i&1023 == 0 {
					now = now.Add(time.Millisecond)
				}
				if r := c.Forward(bufs[i%len(bufs)], now); r.Verdict != VerdictForward {
					b.Fatal(r.Verdict, r.Reason)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpps")
		})
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var s []byte
	for ; i > 0; i /= 10 {
		s = append([]byte{byte('0' + i%10)}, s...)
	}
	return string(s)
}
