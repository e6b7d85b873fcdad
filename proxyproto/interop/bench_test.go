package interop

import (
	"bufio"
	"bytes"
	"testing"

	pires "github.com/pires/go-proxyproto"

	"github.com/lbkit/lbkit/proxyproto"
)

// benchCases are the inputs both implementations parse, built once with
// lbkit's encoder (the same bytes as the main module's benchmarks).
func benchCases(b *testing.B) []struct {
	name string
	in   []byte
} {
	mk := func(v proxyproto.Version, src, dst string, tlvs bool) []byte {
		h, err := proxyproto.NewHeader(tcp(src), tcp(dst))
		must(b, err)
		h.Version = v
		if tlvs {
			must(b, h.AddAWSVPCEndpointID("vpce-08d2bf15fac5001c9"))
			must(b, h.AddAuthority("example.com"))
		}
		out, err := h.Format()
		must(b, err)
		return out
	}
	return []struct {
		name string
		in   []byte
	}{
		{"v1-TCP4", mk(proxyproto.V1, "192.168.0.1:56324", "192.168.0.11:443", false)},
		{"v1-TCP6", mk(proxyproto.V1, "[2001:db8::1]:56324", "[2001:db8::ff]:443", false)},
		{"v2-TCP4", mk(proxyproto.V2, "192.168.0.1:56324", "192.168.0.11:443", false)},
		{"v2-TCP4-2TLVs", mk(proxyproto.V2, "192.168.0.1:56324", "192.168.0.11:443", true)},
		{"v2-TCP6", mk(proxyproto.V2, "[2001:db8::1]:56324", "[2001:db8::ff]:443", false)},
	}
}

// BenchmarkRead parses each input from a 256-byte bufio.Reader that is
// reset every iteration, with lbkit (into one reused Header) and with
// pires (which returns a new Header), side by side in the same run. Read
// the ratio of the pairs, not the absolute times.
func BenchmarkRead(b *testing.B) {
	for _, c := range benchCases(b) {
		b.Run(c.name+"/impl=lbkit", func(b *testing.B) {
			rd := bytes.NewReader(c.in)
			br := bufio.NewReaderSize(rd, 256)
			var h proxyproto.Header
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(c.in)
				br.Reset(rd)
				if err := proxyproto.Read(br, &h); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/impl=pires", func(b *testing.B) {
			rd := bytes.NewReader(c.in)
			br := bufio.NewReaderSize(rd, 256)
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(c.in)
				br.Reset(rd)
				if _, err := pires.Read(br); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFormat encodes each header, lbkit into a reused buffer and
// pires with its Format.
func BenchmarkFormat(b *testing.B) {
	for _, c := range benchCases(b) {
		var h proxyproto.Header
		_, err := proxyproto.Parse(c.in, &h)
		must(b, err)
		ph, err := pires.Read(bufio.NewReader(bytes.NewReader(c.in)))
		must(b, err)
		b.Run(c.name+"/impl=lbkit", func(b *testing.B) {
			buf := make([]byte, 0, 256)
			b.ReportAllocs()
			for b.Loop() {
				if buf, err = h.AppendFormat(buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/impl=pires", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ph.Format(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
