package proxyproto

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/netip"
)

// minReaderSize is the smallest bufio.Reader buffer Read accepts: a whole v1
// line and every v2 header without large TLVs fit in it, so the common case
// is parsed in place.
const minReaderSize = 256

// errSmallReader is returned when Read gets a bufio.Reader with a buffer too
// small to hold a v1 line.
var errSmallReader = fmt.Errorf("proxyproto: bufio.Reader buffer smaller than %d bytes", minReaderSize)

// Read reads one PROXY protocol header, v1 or v2, from the start of br into
// h, with the default size cap ([DefaultMaxHeaderSize]). See [ReadLimit].
func Read(br *bufio.Reader, h *Header) error {
	return ReadLimit(br, h, DefaultMaxHeaderSize)
}

// ReadLimit reads one PROXY protocol header from the start of br into h,
// rejecting v2 headers longer than maxSize bytes (values under 232, the size
// of the largest address block, are raised to it; values over the format's
// own bound are lowered to it).
//
// It consumes exactly the header: the next byte read from br is the first
// byte after it. It waits for as many bytes as the header needs, however
// they are split across reads, and never for more: a v1 line is scanned
// as it arrives, a v2 header is read to the length its fixed part states.
// br's buffer must be at least 256 bytes (bufio's default is 4096).
//
// On error, h is unchanged. If the data does not start with a signature the
// error is [ErrNoHeader] and nothing was consumed; a malformed header gives
// an error wrapping [ErrInvalidHeader] (consumption is then unspecified: the
// connection must be closed); an I/O error (a read deadline, EOF after part
// of a header) is returned as it is, or as [ErrTruncated] for an EOF.
func ReadLimit(br *bufio.Reader, h *Header, maxSize int) error {
	if br.Size() < minReaderSize {
		return errSmallReader
	}
	maxSize = clampMax(maxSize)
	// Fast path: the whole header arrives in one read, as it does when it
	// came in one segment. Peek(1) waits for the first read.
	if br.Buffered() == 0 {
		if b, err := br.Peek(1); err != nil {
			return ioErr(err, len(b))
		}
	}
	if b, _ := br.Peek(br.Buffered()); len(b) >= v2PrefixLen || bytes.IndexByte(b, '\n') >= 0 {
		n, err := parse(b, h, maxSize)
		if err == nil {
			_, _ = br.Discard(n)
			return nil
		}
		if err != ErrTruncated {
			return err
		}
	}
	return readSlow(br, h, maxSize)
}

func clampMax(maxSize int) int {
	if maxSize < v2PrefixLen+2*unixPathLen {
		return v2PrefixLen + 2*unixPathLen
	}
	return min(maxSize, maxV2HeaderSize)
}

// readSlow reads a header that is not entirely buffered yet.
func readSlow(br *bufio.Reader, h *Header, maxSize int) error {
	// Read just enough to tell the version. Peek(n) blocks until n bytes
	// are buffered; asking for one more byte than we have waits for the
	// next segment without ever asking for bytes past the header.
	first, err := br.Peek(1)
	if err != nil {
		return ioErr(err, 0)
	}
	switch first[0] {
	case sigV1[0]:
		return readV1(br, h)
	case sigV2[0]:
		return readV2(br, h, maxSize)
	}
	return ErrNoHeader
}

// readV1 scans for the end of a v1 line, one segment at a time.
func readV1(br *bufio.Reader, h *Header) error {
	for n := 1; ; {
		if b, err := br.Peek(n); err != nil {
			return ioErr(err, len(b))
		}
		b, _ := br.Peek(min(br.Buffered(), MaxV1HeaderSize))
		// Check the signature as it arrives, so that a stream that is
		// not a header is told apart without waiting for more bytes.
		if k := min(len(b), len(sigV1)); string(b[:k]) != sigV1[:k] {
			return ErrNoHeader
		}
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			m, err := parse(b[:i+1], h, 0)
			if err != nil {
				return err
			}
			_, _ = br.Discard(m)
			return nil
		}
		if len(b) >= MaxV1HeaderSize {
			return ErrHeaderTooLong
		}
		n = len(b) + 1
	}
}

// readV2 reads the fixed part, then exactly the length it states.
func readV2(br *bufio.Reader, h *Header, maxSize int) error {
	for n := 1; ; {
		if b, err := br.Peek(n); err != nil {
			return ioErr(err, len(b))
		}
		b, _ := br.Peek(min(br.Buffered(), v2PrefixLen))
		if !bytes.HasPrefix(sigV2[:], b[:min(len(b), len(sigV2))]) {
			return ErrNoHeader
		}
		if len(b) == v2PrefixLen {
			break
		}
		n = len(b) + 1
	}
	prefix, err := br.Peek(v2PrefixLen)
	if err != nil {
		return ioErr(err, len(prefix))
	}
	// Validate the fixed part before waiting for (or allocating) the rest.
	total, err := checkV2Prefix(prefix, maxSize)
	if err != nil {
		return err
	}
	if total <= br.Size() {
		b, err := br.Peek(total)
		if err != nil {
			return ioErr(err, len(b))
		}
		n, err := parse(b, h, maxSize)
		if err != nil {
			return err
		}
		_, _ = br.Discard(n)
		return nil
	}
	// Larger than the reader's buffer (a forwarded client certificate):
	// collect it in a buffer of the checked size, then parse.
	buf := make([]byte, total)
	if n, err := io.ReadFull(br, buf); err != nil {
		return ioErr(err, n)
	}
	_, err = parse(buf, h, maxSize)
	return err
}

// ioErr turns an EOF in the middle of a header into ErrTruncated, and an EOF
// before any byte into io.EOF (the peer closed without sending anything).
func ioErr(err error, got int) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		if got == 0 {
			return io.EOF
		}
		return ErrTruncated
	}
	return err
}

// Parse parses the PROXY protocol header at the start of b into h and
// returns its length; b[n:] is what follows the header. It applies no cap
// beyond the format's own (use it on datagrams or buffers already bounded).
// If b holds only the start of a header, the error is [ErrTruncated]; other
// errors are as for [ReadLimit]. On error, h is unchanged.
func Parse(b []byte, h *Header) (n int, err error) {
	return parse(b, h, maxV2HeaderSize)
}

// parse dispatches on the first byte. maxSize bounds v2 headers.
func parse(b []byte, h *Header, maxSize int) (int, error) {
	if len(b) == 0 {
		return 0, ErrTruncated
	}
	switch b[0] {
	case sigV2[0]:
		return parseV2(b, h, maxSize)
	case sigV1[0]:
		return parseV1(b, h)
	}
	return 0, ErrNoHeader
}

// checkV2Prefix validates the 16-byte fixed part and returns the total
// header length.
func checkV2Prefix(b []byte, maxSize int) (int, error) {
	if [12]byte(b[:12]) != sigV2 {
		return 0, ErrNoHeader
	}
	if b[12]>>4 != 2 {
		return 0, ErrUnsupportedVersion
	}
	if b[12]&0xF > 1 {
		return 0, ErrUnsupportedCommand
	}
	p := Protocol(b[13])
	if !p.Valid() {
		return 0, ErrUnsupportedProtocol
	}
	n := int(binary.BigEndian.Uint16(b[14:16]))
	if Command(b[12]&0xF) == Proxy && n < p.addrLen() {
		return 0, ErrInvalidLength
	}
	total := v2PrefixLen + n
	if total > maxSize {
		return 0, ErrHeaderTooLong
	}
	return total, nil
}

func parseV2(b []byte, h *Header, maxSize int) (int, error) {
	if len(b) < v2PrefixLen {
		if !bytes.HasPrefix(sigV2[:], b[:min(len(b), len(sigV2))]) {
			return 0, ErrNoHeader
		}
		return 0, ErrTruncated
	}
	total, err := checkV2Prefix(b, maxSize)
	if err != nil {
		return 0, err
	}
	if len(b) < total {
		return 0, ErrTruncated
	}
	cmd, proto := Command(b[12]&0xF), Protocol(b[13])
	block := b[v2PrefixLen:total]
	alen := proto.addrLen()

	var src, dst netip.AddrPort
	var ext []byte
	tlvOff, opaque := 0, false
	if len(block) >= alen {
		tlvs := block[alen:]
		crcAt, err := checkTLVs(tlvs)
		if err == nil && crcAt >= 0 {
			if !crcOK(b[:total], v2PrefixLen+alen+crcAt) {
				return 0, ErrChecksum
			}
		}
		switch {
		case err == nil:
			switch proto >> 4 {
			case 1:
				src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(block[0:4])), binary.BigEndian.Uint16(block[8:10]))
				dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(block[4:8])), binary.BigEndian.Uint16(block[10:12]))
				ext = tlvs
			case 2:
				src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(block[0:16])), binary.BigEndian.Uint16(block[32:34]))
				dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(block[16:32])), binary.BigEndian.Uint16(block[34:36]))
				ext = tlvs
			case 3:
				ext, tlvOff = block, alen
			default:
				ext = tlvs
			}
		case cmd == Local:
			// The spec: LOCAL "must not assume zero" length, and the
			// receiver "must use the real connection endpoints and
			// discard the protocol block". Keep it, unread.
			ext, opaque = block, true
		default:
			return 0, err
		}
	} else {
		// Only LOCAL gets here (checkV2Prefix rejects a short PROXY block).
		ext, opaque = block, true
	}

	h.Version, h.Command, h.Protocol = V2, cmd, proto
	h.Source, h.Destination = src, dst
	h.ext = append(h.ext[:0], ext...)
	h.tlvOff, h.opaque = tlvOff, opaque
	return total, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crcOK checks the CRC32C of header whose 4-byte checksum value starts at
// valueAt (spec §2.2.4: computed over the whole header with the field
// zeroed).
func crcOK(header []byte, valueAt int) bool {
	want := binary.BigEndian.Uint32(header[valueAt:])
	return crcWith0(header, valueAt) == want
}

func crcWith0(header []byte, valueAt int) uint32 {
	var zero [4]byte
	c := crc32.Update(0, castagnoli, header[:valueAt])
	c = crc32.Update(c, castagnoli, zero[:])
	return crc32.Update(c, castagnoli, header[valueAt+4:])
}

// parseV1 parses a v1 line (spec §2.1) in one pass.
func parseV1(b []byte, h *Header) (int, error) {
	if len(b) < len(sigV1) {
		if string(b) != sigV1[:len(b)] {
			return 0, ErrNoHeader
		}
		return 0, ErrTruncated
	}
	if string(b[:len(sigV1)]) != sigV1 {
		return 0, ErrNoHeader
	}
	// The line, CRLF included, must end within 107 bytes.
	line := b[:min(len(b), MaxV1HeaderSize)]
	p := line[len(sigV1):]
	if len(p) < 5 {
		if hasPrefix("TCP4 ", p) || hasPrefix("TCP6 ", p) || hasPrefix("UNKNOWN", p) {
			return 0, v1End(line)
		}
		return 0, ErrUnsupportedProtocol
	}
	if p[0] != 'T' || p[1] != 'C' || p[2] != 'P' || p[4] != ' ' || (p[3] != '4' && p[3] != '6') {
		return parseV1Unknown(line, h)
	}
	proto := TCP4
	if p[3] == '6' {
		proto = TCP6
	}
	i := len(sigV1) + 5
	var srcA, dstA netip.Addr
	var sp, dp uint16
	var err error
	if proto == TCP4 {
		if srcA, i, err = scanIPv4(line, i); err != nil {
			return 0, err
		}
		if dstA, i, err = scanIPv4(line, i+1); err != nil {
			return 0, err
		}
	} else {
		if srcA, i, err = scanIPv6(line, i); err != nil {
			return 0, err
		}
		if dstA, i, err = scanIPv6(line, i+1); err != nil {
			return 0, err
		}
	}
	if sp, i, err = scanPort(line, i+1, ' '); err != nil {
		return 0, err
	}
	if dp, i, err = scanPort(line, i+1, '\r'); err != nil {
		return 0, err
	}
	if i+1 >= len(line) {
		return 0, v1End(line)
	}
	if line[i+1] != '\n' {
		return 0, ErrInvalidV1
	}
	h.Version, h.Command, h.Protocol = V1, Proxy, proto
	h.Source, h.Destination = netip.AddrPortFrom(srcA, sp), netip.AddrPortFrom(dstA, dp)
	h.ext = h.ext[:0]
	h.tlvOff, h.opaque = 0, false
	return i + 2, nil
}

// parseV1Unknown parses "PROXY UNKNOWN..." up to its CRLF: "the receiver
// must ignore anything presented before the CRLF".
func parseV1Unknown(line []byte, h *Header) (int, error) {
	p := line[len(sigV1):]
	if !bytes.HasPrefix(p, []byte("UNKNOWN")) || (len(p) > 7 && p[7] != ' ' && p[7] != '\r') {
		return 0, ErrUnsupportedProtocol
	}
	end := bytes.IndexByte(line, '\n')
	if end < 0 {
		return 0, v1End(line)
	}
	if line[end-1] != '\r' || end-1 < len(sigV1)+7 {
		return 0, ErrInvalidV1 // a bare LF does not end a v1 line
	}
	if rest := line[len(sigV1)+7 : end-1]; len(rest) > 0 && rest[0] != ' ' {
		return 0, ErrUnsupportedProtocol // "UNKNOWN\r…": no separator
	}
	h.Version, h.Command, h.Protocol = V1, Local, Unspec
	h.Source, h.Destination = netip.AddrPort{}, netip.AddrPort{}
	h.ext = append(h.ext[:0], line[len(sigV1)+7:end-1]...)
	h.tlvOff, h.opaque = 0, false
	return end + 1, nil
}

// v1End is the error for a v1 line that ran out of bytes: too long if the
// 107 bytes are all there, else truncated.
func v1End(line []byte) error {
	if len(line) >= MaxV1HeaderSize {
		return ErrHeaderTooLong
	}
	return ErrTruncated
}

// hasPrefix reports whether b is a prefix of s.
func hasPrefix(s string, b []byte) bool {
	return len(b) <= len(s) && s[:len(b)] == string(b)
}

// scanIPv4 parses the dotted quad at line[i:], which must be followed by a
// space, and returns the index of that space.
func scanIPv4(line []byte, i int) (netip.Addr, int, error) {
	var ip [4]byte
	for k := range 4 {
		if k > 0 {
			if line[i] != '.' {
				return netip.Addr{}, 0, ErrInvalidV1
			}
			i++
		}
		start, v := i, 0
		for ; i < len(line); i++ {
			c := line[i] - '0'
			if c > 9 {
				break
			}
			v = v*10 + int(c)
		}
		if i == len(line) {
			return netip.Addr{}, 0, v1End(line)
		}
		if n := i - start; n == 0 || n > 3 || v > 255 || (n > 1 && line[start] == '0') {
			return netip.Addr{}, 0, ErrInvalidV1
		}
		ip[k] = byte(v)
	}
	if line[i] != ' ' {
		return netip.Addr{}, 0, ErrInvalidV1
	}
	return netip.AddrFrom4(ip), i, nil
}

// scanIPv6 parses the IPv6 address at line[i:], which must be followed by
// a space, and returns the index of that space.
func scanIPv6(line []byte, i int) (netip.Addr, int, error) {
	j := bytes.IndexByte(line[i:], ' ')
	if j < 0 {
		return netip.Addr{}, 0, v1End(line)
	}
	a, ok := parseIPv6(line[i : i+j])
	if !ok {
		return netip.Addr{}, 0, ErrInvalidV1
	}
	return a, i + j, nil
}

// scanPort parses the decimal port at line[i:] (1–5 digits, no leading
// zero, ≤ 65535), which must be followed by sep, and returns the index of
// sep.
func scanPort(line []byte, i int, sep byte) (uint16, int, error) {
	start, v := i, 0
	for ; i < len(line); i++ {
		c := line[i] - '0'
		if c > 9 {
			break
		}
		v = v*10 + int(c)
	}
	if i == len(line) {
		return 0, 0, v1End(line)
	}
	if n := i - start; n == 0 || n > 5 || v > 0xFFFF || (n > 1 && line[start] == '0') || line[i] != sep {
		return 0, 0, ErrInvalidV1
	}
	return uint16(v), i, nil
}

// parseIPv4 parses a dotted quad with no leading zeros.
func parseIPv4(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	k, v, digits := 0, 0, 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits == 1 && v == 0 {
				return netip.Addr{}, false // leading zero
			}
			v = v*10 + int(c-'0')
			digits++
			if v > 255 {
				return netip.Addr{}, false
			}
		case c == '.' && digits > 0 && k < 3:
			ip[k] = byte(v)
			k, v, digits = k+1, 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if k != 3 || digits == 0 {
		return netip.Addr{}, false
	}
	ip[3] = byte(v)
	return netip.AddrFrom4(ip), true
}

// parseIPv6 parses RFC 4291 text: up to eight groups of 1–4 hex digits,
// at most one "::" standing for at least one zero group, optionally ending
// in a dotted quad. It accepts what net/netip.ParseAddr accepts as IPv6,
// minus zones, without allocating.
func parseIPv6(s []byte) (netip.Addr, bool) {
	var ip [16]byte
	ellipsis := -1
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		ellipsis = 0
		s = s[2:]
		if len(s) == 0 {
			return netip.IPv6Unspecified(), true
		}
	}
	i := 0
	for i < 16 {
		off, acc := 0, 0
		for ; off < len(s); off++ {
			c := s[off]
			switch {
			case c >= '0' && c <= '9':
				acc = acc<<4 + int(c-'0')
			case c >= 'a' && c <= 'f':
				acc = acc<<4 + int(c-'a'+10)
			case c >= 'A' && c <= 'F':
				acc = acc<<4 + int(c-'A'+10)
			default:
				goto end
			}
			if off >= 4 {
				return netip.Addr{}, false
			}
		}
	end:
		if off == 0 {
			return netip.Addr{}, false
		}
		if off < len(s) && s[off] == '.' {
			// An embedded IPv4 address ends the text and fills 4 bytes.
			if (ellipsis < 0 && i != 12) || i+4 > 16 {
				return netip.Addr{}, false
			}
			a, ok := parseIPv4(s)
			if !ok {
				return netip.Addr{}, false
			}
			a4 := a.As4()
			copy(ip[i:], a4[:])
			i += 4
			s = nil
			break
		}
		ip[i], ip[i+1] = byte(acc>>8), byte(acc)
		i += 2
		s = s[off:]
		if len(s) == 0 {
			break
		}
		if s[0] != ':' || len(s) == 1 {
			return netip.Addr{}, false
		}
		s = s[1:]
		if s[0] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false
			}
			ellipsis = i
			s = s[1:]
			if len(s) == 0 {
				break
			}
		}
	}
	if len(s) != 0 {
		return netip.Addr{}, false
	}
	if i < 16 {
		if ellipsis < 0 {
			return netip.Addr{}, false
		}
		n := 16 - i
		copy(ip[ellipsis+n:], ip[ellipsis:i])
		clear(ip[ellipsis : ellipsis+n])
	} else if ellipsis >= 0 {
		return netip.Addr{}, false // "::" must stand for at least one group
	}
	return netip.AddrFrom16(ip), true
}
