package dsr

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var update = flag.Bool("update", false, "rewrite testdata/golden.txt from the current output")

const (
	testVIP    = "10.0.0.100"
	testClient = "10.0.0.1"
)

var (
	lbMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
	// three backends on the segment, as in the namespace topology
	testBackends = []Backend{
		{Addr: netip.MustParseAddr("10.0.0.11"), MAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 0x11}, Weight: 1},
		{Addr: netip.MustParseAddr("10.0.0.12"), MAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 0x12}, Weight: 1},
		{Addr: netip.MustParseAddr("10.0.0.13"), MAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 0x13}, Weight: 1},
	}
	t0 = time.Unix(1_800_000_000, 0)
)

func newTestCore(t testing.TB, mode Mode, mutate ...func(*Config)) *Core {
	t.Helper()
	cfg := Config{VIPs: []netip.Addr{netip.MustParseAddr(testVIP)}, Mode: mode, SourceMAC: lbMAC}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := NewCore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetBackends(testBackends); err != nil {
		t.Fatal(err)
	}
	c.epoch = t0
	return c
}

func tcp(sport uint16, flags uint8) pktSpec {
	return pktSpec{src: testClient, dst: testVIP, proto: protoTCP, sport: sport, dport: 80, tcpFlags: flags}
}

// fixtures are Katran-style golden cases: a packet in, a verdict and the
// exact bytes out. Backend choice is part of the golden output, so a
// change of the flow hash (which would move flows between forwarders of
// different versions) shows up as a diff.
func fixtures() []struct {
	name string
	mode Mode
	pkt  []byte
} {
	flowPkt := tcp(40000, 0x02).build()
	return []struct {
		name string
		mode Mode
		pkt  []byte
	}{
		{"tcp-syn", ModeL2, flowPkt},
		{"tcp-payload", ModeL2, pktSpec{src: testClient, dst: testVIP, proto: protoTCP, sport: 40001, dport: 80, tcpFlags: 0x18, payload: 40}.build()},
		{"udp", ModeL2, pktSpec{src: "10.0.0.7", dst: testVIP, proto: protoUDP, sport: 5353, dport: 53, payload: 12}.build()},
		{"tcp-syn-vxlan", ModeVXLAN, flowPkt},
		{"udp-vxlan", ModeVXLAN, pktSpec{src: "192.168.9.9", dst: testVIP, proto: protoUDP, sport: 1, dport: 443, payload: 3}.build()},
		{"icmp-frag-needed", ModeL2, pktSpec{src: "10.0.0.254", dst: testVIP, proto: protoICMP, icmpType: 3, icmpCode: 4,
			// quotes the backend's reply VIP:80 → client:40000
			inner: pktSpec{src: testVIP, dst: testClient, proto: protoTCP, sport: 80, dport: 40000, tcpFlags: 0x10, payload: 8}.build()[:28]}.build()},
		{"icmp-echo", ModeL2, pktSpec{src: testClient, dst: testVIP, proto: protoICMP, icmpType: 8}.build()},
		{"icmp-frag-needed-not-vip", ModeL2, pktSpec{src: "10.0.0.254", dst: testVIP, proto: protoICMP, icmpType: 3, icmpCode: 4,
			inner: pktSpec{src: "10.0.0.11", dst: testClient, proto: protoTCP, sport: 80, dport: 40000}.build()[:28]}.build()},
		{"non-vip", ModeL2, pktSpec{src: testClient, dst: "10.0.0.11", proto: protoTCP, sport: 40000, dport: 80}.build()},
		{"ipv6", ModeL2, append([]byte{0x60}, make([]byte, 39)...)},
		{"fragment-first", ModeL2, pktSpec{src: testClient, dst: testVIP, proto: protoUDP, sport: 1, dport: 53, payload: 16, fragOff: 0x2000}.build()},
		{"fragment-later", ModeL2, pktSpec{src: testClient, dst: testVIP, proto: protoUDP, sport: 1, dport: 53, payload: 16, fragOff: 0x0003}.build()},
		{"dont-fragment-ok", ModeL2, pktSpec{src: testClient, dst: testVIP, proto: protoUDP, sport: 2, dport: 53, fragOff: 0x4000}.build()},
		{"ip-options", ModeL2, pktSpec{src: testClient, dst: testVIP, proto: protoTCP, sport: 40000, dport: 80, options: 4}.build()},
		{"gre", ModeL2, pktSpec{src: testClient, dst: testVIP, proto: 47}.build()},
		{"truncated-tcp", ModeL2, tcp(40000, 0x02).build()[:30]},
		{"short-ip", ModeL2, []byte{0x45, 0, 0, 20}},
		{"bad-total-length", ModeL2, func() []byte { p := tcp(40000, 2).build(); p[2] = 0xff; return p }()},
	}
}

func TestGolden(t *testing.T) {
	var got bytes.Buffer
	for _, f := range fixtures() {
		c := newTestCore(t, f.mode)
		buf := withHeadroom(f.pkt)
		r := c.Forward(buf, t0)
		if !bytes.Equal(buf[Headroom:], f.pkt) {
			t.Errorf("%s: Forward changed the packet bytes", f.name)
		}
		if r.Verdict == VerdictForward && !bytes.HasSuffix(r.Frame, f.pkt) {
			t.Errorf("%s: the frame does not end with the unchanged packet", f.name)
		}
		fmt.Fprintf(&got, "%s\t%v\t%v\t%v\t%x\t%x\n", f.name, r.Verdict, r.Reason, r.Backend, f.pkt, r.Frame)
	}
	path := filepath.Join("testdata", "golden.txt")
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
	}
	wl := strings.Split(string(want), "\n")
	for i, line := range strings.Split(got.String(), "\n") {
		if i >= len(wl) || wl[i] != line {
			w := ""
			if i < len(wl) {
				w = wl[i]
			}
			t.Errorf("golden line %d:\n got  %s\n want %s", i+1, line, w)
		}
	}
}

// TestGoldenReadable checks what the golden file says in words, so that
// it cannot be regenerated into nonsense unnoticed.
func TestGoldenReadable(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "golden.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{
		"tcp-syn": "forward", "tcp-payload": "forward", "udp": "forward", "tcp-syn-vxlan": "forward",
		"udp-vxlan": "forward", "icmp-frag-needed": "forward", "dont-fragment-ok": "forward",
		"icmp-echo": "drop icmp", "icmp-frag-needed-not-vip": "drop icmp",
		"non-vip": "ignore", "ipv6": "ignore",
		"fragment-first": "drop fragment", "fragment-later": "drop fragment", "ip-options": "drop ip_options",
		"gre": "drop protocol", "truncated-tcp": "drop malformed", "short-ip": "drop malformed", "bad-total-length": "drop malformed",
	}
	backend := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		name, verdict := fs[0], fs[1]
		if verdict == "drop" {
			verdict += " " + fs[2]
		}
		if want[name] != verdict {
			t.Errorf("%s: golden verdict %q, want %q", name, verdict, want[name])
		}
		backend[name] = fs[3]
		in, _ := hex.DecodeString(fs[4])
		out, _ := hex.DecodeString(fs[5])
		switch {
		case verdict != "forward":
			if len(out) != 0 {
				t.Errorf("%s: output for a packet not forwarded", name)
			}
		case strings.HasSuffix(name, "vxlan"):
			if len(out) != len(in)+22 || !bytes.Equal(out[:8], []byte{8, 0, 0, 0, 0, 0x10, 0x92, 0}) || !bytes.Equal(out[14:20], lbMAC) {
				t.Errorf("%s: not VXLAN(VNI 4242)+Ethernet+packet: %x", name, out[:22])
			}
		default:
			if len(out) != len(in)+14 || !bytes.Equal(out[6:12], lbMAC) || out[12] != 8 || out[13] != 0 {
				t.Errorf("%s: not Ethernet(src=lb, type IPv4)+packet: %x", name, out[:14])
			}
		}
	}
	if backend["icmp-frag-needed"] != backend["tcp-syn"] {
		t.Errorf("ICMP frag-needed went to %s, its flow to %s", backend["icmp-frag-needed"], backend["tcp-syn"])
	}
}

func TestICMPFollowsFlowNotHash(t *testing.T) {
	c := newTestCore(t, ModeL2)
	syn := tcp(40000, 0x02).build()
	first := c.Forward(withHeadroom(syn), t0).Backend
	// Change the set so that a fresh hash would pick differently for some
	// flows; the ICMP must still follow the flow table.
	icmp := pktSpec{src: "10.0.0.254", dst: testVIP, proto: protoICMP, icmpType: 3, icmpCode: 4,
		inner: pktSpec{src: testVIP, dst: testClient, proto: protoTCP, sport: 80, dport: 40000}.build()[:28]}.build()
	for _, b := range []Backend{{Addr: netip.MustParseAddr("10.0.0.14"), MAC: lbMAC, Weight: 50}} {
		if err := c.SetBackends(append(append([]Backend{}, testBackends...), b)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		r := c.Forward(withHeadroom(icmp), t0.Add(time.Duration(i)*time.Second))
		if r.Verdict != VerdictForward || r.Backend != first {
			t.Fatalf("ICMP went %v to %v, flow is on %v", r.Verdict, r.Backend, first)
		}
	}
	if got := c.Stats(); got.ICMPForwarded != 5 || got.FlowsCreated != 1 {
		t.Errorf("ICMPForwarded=%d FlowsCreated=%d, want 5 and 1 (ICMP never creates flows)", got.ICMPForwarded, got.FlowsCreated)
	}
}

func TestNewCoreErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want error
	}{
		{"no VIP", Config{}, ErrNoVIP},
		{"IPv6 VIP", Config{VIPs: []netip.Addr{netip.MustParseAddr("::1")}}, ErrNotIPv4},
		{"bad MAC", Config{VIPs: []netip.Addr{netip.MustParseAddr(testVIP)}, SourceMAC: net.HardwareAddr{1, 2}}, ErrBadMAC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewCore(tt.cfg); !errors.Is(err, tt.want) {
				t.Fatalf("NewCore: %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSetBackendsErrorsChangeNothing(t *testing.T) {
	tests := []struct {
		name string
		set  []Backend
		want error
	}{
		{"IPv6", []Backend{{Addr: netip.MustParseAddr("::2"), MAC: lbMAC, Weight: 1}}, ErrNotIPv4},
		{"no MAC", []Backend{{Addr: netip.MustParseAddr("10.0.0.20"), Weight: 1}}, ErrBadMAC},
		{"duplicate", []Backend{testBackends[0], testBackends[0]}, ErrDuplicate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestCore(t, ModeL2)
			before := c.pool.Load()
			if err := c.SetBackends(tt.set); !errors.Is(err, tt.want) {
				t.Fatalf("SetBackends: %v, want %v", err, tt.want)
			}
			if c.pool.Load() != before {
				t.Fatal("a failed SetBackends changed the backend set")
			}
		})
	}
}

func TestNoBackend(t *testing.T) {
	c := newTestCore(t, ModeL2)
	drain := append([]Backend(nil), testBackends...)
	for i := range drain {
		drain[i].Weight = 0
	}
	if err := c.SetBackends(drain); err != nil {
		t.Fatal(err)
	}
	if r := c.Forward(withHeadroom(tcp(1, 2).build()), t0); r.Verdict != VerdictDrop || r.Reason != DropNoBackend {
		t.Fatalf("all drained: %v %v, want drop no_backend", r.Verdict, r.Reason)
	}
}

// flowsTo sends one packet of each flow (source ports from..to) and
// returns the backend of each.
func flowsTo(c *Core, from, n int, at time.Time) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range n {
		r := c.Forward(withHeadroom(tcp(uint16(from+i), 0x10).build()), at)
		out[i] = r.Backend
	}
	return out
}

func TestFlowTableStickinessAddRemoveDrain(t *testing.T) {
	const n = 3000
	extra := Backend{Addr: netip.MustParseAddr("10.0.0.14"), MAC: net.HardwareAddr{2, 0, 0, 0, 0, 0x14}, Weight: 1}

	t.Run("spread", func(t *testing.T) {
		c := newTestCore(t, ModeL2)
		count := map[netip.Addr]int{}
		for _, b := range flowsTo(c, 10000, n, t0) {
			count[b]++
		}
		// χ² with 2 degrees of freedom; p = 0.001 at 13.8.
		var chi2 float64
		for _, b := range testBackends {
			d := float64(count[b.Addr]) - n/3.0
			chi2 += d * d / (n / 3.0)
		}
		if chi2 > 13.8 || len(count) != 3 {
			t.Fatalf("spread %v: χ²=%.1f", count, chi2)
		}
	})
	t.Run("add moves no flow and takes about 1/(N+1) of new ones", func(t *testing.T) {
		c := newTestCore(t, ModeL2)
		before := flowsTo(c, 10000, n, t0)
		if err := c.SetBackends(append(append([]Backend{}, testBackends...), extra)); err != nil {
			t.Fatal(err)
		}
		after := flowsTo(c, 10000, n, t0.Add(time.Second))
		for i := range before {
			if before[i] != after[i] {
				t.Fatalf("flow %d moved from %v to %v", i, before[i], after[i])
			}
		}
		fresh := flowsTo(c, 20000, n, t0.Add(time.Second))
		share := 0
		for _, b := range fresh {
			if b == extra.Addr {
				share++
			}
		}
		if f := float64(share) / n; math.Abs(f-0.25) > 0.03 {
			t.Fatalf("new backend took %.3f of new flows, want 0.25±0.03", f)
		}
	})
	t.Run("remove moves only its flows", func(t *testing.T) {
		c := newTestCore(t, ModeL2)
		before := flowsTo(c, 10000, n, t0)
		if err := c.SetBackends(testBackends[:2]); err != nil {
			t.Fatal(err)
		}
		after := flowsTo(c, 10000, n, t0.Add(time.Second))
		for i := range before {
			switch {
			case before[i] == testBackends[2].Addr && after[i] == testBackends[2].Addr:
				t.Fatalf("flow %d still on the removed backend", i)
			case before[i] != testBackends[2].Addr && before[i] != after[i]:
				t.Fatalf("flow %d moved from %v to %v though its backend stayed", i, before[i], after[i])
			}
		}
		// Re-adding the backend gives it a new generation: the flows that
		// moved away stay where they are now.
		if err := c.SetBackends(testBackends); err != nil {
			t.Fatal(err)
		}
		again := flowsTo(c, 10000, n, t0.Add(2*time.Second))
		for i := range after {
			if after[i] != again[i] {
				t.Fatalf("flow %d moved from %v to %v when a backend came back", i, after[i], again[i])
			}
		}
	})
	t.Run("drain keeps flows, takes no new ones", func(t *testing.T) {
		c := newTestCore(t, ModeL2)
		before := flowsTo(c, 10000, n, t0)
		drained := append([]Backend{}, testBackends...)
		drained[0].Weight = 0
		if err := c.SetBackends(drained); err != nil {
			t.Fatal(err)
		}
		after := flowsTo(c, 10000, n, t0.Add(time.Second))
		for i := range before {
			if before[i] != after[i] {
				t.Fatalf("flow %d moved from %v to %v on drain", i, before[i], after[i])
			}
		}
		for i, b := range flowsTo(c, 20000, n, t0.Add(time.Second)) {
			if b == drained[0].Addr {
				t.Fatalf("new flow %d went to the drained backend", i)
			}
		}
	})
}

func TestTimeouts(t *testing.T) {
	tests := []struct {
		name        string
		first       uint8 // TCP flags of the first packet
		proto       uint8
		gap         time.Duration
		wantCreated uint64 // after a second packet gap later
	}{
		{"tcp idle within timeout", 0x02, protoTCP, 4 * time.Minute, 1},
		{"tcp idle past timeout", 0x02, protoTCP, 6 * time.Minute, 2},
		{"tcp after FIN, within closing timeout", 0x11, protoTCP, 9 * time.Second, 1},
		{"tcp after FIN, past closing timeout", 0x11, protoTCP, 11 * time.Second, 2},
		{"tcp after RST, past closing timeout", 0x04, protoTCP, 11 * time.Second, 2},
		{"udp within timeout", 0, protoUDP, 29 * time.Second, 1},
		{"udp past timeout", 0, protoUDP, 31 * time.Second, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestCore(t, ModeL2)
			p := pktSpec{src: testClient, dst: testVIP, proto: tt.proto, sport: 777, dport: 80, tcpFlags: tt.first}
			c.Forward(withHeadroom(p.build()), t0)
			p.tcpFlags = 0x10
			c.Forward(withHeadroom(p.build()), t0.Add(tt.gap))
			if got := c.Stats().FlowsCreated; got != tt.wantCreated {
				t.Fatalf("FlowsCreated = %d, want %d", got, tt.wantCreated)
			}
		})
	}
}

func TestFlowTableIsBounded(t *testing.T) {
	c := newTestCore(t, ModeL2, func(cfg *Config) { cfg.FlowCapacity = 64 })
	flowsTo(c, 1, 1000, t0)
	s := c.Stats()
	if s.FlowCapacity != 64 || s.FlowsCreated != 1000 || s.FlowsEvicted != 1000-64 {
		t.Fatalf("capacity %d created %d evicted %d, want 64, 1000, 936", s.FlowCapacity, s.FlowsCreated, s.FlowsEvicted)
	}
}

// TestDeterministicAcrossInstances: two forwarders given the same backend
// set in different orders agree on every flow, with no shared state.
func TestDeterministicAcrossInstances(t *testing.T) {
	a := newTestCore(t, ModeL2)
	b := newTestCore(t, ModeL2)
	rev := []Backend{testBackends[2], testBackends[0], testBackends[1]}
	if err := b.SetBackends(rev); err != nil {
		t.Fatal(err)
	}
	fa, fb := flowsTo(a, 1, 2000, t0), flowsTo(b, 1, 2000, t0)
	for i := range fa {
		if fa[i] != fb[i] {
			t.Fatalf("flow %d: %v on one instance, %v on the other", i, fa[i], fb[i])
		}
	}
}

func TestStats(t *testing.T) {
	c := newTestCore(t, ModeL2)
	c.epoch = time.Now()
	now := time.Now()
	for _, f := range fixtures() {
		if f.mode == ModeL2 {
			c.Forward(withHeadroom(f.pkt), now)
		}
	}
	s := c.Stats()
	want := map[DropReason]uint64{DropICMP: 2, DropFragment: 2, DropIPOptions: 1, DropProtocol: 1, DropMalformed: 3}
	if fmt.Sprint(s.Drops) != fmt.Sprint(want) {
		t.Errorf("Drops = %v, want %v", s.Drops, want)
	}
	if s.Ignored != 2 || s.Packets != 5 || s.ICMPForwarded != 1 || s.Flows != 4 || len(s.Backends) != 3 {
		t.Errorf("Ignored %d Packets %d ICMP %d Flows %d backends %d; want 2 5 1 4 3", s.Ignored, s.Packets, s.ICMPForwarded, s.Flows, len(s.Backends))
	}
}

func TestForwardDoesNotAllocate(t *testing.T) {
	c := newTestCore(t, ModeL2)
	buf := withHeadroom(tcp(1234, 0x10).build())
	if n := testing.AllocsPerRun(1000, func() { c.Forward(buf, t0) }); n != 0 {
		t.Fatalf("Forward allocates %.1f times per packet", n)
	}
}

// TestSelectorDisruption is research §7.6 at unit level, for the table
// alone (no flow table): removing the last of N backends moves about 1/N
// of 100k random flows, and at most 1% move between survivors.
func TestSelectorDisruption(t *testing.T) {
	eps := func(n int) []Endpoint {
		var e []Endpoint
		for i := range n {
			e = append(e, Endpoint{Key: fmt.Sprintf("10.0.%d.%d", i/250, i%250+1), Weight: 1})
		}
		return e
	}
	for _, sel := range []struct {
		name string
		b    SelectorBuilder
	}{{"maglev", NewMaglevSelector}, {"rendezvous", NewRendezvousSelector}} {
		for _, n := range []int{3, 10} {
			t.Run(fmt.Sprintf("%s/N=%d", sel.name, n), func(t *testing.T) {
				full, less := sel.b(eps(n)), sel.b(eps(n)[:n-1])
				const flows = 100_000
				moved, collateral := 0, 0
				x := uint64(1)
				for range flows {
					x = splitmix(x)
					a, b := full.Select(x), less.Select(x)
					if a != b {
						moved++
						if a != n-1 {
							collateral++
						}
					}
				}
				f, c := float64(moved)/flows, float64(collateral)/flows
				if f < 1/float64(n)-0.01 || f > 1/float64(n)+0.01+c || c > 0.01 {
					t.Fatalf("moved %.4f (1/N = %.4f), collateral %.4f", f, 1/float64(n), c)
				}
				t.Logf("moved %.4f, collateral %.4f", f, c)
			})
		}
	}
}

func TestRendezvousDisruption(t *testing.T) {
	eps := func(n int) []Endpoint {
		var e []Endpoint
		for i := range n {
			e = append(e, Endpoint{Key: fmt.Sprintf("10.0.%d.%d", i/250, i%250+1), Weight: 1})
		}
		return e
	}
	for _, n := range []int{3, 10} {
		full := NewRendezvousSelector(eps(n)).(rendezvous)
		less := NewRendezvousSelector(eps(n)[:n-1]).(rendezvous)
		moved, collateral := 0, 0
		for s := range full {
			if full[s] != less[s] {
				moved++
				if int(full[s]) != n-1 {
					collateral++
				}
			}
		}
		if collateral != 0 {
			t.Errorf("N=%d: %d slots moved between surviving backends", n, collateral)
		}
		if f := float64(moved) / float64(len(full)); math.Abs(f-1/float64(n)) > 0.01 {
			t.Errorf("N=%d: %.4f of slots moved, want 1/N=%.4f ±0.01", n, f, 1/float64(n))
		}
	}
}
