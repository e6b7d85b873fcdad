package proxyproto

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"net/netip"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// v2 builds a v2 header: ver/cmd byte, fam byte, then the block; the length
// field is computed unless length >= 0 overrides it.
func v2(verCmd, fam byte, length int, block ...[]byte) []byte {
	b := append([]byte{}, sigV2[:]...)
	b = append(b, verCmd, fam, 0, 0)
	for _, p := range block {
		b = append(b, p...)
	}
	n := len(b) - 16
	if length >= 0 {
		n = length
	}
	binary.BigEndian.PutUint16(b[14:], uint16(n))
	return b
}

func ipv4Block(src, dst string, sp, dp uint16) []byte {
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	b := append(s[:], d[:]...)
	b = binary.BigEndian.AppendUint16(b, sp)
	return binary.BigEndian.AppendUint16(b, dp)
}

func ipv6Block(src, dst string, sp, dp uint16) []byte {
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	b := append(s[:], d[:]...)
	b = binary.BigEndian.AppendUint16(b, sp)
	return binary.BigEndian.AppendUint16(b, dp)
}

func tlv(t byte, v string) []byte {
	return append([]byte{t, byte(len(v) >> 8), byte(len(v))}, v...)
}

// withCRC appends a CRC32C TLV to a v2 header and fills in its checksum.
func withCRC(h []byte) []byte {
	h = append(h, 0x03, 0, 4, 0, 0, 0, 0)
	binary.BigEndian.PutUint16(h[14:], uint16(len(h)-16))
	binary.BigEndian.PutUint32(h[len(h)-4:], crc32.Checksum(h, crc32.MakeTable(crc32.Castagnoli)))
	return h
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

var (
	v1Spec     = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"
	v1Max6     = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"
	v1Unknown  = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"
	v2Local0   = v2(0x20, 0x00, -1)
	v2Local12  = v2(0x20, 0x11, -1, ipv4Block("10.0.0.1", "10.0.0.2", 1, 2))
	v2TCP4     = v2(0x21, 0x11, -1, ipv4Block("192.168.0.1", "192.168.0.11", 56324, 443))
	v2TCP4TLVs = v2(0x21, 0x11, -1, ipv4Block("192.168.0.1", "192.168.0.11", 56324, 443),
		tlv(0xEA, "\x01vpce-08d2bf15fac5001c9"), tlv(0x02, "example.com"))
	v2TCP6 = v2(0x21, 0x21, -1, ipv6Block("2001:db8::1", "2001:db8::2", 1000, 443))
)

func TestGoldenVectors(t *testing.T) {
	if len(v1Max6) != 104 || len(v1Unknown) != 107 {
		t.Fatalf("vector lengths: TCP6 %d (want 104), UNKNOWN %d (want 107)", len(v1Max6), len(v1Unknown))
	}
	tests := []struct {
		name string
		in   []byte
		want Header
		// canonical: Format gives back exactly in.
		canonical bool
	}{
		{"v1 spec example", []byte(v1Spec), Header{Version: V1, Command: Proxy, Protocol: TCP4, Source: ap("192.168.0.1:56324"), Destination: ap("192.168.0.11:443")}, true},
		{"v1 TCP6 104 bytes", []byte(v1Max6), Header{Version: V1, Command: Proxy, Protocol: TCP6,
			Source: ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"), Destination: ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535")}, true},
		{"v1 UNKNOWN 107 bytes", []byte(v1Unknown), Header{Version: V1, Command: Local, Protocol: Unspec, ext: []byte(v1Unknown[13:105])}, true},
		{"v1 UNKNOWN bare", []byte("PROXY UNKNOWN\r\n"), Header{Version: V1, Command: Local, ext: []byte{}}, true},
		{"v2 LOCAL len 0", v2Local0, Header{Version: V2, Command: Local, ext: []byte{}}, true},
		{"v2 LOCAL len 12", v2Local12, Header{Version: V2, Command: Local, Protocol: TCP4, Source: ap("10.0.0.1:1"), Destination: ap("10.0.0.2:2"), ext: []byte{}}, true},
		{"v2 TCP4", v2TCP4, Header{Version: V2, Command: Proxy, Protocol: TCP4, Source: ap("192.168.0.1:56324"), Destination: ap("192.168.0.11:443"), ext: []byte{}}, true},
		{"v2 TCP6", v2TCP6, Header{Version: V2, Command: Proxy, Protocol: TCP6, Source: ap("[2001:db8::1]:1000"), Destination: ap("[2001:db8::2]:443"), ext: []byte{}}, true},
		{"v2 TCP4 with TLVs", v2TCP4TLVs, Header{Version: V2, Command: Proxy, Protocol: TCP4, Source: ap("192.168.0.1:56324"), Destination: ap("192.168.0.11:443"),
			ext: append(tlv(0xEA, "\x01vpce-08d2bf15fac5001c9"), tlv(0x02, "example.com")...)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append(append([]byte{}, tt.in...), "app data"...)
			var h Header
			n, err := Parse(in, &h)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if n != len(tt.in) {
				t.Errorf("Parse consumed %d bytes, header is %d", n, len(tt.in))
			}
			if !h.Equal(&tt.want) {
				t.Errorf("Parse = %+v\nwant   %+v", h, tt.want)
			}
			// Read from a stream gives the same header and leaves the
			// application's bytes.
			br := bufio.NewReader(bytes.NewReader(in))
			var h2 Header
			if err := Read(br, &h2); err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !h2.Equal(&h) {
				t.Errorf("Read = %+v, Parse = %+v", h2, h)
			}
			if rest, _ := io.ReadAll(br); string(rest) != "app data" {
				t.Errorf("after header: %q, want %q", rest, "app data")
			}
			out, err := tt.want.Format()
			if err != nil {
				t.Fatalf("Format: %v", err)
			}
			if tt.canonical && !bytes.Equal(out, tt.in) {
				t.Errorf("Format =\n%s\nwant\n%s", hex.Dump(out), hex.Dump(tt.in))
			}
		})
	}
}

func TestReject(t *testing.T) {
	long := "PROXY TCP4 " + strings.Repeat("1", 100) + "\r\n"
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"not a header", []byte("GET / HTTP/1.1\r\n\r\n"), ErrNoHeader},
		{"v1 no CRLF within 107", []byte(long), ErrHeaderTooLong},
		{"v1 bare LF", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), ErrInvalidV1},
		{"v1 leading zero port", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"), ErrInvalidV1},
		{"v1 leading zero address", []byte("PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n"), ErrInvalidV1},
		{"v1 port over 65535", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"), ErrInvalidV1},
		{"v1 IPv6 in TCP4", []byte("PROXY TCP4 ::1 ::2 1 2\r\n"), ErrInvalidV1},
		{"v1 IPv4 in TCP6", []byte("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"), ErrInvalidV1},
		{"v1 zone", []byte("PROXY TCP6 fe80::1%eth0 ::2 1 2\r\n"), ErrInvalidV1},
		{"v1 extra field", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"), ErrInvalidV1},
		{"v1 double space", []byte("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"), ErrInvalidV1},
		{"v1 bad token", []byte("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), ErrUnsupportedProtocol},
		{"v2 version 1", v2(0x11, 0x11, -1, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2)), ErrUnsupportedVersion},
		{"v2 version 3", v2(0x31, 0x11, -1, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2)), ErrUnsupportedVersion},
		{"v2 command 2", v2(0x22, 0x11, -1, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2)), ErrUnsupportedCommand},
		{"v2 fam 0x13", v2(0x21, 0x13, -1, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2)), ErrUnsupportedProtocol},
		{"v2 fam 0x41", v2(0x21, 0x41, -1, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2)), ErrUnsupportedProtocol},
		{"v2 INET length 11", v2(0x21, 0x11, 11, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2)[:11]), ErrInvalidLength},
		{"v2 INET6 length 12", v2(0x21, 0x21, -1, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2)), ErrInvalidLength},
		{"v2 UNIX length 36", v2(0x21, 0x31, -1, ipv6Block("::1", "::2", 1, 2)), ErrInvalidLength},
		{"v2 TLV overruns", v2(0x21, 0x11, -1, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2), []byte{0x02, 0, 10, 'a'}), ErrInvalidTLV},
		{"v2 TLV header cut", v2(0x21, 0x11, -1, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2), []byte{0x02, 0}), ErrInvalidTLV},
		{"v2 CRC32C mismatch", func() []byte {
			h := withCRC(v2(0x21, 0x11, -1, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2)))
			h[len(h)-1] ^= 1
			return h
		}(), ErrChecksum},
		{"v2 CRC32C 3 bytes", v2(0x21, 0x11, -1, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2), []byte{0x03, 0, 3, 1, 2, 3}), ErrInvalidTLV},
		{"v2 UNIQUE_ID 129 bytes", v2(0x21, 0x11, -1, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2), tlv(0x05, strings.Repeat("x", 129))), ErrInvalidTLV},
		{"v2 SSL short", v2(0x21, 0x11, -1, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2), tlv(0x20, "\x01\x00\x00")), ErrInvalidTLV},
		{"v2 SSL sub-TLV overruns", v2(0x21, 0x11, -1, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2), tlv(0x20, "\x01\x00\x00\x00\x00\x21\x00\x09TLS")), ErrInvalidTLV},
		{"v2 over the cap", v2(0x21, 0x11, -1, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2), tlv(0x04, strings.Repeat("x", 5000))), ErrHeaderTooLong},
		{"v2 truncated", v2TCP4[:20], ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Header{Version: V1, Command: Proxy, Protocol: TCP4, Source: ap("9.9.9.9:9"), Destination: ap("8.8.8.8:8")}
			before := h.Clone()
			br := bufio.NewReader(bytes.NewReader(tt.in))
			err := Read(br, &h)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Read error = %v, want %v", err, tt.want)
			}
			if tt.want != ErrNoHeader && !errors.Is(err, ErrInvalidHeader) {
				t.Errorf("error %v does not wrap ErrInvalidHeader", err)
			}
			if !h.Equal(&before) {
				t.Errorf("failed Read changed the header: %+v", h)
			}
		})
	}
}
