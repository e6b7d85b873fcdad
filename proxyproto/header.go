package proxyproto

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// Version is the PROXY protocol version of a header.
type Version uint8

// The two versions of the protocol (spec §2.1 and §2.2).
const (
	// V1 is the human-readable text format: "PROXY TCP4 src dst sport dport\r\n".
	V1 Version = 1
	// V2 is the binary format with a 16-byte fixed part and optional TLVs.
	V2 Version = 2
)

// Command says whether a header carries the client's addresses.
type Command uint8

// Commands of the v2 format (spec §2.2, low nibble of the 13th byte).
const (
	// Local means the connection was made by the proxy itself, on its own
	// behalf (AWS NLB health checks send this): the receiver must use the
	// real connection endpoints. A v1 "PROXY UNKNOWN" line parses as Local.
	Local Command = 0x0
	// Proxy means the connection was relayed on behalf of a client whose
	// addresses the header carries.
	Proxy Command = 0x1
)

// Protocol is the address family and transport of a header, encoded as the
// 14th byte of the v2 format (family in the high nibble, transport in the
// low nibble). Only the values below are valid; the spec says any other
// must be rejected.
type Protocol uint8

// The valid address family and transport combinations (spec §2.2).
const (
	Unspec       Protocol = 0x00 // AF_UNSPEC: no addresses (LOCAL, v1 UNKNOWN)
	TCP4         Protocol = 0x11 // AF_INET, STREAM
	UDP4         Protocol = 0x12 // AF_INET, DGRAM
	TCP6         Protocol = 0x21 // AF_INET6, STREAM
	UDP6         Protocol = 0x22 // AF_INET6, DGRAM
	UnixStream   Protocol = 0x31 // AF_UNIX, STREAM
	UnixDatagram Protocol = 0x32 // AF_UNIX, DGRAM
)

// Valid reports whether p is one of the seven combinations the spec allows.
func (p Protocol) Valid() bool {
	switch p {
	case Unspec, TCP4, UDP4, TCP6, UDP6, UnixStream, UnixDatagram:
		return true
	}
	return false
}

// addrLen is the length of the v2 address block for p's family.
func (p Protocol) addrLen() int {
	switch p >> 4 {
	case 1:
		return 12
	case 2:
		return 36
	case 3:
		return 2 * unixPathLen
	}
	return 0
}

// IsUnix reports whether p is an AF_UNIX protocol.
func (p Protocol) IsUnix() bool { return p>>4 == 3 }

// IsDatagram reports whether p's transport is DGRAM.
func (p Protocol) IsDatagram() bool { return p&0xF == 2 }

func (p Protocol) String() string {
	switch p {
	case Unspec:
		return "UNSPEC"
	case TCP4:
		return "TCP4"
	case UDP4:
		return "UDP4"
	case TCP6:
		return "TCP6"
	case UDP6:
		return "UDP6"
	case UnixStream:
		return "UNIX_STREAM"
	case UnixDatagram:
		return "UNIX_DGRAM"
	}
	return fmt.Sprintf("Protocol(0x%02x)", uint8(p))
}

// unixPathLen is the size of each AF_UNIX address in the v2 block (the
// sun_path size the spec fixes).
const unixPathLen = 108

// Size limits. Every untrusted length is checked against one of these before
// anything is allocated for it.
const (
	// MaxV1HeaderSize is the longest possible v1 line, CRLF included:
	// "a 108-byte buffer is always enough" (spec §2.1, counting the NUL).
	MaxV1HeaderSize = 107
	// DefaultMaxHeaderSize caps a v2 header (16-byte fixed part, addresses
	// and TLVs) when no other cap is given. The format allows 16+65535 bytes;
	// real senders send under 1 KiB unless they forward a client certificate,
	// so 4 KiB bounds the memory an untrusted peer can make us hold.
	DefaultMaxHeaderSize = 4096
	// maxV2HeaderSize is the format's own bound.
	maxV2HeaderSize = 16 + 0xFFFF
	// v2PrefixLen is the fixed part of a v2 header.
	v2PrefixLen = 16
)

// sigV2 is the 12-byte v2 signature (spec §2.2).
var sigV2 = [12]byte{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A}

// sigV1 is the start of every v1 line.
const sigV1 = "PROXY "

// Errors. Every error about malformed input wraps ErrInvalidHeader, so a
// caller that only needs "bad peer, close it" tests that one; the specific
// sentinels say what was wrong. None of them carries the input bytes.
var (
	// ErrNoHeader means the data does not start with a PROXY protocol
	// signature. Nothing was consumed: under a "use if present" policy the
	// bytes are the application's.
	ErrNoHeader = errors.New("proxyproto: no PROXY protocol header")
	// ErrInvalidHeader is the class of every malformed-header error below.
	// The connection must be closed; none of its bytes are application data.
	ErrInvalidHeader = errors.New("proxyproto: invalid header")
	// ErrTruncated means the input ended (EOF, or the end of a datagram or
	// slice) before the header was complete.
	ErrTruncated = fmt.Errorf("%w: truncated", ErrInvalidHeader)
	// ErrUnsupportedVersion means a v2 signature with a version other than 2,
	// or a Header whose Version is neither V1 nor V2.
	ErrUnsupportedVersion = fmt.Errorf("%w: unsupported version", ErrInvalidHeader)
	// ErrUnsupportedCommand means a v2 command other than LOCAL or PROXY.
	ErrUnsupportedCommand = fmt.Errorf("%w: unsupported command", ErrInvalidHeader)
	// ErrUnsupportedProtocol means a family/transport byte off the spec's
	// list, or a v1 protocol token other than TCP4, TCP6 and UNKNOWN.
	ErrUnsupportedProtocol = fmt.Errorf("%w: unsupported address family or transport", ErrInvalidHeader)
	// ErrInvalidLength means a v2 length too short for the family's address
	// block.
	ErrInvalidLength = fmt.Errorf("%w: length does not fit the address family", ErrInvalidHeader)
	// ErrHeaderTooLong means a v1 line with no CRLF within 107 bytes, or a
	// v2 header longer than the configured cap.
	ErrHeaderTooLong = fmt.Errorf("%w: header too long", ErrInvalidHeader)
	// ErrInvalidV1 means a malformed v1 line: a bare LF, a wrong separator,
	// a leading zero, a port over 65535, an address that does not match the
	// TCP4/TCP6 token.
	ErrInvalidV1 = fmt.Errorf("%w: malformed v1 line", ErrInvalidHeader)
	// ErrInvalidAddress means an address that does not fit the header's
	// protocol (when building a header, or an IPv6 zone).
	ErrInvalidAddress = fmt.Errorf("%w: address does not match the protocol", ErrInvalidHeader)
	// ErrInvalidTLV means a TLV that overruns the header, a malformed SSL
	// TLV, a CRC32C TLV that is not 4 bytes or appears twice, or a
	// UNIQUE_ID over 128 bytes.
	ErrInvalidTLV = fmt.Errorf("%w: malformed TLV", ErrInvalidHeader)
	// ErrChecksum means the CRC32C TLV does not match the header; the spec
	// says the connection MUST then be dropped.
	ErrChecksum = fmt.Errorf("%w: CRC32C mismatch", ErrInvalidHeader)
)

// Header is one PROXY protocol header, v1 or v2.
//
// The zero value is not a valid header to send: set Version, Command and,
// for Proxy, Protocol with matching addresses — or use [NewHeader] and
// [NewLocalHeader]. A Header that [Read] or [Parse] fills keeps its own copy
// of the TLV bytes, in storage it reuses on the next parse, so parsing into
// the same Header repeatedly allocates nothing. Copying a Header by value
// shares that storage; use [Header.Clone] for an independent copy.
type Header struct {
	Version  Version
	Command  Command
	Protocol Protocol
	// Source and Destination are the client's and the proxy's addresses,
	// for the INET and INET6 families. Under Local they may be set (a v2
	// LOCAL header may carry addresses), but receivers must not use them.
	// For AF_UNIX, use [Header.UnixAddrs] and [Header.SetUnixAddrs].
	Source      netip.AddrPort
	Destination netip.AddrPort

	// ext holds the variable part: for AF_UNIX, the 216-byte address block
	// first (tlvOff = 216); then the TLV bytes. For a v1 UNKNOWN line it
	// holds the text after "UNKNOWN" up to the CRLF. For an opaque LOCAL
	// block (one that does not parse as addresses and TLVs) it holds the
	// whole block.
	ext    []byte
	tlvOff int
	// opaque marks a v2 LOCAL block kept verbatim: the spec tells the
	// receiver to skip it, so we accept any content and re-send it as is.
	opaque bool
}

// NewHeader returns a v2 PROXY header for a connection from src to dst,
// with the protocol taken from the address types (*net.TCPAddr,
// *net.UDPAddr, *net.UnixAddr). If one address is IPv4 and the other IPv6,
// the IPv4 one is written in its IPv4-mapped IPv6 form, as HAProxy does.
func NewHeader(src, dst net.Addr) (Header, error) {
	h := Header{Version: V2, Command: Proxy}
	switch s := src.(type) {
	case *net.TCPAddr:
		d, ok := dst.(*net.TCPAddr)
		if !ok {
			return Header{}, fmt.Errorf("%w: source is TCP, destination is %T", ErrInvalidAddress, dst)
		}
		return h, h.setIP(s.AddrPort(), d.AddrPort(), TCP4)
	case *net.UDPAddr:
		d, ok := dst.(*net.UDPAddr)
		if !ok {
			return Header{}, fmt.Errorf("%w: source is UDP, destination is %T", ErrInvalidAddress, dst)
		}
		return h, h.setIP(s.AddrPort(), d.AddrPort(), UDP4)
	case *net.UnixAddr:
		d, ok := dst.(*net.UnixAddr)
		if !ok {
			return Header{}, fmt.Errorf("%w: source is unix, destination is %T", ErrInvalidAddress, dst)
		}
		h.Protocol = UnixStream
		if s.Net == "unixgram" {
			h.Protocol = UnixDatagram
		}
		return h, h.SetUnixAddrs(s.Name, d.Name)
	}
	return Header{}, fmt.Errorf("%w: unsupported address type %T", ErrInvalidAddress, src)
}

// setIP sets addresses and picks the v4 or v6 variant of proto (TCP4/UDP4).
func (h *Header) setIP(src, dst netip.AddrPort, proto4 Protocol) error {
	if !src.IsValid() || !dst.IsValid() {
		return fmt.Errorf("%w: invalid IP address", ErrInvalidAddress)
	}
	s, d := unmap(src), unmap(dst)
	if s.Addr().Is4() && d.Addr().Is4() {
		h.Protocol, h.Source, h.Destination = proto4, s, d
		return nil
	}
	h.Protocol = proto4 + 0x10 // TCP4→TCP6, UDP4→UDP6
	h.Source = netip.AddrPortFrom(netip.AddrFrom16(s.Addr().As16()), s.Port())
	h.Destination = netip.AddrPortFrom(netip.AddrFrom16(d.Addr().As16()), d.Port())
	return nil
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port())
}

// NewLocalHeader returns a v2 LOCAL header with no addresses: what a proxy
// sends on connections it makes on its own behalf, such as health checks.
func NewLocalHeader() Header {
	return Header{Version: V2, Command: Local, Protocol: Unspec}
}

// UnixAddrs returns the AF_UNIX source and destination paths (up to the
// first NUL of each 108-byte field). ok is false unless the header carries
// an AF_UNIX address block.
func (h *Header) UnixAddrs() (src, dst string, ok bool) {
	if h.opaque || !h.Protocol.IsUnix() || h.tlvOff < 2*unixPathLen || len(h.ext) < 2*unixPathLen {
		return "", "", false
	}
	return cString(h.ext[:unixPathLen]), cString(h.ext[unixPathLen : 2*unixPathLen]), true
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// SetUnixAddrs sets the AF_UNIX address block, keeping any TLVs. Each path
// must be shorter than 108 bytes (it is NUL-terminated on the wire). It does
// not change Protocol; set it to UnixStream or UnixDatagram.
func (h *Header) SetUnixAddrs(src, dst string) error {
	if len(src) >= unixPathLen || len(dst) >= unixPathLen {
		return fmt.Errorf("%w: unix path longer than %d bytes", ErrInvalidAddress, unixPathLen-1)
	}
	var block [2 * unixPathLen]byte
	copy(block[:], src)
	copy(block[unixPathLen:], dst)
	tlvs := h.tlvBytes()
	ext := make([]byte, 0, len(block)+len(tlvs))
	ext = append(append(ext, block[:]...), tlvs...)
	h.ext, h.tlvOff, h.opaque = ext, len(block), false
	return nil
}

// tlvBytes returns the encoded TLVs of h (nil for v1 and opaque blocks).
func (h *Header) tlvBytes() []byte {
	if h.opaque || h.Version == V1 || h.tlvOff > len(h.ext) {
		return nil
	}
	return h.ext[h.tlvOff:]
}

// RawTLVs returns the encoded TLV area of a v2 header, as on the wire. The
// slice aliases h's storage: it is valid until h is next parsed into or
// modified.
func (h *Header) RawTLVs() []byte { return h.tlvBytes() }

// Equal reports whether h and o describe the same header: same version,
// command, protocol, addresses and TLV bytes.
func (h *Header) Equal(o *Header) bool {
	return h.Version == o.Version && h.Command == o.Command && h.Protocol == o.Protocol &&
		h.Source == o.Source && h.Destination == o.Destination &&
		h.opaque == o.opaque && h.tlvOff == o.tlvOff && bytes.Equal(h.ext, o.ext)
}

// Clone returns a copy of h that shares no storage with it.
func (h *Header) Clone() Header {
	c := *h
	c.ext = bytes.Clone(h.ext)
	return c
}

// Reset clears h, keeping its storage for reuse.
func (h *Header) Reset() {
	*h = Header{ext: h.ext[:0]}
}

// SourceAddr returns the source as a net.Addr of the header's transport
// (*net.TCPAddr, *net.UDPAddr or *net.UnixAddr), or nil when the header
// carries no usable source (Local, Unspec).
func (h *Header) SourceAddr() net.Addr { return h.netAddr(true) }

// DestinationAddr is like [Header.SourceAddr] for the destination.
func (h *Header) DestinationAddr() net.Addr { return h.netAddr(false) }

func (h *Header) netAddr(src bool) net.Addr {
	if h.Command != Proxy {
		return nil
	}
	ap := h.Destination
	if src {
		ap = h.Source
	}
	switch h.Protocol {
	case TCP4, TCP6:
		return net.TCPAddrFromAddrPort(ap)
	case UDP4, UDP6:
		return net.UDPAddrFromAddrPort(ap)
	case UnixStream, UnixDatagram:
		s, d, ok := h.UnixAddrs()
		if !ok {
			return nil
		}
		name := d
		if src {
			name = s
		}
		network := "unix"
		if h.Protocol == UnixDatagram {
			network = "unixgram"
		}
		return &net.UnixAddr{Name: name, Net: network}
	}
	return nil
}

func (h *Header) String() string {
	switch {
	case h.Command == Local:
		return fmt.Sprintf("PROXYv%d LOCAL", h.Version)
	case h.Protocol.IsUnix():
		s, d, _ := h.UnixAddrs()
		return fmt.Sprintf("PROXYv%d %v %q -> %q", h.Version, h.Protocol, s, d)
	}
	return fmt.Sprintf("PROXYv%d %v %v -> %v", h.Version, h.Protocol, h.Source, h.Destination)
}
