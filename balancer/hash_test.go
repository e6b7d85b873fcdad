package balancer

import (
	"net/netip"
	"strings"
	"testing"
)

func TestXXH64Vectors(t *testing.T) {
	// Reference values of XXH64 with seed 0 (xxhsum -H64, and the test
	// vectors of github.com/cespare/xxhash).
	tests := []struct {
		in   string
		want uint64
	}{
		{"", 0xef46db3751d8e999},
		{"a", 0xd24ec4f1a98c6e5b},
		{"as", 0x1c330fb2d66be179},
		{"asd", 0x631c37ce72a97393},
		{"asdf", 0x415872f599cea71e},
		{"abc", 0x44bc2cf5ad770999},
		{"Call me Ishmael. Some years ago--never mind how long precisely-", 0x02a2e85470d6fd96},
	}
	for _, tt := range tests {
		if got := HashString(tt.in); got != tt.want {
			t.Errorf("HashString(%q) = %#x, want %#x", tt.in, got, tt.want)
		}
		if got := HashBytes([]byte(tt.in)); got != tt.want {
			t.Errorf("HashBytes(%q) = %#x, want %#x", tt.in, got, tt.want)
		}
	}
	long := strings.Repeat("lbkit", 100)
	if HashString(long) != HashBytes([]byte(long)) {
		t.Error("string and bytes hashes differ")
	}
}

func TestFlowHash(t *testing.T) {
	f := Flow{Proto: 6, Src: netip.MustParseAddrPort("10.0.0.1:40000"), Dst: netip.MustParseAddrPort("10.0.0.9:80")}
	g := Flow{Proto: 6, Src: netip.MustParseAddrPort("[::ffff:10.0.0.1]:40000"), Dst: netip.MustParseAddrPort("[::ffff:10.0.0.9]:80")}
	if f.Hash() != g.Hash() {
		t.Error("IPv4 and IPv4-mapped flows hash differently")
	}
	// Every field matters.
	for _, h := range []Flow{
		{Proto: 17, Src: f.Src, Dst: f.Dst},
		{Proto: 6, Src: netip.MustParseAddrPort("10.0.0.1:40001"), Dst: f.Dst},
		{Proto: 6, Src: f.Src, Dst: netip.MustParseAddrPort("10.0.0.9:81")},
		{Proto: 6, Src: netip.MustParseAddrPort("10.0.0.2:40000"), Dst: f.Dst},
	} {
		if h.Hash() == f.Hash() {
			t.Errorf("%+v hashes like %+v", h, f)
		}
	}
	// Pinned: changing it breaks agreement between forwarders of different
	// versions.
	if got, want := f.Hash(), uint64(0x546d721e2d2b8926); got != want {
		t.Errorf("Flow.Hash() = %#x, pinned %#x", got, want)
	}
}

func TestFastMod(t *testing.T) {
	for _, d := range []uint32{1, 2, 3, 7, 100, 1000, 65536, 65537, 1<<31 + 11} {
		fm := newFastMod(d)
		for _, x := range []uint32{0, 1, 2, d - 1, d, d + 1, 12345678, 1<<32 - 1, 1<<32 - 2} {
			if got, want := fm.mod(x), x%d; got != want {
				t.Fatalf("%d mod %d = %d, want %d", x, d, got, want)
			}
		}
	}
}

func TestFlowHashUnrolled(t *testing.T) {
	r := uint64(1)
	for i := range 10000 {
		r = mix64(r + golden)
		var a, b [16]byte
		for j := range 16 {
			a[j], b[j] = byte(r>>(j%8*8)), byte(r>>((j+3)%8*8))
		}
		src := netip.AddrFrom16(a)
		if i%2 == 0 {
			src = netip.AddrFrom4([4]byte{a[0], a[1], a[2], a[3]})
		}
		f := Flow{Proto: uint8(r >> 56), Src: netip.AddrPortFrom(src, uint16(r)), Dst: netip.AddrPortFrom(netip.AddrFrom16(b), uint16(r>>16))}
		bs := flowBytes(f)
		if got, want := f.Hash(), xxh64(bs[:], flowSeed); got != want {
			t.Fatalf("%v: unrolled %#x, generic %#x", f, got, want)
		}
	}
}
