package interop

import (
	"bufio"
	"bytes"
	"net"
	"net/netip"
	"testing"

	pires "github.com/pires/go-proxyproto"
	"go.uber.org/goleak"

	"github.com/lbkit/lbkit/proxyproto"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// header is one test case: an lbkit header and the pires view of it.
type header struct {
	name string
	ours func(t testing.TB) proxyproto.Header
}

func tcp(s string) *net.TCPAddr { return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s)) }
func udp(s string) *net.UDPAddr { return net.UDPAddrFromAddrPort(netip.MustParseAddrPort(s)) }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// cases are the headers both implementations must agree on.
var cases = []header{
	{"v1 TCP4", func(t testing.TB) proxyproto.Header {
		h, err := proxyproto.NewHeader(tcp("192.168.0.1:56324"), tcp("192.168.0.11:443"))
		must(t, err)
		h.Version = proxyproto.V1
		return h
	}},
	{"v1 TCP6", func(t testing.TB) proxyproto.Header {
		h, err := proxyproto.NewHeader(tcp("[2001:db8::1]:1000"), tcp("[2001:db8::ff]:443"))
		must(t, err)
		h.Version = proxyproto.V1
		return h
	}},
	{"v1 UNKNOWN", func(t testing.TB) proxyproto.Header {
		return proxyproto.Header{Version: proxyproto.V1, Command: proxyproto.Local}
	}},
	{"v2 TCP4", func(t testing.TB) proxyproto.Header {
		h, err := proxyproto.NewHeader(tcp("192.168.0.1:56324"), tcp("192.168.0.11:443"))
		must(t, err)
		return h
	}},
	{"v2 TCP6", func(t testing.TB) proxyproto.Header {
		h, err := proxyproto.NewHeader(tcp("[2001:db8::1]:1000"), tcp("[2001:db8::ff]:443"))
		must(t, err)
		return h
	}},
	{"v2 UDP4", func(t testing.TB) proxyproto.Header {
		h, err := proxyproto.NewHeader(udp("10.0.0.1:53000"), udp("10.0.0.2:53"))
		must(t, err)
		return h
	}},
	{"v2 UNIX", func(t testing.TB) proxyproto.Header {
		h, err := proxyproto.NewHeader(&net.UnixAddr{Name: "/run/client.sock", Net: "unix"}, &net.UnixAddr{Name: "/run/server.sock", Net: "unix"})
		must(t, err)
		return h
	}},
	{"v2 LOCAL", func(t testing.TB) proxyproto.Header { return proxyproto.NewLocalHeader() }},
	{"v2 TCP4 with TLVs", func(t testing.TB) proxyproto.Header {
		h, err := proxyproto.NewHeader(tcp("192.168.0.1:56324"), tcp("192.168.0.11:443"))
		must(t, err)
		must(t, h.AddAWSVPCEndpointID("vpce-08d2bf15fac5001c9"))
		must(t, h.AddAuthority("example.com"))
		must(t, h.AddALPN("h2"))
		must(t, h.AddSSL(proxyproto.SSL{Client: proxyproto.SSLClientSSL, Sub: []proxyproto.TLV{
			{Type: proxyproto.SubtypeSSLVersion, Value: []byte("TLSv1.3")},
			{Type: proxyproto.SubtypeSSLCipher, Value: []byte("TLS_AES_128_GCM_SHA256")},
		}}))
		must(t, h.AddUniqueID([]byte("conn-42")))
		must(t, h.AddCRC32C())
		return h
	}},
}

// TestOursToPires: every header we write, pires reads as the same header.
func TestOursToPires(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := c.ours(t)
			wire, err := h.Format()
			must(t, err)
			ph, err := pires.Read(bufio.NewReader(bytes.NewReader(append(wire, "data"...))))
			if err != nil {
				t.Fatalf("pires.Read(%q): %v", wire, err)
			}
			// Compare with the header as sent (the CRC32C value filled in).
			var sent proxyproto.Header
			_, err = proxyproto.Parse(wire, &sent)
			must(t, err)
			comparePires(t, &sent, ph)
			// pires writes back the same bytes.
			back, err := ph.Format()
			must(t, err)
			if !bytes.Equal(back, wire) {
				t.Errorf("pires re-formats %q as %q", wire, back)
			}
		})
	}
}

// TestPiresToOurs: every header pires writes, we read as the same header.
func TestPiresToOurs(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.ours(t)
			wire, err := want.Format()
			must(t, err)
			ph, err := pires.Read(bufio.NewReader(bytes.NewReader(wire)))
			must(t, err)
			// Have pires build the bytes itself from its own header value.
			pwire, err := ph.Format()
			must(t, err)
			var got proxyproto.Header
			n, err := proxyproto.Parse(append(pwire, "data"...), &got)
			if err != nil {
				t.Fatalf("Parse(pires bytes %q): %v", pwire, err)
			}
			if n != len(pwire) {
				t.Errorf("consumed %d of %d header bytes", n, len(pwire))
			}
			comparePires(t, &got, ph)
		})
	}
}

// TestPiresBuiltHeaders: headers pires builds from addresses (its own
// constructor, not a re-encoding of ours) parse to what they say.
func TestPiresBuiltHeaders(t *testing.T) {
	for _, v := range []byte{1, 2} {
		for _, addrs := range [][2]net.Addr{
			{tcp("10.1.2.3:40000"), tcp("10.9.8.7:80")},
			{tcp("[fd00::1]:40000"), tcp("[fd00::2]:80")},
		} {
			ph := pires.HeaderProxyFromAddrs(v, addrs[0], addrs[1])
			wire, err := ph.Format()
			must(t, err)
			var h proxyproto.Header
			if _, err := proxyproto.Parse(wire, &h); err != nil {
				t.Fatalf("v%d %v: Parse(%q): %v", v, addrs, wire, err)
			}
			if h.SourceAddr().String() != addrs[0].String() || h.DestinationAddr().String() != addrs[1].String() {
				t.Errorf("v%d: got %v -> %v, want %v -> %v", v, h.SourceAddr(), h.DestinationAddr(), addrs[0], addrs[1])
			}
		}
	}
}

// comparePires checks that our header and pires' describe the same thing.
func comparePires(t *testing.T, h *proxyproto.Header, ph *pires.Header) {
	t.Helper()
	if byte(h.Version) != ph.Version {
		t.Errorf("version: ours %d, pires %d", h.Version, ph.Version)
	}
	if h.Command == proxyproto.Local {
		if h.Version == proxyproto.V2 && ph.Command != pires.LOCAL {
			t.Errorf("command: ours LOCAL, pires %v", ph.Command)
		}
		if h.Version == proxyproto.V1 && ph.TransportProtocol != pires.UNSPEC {
			t.Errorf("v1 UNKNOWN: pires protocol %v", ph.TransportProtocol)
		}
		return
	}
	if ph.Command != pires.PROXY {
		t.Errorf("command: ours PROXY, pires %v", ph.Command)
	}
	if byte(h.Protocol) != byte(ph.TransportProtocol) {
		t.Errorf("protocol: ours %v, pires %v", h.Protocol, ph.TransportProtocol)
	}
	if got, want := h.SourceAddr().String(), ph.SourceAddr.String(); got != want {
		t.Errorf("source: ours %s, pires %s", got, want)
	}
	if got, want := h.DestinationAddr().String(), ph.DestinationAddr.String(); got != want {
		t.Errorf("destination: ours %s, pires %s", got, want)
	}
	ptlvs, err := ph.TLVs()
	must(t, err)
	var ours []proxyproto.TLV
	for tl := range h.TLVs() {
		ours = append(ours, tl)
	}
	if len(ours) != len(ptlvs) {
		t.Fatalf("TLVs: ours %d, pires %d", len(ours), len(ptlvs))
	}
	for i := range ours {
		if byte(ours[i].Type) != byte(ptlvs[i].Type) || !bytes.Equal(ours[i].Value, ptlvs[i].Value) {
			t.Errorf("TLV %d: ours %x=%q, pires %x=%q", i, ours[i].Type, ours[i].Value, ptlvs[i].Type, ptlvs[i].Value)
		}
	}
}
