package proxyproto

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
)

// Format returns the wire encoding of h. See [Header.AppendFormat].
func (h *Header) Format() ([]byte, error) {
	return h.AppendFormat(make([]byte, 0, h.formatSize()))
}

func (h *Header) formatSize() int {
	if h.Version == V1 {
		return MaxV1HeaderSize
	}
	return v2PrefixLen + 36 + len(h.ext)
}

// AppendFormat appends the wire encoding of h to dst.
//
// v1: a Proxy header needs TCP4 or TCP6 with addresses of that family; a
// Local header is written "PROXY UNKNOWN\r\n". v1 has no TLVs.
//
// v2: a Proxy header needs addresses of its protocol's family (IPv4 for
// TCP4/UDP4, IPv6 — IPv4-mapped allowed — for TCP6/UDP6, [Header.SetUnixAddrs]
// for AF_UNIX). A Local header carries its addresses if they are set, none
// otherwise. TLVs follow in the order they were added or parsed; a CRC32C
// TLV gets the checksum of the encoded header.
//
// A header that [Parse] accepted formats to the bytes it was parsed from,
// except a v1 TCP6 address written in a non-canonical form.
func (h *Header) AppendFormat(dst []byte) ([]byte, error) {
	switch h.Version {
	case V1:
		return h.appendV1(dst)
	case V2:
		return h.appendV2(dst)
	}
	return dst, ErrUnsupportedVersion
}

func (h *Header) appendV1(dst []byte) ([]byte, error) {
	if h.Command == Local {
		if len(h.ext) > 0 && !validUnknownRest(h.ext) {
			return dst, fmt.Errorf("%w: UNKNOWN line text", ErrInvalidV1)
		}
		if len(sigV1)+len("UNKNOWN")+len(h.ext)+2 > MaxV1HeaderSize {
			return dst, ErrHeaderTooLong
		}
		dst = append(dst, sigV1+"UNKNOWN"...)
		dst = append(dst, h.ext...)
		return append(dst, '\r', '\n'), nil
	}
	if h.Command != Proxy {
		return dst, ErrUnsupportedCommand
	}
	if len(h.ext) > 0 {
		return dst, fmt.Errorf("%w: v1 carries no TLVs", ErrInvalidTLV)
	}
	s, d := h.Source.Addr(), h.Destination.Addr()
	switch h.Protocol {
	case TCP4:
		if !s.Is4() || !d.Is4() {
			return dst, ErrInvalidAddress
		}
		dst = append(dst, sigV1+"TCP4 "...)
	case TCP6:
		if !s.Is6() || !d.Is6() || s.Zone() != "" || d.Zone() != "" {
			return dst, ErrInvalidAddress
		}
		dst = append(dst, sigV1+"TCP6 "...)
	default:
		return dst, ErrUnsupportedProtocol
	}
	dst = s.AppendTo(dst)
	dst = append(dst, ' ')
	dst = d.AppendTo(dst)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, uint64(h.Source.Port()), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, uint64(h.Destination.Port()), 10)
	return append(dst, '\r', '\n'), nil
}

// validUnknownRest reports whether the text after "UNKNOWN" can be written
// back: it starts with a space and holds no LF (a CR alone is allowed, as
// the parser allows it).
func validUnknownRest(b []byte) bool {
	if b[0] != ' ' {
		return false
	}
	for _, c := range b {
		if c == '\n' {
			return false
		}
	}
	return true
}

func (h *Header) appendV2(dst []byte) ([]byte, error) {
	if h.Command != Local && h.Command != Proxy {
		return dst, ErrUnsupportedCommand
	}
	if !h.Protocol.Valid() {
		return dst, ErrUnsupportedProtocol
	}
	start := len(dst)
	dst = append(dst, sigV2[:]...)
	dst = append(dst, 0x20|byte(h.Command), byte(h.Protocol), 0, 0)

	if h.opaque {
		dst = append(dst, h.ext...)
	} else {
		var err error
		if dst, err = h.appendAddrs(dst); err != nil {
			return dst[:start], err
		}
		tlvAt := len(dst)
		dst = append(dst, h.tlvBytes()...)
		if n := len(dst) - start; n > maxV2HeaderSize {
			return dst[:start], ErrHeaderTooLong
		}
		binary.BigEndian.PutUint16(dst[start+14:], uint16(len(dst)-start-v2PrefixLen))
		if at, err := checkTLVs(dst[tlvAt:]); err != nil {
			return dst[:start], err
		} else if at >= 0 {
			at += tlvAt - start
			hdr := dst[start:]
			binary.BigEndian.PutUint32(hdr[at:], crcWith0(hdr, at))
		}
		return dst, nil
	}
	if n := len(dst) - start; n > maxV2HeaderSize {
		return dst[:start], ErrHeaderTooLong
	}
	binary.BigEndian.PutUint16(dst[start+14:], uint16(len(dst)-start-v2PrefixLen))
	return dst, nil
}

func (h *Header) appendAddrs(dst []byte) ([]byte, error) {
	s, d := h.Source.Addr(), h.Destination.Addr()
	// Under Local, addresses are optional: written if both are set.
	if h.Command == Local && !h.Protocol.IsUnix() && !s.IsValid() && !d.IsValid() {
		return dst, nil
	}
	switch h.Protocol >> 4 {
	case 1:
		if !s.Is4() || !d.Is4() {
			return dst, ErrInvalidAddress
		}
		a, b := s.As4(), d.As4()
		dst = append(append(dst, a[:]...), b[:]...)
	case 2:
		if !s.Is6() || !d.Is6() || s.Zone() != "" || d.Zone() != "" {
			return dst, ErrInvalidAddress
		}
		a, b := s.As16(), d.As16()
		dst = append(append(dst, a[:]...), b[:]...)
	case 3:
		if h.tlvOff != 2*unixPathLen || len(h.ext) < h.tlvOff {
			if h.Command == Local {
				return dst, nil
			}
			return dst, ErrInvalidAddress
		}
		return append(dst, h.ext[:h.tlvOff]...), nil
	default:
		return dst, nil
	}
	dst = binary.BigEndian.AppendUint16(dst, h.Source.Port())
	return binary.BigEndian.AppendUint16(dst, h.Destination.Port()), nil
}

// WriteTo writes the encoding of h to w in a single Write, so that the
// header leaves in one segment ahead of any application data.
func (h *Header) WriteTo(w io.Writer) (int64, error) {
	var buf [256]byte
	b, err := h.AppendFormat(buf[:0])
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}
