package proxyproto

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// Every typed TLV adder is read back by its accessor after a round trip
// through the wire format.
func TestTLVRoundTrip(t *testing.T) {
	h, err := NewHeader(&net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 1}, &net.TCPAddr{IP: net.ParseIP("10.0.0.2"), Port: 2})
	if err != nil {
		t.Fatal(err)
	}
	ssl := SSL{Client: SSLClientSSL | SSLClientCertConn, Verify: 0, Sub: []TLV{
		{SubtypeSSLVersion, []byte("TLSv1.3")},
		{SubtypeSSLCN, []byte("client.example")},
		{SubtypeSSLCipher, []byte("TLS_AES_256_GCM_SHA384")},
		{SubtypeSSLSigAlg, []byte("SHA256")},
		{SubtypeSSLKeyAlg, []byte("RSA2048")},
		{SubtypeSSLGroup, []byte("X25519")},
		{SubtypeSSLSigScheme, []byte("rsa_pss_rsae_sha256")},
		{SubtypeSSLClientCert, bytes.Repeat([]byte{0x30}, 1500)},
	}}
	for _, err := range []error{
		h.AddALPN("h2"), h.AddAuthority("shop.example"), h.AddUniqueID([]byte("id-1")),
		h.AddNetNS("blue"), h.AddNOOP(5), h.AddAWSVPCEndpointID("vpce-0123abcd"),
		h.AddAzureLinkID(0xDEADBEEF), h.AddGCPConnectionID(0x0102030405060708), h.AddSSL(ssl),
		h.AddTLV(0xF1, []byte("experimental")), h.AddCRC32C(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	wire, err := h.Format()
	if err != nil {
		t.Fatal(err)
	}
	var got Header
	if _, err := Parse(wire, &got); err != nil {
		t.Fatal(err)
	}
	check := func(name string, ok bool, got, want any) {
		t.Helper()
		if !ok || got != want {
			t.Errorf("%s = %v (%v), want %v", name, got, ok, want)
		}
	}
	alpn, ok := got.ALPN()
	check("ALPN", ok, string(alpn), "h2")
	auth, ok := got.Authority()
	check("Authority", ok, auth, "shop.example")
	uid, ok := got.UniqueID()
	check("UniqueID", ok, string(uid), "id-1")
	ns, ok := got.NetNS()
	check("NetNS", ok, ns, "blue")
	vpce, ok := got.AWSVPCEndpointID()
	check("AWSVPCEndpointID", ok, vpce, "vpce-0123abcd")
	az, ok := got.AzureLinkID()
	check("AzureLinkID", ok, az, uint32(0xDEADBEEF))
	gcp, ok := got.GCPConnectionID()
	check("GCPConnectionID", ok, gcp, uint64(0x0102030405060708))
	raw, ok := got.TLV(0xF1)
	check("TLV(0xF1)", ok, string(raw), "experimental")
	_, ok = got.CRC32C()
	check("CRC32C present", ok, true, true)

	s, ok := got.SSL()
	if !ok {
		t.Fatal("no SSL TLV")
	}
	check("SSL.Client", true, s.Client, uint8(SSLClientSSL|SSLClientCertConn))
	check("SSL.Verified", true, s.Verified(), true)
	v, ok := s.Version()
	check("SSL.Version", ok, v, "TLSv1.3")
	cn, ok := s.CN()
	check("SSL.CN", ok, cn, "client.example")
	c, ok := s.Cipher()
	check("SSL.Cipher", ok, c, "TLS_AES_256_GCM_SHA384")
	sa, ok := s.SigAlg()
	check("SSL.SigAlg", ok, sa, "SHA256")
	ka, ok := s.KeyAlg()
	check("SSL.KeyAlg", ok, ka, "RSA2048")
	g, ok := s.Group()
	check("SSL.Group", ok, g, "X25519")
	ss, ok := s.SigScheme()
	check("SSL.SigScheme", ok, ss, "rsa_pss_rsae_sha256")
	cert, ok := s.ClientCert()
	check("SSL.ClientCert", ok, len(cert), 1500)

	var types []TLVType
	for tl := range got.TLVs() {
		types = append(types, tl.Type)
	}
	want := []TLVType{TypeALPN, TypeAuthority, TypeUniqueID, TypeNetNS, TypeNOOP, TypeAWS, TypeAzure, TypeGCP, TypeSSL, 0xF1, TypeCRC32C}
	if len(types) != len(want) {
		t.Fatalf("TLV order %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("TLV order %v, want %v", types, want)
		}
	}
	// With the client certificate the header is over 1 KiB but under the
	// default cap; a smaller cap refuses it.
	if len(wire) < 1500 || len(wire) > DefaultMaxHeaderSize {
		t.Fatalf("header of %d bytes", len(wire))
	}
}

func TestTLVAdderErrors(t *testing.T) {
	h := NewLocalHeader()
	for name, err := range map[string]error{
		"UNIQUE_ID over 128": h.AddUniqueID(make([]byte, 129)),
		"bad VPC endpoint":   h.AddAWSVPCEndpointID("vpce 1"),
		"raw CRC32C":         h.AddTLV(TypeCRC32C, make([]byte, 4)),
		"value over 65535":   h.AddTLV(TypeNOOP, make([]byte, 70000)),
	} {
		if !errors.Is(err, ErrInvalidTLV) {
			t.Errorf("%s: %v, want ErrInvalidTLV", name, err)
		}
	}
	if err := h.AddCRC32C(); err != nil {
		t.Fatal(err)
	}
	if err := h.AddCRC32C(); !errors.Is(err, ErrInvalidTLV) {
		t.Errorf("second CRC32C: %v", err)
	}
	// A header whose encoding would exceed the format's 65535-byte length
	// is refused at Format.
	big := NewLocalHeader()
	for range 3 {
		_ = big.AddTLV(TypeNOOP, make([]byte, 30000))
	}
	if _, err := big.Format(); !errors.Is(err, ErrHeaderTooLong) {
		t.Errorf("Format of a 90 kB header: %v", err)
	}
}

// Every family/transport byte under both commands: the seven valid ones
// parse, every other is rejected (pires had a nil-address panic on 0x13).
func TestFamilyByteSweep(t *testing.T) {
	block := make([]byte, 216)
	for cmd := byte(0); cmd <= 1; cmd++ {
		for fam := 0; fam < 256; fam++ {
			in := v2(0x20|cmd, byte(fam), -1, block)
			var h Header
			_, err := Parse(in, &h)
			if valid := Protocol(fam).Valid(); valid != (err == nil) {
				t.Errorf("cmd %d fam 0x%02x: err %v, valid %v", cmd, fam, err, valid)
			}
			if err != nil && !errors.Is(err, ErrUnsupportedProtocol) {
				t.Errorf("cmd %d fam 0x%02x: %v, want ErrUnsupportedProtocol", cmd, fam, err)
			}
			if err == nil && cmd == 1 && Protocol(fam) != Unspec && (h.SourceAddr() == nil || h.DestinationAddr() == nil) {
				t.Errorf("fam 0x%02x: nil address", fam)
			}
		}
	}
}

// LOCAL: "the receiver must accept this connection as valid and must use
// the real connection endpoints and discard the protocol block", whatever
// it holds (a LOCAL block is kept verbatim and sent back unchanged).
func TestLocalAnyBlock(t *testing.T) {
	for _, block := range [][]byte{nil, {1, 2, 3}, make([]byte, 12), append(make([]byte, 12), 0x02, 0, 50), bytes.Repeat([]byte{0xFF}, 300)} {
		for _, fam := range []byte{0x00, 0x11, 0x21, 0x31} {
			in := v2(0x20, fam, -1, block)
			var h Header
			n, err := Parse(in, &h)
			if err != nil || n != len(in) {
				t.Fatalf("LOCAL fam 0x%02x block %x: n=%d err=%v", fam, block, n, err)
			}
			if h.SourceAddr() != nil {
				t.Errorf("LOCAL exposes a source address %v", h.SourceAddr())
			}
			out, err := h.Format()
			if err != nil || !bytes.Equal(out, in) {
				t.Errorf("LOCAL fam 0x%02x: re-encoded %x, %v; want %x", fam, out, err, in)
			}
		}
	}
	// A well-formed LOCAL block with a bad checksum is still refused: the
	// CRC32C rule has no exception.
	bad := withCRC(v2(0x20, 0x11, -1, ipv4Block("1.1.1.1", "2.2.2.2", 1, 2)))
	bad[len(bad)-1] ^= 1
	var h Header
	if _, err := Parse(bad, &h); !errors.Is(err, ErrChecksum) {
		t.Errorf("LOCAL with a bad CRC32C: %v", err)
	}
}

// UDP (spec 3.4): each datagram carries its own header; Parse splits it
// from the payload.
func TestParseDatagram(t *testing.T) {
	h, err := NewHeader(&net.UDPAddr{IP: net.ParseIP("2001:db8::9"), Port: 5353}, &net.UDPAddr{IP: net.ParseIP("2001:db8::1"), Port: 53})
	if err != nil {
		t.Fatal(err)
	}
	dgram, err := h.AppendFormat(nil)
	if err != nil {
		t.Fatal(err)
	}
	dgram = append(dgram, "dns query"...)
	var got Header
	n, err := Parse(dgram, &got)
	if err != nil {
		t.Fatal(err)
	}
	if string(dgram[n:]) != "dns query" || got.Protocol != UDP6 || got.SourceAddr().String() != "[2001:db8::9]:5353" {
		t.Errorf("payload %q, header %v", dgram[n:], &got)
	}
	if _, ok := got.SourceAddr().(*net.UDPAddr); !ok {
		t.Errorf("SourceAddr is %T, want *net.UDPAddr", got.SourceAddr())
	}
}

func TestNewHeader(t *testing.T) {
	tests := []struct {
		src, dst net.Addr
		proto    Protocol
		srcStr   string
	}{
		{&net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 1}, &net.TCPAddr{IP: net.ParseIP("10.0.0.2"), Port: 2}, TCP4, "10.0.0.1:1"},
		{&net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 1}, &net.TCPAddr{IP: net.ParseIP("fd00::2"), Port: 2}, TCP6, "10.0.0.1:1"}, // written as ::ffff:10.0.0.1
		{&net.UDPAddr{IP: net.ParseIP("fd00::1"), Port: 1}, &net.UDPAddr{IP: net.ParseIP("fd00::2"), Port: 2}, UDP6, "[fd00::1]:1"},
		{&net.UnixAddr{Name: "/a", Net: "unixgram"}, &net.UnixAddr{Name: "/b", Net: "unixgram"}, UnixDatagram, "/a"},
	}
	for _, tt := range tests {
		h, err := NewHeader(tt.src, tt.dst)
		if err != nil {
			t.Fatal(err)
		}
		if h.Protocol == TCP6 && tt.src.(*net.TCPAddr).IP.To4() != nil && !h.Source.Addr().Is4In6() {
			t.Errorf("mixed families: source %v not IPv4-mapped", h.Source)
		}
		if h.Protocol != tt.proto || h.SourceAddr().String() != tt.srcStr {
			t.Errorf("NewHeader(%v, %v) = %v %v", tt.src, tt.dst, h.Protocol, h.SourceAddr())
		}
	}
	if _, err := NewHeader(&net.TCPAddr{IP: net.ParseIP("10.0.0.1")}, &net.UDPAddr{IP: net.ParseIP("10.0.0.1")}); !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("mixed TCP/UDP: %v", err)
	}
	if _, err := NewHeader(&net.TCPAddr{}, &net.TCPAddr{}); !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("empty addresses: %v", err)
	}
	var h Header
	if err := h.SetUnixAddrs(strings.Repeat("x", 108), "/b"); !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("108-byte path: %v", err)
	}
}

func TestFormatErrors(t *testing.T) {
	v4, v6 := netip.MustParseAddrPort("1.2.3.4:1"), netip.MustParseAddrPort("[::1]:1")
	tests := []struct {
		name string
		h    Header
		want error
	}{
		{"no version", Header{Command: Proxy, Protocol: TCP4, Source: v4, Destination: v4}, ErrUnsupportedVersion},
		{"v2 command 2", Header{Version: V2, Command: 2}, ErrUnsupportedCommand},
		{"v2 protocol 0x13", Header{Version: V2, Command: Proxy, Protocol: 0x13}, ErrUnsupportedProtocol},
		{"v2 TCP4 with IPv6", Header{Version: V2, Command: Proxy, Protocol: TCP4, Source: v6, Destination: v6}, ErrInvalidAddress},
		{"v2 TCP6 no addresses", Header{Version: V2, Command: Proxy, Protocol: TCP6}, ErrInvalidAddress},
		{"v2 UNIX no paths", Header{Version: V2, Command: Proxy, Protocol: UnixStream}, ErrInvalidAddress},
		{"v1 UDP4", Header{Version: V1, Command: Proxy, Protocol: UDP4, Source: v4, Destination: v4}, ErrUnsupportedProtocol},
		{"v1 TCP6 with IPv4", Header{Version: V1, Command: Proxy, Protocol: TCP6, Source: v4, Destination: v4}, ErrInvalidAddress},
	}
	for _, tt := range tests {
		if _, err := tt.h.Format(); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	h := Header{Version: V1, Command: Proxy, Protocol: TCP4, Source: v4, Destination: v4}
	_ = h.AddALPN("h2")
	if _, err := h.Format(); !errors.Is(err, ErrInvalidTLV) {
		t.Errorf("v1 with a TLV: %v", err)
	}
}

// Read, Write, RemoteAddr and ProxyHeader from several goroutines at once
// read the header once and agree (run with -race).
func TestConnConcurrentFirstUse(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	c := NewConn(server, Require, time.Now().Add(10*time.Second), nil)
	defer c.Close()
	var wg sync.WaitGroup
	addrs := make([]string, 4)
	for i := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addrs[i] = c.RemoteAddr().String()
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 1)
		if _, err := c.Read(buf); err != nil {
			t.Error(err)
		}
	}()
	if _, err := client.Write(append(append([]byte{}, v2TCP4...), 'x')); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for _, a := range addrs {
		if a != "192.168.0.1:56324" {
			t.Errorf("RemoteAddr = %s", a)
		}
	}
}
