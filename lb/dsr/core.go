package dsr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Mode is how a forwarded packet reaches its backend.
type Mode uint8

const (
	// ModeL2 sends the unchanged IP packet in an Ethernet frame addressed to
	// the backend's MAC, on the balancer's own L2 segment (IPVS "direct
	// routing"). Backends need only the VIP on loopback and ARP sysctls
	// ([ConfigureBackend]).
	ModeL2 Mode = iota
	// ModeVXLAN sends the packet inside VXLAN (RFC 7348) over UDP to the
	// backend's address, so backends may sit behind routers. Backends
	// decapsulate with the kernel's own vxlan device ([ConfigureVXLAN]);
	// no agent runs there. Costs [VXLANOverhead] bytes per packet.
	ModeVXLAN
)

func (m Mode) String() string {
	switch m {
	case ModeL2:
		return "l2"
	case ModeVXLAN:
		return "vxlan"
	}
	return fmt.Sprintf("Mode(%d)", m)
}

// Verdict is what the core decided for one packet.
type Verdict uint8

const (
	// VerdictForward: send Result.Frame to Result.Backend.
	VerdictForward Verdict = iota
	// VerdictIgnore: the packet is not addressed to a VIP (or is not IPv4);
	// it is none of the forwarder's business.
	VerdictIgnore
	// VerdictDrop: the packet is addressed to a VIP but cannot be
	// forwarded; Result.Reason says why.
	VerdictDrop
)

func (v Verdict) String() string {
	switch v {
	case VerdictForward:
		return "forward"
	case VerdictIgnore:
		return "ignore"
	case VerdictDrop:
		return "drop"
	}
	return fmt.Sprintf("Verdict(%d)", v)
}

// DropReason says why a VIP packet was dropped. Each has a counter in
// [Stats].Drops.
type DropReason uint8

const (
	DropNone      DropReason = iota
	DropMalformed            // truncated or inconsistent headers
	DropFragment             // an IP fragment: its ports may be missing, so it cannot be hashed to its flow (as Katran does)
	DropIPOptions            // IP options present (IHL > 5), dropped as Katran does
	DropProtocol             // neither TCP, UDP nor ICMP
	DropICMP                 // ICMP that is not "fragmentation needed" about a VIP flow
	DropNoBackend            // no backend takes new flows
	numDropReasons
)

var dropNames = [numDropReasons]string{"none", "malformed", "fragment", "ip_options", "protocol", "icmp", "no_backend"}

func (r DropReason) String() string {
	if r < numDropReasons {
		return dropNames[r]
	}
	return fmt.Sprintf("DropReason(%d)", r)
}

// Headroom is how many bytes [Core.Forward] needs in front of the packet
// to write its encapsulation in place, so that the packet is never copied.
const Headroom = 32

// VXLANPort is the IANA port of VXLAN (RFC 7348 §5), the default
// destination in [ModeVXLAN].
const VXLANPort = 4789

// VXLANOverhead is what [ModeVXLAN] adds to each packet on the wire:
// outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14). Raise the
// MTU of the path or lower the MSS by as much.
const VXLANOverhead = 50

const (
	ethHeaderLen   = 14
	vxlanHeaderLen = 8
)

// Config configures a [Core]. The zero value of each field has the
// documented default; VIPs is the only required field.
type Config struct {
	// VIPs are the IPv4 addresses served. Packets to any other address are
	// ignored. Required.
	VIPs []netip.Addr
	// Mode chooses the encapsulation; the zero value is ModeL2.
	Mode Mode
	// SourceMAC is the source MAC of the frames written: in ModeL2 the MAC
	// of the interface that sends them, in ModeVXLAN any locally
	// administered MAC (the backend's vxlan device does not check it).
	SourceMAC net.HardwareAddr
	// VNI is the VXLAN network identifier (24 bits) in ModeVXLAN. Zero
	// means [DefaultVNI].
	VNI uint32
	// FlowCapacity bounds the flow table (entries, rounded up to a power
	// of two times 4). Zero means 1<<18 (8 MiB).
	FlowCapacity int
	// TCPTimeout is the idle timeout of a TCP flow; zero means 5 minutes.
	TCPTimeout time.Duration
	// ClosingTimeout replaces TCPTimeout once a FIN or RST of the flow was
	// seen inbound; zero means 10 seconds. Replies are never seen, so the
	// flow cannot be closed exactly (as with IPVS DR).
	ClosingTimeout time.Duration
	// UDPTimeout is the idle timeout of a UDP flow; zero means 30 seconds
	// (Katran's LRU_UDP_TIMEOUT).
	UDPTimeout time.Duration
	// NewSelector builds the selector of new flows from the backends that
	// take them. Nil means [NewMaglevSelector]. Every forwarder that
	// serves the same VIP must use the same one.
	NewSelector SelectorBuilder
	// HashSeed keys the flow hash. Forwarders sharing a VIP must share it;
	// zero is a fixed default, never a per-process random value.
	HashSeed uint64
}

// DefaultVNI is the VXLAN network identifier used when Config.VNI is zero.
const DefaultVNI = 4242

// Backend is one server behind the VIPs.
type Backend struct {
	// Addr is the backend's own IPv4 address: the target of ARP and health
	// checks, and the outer destination in ModeVXLAN.
	Addr netip.Addr
	// MAC is the destination MAC of frames to this backend: the MAC of its
	// interface on the shared segment in ModeL2, of its vxlan device in
	// ModeVXLAN. [Core.SetBackends] requires it; a [Forwarder] fills it in
	// when nil (ARP in ModeL2, [VXLANMAC] in ModeVXLAN).
	MAC net.HardwareAddr
	// Weight is the relative share of new flows. Zero drains the backend:
	// it takes no new flows, and its existing flows stay with it.
	Weight uint32
}

// Result is the decision for one packet.
type Result struct {
	Verdict Verdict
	// Reason is set when Verdict is VerdictDrop.
	Reason DropReason
	// Frame is what to send, a sub-slice of the buffer given to Forward:
	// an Ethernet frame in ModeL2, a VXLAN UDP payload in ModeVXLAN.
	Frame []byte
	// Backend is the backend's address.
	Backend netip.Addr
	slot    uint16
}

// Core is the forwarding decision as a function of packet bytes: it parses
// the packet, finds or creates its flow, and writes the encapsulation. It
// does no I/O; [Forwarder] feeds it on Linux, and tests feed it golden
// packets. Its methods are safe for concurrent use.
type Core struct {
	mode     Mode
	srcMAC   [6]byte
	vni      uint32
	vips     []uint32
	timeouts [3]int64 // tcp, closing, udp, in ns
	seed     uint64
	newSel   SelectorBuilder
	flows    *flowTable
	epoch    time.Time

	mu   sync.Mutex // serialises SetBackends
	gens []uint32   // generation of each slot, under mu
	pool atomic.Pointer[pool]

	// retired holds the packets and bytes of backends that left, so the
	// totals in Stats never go backwards.
	retiredPackets, retiredBytes atomic.Uint64

	ignored  atomic.Uint64
	drops    [numDropReasons]atomic.Uint64
	created  atomic.Uint64
	evicted  atomic.Uint64
	icmpSent atomic.Uint64
}

// pool is an immutable snapshot of the backends, swapped atomically.
type pool struct {
	slots    []slotState
	sel      Selector
	selSlots []uint16 // selector index → slot
}

type slotState struct {
	live   bool
	gen    uint32
	addr   netip.Addr
	mac    [6]byte
	weight uint32
	ctr    *backendCounters
}

type backendCounters struct {
	packets, bytes, flows atomic.Uint64
}

// Errors returned by NewCore and SetBackends. The configuration or backend
// set is left unchanged.
var (
	ErrNoVIP          = errors.New("dsr: no VIP configured")
	ErrNotIPv4        = errors.New("dsr: address is not IPv4")
	ErrBadMAC         = errors.New("dsr: MAC must be 6 bytes")
	ErrDuplicate      = errors.New("dsr: duplicate backend address")
	ErrTooManyBackend = errors.New("dsr: more than 65535 backends")
)

// NewCore validates cfg and returns a core with no backends: until
// [Core.SetBackends] is called, VIP packets are dropped with DropNoBackend.
func NewCore(cfg Config) (*Core, error) {
	if len(cfg.VIPs) == 0 {
		return nil, ErrNoVIP
	}
	c := &Core{mode: cfg.Mode, vni: cfg.VNI, seed: cfg.HashSeed, newSel: cfg.NewSelector, epoch: time.Now()}
	for _, v := range cfg.VIPs {
		if !v.Is4() {
			return nil, fmt.Errorf("%w: VIP %v", ErrNotIPv4, v)
		}
		b := v.As4()
		c.vips = append(c.vips, binary.BigEndian.Uint32(b[:]))
	}
	if cfg.Mode != ModeL2 && cfg.Mode != ModeVXLAN {
		return nil, fmt.Errorf("dsr: unknown mode %v", cfg.Mode)
	}
	if cfg.SourceMAC != nil {
		if len(cfg.SourceMAC) != 6 {
			return nil, fmt.Errorf("%w: source %v", ErrBadMAC, cfg.SourceMAC)
		}
		copy(c.srcMAC[:], cfg.SourceMAC)
	}
	if c.vni == 0 {
		c.vni = DefaultVNI
	}
	if c.vni >= 1<<24 {
		return nil, fmt.Errorf("dsr: VNI %d does not fit 24 bits", c.vni)
	}
	if c.newSel == nil {
		c.newSel = NewMaglevSelector
	}
	capacity := cfg.FlowCapacity
	if capacity <= 0 {
		capacity = 1 << 18
	}
	c.flows = newFlowTable(capacity)
	c.timeouts = [3]int64{
		int64(orDefault(cfg.TCPTimeout, 5*time.Minute)),
		int64(orDefault(cfg.ClosingTimeout, 10*time.Second)),
		int64(orDefault(cfg.UDPTimeout, 30*time.Second)),
	}
	c.pool.Store(&pool{})
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Mode returns the core's encapsulation mode.
func (c *Core) Mode() Mode { return c.mode }

// SetBackends replaces the backend set; backends are identified by Addr.
// A backend that stays keeps its flows, whatever its new weight; a backend
// that leaves loses its flows (their next packet picks a new backend, which
// resets TCP connections); no other flow moves. On error nothing changes.
func (c *Core) SetBackends(backends []Backend) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(backends) > 0xffff {
		return ErrTooManyBackend
	}
	seen := make(map[netip.Addr]bool, len(backends))
	for _, b := range backends {
		if !b.Addr.Is4() {
			return fmt.Errorf("%w: backend %v", ErrNotIPv4, b.Addr)
		}
		if len(b.MAC) != 6 {
			return fmt.Errorf("%w: backend %v has MAC %q", ErrBadMAC, b.Addr, b.MAC)
		}
		if seen[b.Addr] {
			return fmt.Errorf("%w: %v", ErrDuplicate, b.Addr)
		}
		seen[b.Addr] = true
	}
	old := c.pool.Load()
	bySlot := make(map[netip.Addr]int, len(old.slots))
	for i, s := range old.slots {
		if s.live {
			bySlot[s.addr] = i
		}
	}
	// Keep each staying backend in its slot; free the others; place new
	// backends in free slots with a new generation.
	slots := make([]slotState, len(old.slots))
	for i, s := range old.slots {
		switch {
		case s.live && seen[s.addr]:
			slots[i] = s
		case s.live:
			c.retiredPackets.Add(s.ctr.packets.Load())
			c.retiredBytes.Add(s.ctr.bytes.Load())
		}
	}
	free := 0
	for _, b := range backends {
		var s *slotState
		if i, ok := bySlot[b.Addr]; ok {
			s = &slots[i]
		} else {
			for free < len(slots) && slots[free].live {
				free++
			}
			if free == len(slots) {
				slots = append(slots, slotState{})
				c.gens = append(c.gens, 0)
			}
			c.gens[free]++
			slots[free] = slotState{live: true, gen: c.gens[free], addr: b.Addr, ctr: new(backendCounters)}
			s = &slots[free]
		}
		copy(s.mac[:], b.MAC)
		s.weight = b.Weight
	}
	for len(slots) > 0 && !slots[len(slots)-1].live {
		slots = slots[:len(slots)-1]
	}
	// The selector sees active backends in address order, so that its
	// input does not depend on the history of slots.
	var eps []Endpoint
	var selSlots []uint16
	for _, b := range sortedByAddr(backends) {
		if b.Weight == 0 {
			continue
		}
		for i := range slots {
			if slots[i].live && slots[i].addr == b.Addr {
				selSlots = append(selSlots, uint16(i))
			}
		}
		eps = append(eps, Endpoint{Key: b.Addr.String(), Weight: b.Weight})
	}
	p := &pool{slots: slots, selSlots: selSlots}
	if len(eps) > 0 {
		p.sel = c.newSel(eps)
	}
	c.pool.Store(p)
	return nil
}

// Forward decides the fate of the IPv4 packet buf[Headroom:] received at
// now. For VerdictForward it writes the encapsulation into the headroom
// and returns the frame to send (a sub-slice of buf). It never allocates
// and never changes the packet's bytes.
func (c *Core) Forward(buf []byte, now time.Time) Result {
	if len(buf) < Headroom {
		c.drops[DropMalformed].Add(1)
		return Result{Verdict: VerdictDrop, Reason: DropMalformed}
	}
	pkt := buf[Headroom:]
	p, v, reason := parse(pkt, c.isVIP)
	switch v {
	case VerdictIgnore:
		c.ignored.Add(1)
		return Result{Verdict: VerdictIgnore}
	case VerdictDrop:
		c.drops[reason].Add(1)
		return Result{Verdict: VerdictDrop, Reason: reason}
	}
	pl := c.pool.Load()
	slot, ok := c.flow(pl, &p, int64(now.Sub(c.epoch)))
	if !ok {
		c.drops[DropNoBackend].Add(1)
		return Result{Verdict: VerdictDrop, Reason: DropNoBackend}
	}
	b := &pl.slots[slot]
	var start int
	if c.mode == ModeL2 {
		start = Headroom - ethHeaderLen
	} else {
		start = Headroom - ethHeaderLen - vxlanHeaderLen
		h := buf[start : start+vxlanHeaderLen]
		binary.BigEndian.PutUint32(h[0:4], 0x08000000) // I flag: the VNI is valid
		binary.BigEndian.PutUint32(h[4:8], c.vni<<8)
	}
	eth := buf[Headroom-ethHeaderLen : Headroom]
	copy(eth[0:6], b.mac[:])
	copy(eth[6:12], c.srcMAC[:])
	eth[12], eth[13] = 0x08, 0x00 // IPv4
	b.ctr.packets.Add(1)
	b.ctr.bytes.Add(uint64(len(pkt)))
	if p.icmp {
		c.icmpSent.Add(1)
	}
	return Result{Verdict: VerdictForward, Frame: buf[start:], Backend: b.addr, slot: slot}
}

func (c *Core) isVIP(a uint32) bool {
	for _, v := range c.vips {
		if v == a {
			return true
		}
	}
	return false
}

// hash mixes the 5-tuple with the seed (two rounds of a 64×64→128-bit
// multiply folded, as wyhash does): fast, and every input bit reaches the
// low bits that select the backend.
func (c *Core) hash(k flowKey) uint64 {
	a := k.addrs ^ c.seed ^ 0xa0761d6478bd642f
	b := (uint64(k.ports)<<8 | uint64(k.proto)) ^ 0xe7037ed1a0b428db
	hi, lo := bits.Mul64(a, b)
	hi, lo = bits.Mul64(hi^lo^0x8ebc6af09c88c6e3, 0x589965cc75374cc3)
	return hi ^ lo
}

func (pl *pool) valid(slot uint16, gen uint32) bool {
	return int(slot) < len(pl.slots) && pl.slots[slot].live && pl.slots[slot].gen == gen
}

func (pl *pool) choose(h uint64) (uint16, bool) {
	if pl.sel == nil {
		return 0, false
	}
	i := pl.sel.Select(h)
	if i < 0 || i >= len(pl.selSlots) {
		return 0, false
	}
	return pl.selSlots[i], true
}

// flow returns the backend slot of the packet's flow, creating the flow if
// needed. ICMP messages follow an existing flow, or the backend a new flow
// would get, but never create one.
func (c *Core) flow(pl *pool, p *parsed, now int64) (uint16, bool) {
	h := c.hash(p.key)
	bk := c.flows.bucket(h)
	closing := p.tcpFlag&(tcpFIN|tcpRST) != 0
	bk.mu.Lock()
	var victim *flowEntry
	for i := range bk.e {
		e := &bk.e[i]
		if e.expires == 0 || e.key != p.key {
			continue
		}
		if e.expires > now && pl.valid(e.slot, e.gen) {
			if !p.icmp {
				if closing {
					e.closing = true
				}
				e.expires = now + c.timeout(p.key.proto, e.closing)
			}
			slot := e.slot
			bk.mu.Unlock()
			return slot, true
		}
		victim = e // expired, or its backend left: start over in place
		break
	}
	if p.icmp {
		bk.mu.Unlock()
		return pl.choose(h)
	}
	slot, ok := pl.choose(h)
	if !ok {
		bk.mu.Unlock()
		return 0, false
	}
	if victim == nil {
		victim = &bk.e[0]
		for i := range bk.e {
			e := &bk.e[i]
			if e.expires <= now { // free (0) or expired
				victim = e
				break
			}
			if e.expires < victim.expires {
				victim = e
			}
		}
		if victim.expires > now {
			c.evicted.Add(1)
		}
	}
	*victim = flowEntry{
		key: p.key, slot: slot, gen: pl.slots[slot].gen, closing: closing,
		expires: now + c.timeout(p.key.proto, closing),
	}
	bk.mu.Unlock()
	c.created.Add(1)
	pl.slots[slot].ctr.flows.Add(1)
	return slot, true
}

func (c *Core) timeout(proto uint8, closing bool) int64 {
	switch {
	case proto != protoTCP:
		return c.timeouts[2]
	case closing:
		return c.timeouts[1]
	}
	return c.timeouts[0]
}
