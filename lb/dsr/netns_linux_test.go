package dsr

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbkit/lbkit/internal/netns"
	"github.com/lbkit/lbkit/internal/testenv"
	"golang.org/x/sys/unix"
)

// The namespace topology of research §6 (IPVS kselftest's, with a TUN):
//
//	c 10.0.0.1 ──┐
//	lb 10.0.0.2 ─┤ br0 (in sw)      c routes the VIP via lb; lb routes it
//	b1..b3 .11-13┘                  into its TUN; backends hold it on lo.
var vip = netip.MustParseAddr("10.0.0.100")

type topo struct {
	sw, c, lb *netns.NS
	bs        []*netns.NS
	addrs     []netip.Addr
	fw        *Forwarder
	sniff     *sniffer
}

func newTopo(t *testing.T, mode Mode) *topo { return newTopoWith(t, mode, IngressTUN) }

func newTopoWith(t *testing.T, mode Mode, ingress Ingress) *topo {
	t.Helper()
	testenv.MustBeRoot(t, "DSR tests build network namespaces, a TUN and raw sockets")
	testenv.MustHaveProgram(t, "ip", "iproute2")
	tp := &topo{sw: netns.New(t, "sw"), c: netns.New(t, "c"), lb: netns.New(t, "lb")}
	tp.sw.MustIP(t, "link", "add", "br0", "type", "bridge")
	tp.sw.MustIP(t, "link", "set", "br0", "up")
	netns.Veth(t, tp.c, "eth0", tp.sw, "p-c")
	netns.Veth(t, tp.lb, "eth0", tp.sw, "p-lb")
	tp.c.MustIP(t, "addr", "add", "10.0.0.1/24", "dev", "eth0")
	tp.lb.MustIP(t, "addr", "add", "10.0.0.2/24", "dev", "eth0")
	tp.c.MustIP(t, "route", "add", vip.String()+"/32", "via", "10.0.0.2")
	// No unknown-unicast flooding to the balancer's port: the "balancer
	// never sees a reply" check must not pass by luck of the bridge.
	if _, err := tp.sw.Exec("bridge", "link", "set", "dev", "p-lb", "flood", "off"); err != nil {
		t.Log(err) // older iproute2: the check still holds once MACs are learnt
	}
	for i := range 3 {
		b := netns.New(t, fmt.Sprintf("b%d", i+1))
		netns.Veth(t, b, "eth0", tp.sw, fmt.Sprintf("p-b%d", i+1))
		addr := netip.AddrFrom4([4]byte{10, 0, 0, byte(11 + i)})
		b.MustIP(t, "addr", "add", addr.String()+"/24", "dev", "eth0")
		err := b.Do(func() error {
			if err := ConfigureBackend(BackendConfig{VIPs: []netip.Addr{vip}}); err != nil {
				return err
			}
			if mode == ModeVXLAN {
				return ConfigureVXLAN(VXLANConfig{Local: addr})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		tp.bs = append(tp.bs, b)
		tp.addrs = append(tp.addrs, addr)
		startServer(t, b, fmt.Sprintf("b%d", i+1))
	}
	err := tp.lb.Do(func() (err error) {
		if err := PrepareBalancer("eth0"); err != nil {
			return err
		}
		tp.sniff, err = newSniffer("eth0")
		if err != nil {
			return err
		}
		tp.fw, err = NewForwarder(ForwarderConfig{
			Config:    Config{VIPs: []netip.Addr{vip}, Mode: mode},
			Interface: "eth0",
			Ingress:   ingress,
			Logger:    slog.New(slog.DiscardHandler),
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.sniff.close() })
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- tp.fw.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-runErr; err != nil {
			t.Errorf("Run: %v", err)
		}
		tp.fw.Close()
	})
	tp.setBackends(t, 1, 1, 1)
	return tp
}

// setBackends sets the backend set by weights; a negative weight leaves
// the backend out.
func (tp *topo) setBackends(t *testing.T, weights ...int) {
	t.Helper()
	var set []Backend
	for i, w := range weights {
		if w >= 0 {
			set = append(set, Backend{Addr: tp.addrs[i], Weight: uint32(w)})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tp.fw.SetBackends(ctx, set); err != nil {
		t.Fatal(err)
	}
}

// startServer runs, in ns, a line server on VIP:80 (each line is answered
// with "<name> <client address>") and a bulk server on VIP:81 (it answers
// the SHA-256 of everything the client sent before half-closing).
func startServer(t *testing.T, ns *netns.NS, name string) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
		lns   []net.Listener
	)
	serve := func(port uint16, handle func(net.Conn)) {
		var ln net.Listener
		if err := ns.Do(func() (err error) {
			ln, err = net.Listen("tcp4", netip.AddrPortFrom(vip, port).String())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns[c] = true
				mu.Unlock()
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { mu.Lock(); delete(conns, c); mu.Unlock(); c.Close() }()
					handle(c)
				}()
			}
		}()
	}
	t.Cleanup(func() {
		for _, ln := range lns {
			ln.Close()
		}
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	serve(80, func(c net.Conn) {
		r := bufio.NewReader(c)
		for {
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
			if _, err := fmt.Fprintf(c, "%s %s\n", name, c.RemoteAddr()); err != nil {
				return
			}
		}
	})
	serve(81, func(c net.Conn) {
		h := sha256.New()
		if _, err := io.Copy(h, c); err != nil {
			return
		}
		fmt.Fprintf(c, "%x\n", h.Sum(nil))
	})
}

type client struct {
	conn net.Conn
	r    *bufio.Reader
}

func (tp *topo) dial(t *testing.T) *client {
	t.Helper()
	var conn net.Conn
	err := tp.c.Do(func() (err error) {
		conn, err = net.DialTimeout("tcp4", netip.AddrPortFrom(vip, 80).String(), 5*time.Second)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{conn: conn, r: bufio.NewReader(conn)}
}

// ask sends one line and returns the backend's name and the client
// address the backend saw.
func (c *client) ask() (backend, seen string, err error) {
	_ = c.conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c.conn, "hello\n"); err != nil {
		return "", "", err
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		return "", "", err
	}
	f := strings.Fields(line)
	if len(f) != 2 {
		return "", "", fmt.Errorf("bad reply %q", line)
	}
	return f[0], f[1], nil
}

// newFlows opens n connections, asks once on each, closes them, and
// counts replies by backend.
func (tp *topo) newFlows(t *testing.T, n int) map[string]int {
	t.Helper()
	count := map[string]int{}
	for range n {
		c := tp.dial(t)
		b, _, err := c.ask()
		if err != nil {
			t.Fatal(err)
		}
		count[b]++
		c.conn.Close()
	}
	return count
}

func TestNamespacesL2(t *testing.T) {
	for _, in := range []struct {
		name    string
		ingress Ingress
	}{{"tun", IngressTUN}, {"ring", IngressPacketRing}} {
		t.Run(in.name, func(t *testing.T) { testL2(t, newTopoWith(t, ModeL2, in.ingress)) })
	}
}

func testL2(t *testing.T, tp *topo) {
	t.Run("reply comes from the VIP, backend sees the client", func(t *testing.T) {
		c := tp.dial(t)
		if got := c.conn.RemoteAddr().String(); got != "10.0.0.100:80" {
			t.Fatalf("peer address %s, want the VIP 10.0.0.100:80", got)
		}
		_, seen, err := c.ask()
		if err != nil {
			t.Fatal(err)
		}
		if seen != c.conn.LocalAddr().String() {
			t.Fatalf("backend saw %s, client is %s (no SNAT expected)", seen, c.conn.LocalAddr())
		}
	})
	t.Run("stickiness", func(t *testing.T) {
		stickiness(t, tp, 20, 20)
	})
	t.Run("bulk transfer arrives intact", func(t *testing.T) {
		bulk(t, tp, 8<<20)
	})
	t.Run("spread", func(t *testing.T) {
		spread(t, tp.newFlows(t, 600), 600, 3)
	})
	t.Run("remove moves only its flows", func(t *testing.T) {
		tp.setBackends(t, 1, 1, 1)
		cs, on := openFlows(t, tp, 30)
		tp.setBackends(t, 1, 1, -1)
		for i, c := range cs {
			b, _, err := c.ask()
			switch {
			case on[i] == "b3" && err == nil:
				t.Fatalf("flow %d still answered by %s after b3 left; want a reset", i, b)
			case on[i] != "b3" && (err != nil || b != on[i]):
				t.Fatalf("flow %d on %s: now %q, %v", i, on[i], b, err)
			}
		}
		if n := tp.newFlows(t, 100)["b3"]; n != 0 {
			t.Fatalf("%d new flows reached the removed backend", n)
		}
	})
	t.Run("drain keeps flows", func(t *testing.T) {
		tp.setBackends(t, 1, 1, 1)
		cs, on := openFlows(t, tp, 30)
		tp.setBackends(t, 1, 0, 1)
		for i, c := range cs {
			if b, _, err := c.ask(); err != nil || b != on[i] {
				t.Fatalf("flow %d on %s: now %q, %v", i, on[i], b, err)
			}
		}
		if n := tp.newFlows(t, 100)["b2"]; n != 0 {
			t.Fatalf("%d new flows reached the drained backend", n)
		}
	})
	t.Run("add takes 1/(N+1) of new flows and moves none", func(t *testing.T) {
		tp.setBackends(t, 1, 1, -1)
		cs, on := openFlows(t, tp, 30)
		tp.setBackends(t, 1, 1, 1)
		for i, c := range cs {
			if b, _, err := c.ask(); err != nil || b != on[i] {
				t.Fatalf("flow %d on %s: now %q, %v", i, on[i], b, err)
			}
		}
		got := tp.newFlows(t, 600)
		if f := float64(got["b3"]) / 600; math.Abs(f-1.0/3) > 0.08 {
			t.Fatalf("the added backend took %.3f of new flows (%v), want 1/3 ± 0.08", f, got)
		}
	})
	t.Run("balancer carried no VIP-sourced packet", func(t *testing.T) {
		from, to := tp.sniff.counts()
		if from != 0 || to == 0 {
			t.Fatalf("balancer's eth0 saw %d packets from the VIP and %d to it; want 0 and > 0", from, to)
		}
		s := tp.fw.Stats()
		t.Logf("to VIP %d, from VIP %d; forwarder %+v", to, from, s)
		if s.SendErrors != 0 {
			t.Errorf("%d send errors", s.SendErrors)
		}
		if s.Sent == 0 || s.Packets == 0 {
			t.Errorf("core forwarded %d packets, forwarder sent %d", s.Packets, s.Sent)
		}
	})
}

func TestNamespacesVXLAN(t *testing.T) {
	tp := newTopo(t, ModeVXLAN)
	c := tp.dial(t)
	if got := c.conn.RemoteAddr().String(); got != "10.0.0.100:80" {
		t.Fatalf("peer address %s, want the VIP", got)
	}
	if _, seen, err := c.ask(); err != nil || seen != c.conn.LocalAddr().String() {
		t.Fatalf("backend saw %q (%v), client is %s", seen, err, c.conn.LocalAddr())
	}
	stickiness(t, tp, 10, 10)
	bulk(t, tp, 4<<20)
	spread(t, tp.newFlows(t, 600), 600, 3)
	if from, to := tp.sniff.counts(); from != 0 || to == 0 {
		t.Fatalf("balancer's eth0 saw %d packets from the VIP and %d to it; want 0 and > 0", from, to)
	}
}

// bulk sends size pseudo-random bytes to VIP:81 and checks the digest the
// backend computed: TCP segments (GSO super-packets in L2 mode, ICMP
// "fragmentation needed" then 1450-byte packets in VXLAN mode) arrive
// whole and uncorrupted.
func bulk(t *testing.T, tp *topo, size int) {
	t.Helper()
	var conn net.Conn
	err := tp.c.Do(func() (err error) {
		conn, err = net.DialTimeout("tcp4", netip.AddrPortFrom(vip, 81).String(), 5*time.Second)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*7 + i>>9)
	}
	if _, err := conn.Write(data); err != nil {
		t.Fatal(err)
	}
	conn.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%x\n", sha256.Sum256(data)); string(got) != want {
		t.Fatalf("backend digest %q, want %q", got, want)
	}
}

func stickiness(t *testing.T, tp *topo, conns, rounds int) {
	cs, on := openFlows(t, tp, conns)
	for r := range rounds {
		for i, c := range cs {
			if b, _, err := c.ask(); err != nil || b != on[i] {
				t.Fatalf("round %d, flow %d: backend %q (%v), was %s", r, i, b, err, on[i])
			}
		}
	}
}

func openFlows(t *testing.T, tp *topo, n int) ([]*client, []string) {
	var cs []*client
	var on []string
	for range n {
		c := tp.dial(t)
		b, _, err := c.ask()
		if err != nil {
			t.Fatal(err)
		}
		cs, on = append(cs, c), append(on, b)
	}
	return cs, on
}

// spread asserts each of k backends got 1/k ± 8% of n flows, and logs χ².
func spread(t *testing.T, count map[string]int, n, k int) {
	t.Helper()
	var chi2 float64
	for i := range k {
		got := count[fmt.Sprintf("b%d", i+1)]
		d := float64(got) - float64(n)/float64(k)
		chi2 += d * d / (float64(n) / float64(k))
		if math.Abs(float64(got)/float64(n)-1/float64(k)) > 0.08 {
			t.Errorf("b%d got %d of %d new flows: %v", i+1, got, n, count)
		}
	}
	t.Logf("spread %v, χ²=%.2f (df=%d)", count, chi2, k-1)
}

// sniffer counts IPv4 packets on an interface by whether their source or
// destination is the VIP, as the balancer's kernel sees them (both
// directions, including the forwarder's own frames).
type sniffer struct {
	fd       int
	from, to atomic.Int64
	done     chan struct{}
}

func newSniffer(iface string) (*sniffer, error) {
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifc.Index}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	tv := unix.NsecToTimeval(int64(50 * time.Millisecond))
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	s := &sniffer{fd: fd, done: make(chan struct{})}
	go s.run()
	return s, nil
}

func (s *sniffer) run() {
	defer close(s.done)
	buf := make([]byte, 65536)
	v := vip.As4()
	want := binary.BigEndian.Uint32(v[:])
	for {
		n, _, err := unix.Recvfrom(s.fd, buf, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return // closed
		}
		if n < 34 || buf[12] != 0x08 || buf[13] != 0x00 {
			continue
		}
		if binary.BigEndian.Uint32(buf[26:30]) == want {
			s.from.Add(1)
		}
		if binary.BigEndian.Uint32(buf[30:34]) == want {
			s.to.Add(1)
		}
	}
}

func (s *sniffer) counts() (from, to int64) { return s.from.Load(), s.to.Load() }

func (s *sniffer) close() {
	unix.Shutdown(s.fd, unix.SHUT_RDWR)
	unix.Close(s.fd)
	<-s.done
}

func TestForwarderLifecycle(t *testing.T) {
	testenv.MustBeRoot(t, "creates a TUN device and raw sockets in a namespace")
	testenv.MustHaveProgram(t, "ip", "iproute2")
	ns := netns.New(t, "fw")
	ns.MustIP(t, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1")
	ns.MustIP(t, "link", "set", "eth0", "up")
	newFW := func(cfg ForwarderConfig) (fw *Forwarder, err error) {
		cfg.Config.VIPs = []netip.Addr{vip}
		cfg.Logger = slog.New(slog.DiscardHandler)
		err = ns.Do(func() (err error) { fw, err = NewForwarder(cfg); return })
		return fw, err
	}
	t.Run("invalid configurations", func(t *testing.T) {
		for _, cfg := range []ForwarderConfig{
			{},                     // L2 without an interface
			{Interface: "nosuch0"}, // unknown interface
			{Interface: "eth0", Ingress: IngressPacketRing, Config: Config{Mode: ModeVXLAN}},
			{Interface: "eth0", Ingress: IngressPacketRing, NoOffload: true},
			{Interface: "eth0", Ingress: 9},
		} {
			if fw, err := newFW(cfg); err == nil {
				fw.Close()
				t.Errorf("NewForwarder(%+v) succeeded", cfg)
			}
		}
		// A failed NewForwarder leaves no TUN behind.
		if _, err := ns.IP("link", "show", "dsr0"); err == nil {
			t.Error("dsr0 exists after failed NewForwarder calls")
		}
	})
	t.Run("close without run, run after close", func(t *testing.T) {
		fw, err := newFW(ForwarderConfig{Interface: "eth0"})
		if err != nil {
			t.Fatal(err)
		}
		if out := ns.MustIP(t, "route", "show", vip.String()); !strings.Contains(out, "dsr0") {
			t.Fatalf("VIP not routed to the TUN: %q", out)
		}
		if d, err := linkTxDropped(fw.nlFD, fw.TUNIndex()); err != nil || d != 0 {
			t.Fatalf("TUN tx_dropped = %d, %v; want 0, nil", d, err)
		}
		if err := fw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := fw.Run(context.Background()); !errors.Is(err, ErrClosed) {
			t.Fatalf("Run after Close: %v, want ErrClosed", err)
		}
		if _, err := ns.IP("link", "show", "dsr0"); err == nil {
			t.Fatal("the TUN outlived Close")
		}
	})
	t.Run("ring ingress blackholes the VIP until Close", func(t *testing.T) {
		fw, err := newFW(ForwarderConfig{Interface: "eth0", Ingress: IngressPacketRing})
		if err != nil {
			t.Fatal(err)
		}
		if out := ns.MustIP(t, "route", "show", vip.String()); !strings.Contains(out, "blackhole") {
			t.Fatalf("VIP route %q, want a blackhole", out)
		}
		fw.Close()
		if out := ns.MustIP(t, "route", "show", vip.String()); strings.TrimSpace(out) != "" {
			t.Fatalf("VIP route %q left after Close", out)
		}
	})
	t.Run("close stops run", func(t *testing.T) {
		for _, in := range []Ingress{IngressTUN, IngressPacketRing} {
			fw, err := newFW(ForwarderConfig{Interface: "eth0", Ingress: in})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- fw.Run(context.Background()) }()
			// Close must make Run return whether or not Run has started.
			fw.Close()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, ErrClosed) {
					t.Fatalf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return after Close")
			}
		}
	})
}
