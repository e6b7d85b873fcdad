package proxyproto

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"
	"testing/iotest"
)

// fuzzSeeds are the edge cases every parser fuzz target starts from (the
// files under testdata/fuzz/ hold more, and whatever fuzzing adds).
func fuzzSeeds() [][]byte {
	ip4 := ipv4Block("1.2.3.4", "5.6.7.8", 1, 2)
	return [][]byte{
		[]byte(v1Spec), []byte(v1Max6), []byte(v1Unknown), []byte("PROXY UNKNOWN\r\n"),
		[]byte("PROXY TCP6 ::ffff:1.2.3.4 ::1 1 2\r\n"), []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"),
		v2Local0, v2Local12, v2TCP4, v2TCP4TLVs, v2TCP6,
		v2(0x20, 0x11, -1, []byte{1, 2, 3}), // LOCAL with a short block
		v2(0x21, 0x31, -1, make([]byte, 216), tlv(0x30, "netns")),
		v2(0x21, 0x12, -1, ip4, tlv(0x20, "\x01\x00\x00\x00\x00\x21\x00\x07TLSv1.3")),
		withCRC(v2(0x21, 0x11, -1, ip4, tlv(0x05, "id"))),
		v2(0x21, 0x13, -1, ip4), v2(0x22, 0x11, -1, ip4), v2(0x21, 0x11, 11, ip4[:11]),
		v2(0x21, 0x11, -1, ip4, []byte{0x02, 0, 9}),
		[]byte("GET / HTTP/1.1\r\n"), {}, {0x0D, 0x0A, 0x0D},
	}
}

// FuzzRead feeds arbitrary bytes to Read (in one piece and one byte at a
// time) and Parse, and checks the invariants of the receiver:
//   - all three agree, and consume the same number of bytes;
//   - a failed parse leaves the Header unchanged;
//   - an accepted header has the addresses its protocol needs, formats
//     again, and its encoding parses back to an equal header; it formats
//     to exactly the input bytes, except a v1 TCP6 address written in a
//     non-canonical form, whose encoding is then stable.
func FuzzRead(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		sentinel := Header{Version: V2, Command: Proxy, Protocol: TCP4, Source: ap("9.9.9.9:9"), Destination: ap("8.8.8.8:8"), ext: []byte("keep")}

		h := sentinel.Clone()
		n, err := Parse(in, &h)
		if err != nil {
			if !h.Equal(&sentinel) {
				t.Fatalf("Parse failed (%v) but changed the header to %+v", err, h)
			}
			if !errors.Is(err, ErrNoHeader) && !errors.Is(err, ErrInvalidHeader) {
				t.Fatalf("Parse error %v is not typed", err)
			}
		}

		for _, mode := range []string{"whole", "bytewise"} {
			var r io.Reader = bytes.NewReader(in)
			if mode == "bytewise" {
				r = iotest.OneByteReader(r)
			}
			br := bufio.NewReaderSize(r, 256)
			h2 := sentinel.Clone()
			rerr := Read(br, &h2)
			switch {
			case err == nil && rerr != nil:
				t.Fatalf("%s: Parse accepted %q, Read: %v", mode, in, rerr)
			case err != nil && rerr == nil && n == 0 && !errors.Is(err, ErrTruncated):
				t.Fatalf("%s: Read accepted %q, Parse: %v", mode, in, err)
			case err == nil:
				if !h2.Equal(&h) {
					t.Fatalf("%s: Read = %+v, Parse = %+v", mode, h2, h)
				}
				rest, _ := io.ReadAll(br)
				if !bytes.Equal(rest, in[n:]) {
					t.Fatalf("%s: after the header Read left %q, want %q", mode, rest, in[n:])
				}
			case rerr != nil && !h2.Equal(&sentinel):
				t.Fatalf("%s: Read failed (%v) but changed the header", mode, rerr)
			case errors.Is(err, ErrNoHeader) != errors.Is(rerr, ErrNoHeader):
				t.Fatalf("%s: Parse error %v, Read error %v", mode, err, rerr)
			}
		}
		if err != nil {
			return
		}

		if n <= 0 || n > len(in) {
			t.Fatalf("consumed %d of %d bytes", n, len(in))
		}
		if h.Command == Proxy && !h.opaque {
			switch h.Protocol >> 4 {
			case 1:
				if !h.Source.Addr().Is4() || !h.Destination.Addr().Is4() {
					t.Fatalf("INET header with addresses %v %v", h.Source, h.Destination)
				}
			case 2:
				if !h.Source.Addr().Is6() || !h.Destination.Addr().Is6() {
					t.Fatalf("INET6 header with addresses %v %v", h.Source, h.Destination)
				}
			case 3:
				if _, _, ok := h.UnixAddrs(); !ok {
					t.Fatal("UNIX header without paths")
				}
			}
			if h.Protocol != Unspec && (h.SourceAddr() == nil || h.DestinationAddr() == nil) {
				t.Fatalf("PROXY %v header with nil addresses", h.Protocol)
			}
		}
		out, err := h.Format()
		if err != nil {
			t.Fatalf("accepted %q, Format: %v", in[:n], err)
		}
		if !bytes.Equal(out, in[:n]) && !(h.Version == V1 && h.Protocol == TCP6) {
			t.Fatalf("Format = %q, parsed from %q", out, in[:n])
		}
		var h3 Header
		m, err := Parse(out, &h3)
		if err != nil || m != len(out) || !h3.Equal(&h) {
			t.Fatalf("re-parse of %q: n=%d err=%v %+v, want %+v", out, m, err, h3, h)
		}
		out2, err := h3.Format()
		if err != nil || !bytes.Equal(out2, out) {
			t.Fatalf("encoding not stable: %q then %q (%v)", out, out2, err)
		}
		// TLV iteration stays within the header's TLV bytes.
		total := 0
		for tl := range h.TLVs() {
			total += 3 + len(tl.Value)
		}
		if total != len(h.RawTLVs()) {
			t.Fatalf("TLVs cover %d of %d bytes", total, len(h.RawTLVs()))
		}
	})
}

// FuzzSplitTLVs checks TLV splitting: it never panics or reads outside its
// input, every value lies inside the input, a successful split joins back
// to the same bytes, and the receiver's stricter check never accepts what
// splitting rejects.
func FuzzSplitTLVs(f *testing.F) {
	f.Add([]byte{})
	f.Add(tlv(0x02, "example.com"))
	f.Add(append(tlv(0xEA, "\x01vpce-0123"), tlv(0x03, "\x00\x00\x00\x00")...))
	f.Add(tlv(0x20, "\x01\x00\x00\x00\x00\x21\x00\x07TLSv1.3"))
	f.Add([]byte{0x01, 0x00})
	f.Add([]byte{0x01, 0xFF, 0xFF, 0x00})
	f.Fuzz(func(t *testing.T, raw []byte) {
		tlvs, err := SplitTLVs(raw)
		if _, cerr := checkTLVs(raw); cerr == nil && err != nil {
			t.Fatalf("checkTLVs accepted what SplitTLVs rejects: %v", err)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidTLV) {
				t.Fatalf("error %v is not ErrInvalidTLV", err)
			}
			return
		}
		off := 0
		for _, tl := range tlvs {
			off += 3
			if len(tl.Value) > 0 && &tl.Value[0] != &raw[off] {
				t.Fatalf("TLV value does not alias its place in the input")
			}
			if cap(tl.Value) != len(tl.Value) {
				t.Fatalf("TLV value has spare capacity %d (appending would overwrite the next TLV)", cap(tl.Value)-len(tl.Value))
			}
			off += len(tl.Value)
		}
		if off != len(raw) {
			t.Fatalf("TLVs cover %d of %d bytes", off, len(raw))
		}
		back, err := JoinTLVs(tlvs)
		if err != nil || !bytes.Equal(back, raw) {
			t.Fatalf("JoinTLVs = %x, %v; want %x", back, err, raw)
		}
	})
}

// FuzzParseIPv6 checks the allocation-free IPv6 parser of v1 lines against
// net/netip: the same addresses accepted (zones and bare IPv4 excluded),
// the same values.
func FuzzParseIPv6(f *testing.F) {
	for _, s := range []string{"::", "::1", "2001:db8::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::ffff:1.2.3.4",
		"1:2:3:4:5:6:1.2.3.4", "1::2::3", "1:2:3:4:5:6:7:8:9", "1.2.3.4", "fe80::1%eth0", "12345::", "::ffff:01.2.3.4", "1:2:3:4:5:6:7::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseIPv6([]byte(s))
		want, err := netip.ParseAddr(s)
		wantOK := err == nil && want.Is6() && want.Zone() == ""
		if ok != wantOK {
			t.Fatalf("parseIPv6(%q) ok=%v, netip: %v, %v", s, ok, want, err)
		}
		if ok && got != want {
			t.Fatalf("parseIPv6(%q) = %v, netip %v", s, got, want)
		}
	})
}

// FuzzFormat builds headers from arbitrary fields: whatever Format accepts,
// Parse must read back as an equal header (anything we send, we and every
// strict receiver accept).
func FuzzFormat(f *testing.F) {
	f.Add(uint8(2), uint8(1), uint8(0x11), []byte{1, 2, 3, 4}, []byte{5, 6, 7, 8}, uint16(1), uint16(2), []byte{}, false)
	f.Add(uint8(1), uint8(1), uint8(0x21), make([]byte, 16), make([]byte, 16), uint16(0), uint16(65535), []byte{}, false)
	f.Add(uint8(2), uint8(0), uint8(0x00), []byte{}, []byte{}, uint16(0), uint16(0), tlv(0x04, "pad"), true)
	f.Add(uint8(2), uint8(1), uint8(0x31), []byte("/a"), []byte("/b"), uint16(0), uint16(0), tlv(0x02, "host"), true)
	f.Fuzz(func(t *testing.T, version, cmd, proto uint8, src, dst []byte, sport, dport uint16, tlvs []byte, crc bool) {
		h := Header{Version: Version(version), Command: Command(cmd), Protocol: Protocol(proto)}
		if proto>>4 == 3 {
			if h.SetUnixAddrs(string(src), string(dst)) != nil {
				return
			}
		} else {
			s, ok1 := netip.AddrFromSlice(src)
			d, ok2 := netip.AddrFromSlice(dst)
			if ok1 && ok2 {
				h.Source, h.Destination = netip.AddrPortFrom(s, sport), netip.AddrPortFrom(d, dport)
			}
		}
		parts, err := SplitTLVs(tlvs)
		if err != nil {
			return
		}
		for _, p := range parts {
			if h.AddTLV(p.Type, p.Value) != nil {
				return
			}
		}
		if crc && h.AddCRC32C() != nil {
			return
		}
		out, err := h.Format()
		if err != nil {
			return
		}
		var back Header
		n, err := Parse(out, &back)
		if err != nil {
			t.Fatalf("Format(%+v) = %q, which Parse rejects: %v", h, out, err)
		}
		if n != len(out) {
			t.Fatalf("Parse consumed %d of %d bytes", n, len(out))
		}
		again, err := back.Format()
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("re-format %q, want %q (%v)", again, out, err)
		}
		if back.Version != h.Version || back.Command != h.Command {
			t.Fatalf("version/command %v/%v, want %v/%v", back.Version, back.Command, h.Version, h.Command)
		}
		if fam := h.Protocol >> 4; (fam == 1 || fam == 2) && h.Source.IsValid() && (h.Version == V2 || h.Command == Proxy) && (back.Source != h.Source || back.Destination != h.Destination) {
			t.Fatalf("addresses %v %v, want %v %v", back.Source, back.Destination, h.Source, h.Destination)
		}
	})
}
