package proxyproto

import (
	"encoding/binary"
	"fmt"
	"iter"
)

// TLVType is the type byte of a v2 TLV (spec §2.2.7).
type TLVType uint8

// TLV types of the spec and of the cloud providers that define their own.
//
//nolint:revive // Names follow the spec's PP2_TYPE_* and PP2_SUBTYPE_SSL_*.
const (
	TypeALPN      TLVType = 0x01 // application protocol (ALPN), bytes
	TypeAuthority TLVType = 0x02 // host name (SNI), UTF-8
	TypeCRC32C    TLVType = 0x03 // CRC32C of the header, 4 bytes big-endian
	TypeNOOP      TLVType = 0x04 // padding, ignored
	TypeUniqueID  TLVType = 0x05 // opaque connection ID, at most 128 bytes
	TypeSSL       TLVType = 0x20 // TLS details: see [SSL]
	TypeNetNS     TLVType = 0x30 // network namespace name, US-ASCII

	// Sub-types inside a TypeSSL value.
	SubtypeSSLVersion    TLVType = 0x21 // TLS version, e.g. "TLSv1.3"
	SubtypeSSLCN         TLVType = 0x22 // client certificate Common Name
	SubtypeSSLCipher     TLVType = 0x23 // cipher name, e.g. "ECDHE-RSA-AES128-GCM-SHA256"
	SubtypeSSLSigAlg     TLVType = 0x24 // certificate signature algorithm
	SubtypeSSLKeyAlg     TLVType = 0x25 // certificate key algorithm
	SubtypeSSLGroup      TLVType = 0x26 // key exchange group (spec 3.4)
	SubtypeSSLSigScheme  TLVType = 0x27 // signature scheme (spec 3.4)
	SubtypeSSLClientCert TLVType = 0x28 // client certificate, DER (spec 3.4)

	// Vendor TLVs (the 0xE0–0xEF custom range).
	TypeGCP   TLVType = 0xE0 // Google Cloud PSC connection ID, u64 big-endian
	TypeAWS   TLVType = 0xEA // AWS: sub-type byte, then value
	TypeAzure TLVType = 0xEE // Azure: sub-type byte, then value

	// SubtypeAWSVPCEndpointID is the AWS sub-type carrying the VPC
	// endpoint ID of a PrivateLink connection, ASCII.
	SubtypeAWSVPCEndpointID = 0x01
	// SubtypeAzurePrivateEndpointLinkID is the Azure sub-type carrying the
	// Private Endpoint LinkID, a little-endian u32.
	SubtypeAzurePrivateEndpointLinkID = 0x01
)

// maxUniqueIDLen is the spec's bound on UNIQUE_ID ("up to 128 bytes").
const maxUniqueIDLen = 128

// SSL client flags of a TypeSSL TLV.
const (
	SSLClientSSL      = 0x01 // the client connected over TLS
	SSLClientCertConn = 0x02 // the client sent a certificate on this connection
	SSLClientCertSess = 0x04 // the client sent a certificate in this session
)

// TLV is one type-length-value of a v2 header. Value aliases the header's
// storage when it comes from [Header.TLVs].
type TLV struct {
	Type  TLVType
	Value []byte
}

// nextTLV splits the first TLV off b. ok is false when b is too short for
// its header or its value: the only way TLV splitting can fail.
func nextTLV(b []byte) (t TLV, rest []byte, ok bool) {
	if len(b) < 3 {
		return TLV{}, nil, false
	}
	n := 3 + int(binary.BigEndian.Uint16(b[1:3]))
	if n > len(b) {
		return TLV{}, nil, false
	}
	return TLV{Type: TLVType(b[0]), Value: b[3:n:n]}, b[n:], true
}

// checkTLVs validates a TLV area as a receiver must: every TLV within the
// area, the area consumed exactly, at most one 4-byte CRC32C, a
// well-formed SSL value, a UNIQUE_ID of at most 128 bytes. It returns the
// offset of the CRC32C value in b, or -1.
func checkTLVs(b []byte) (crcAt int, err error) {
	crcAt = -1
	off := 0
	for off < len(b) {
		t, rest, ok := nextTLV(b[off:])
		if !ok {
			return -1, ErrInvalidTLV
		}
		switch t.Type {
		case TypeCRC32C:
			if len(t.Value) != 4 || crcAt >= 0 {
				return -1, ErrInvalidTLV
			}
			crcAt = off + 3
		case TypeUniqueID:
			if len(t.Value) > maxUniqueIDLen {
				return -1, ErrInvalidTLV
			}
		case TypeSSL:
			if len(t.Value) < 5 || !checkSubTLVs(t.Value[5:]) {
				return -1, ErrInvalidTLV
			}
		}
		off = len(b) - len(rest)
	}
	return crcAt, nil
}

func checkSubTLVs(b []byte) bool {
	for len(b) > 0 {
		var ok bool
		if _, b, ok = nextTLV(b); !ok {
			return false
		}
	}
	return true
}

// SplitTLVs splits an encoded TLV area into its TLVs, whose values alias
// raw. It fails with [ErrInvalidTLV] if a TLV overruns raw; it never reads
// outside raw.
func SplitTLVs(raw []byte) ([]TLV, error) {
	var out []TLV
	for len(raw) > 0 {
		t, rest, ok := nextTLV(raw)
		if !ok {
			return nil, ErrInvalidTLV
		}
		out = append(out, t)
		raw = rest
	}
	return out, nil
}

// AppendTLV appends the encoding of one TLV to dst. Values over 65535 bytes
// do not fit the format and give [ErrInvalidTLV].
func AppendTLV(dst []byte, t TLVType, value []byte) ([]byte, error) {
	if len(value) > 0xFFFF {
		return dst, fmt.Errorf("%w: type 0x%02x value of %d bytes", ErrInvalidTLV, uint8(t), len(value))
	}
	dst = append(dst, byte(t), byte(len(value)>>8), byte(len(value)))
	return append(dst, value...), nil
}

// JoinTLVs encodes tlvs, in order, as a TLV area.
func JoinTLVs(tlvs []TLV) ([]byte, error) {
	var out []byte
	for _, t := range tlvs {
		var err error
		if out, err = AppendTLV(out, t.Type, t.Value); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// TLVs iterates over the TLVs of a v2 header in wire order. The values
// alias h's storage. A header that Read or Parse accepted has well-formed
// TLVs; a LOCAL header whose block could not be parsed yields none.
func (h *Header) TLVs() iter.Seq[TLV] {
	return func(yield func(TLV) bool) {
		b := h.tlvBytes()
		for len(b) > 0 {
			t, rest, ok := nextTLV(b)
			if !ok || !yield(t) {
				return
			}
			b = rest
		}
	}
}

// TLV returns the value of the first TLV of type t.
func (h *Header) TLV(t TLVType) ([]byte, bool) {
	return findTLV(h.tlvBytes(), t)
}

func findTLV(b []byte, typ TLVType) ([]byte, bool) {
	for len(b) > 0 {
		t, rest, ok := nextTLV(b)
		if !ok {
			return nil, false
		}
		if t.Type == typ {
			return t.Value, true
		}
		b = rest
	}
	return nil, false
}

// AddTLV appends a TLV to a v2 header. It checks only the encoding; the
// typed adders (AddAuthority, AddSSL, …) check the value too. Adding
// [TypeCRC32C] this way is an error: use [Header.AddCRC32C].
func (h *Header) AddTLV(t TLVType, value []byte) error {
	if t == TypeCRC32C {
		return fmt.Errorf("%w: use AddCRC32C for the checksum", ErrInvalidTLV)
	}
	return h.addTLV(t, value)
}

func (h *Header) addTLV(t TLVType, value []byte) error {
	if h.opaque {
		return fmt.Errorf("%w: header keeps an opaque LOCAL block", ErrInvalidTLV)
	}
	if t == TypeUniqueID && len(value) > maxUniqueIDLen {
		return fmt.Errorf("%w: UNIQUE_ID of %d bytes (max %d)", ErrInvalidTLV, len(value), maxUniqueIDLen)
	}
	ext, err := AppendTLV(h.ext, t, value)
	if err != nil {
		return err
	}
	h.ext = ext
	return nil
}

// AddCRC32C adds a CRC32C TLV; its value is computed each time the header
// is formatted. Adding it twice is an error.
func (h *Header) AddCRC32C() error {
	if _, ok := h.TLV(TypeCRC32C); ok {
		return fmt.Errorf("%w: CRC32C already present", ErrInvalidTLV)
	}
	return h.addTLV(TypeCRC32C, make([]byte, 4))
}

// AddALPN adds the application protocol the client negotiated.
func (h *Header) AddALPN(proto string) error { return h.addTLV(TypeALPN, []byte(proto)) }

// AddAuthority adds the host name the client asked for (TLS SNI).
func (h *Header) AddAuthority(host string) error { return h.addTLV(TypeAuthority, []byte(host)) }

// AddUniqueID adds an opaque connection ID of at most 128 bytes.
func (h *Header) AddUniqueID(id []byte) error { return h.addTLV(TypeUniqueID, id) }

// AddNetNS adds the name of the network namespace the connection came from.
func (h *Header) AddNetNS(ns string) error { return h.addTLV(TypeNetNS, []byte(ns)) }

// AddNOOP adds n bytes of padding (a NOOP TLV of 3+n bytes).
func (h *Header) AddNOOP(n int) error { return h.addTLV(TypeNOOP, make([]byte, n)) }

// AddAWSVPCEndpointID adds the AWS PrivateLink VPC endpoint ID TLV.
func (h *Header) AddAWSVPCEndpointID(id string) error {
	if !isVPCEndpointID(id) {
		return fmt.Errorf("%w: VPC endpoint ID %q is not [A-Za-z0-9-]+", ErrInvalidTLV, id)
	}
	return h.addTLV(TypeAWS, append([]byte{SubtypeAWSVPCEndpointID}, id...))
}

// AddAzureLinkID adds the Azure Private Endpoint LinkID TLV.
func (h *Header) AddAzureLinkID(id uint32) error {
	v := []byte{SubtypeAzurePrivateEndpointLinkID, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(v[1:], id)
	return h.addTLV(TypeAzure, v)
}

// AddGCPConnectionID adds the Google Cloud Private Service Connect
// connection ID TLV.
func (h *Header) AddGCPConnectionID(id uint64) error {
	return h.addTLV(TypeGCP, binary.BigEndian.AppendUint64(nil, id))
}

// AddSSL adds an SSL TLV with its sub-TLVs.
func (h *Header) AddSSL(s SSL) error {
	v, err := s.encode()
	if err != nil {
		return err
	}
	return h.addTLV(TypeSSL, v)
}

// ALPN returns the ALPN TLV.
func (h *Header) ALPN() ([]byte, bool) { return h.TLV(TypeALPN) }

// Authority returns the AUTHORITY TLV (the TLS SNI host name).
func (h *Header) Authority() (string, bool) {
	v, ok := h.TLV(TypeAuthority)
	return string(v), ok
}

// UniqueID returns the UNIQUE_ID TLV.
func (h *Header) UniqueID() ([]byte, bool) { return h.TLV(TypeUniqueID) }

// NetNS returns the NETNS TLV.
func (h *Header) NetNS() (string, bool) {
	v, ok := h.TLV(TypeNetNS)
	return string(v), ok
}

// CRC32C returns the checksum TLV's value. A header that Read or Parse
// accepted had it verified.
func (h *Header) CRC32C() (uint32, bool) {
	v, ok := h.TLV(TypeCRC32C)
	if !ok || len(v) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(v), true
}

// AWSVPCEndpointID returns the VPC endpoint ID of an AWS PrivateLink
// connection (TLV 0xEA, sub-type 0x01). ok is false if it is absent or not
// of the form [A-Za-z0-9-]+.
func (h *Header) AWSVPCEndpointID() (string, bool) {
	for t := range h.TLVs() {
		if t.Type == TypeAWS && len(t.Value) > 1 && t.Value[0] == SubtypeAWSVPCEndpointID {
			id := string(t.Value[1:])
			return id, isVPCEndpointID(id)
		}
	}
	return "", false
}

func isVPCEndpointID(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// AzureLinkID returns the Azure Private Endpoint LinkID (TLV 0xEE,
// sub-type 0x01, exactly 5 bytes, little-endian).
func (h *Header) AzureLinkID() (uint32, bool) {
	for t := range h.TLVs() {
		if t.Type == TypeAzure && len(t.Value) == 5 && t.Value[0] == SubtypeAzurePrivateEndpointLinkID {
			return binary.LittleEndian.Uint32(t.Value[1:]), true
		}
	}
	return 0, false
}

// GCPConnectionID returns the Google Cloud PSC connection ID (TLV 0xE0,
// 8 bytes, big-endian).
func (h *Header) GCPConnectionID() (uint64, bool) {
	v, ok := h.TLV(TypeGCP)
	if !ok || len(v) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(v), true
}

// SSL is the value of a TypeSSL TLV: how the client connected to the proxy.
type SSL struct {
	// Client is a bit field of SSLClientSSL, SSLClientCertConn and
	// SSLClientCertSess.
	Client uint8
	// Verify is 0 when the client presented a certificate that was
	// verified, non-zero otherwise.
	Verify uint32
	// Sub holds the sub-TLVs (SubtypeSSLVersion, SubtypeSSLCN, …), in order.
	Sub []TLV
}

// SSL returns the SSL TLV, its sub-TLVs' values aliasing h's storage.
func (h *Header) SSL() (SSL, bool) {
	v, ok := h.TLV(TypeSSL)
	if !ok || len(v) < 5 {
		return SSL{}, false
	}
	sub, err := SplitTLVs(v[5:])
	if err != nil {
		return SSL{}, false
	}
	return SSL{Client: v[0], Verify: binary.BigEndian.Uint32(v[1:5]), Sub: sub}, true
}

// Value returns the first sub-TLV of type t as a string.
func (s SSL) Value(t TLVType) (string, bool) {
	for _, st := range s.Sub {
		if st.Type == t {
			return string(st.Value), true
		}
	}
	return "", false
}

// Version returns the TLS version sub-TLV (e.g. "TLSv1.3").
func (s SSL) Version() (string, bool) { return s.Value(SubtypeSSLVersion) }

// CN returns the client certificate's Common Name sub-TLV.
func (s SSL) CN() (string, bool) { return s.Value(SubtypeSSLCN) }

// Cipher returns the cipher sub-TLV.
func (s SSL) Cipher() (string, bool) { return s.Value(SubtypeSSLCipher) }

// SigAlg returns the certificate signature algorithm sub-TLV.
func (s SSL) SigAlg() (string, bool) { return s.Value(SubtypeSSLSigAlg) }

// KeyAlg returns the certificate key algorithm sub-TLV.
func (s SSL) KeyAlg() (string, bool) { return s.Value(SubtypeSSLKeyAlg) }

// Group returns the key exchange group sub-TLV (spec 3.4).
func (s SSL) Group() (string, bool) { return s.Value(SubtypeSSLGroup) }

// SigScheme returns the signature scheme sub-TLV (spec 3.4).
func (s SSL) SigScheme() (string, bool) { return s.Value(SubtypeSSLSigScheme) }

// Verified reports whether the client presented a certificate (on this
// connection or in its TLS session) and the proxy verified it (Verify 0).
func (s SSL) Verified() bool {
	return s.Client&(SSLClientCertConn|SSLClientCertSess) != 0 && s.Verify == 0
}

// ClientCert returns the client certificate sub-TLV (DER).
func (s SSL) ClientCert() ([]byte, bool) {
	v, ok := s.Value(SubtypeSSLClientCert)
	return []byte(v), ok
}

func (s SSL) encode() ([]byte, error) {
	v := make([]byte, 5, 64)
	v[0] = s.Client
	binary.BigEndian.PutUint32(v[1:], s.Verify)
	for _, st := range s.Sub {
		var err error
		if v, err = AppendTLV(v, st.Type, st.Value); err != nil {
			return nil, err
		}
	}
	return v, nil
}
