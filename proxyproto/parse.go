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
	// Fast path: the whole header is already buffered, as it is when it
	// arrived in one segment.
	if b, _ := br.Peek(br.Buffered()); len(b) >= v2PrefixLen || (len(b) > 0 && bytes.IndexByte(b, '\n') >= 0) {
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

// parseV1 parses a v1 line (spec §2.1).
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
	lim := b[:min(len(b), MaxV1HeaderSize)]
	end := bytes.IndexByte(lim, '\n')
	if end < 0 {
		if len(lim) >= MaxV1HeaderSize {
			return 0, ErrHeaderTooLong
		}
		return 0, ErrTruncated
	}
	if b[end-1] != '\r' {
		return 0, ErrInvalidV1 // a bare LF does not end a v1 line
	}
	line := b[len(sigV1) : end-1]
	n := end + 1

	if rest, ok := bytes.CutPrefix(line, []byte("UNKNOWN")); ok {
		// "the receiver must ignore anything presented before the CRLF".
		if len(rest) > 0 && rest[0] != ' ' {
			return 0, ErrUnsupportedProtocol
		}
		h.Version, h.Command, h.Protocol = V1, Local, Unspec
		h.Source, h.Destination = netip.AddrPort{}, netip.AddrPort{}
		h.ext = append(h.ext[:0], rest...)
		h.tlvOff, h.opaque = 0, false
		return n, nil
	}
	if len(line) < 5 || line[4] != ' ' || line[0] != 'T' || line[1] != 'C' || line[2] != 'P' {
		return 0, ErrUnsupportedProtocol
	}
	var proto Protocol
	switch line[3] {
	case '4':
		proto = TCP4
	case '6':
		proto = TCP6
	default:
		return 0, ErrUnsupportedProtocol
	}
	f := line[5:]
	var srcA, dstA netip.Addr
	var sp, dp uint16
	var ok bool
	var tok []byte
	if tok, f, ok = cutSP(f); !ok {
		return 0, ErrInvalidV1
	}
	if srcA, ok = parseIP(tok, proto); !ok {
		return 0, ErrInvalidV1
	}
	if tok, f, ok = cutSP(f); !ok {
		return 0, ErrInvalidV1
	}
	if dstA, ok = parseIP(tok, proto); !ok {
		return 0, ErrInvalidV1
	}
	if tok, f, ok = cutSP(f); !ok {
		return 0, ErrInvalidV1
	}
	if sp, ok = parsePort(tok); !ok {
		return 0, ErrInvalidV1
	}
	if dp, ok = parsePort(f); !ok {
		return 0, ErrInvalidV1
	}
	h.Version, h.Command, h.Protocol = V1, Proxy, proto
	h.Source, h.Destination = netip.AddrPortFrom(srcA, sp), netip.AddrPortFrom(dstA, dp)
	h.ext = h.ext[:0]
	h.tlvOff, h.opaque = 0, false
	return n, nil
}

// cutSP splits b at its first space; the token must not be empty.
func cutSP(b []byte) (tok, rest []byte, ok bool) {
	i := bytes.IndexByte(b, ' ')
	if i <= 0 {
		return nil, nil, false
	}
	return b[:i], b[i+1:], true
}

// parsePort parses a decimal port: 1–5 digits, no leading zero, ≤ 65535.
func parsePort(b []byte) (uint16, bool) {
	if len(b) == 0 || len(b) > 5 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	if v > 0xFFFF {
		return 0, false
	}
	return uint16(v), true
}

// parseIP parses the address of a v1 TCP4 or TCP6 line. TCP4 takes a
// dotted quad with no leading zeros; TCP6 takes any RFC 4291 text form
// without a zone, and not a bare IPv4 literal (the family must match the
// token).
func parseIP(b []byte, proto Protocol) (netip.Addr, bool) {
	if proto == TCP4 {
		return parseIPv4(b)
	}
	if len(b) < 2 || len(b) > 45 {
		return netip.Addr{}, false
	}
	for _, c := range b {
		// Hex digits, colons and the dots of an embedded IPv4; no zone.
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.') {
			return netip.Addr{}, false
		}
	}
	a, err := netip.ParseAddr(string(b))
	if err != nil || !a.Is6() {
		return netip.Addr{}, false
	}
	return a, true
}

func parseIPv4(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	i := 0
	for k := range 4 {
		if k > 0 {
			if i >= len(b) || b[i] != '.' {
				return netip.Addr{}, false
			}
			i++
		}
		start, v := i, 0
		for i < len(b) && i-start < 4 && b[i] >= '0' && b[i] <= '9' {
			v = v*10 + int(b[i]-'0')
			i++
		}
		d := i - start
		if d == 0 || d > 3 || v > 255 || (d > 1 && b[start] == '0') {
			return netip.Addr{}, false
		}
		ip[k] = byte(v)
	}
	if i != len(b) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}
