package interop

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net"
	"strings"
	"testing"
	"testing/iotest"

	pires "github.com/pires/go-proxyproto"

	"github.com/lbkit/lbkit/proxyproto"
)

func v2Header(fam byte, block ...[]byte) []byte {
	b := []byte("\r\n\r\n\x00\r\nQUIT\n\x21")
	b = append(b, fam, 0, 0)
	for _, p := range block {
		b = append(b, p...)
	}
	binary.BigEndian.PutUint16(b[14:], uint16(len(b)-16))
	return b
}

var ip4 = []byte{10, 0, 0, 1, 10, 0, 0, 2, 0x9c, 0x40, 0x01, 0xbb}

func tlvBytes(t byte, v string) []byte {
	return append([]byte{t, byte(len(v) >> 8), byte(len(v))}, v...)
}

// TestWhereWeDiffer records, with reasons, the inputs on which lbkit and
// pires disagree, so that a change in either shows up here. Everything not
// listed is covered by the agreement tests.
func TestWhereWeDiffer(t *testing.T) {
	badCRC := v2Header(0x11, ip4, []byte{0x03, 0, 4, 0, 0, 0, 0})
	binary.BigEndian.PutUint32(badCRC[len(badCRC)-4:], crc32.Checksum(badCRC, crc32.MakeTable(crc32.Castagnoli))^1)

	tests := []struct {
		name         string
		in           []byte
		bytewise     bool // deliver the input one byte per read
		oursOK       bool
		piresOK      bool
		whyDifferent string
	}{
		{"CRC32C mismatch", badCRC, false, false, true,
			"the spec: a CRC32C mismatch MUST invalidate the connection; pires does not verify it"},
		{"UNIQUE_ID over 128 bytes", v2Header(0x11, ip4, tlvBytes(0x05, strings.Repeat("u", 129))), false, false, true,
			"the spec bounds UNIQUE_ID at 128 bytes (HAProxy enforces it)"},
		{"SSL TLV shorter than its fixed part", v2Header(0x11, ip4, tlvBytes(0x20, "\x01")), false, false, true,
			"an SSL value has a 5-byte fixed part; pires leaves it to tlvparse"},
		{"TLV overrunning the header", v2Header(0x11, ip4, []byte{0x02, 0, 9, 'x'}), false, false, true,
			"the spec: TLVs fill the header exactly (HAProxy rejects); pires splits TLVs only when TLVs() is called"},
		{"v1 line split across reads", []byte("PROXY TCP4 10.0.0.1 10.0.0.2 40000 443\r\n"), true, true, false,
			"a v1 line may arrive in several segments (nginx#1400-style splits); pires requires it in its first read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reader := func() *bufio.Reader {
				var r io.Reader = bytes.NewReader(append(append([]byte{}, tt.in...), "data"...))
				if tt.bytewise {
					r = iotest.OneByteReader(r)
				}
				return bufio.NewReaderSize(r, 256)
			}
			var h proxyproto.Header
			ourErr := proxyproto.Read(reader(), &h)
			_, piresErr := pires.Read(reader())
			if (ourErr == nil) != tt.oursOK || (piresErr == nil) != tt.piresOK {
				t.Errorf("ours: %v, pires: %v; expected ours ok=%v, pires ok=%v (%s)", ourErr, piresErr, tt.oursOK, tt.piresOK, tt.whyDifferent)
			}
		})
	}
}

// TestSameVerdicts: on the usual malformed inputs both reject.
func TestSameVerdicts(t *testing.T) {
	for _, in := range [][]byte{
		[]byte("PROXY TCP4 10.0.0.1 10.0.0.2 40000 443\n"),
		[]byte("PROXY TCP4 10.0.0.1 10.0.0.2 70000 443\r\n"),
		[]byte("PROXY TCP6 10.0.0.1 10.0.0.2 40000 443\r\n"),
		[]byte("PROXY TCP4 " + strings.Repeat("9", 120) + "\r\n"),
		v2Header(0x13, ip4),
		v2Header(0x21, ip4),
	} {
		var h proxyproto.Header
		ourErr := proxyproto.Read(bufio.NewReader(bytes.NewReader(in)), &h)
		_, piresErr := pires.Read(bufio.NewReader(bytes.NewReader(in)))
		if ourErr == nil || piresErr == nil {
			t.Errorf("%q: ours %v, pires %v; both should reject", in, ourErr, piresErr)
		}
	}
}

// TestListenersAgree runs both listeners on the same connections: the
// remote address the application sees is the same.
func TestListenersAgree(t *testing.T) {
	wire := v2Header(0x11, ip4, tlvBytes(0x02, "example.com"))
	for _, name := range []string{"lbkit", "pires"} {
		t.Run(name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			var l net.Listener = &proxyproto.Listener{Listener: ln}
			if name == "pires" {
				l = &pires.Listener{Listener: ln}
			}
			defer l.Close()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write(append(append([]byte{}, wire...), "hi"...)); err != nil {
				t.Fatal(err)
			}
			sc, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer sc.Close()
			buf := make([]byte, 2)
			if _, err := io.ReadFull(sc, buf); err != nil || string(buf) != "hi" {
				t.Fatalf("read %q, %v", buf, err)
			}
			if got := sc.RemoteAddr().String(); got != "10.0.0.1:40000" {
				t.Errorf("RemoteAddr = %s", got)
			}
		})
	}
}
