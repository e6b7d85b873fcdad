package proxyproto

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

// benchInputs are the inputs of the parse benchmarks; the interop module's
// side-by-side benchmark against pires/go-proxyproto uses the same bytes.
var benchInputs = []struct {
	name string
	in   []byte
}{
	{"v1-TCP4", []byte(v1Spec)},
	{"v1-TCP6", []byte(v1Max6)},
	{"v2-TCP4", v2TCP4},
	{"v2-TCP4-2TLVs", v2TCP4TLVs},
	{"v2-TCP6", v2TCP6},
}

// BenchmarkRead parses from a bufio.Reader (the Listener's path), resetting
// the reader each iteration, into one caller-owned Header.
func BenchmarkRead(b *testing.B) {
	for _, bi := range benchInputs {
		b.Run(bi.name, func(b *testing.B) {
			rd := bytes.NewReader(bi.in)
			br := bufio.NewReaderSize(rd, 256)
			var h Header
			b.ReportAllocs()
			b.SetBytes(int64(len(bi.in)))
			for b.Loop() {
				rd.Reset(bi.in)
				br.Reset(rd)
				if err := Read(br, &h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParse parses from a byte slice (the datagram path).
func BenchmarkParse(b *testing.B) {
	for _, bi := range benchInputs {
		b.Run(bi.name, func(b *testing.B) {
			var h Header
			b.ReportAllocs()
			b.SetBytes(int64(len(bi.in)))
			for b.Loop() {
				if _, err := Parse(bi.in, &h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFormat encodes into a reused buffer (what the Dialer does).
func BenchmarkFormat(b *testing.B) {
	for _, bi := range benchInputs {
		var h Header
		if _, err := Parse(bi.in, &h); err != nil {
			b.Fatal(err)
		}
		b.Run(bi.name, func(b *testing.B) {
			buf := make([]byte, 0, 256)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = h.AppendFormat(buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriteTo is the Dialer's write path, to io.Discard.
func BenchmarkWriteTo(b *testing.B) {
	var h Header
	if _, err := Parse(v2TCP4TLVs, &h); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
