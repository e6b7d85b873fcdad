package dsr

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ForwarderConfig configures a [Forwarder].
type ForwarderConfig struct {
	// Config configures the core. In ModeL2 a nil SourceMAC means the MAC
	// of Interface; in ModeVXLAN it means 02:00:00:00:00:01.
	Config
	// Interface is where frames to backends leave in ModeL2: the
	// interface on the backends' segment. Required in ModeL2; in
	// ModeVXLAN the kernel routes the UDP packets and Interface, if set,
	// only sizes the TUN's MTU.
	Interface string
	// Ingress chooses how VIP packets reach the forwarder; the zero value
	// is IngressTUN.
	Ingress Ingress
	// TUN is the name of the TUN device the VIPs are routed into; ""
	// means "dsr0". The forwarder creates it (multi-queue), brings it up
	// and routes each VIP/32 to it; it disappears on Close. An existing
	// persistent TUN must have been created multi-queue.
	TUN string
	// Queues is the number of TUN queues, each with its own reader and
	// sender; 0 means runtime.GOMAXPROCS(0).
	Queues int
	// Batch is the most packets read and sent per system call round; 0
	// means 64.
	Batch int
	// NoOffload turns off segmentation offload. With it on (the default)
	// the kernel hands the TUN TCP super-packets of up to 64 KiB with
	// partial checksums; ModeL2 passes them, with their virtio-net header,
	// to AF_PACKET (the backend's stack receives them as GRO would have
	// built them); ModeVXLAN cuts them into MSS-sized segments in place
	// and sends each super-packet's segments as one UDP GSO send.
	NoOffload bool
	// TxQueueLen of the TUN; 0 means 10000 (the default 500 drops bursts
	// while the reader catches up).
	TxQueueLen int
	// ARPTimeout bounds the resolution of one backend's MAC in ModeL2; 0
	// means 3 seconds.
	ARPTimeout time.Duration
	// Logger receives the forwarder's events; nil means slog.Default().
	Logger *slog.Logger
}

// Ingress is how VIP packets reach a [Forwarder].
type Ingress uint8

const (
	// IngressTUN: the kernel routes each VIP into a multi-queue TUN device
	// and the forwarder reads it, one packet per read(2). The kernel
	// validates and forwards (TTL, ICMP errors, PMTU); the cost is one
	// system call per packet (per 64 KiB super-packet with offload).
	IngressTUN Ingress = iota
	// IngressPacketRing: the forwarder maps a PACKET_MMAP (TPACKET_V2)
	// receive ring per queue on Interface, fanned out by flow hash, with
	// a BPF filter on the VIPs; the kernel blackholes the VIPs itself.
	// No system call per packet while traffic flows. The balancer then
	// does not decrement TTL, and answers no ICMP for the VIP. ModeL2
	// with offload only (super-packets from GRO pass through whole); each
	// queue maps 512 frames of 68 KiB (34 MiB). Measured here it is not
	// faster than IngressTUN (bench/dsr.md): the per-packet cost is in
	// the transmit path, which both share.
	IngressPacketRing
)

// Forwarder runs a [Core] on Linux between a TUN device and the backends:
// it reads VIP packets in batches from each queue of the TUN, decides with
// the core, and sends each frame through AF_PACKET (ModeL2) or UDP
// (ModeVXLAN) with sendmmsg. Its sockets and TUN live in the network
// namespace of the thread that called [NewForwarder], whatever goroutine
// runs it afterwards.
type Forwarder struct {
	core    *Core
	cfg     ForwarderConfig
	log     *slog.Logger
	ifIndex int
	ifMAC   net.HardwareAddr
	ifIP    netip.Addr
	tunIdx  int
	offload bool
	queues  []*queue
	arpFD   int

	setMu sync.Mutex
	macs  map[netip.Addr]net.HardwareAddr // resolved MACs, under setMu

	received, sent, sendErrors, truncated atomic.Uint64

	statsMu   sync.Mutex // serialises nlFD and the ring counters
	nlFD      int        // netlink socket in the forwarder's namespace
	ringDrops uint64     // PACKET_STATISTICS resets on read: the sum so far

	mu      sync.Mutex // guards running, closed
	running bool
	closed  bool
	stop    context.CancelFunc
	done    chan struct{}
}

const vnetHdrLen = 10 // struct virtio_net_hdr

type queue struct {
	segs [][]byte // ModeVXLAN with offload: segments of each read slot
	ctrl [][]byte // their UDP_SEGMENT control messages, one per message
	ring *rxRing  // IngressPacketRing; nil with a TUN
	tun  *os.File
	rc   interface {
		Read(func(uintptr) bool) error
	}
	outFD int
	bufs  [][]byte
	lens  []int
	msgs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet4
}

// NewForwarder creates the TUN device and sockets in the calling thread's
// network namespace and routes the VIPs to the TUN. It does not start
// forwarding: call SetBackends and Run. It needs CAP_NET_ADMIN and
// CAP_NET_RAW, and net.ipv4.ip_forward=1 ([PrepareBalancer]).
func NewForwarder(cfg ForwarderConfig) (_ *Forwarder, err error) {
	f := &Forwarder{cfg: cfg, log: cfg.Logger, arpFD: -1, nlFD: -1, macs: map[netip.Addr]net.HardwareAddr{}}
	if f.log == nil {
		f.log = slog.Default()
	}
	mtu := 1500
	if cfg.Interface != "" {
		ifc, err := net.InterfaceByName(cfg.Interface)
		if err != nil {
			return nil, fmt.Errorf("dsr: interface: %w", err)
		}
		f.ifIndex, f.ifMAC, mtu = ifc.Index, ifc.HardwareAddr, ifc.MTU
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() {
				f.ifIP = p.Addr()
				break
			}
		}
	} else if cfg.Mode == ModeL2 {
		return nil, errors.New("dsr: ModeL2 needs ForwarderConfig.Interface")
	}
	if cfg.Config.SourceMAC == nil {
		if cfg.Mode == ModeL2 {
			cfg.Config.SourceMAC = f.ifMAC
		} else {
			cfg.Config.SourceMAC = net.HardwareAddr{2, 0, 0, 0, 0, 1}
		}
	}
	if f.core, err = NewCore(cfg.Config); err != nil {
		return nil, err
	}
	f.offload = !cfg.NoOffload
	if cfg.Mode == ModeVXLAN {
		mtu -= VXLANOverhead // so the kernel tells clients the path MTU
	}
	nq := cfg.Queues
	if nq <= 0 {
		nq = runtime.GOMAXPROCS(0)
	}
	batch := cfg.Batch
	if batch <= 0 {
		batch = 64
	}
	name := cmpOr(cfg.TUN, "dsr0")
	defer func() {
		if err != nil {
			f.closeFDs()
		}
	}()
	switch cfg.Ingress {
	case IngressTUN:
		for range nq {
			q, err := f.newQueue(name, batch, mtu)
			if err != nil {
				return nil, err
			}
			f.queues = append(f.queues, q)
		}
		tun, err := net.InterfaceByName(name)
		if err != nil {
			return nil, fmt.Errorf("dsr: tun: %w", err)
		}
		f.tunIdx = tun.Index
		// No IPv6 on the TUN: the kernel would send it router solicitations,
		// which the forwarder can only ignore. (Absent IPv6 is not an error.)
		_ = Sysctl("net/ipv6/conf/"+name+"/disable_ipv6", "1")
		if err := tunSetup(name, mtu, cmpInt(cfg.TxQueueLen, 10000)); err != nil {
			return nil, err
		}
		if f.nlFD, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE); err != nil {
			return nil, os.NewSyscallError("socket(netlink)", err)
		}
		for _, v := range cfg.VIPs {
			if err := addRoute(netip.PrefixFrom(v, 32), tun.Index, false); err != nil {
				return nil, err
			}
		}
	case IngressPacketRing:
		// Receive offload (GRO, veth TSO) hands packet sockets 64 KiB
		// super-packets; only ModeL2 with offload passes them on whole.
		if cfg.Mode != ModeL2 || cfg.NoOffload || cfg.Interface == "" {
			return nil, errors.New("dsr: IngressPacketRing needs ModeL2 with offload and an Interface")
		}
		group := uint32(os.Getpid()+int(fanoutSeq.Add(1))) & 0xffff
		for range nq {
			q, err := f.newRingQueue(group, batch, mtu)
			if err != nil {
				return nil, err
			}
			f.queues = append(f.queues, q)
		}
		// The kernel must not route the VIPs itself: drop them silently.
		// Close deletes these routes through nlFD, a netlink socket of
		// this namespace (Close may run on any thread).
		if f.nlFD, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE); err != nil {
			return nil, os.NewSyscallError("socket(netlink)", err)
		}
		for _, v := range cfg.VIPs {
			if err := addRoute(netip.PrefixFrom(v, 32), 0, true); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("dsr: unknown ingress %d", cfg.Ingress)
	}
	if cfg.Mode == ModeL2 {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ARP)))
		if err != nil {
			return nil, os.NewSyscallError("socket(AF_PACKET, ARP)", err)
		}
		f.arpFD = fd
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: f.ifIndex}); err != nil {
			return nil, os.NewSyscallError("bind(ARP)", err)
		}
	}
	return f, nil
}

func cmpInt(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func (f *Forwarder) newQueue(name string, batch, mtu int) (*queue, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("open /dev/net/tun", err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("dsr: tun name: %w", err)
	}
	flags := uint16(unix.IFF_TUN | unix.IFF_NO_PI | unix.IFF_MULTI_QUEUE)
	if f.offload {
		flags |= unix.IFF_VNET_HDR
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("ioctl(TUNSETIFF)", err)
	}
	if f.offload {
		if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, unix.TUN_F_CSUM|unix.TUN_F_TSO4|unix.TUN_F_TSO6); err != nil {
			unix.Close(fd)
			return nil, os.NewSyscallError("ioctl(TUNSETOFFLOAD)", err)
		}
	}
	q := &queue{tun: os.NewFile(uintptr(fd), "tun:"+name), outFD: -1}
	rc, err := q.tun.SyscallConn()
	if err != nil {
		q.tun.Close()
		return nil, err
	}
	q.rc = rc
	if err := f.setupEgress(q, batch); err != nil {
		q.close()
		return nil, err
	}
	size := Headroom + mtu
	if f.offload {
		size = Headroom + 65536 + vnetHdrLen
	}
	q.bufs = make([][]byte, batch)
	for i := range q.bufs {
		q.bufs[i] = make([]byte, size)
	}
	q.lens = make([]int, batch)
	if f.offload && f.cfg.Mode == ModeVXLAN {
		q.segs = make([][]byte, batch)
		for i := range q.segs {
			q.segs[i] = make([]byte, 0, 65536+64*(vxlanHeaderLen+ethHeaderLen+60))
		}
	}
	return q, nil
}

// setupEgress opens the queue's sending socket and its sendmmsg arrays.
func (f *Forwarder) setupEgress(q *queue, batch int) (err error) {
	if f.cfg.Mode == ModeL2 {
		q.outFD, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return os.NewSyscallError("socket(AF_PACKET)", err)
		}
		if err := unix.Bind(q.outFD, &unix.SockaddrLinklayer{Ifindex: f.ifIndex}); err != nil {
			return os.NewSyscallError("bind(AF_PACKET)", err)
		}
		// Skip the qdisc: a full device queue drops (counted) rather than
		// blocking the sender.
		_ = unix.SetsockoptInt(q.outFD, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
		if f.offload {
			if err := unix.SetsockoptInt(q.outFD, unix.SOL_PACKET, unix.PACKET_VNET_HDR, 1); err != nil {
				return os.NewSyscallError("setsockopt(PACKET_VNET_HDR)", err)
			}
		}
	} else {
		q.outFD, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return os.NewSyscallError("socket(UDP)", err)
		}
	}
	_ = unix.SetsockoptInt(q.outFD, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
	msgs := batch
	if f.offload && f.cfg.Mode == ModeVXLAN {
		msgs = 4 * batch // a super-packet may need several UDP GSO sends
		q.ctrl = make([][]byte, msgs)
		for i := range q.ctrl {
			q.ctrl[i] = make([]byte, unix.CmsgSpace(2))
		}
	}
	q.msgs = make([]unix.Mmsghdr, msgs)
	q.iovs = make([]unix.Iovec, msgs)
	q.names = make([]unix.RawSockaddrInet4, msgs)
	return nil
}

func (q *queue) close() {
	if q.tun != nil {
		q.tun.Close()
	}
	if q.ring != nil {
		q.ring.close()
	}
	if q.outFD >= 0 {
		unix.Close(q.outFD)
	}
}

func tunSetup(name string, mtu, txqlen int) error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(s)
	ifr, _ := unix.NewIfreq(name)
	ifr.SetUint32(uint32(mtu))
	if err := unix.IoctlIfreq(s, unix.SIOCSIFMTU, ifr); err != nil {
		return os.NewSyscallError("ioctl(SIOCSIFMTU)", err)
	}
	ifr, _ = unix.NewIfreq(name)
	ifr.SetUint32(uint32(txqlen))
	if err := unix.IoctlIfreq(s, unix.SIOCSIFTXQLEN, ifr); err != nil {
		return os.NewSyscallError("ioctl(SIOCSIFTXQLEN)", err)
	}
	ifr, _ = unix.NewIfreq(name)
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return os.NewSyscallError("ioctl(SIOCGIFFLAGS)", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr); err != nil {
		return os.NewSyscallError("ioctl(SIOCSIFFLAGS)", err)
	}
	return nil
}

// Core returns the forwarder's core (for its Stats, or to test decisions).
func (f *Forwarder) Core() *Core { return f.core }

// TUNIndex returns the interface index of the forwarder's TUN device.
func (f *Forwarder) TUNIndex() int { return f.tunIdx }

// SetBackends resolves the MACs the backends lack (ARP on Interface in
// ModeL2, bounded by ARPTimeout each; VXLANMAC in ModeVXLAN) and then
// replaces the core's backend set (see [Core.SetBackends] for what moves).
// Resolved MACs are remembered while the backend stays in the set (a
// backend whose MAC changes must leave the set once, or be given its MAC).
// On error nothing changes.
func (f *Forwarder) SetBackends(ctx context.Context, backends []Backend) error {
	f.setMu.Lock()
	defer f.setMu.Unlock()
	set := make([]Backend, len(backends))
	for i, b := range backends {
		set[i] = b
		if b.MAC != nil || !b.Addr.Is4() {
			continue
		}
		if f.cfg.Mode == ModeVXLAN {
			set[i].MAC = VXLANMAC(b.Addr)
			continue
		}
		if mac, ok := f.macs[b.Addr]; ok {
			set[i].MAC = mac
			continue
		}
		mac, err := f.resolve(ctx, b.Addr)
		if err != nil {
			return err
		}
		f.macs[b.Addr] = mac
		set[i].MAC = mac
	}
	if err := f.core.SetBackends(set); err != nil {
		return err
	}
	// Forget the MACs of backends that left: one that comes back (maybe
	// a new machine with the same address) is resolved again.
	for a := range f.macs {
		if !slices.ContainsFunc(set, func(b Backend) bool { return b.Addr == a }) {
			delete(f.macs, a)
		}
	}
	f.log.Info("dsr: backends set", "backends", len(set), "mode", f.cfg.Mode)
	return nil
}

// Stats returns the core's counters and the forwarder's own.
func (f *Forwarder) Stats() ForwarderStats {
	s := ForwarderStats{Stats: f.core.Stats(), Received: f.received.Load(), Sent: f.sent.Load(), SendErrors: f.sendErrors.Load(), Truncated: f.truncated.Load()}
	f.statsMu.Lock()
	defer f.statsMu.Unlock()
	if f.nlFD >= 0 && f.cfg.Ingress == IngressTUN {
		if d, err := linkTxDropped(f.nlFD, f.tunIdx); err == nil {
			s.IngressDrops = d
		}
	}
	for _, q := range f.queues {
		if q.ring != nil {
			if st, err := unix.GetsockoptTpacketStats(q.ring.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
				f.ringDrops += uint64(st.Drops)
			}
		}
	}
	s.IngressDrops += f.ringDrops
	return s
}

// ErrClosed is returned by Run on a closed forwarder.
var ErrClosed = errors.New("dsr: forwarder closed")

// Run forwards until ctx is done or Close is called, then returns nil; it
// returns an error if a queue fails. One goroutine per TUN queue; Run
// waits for all of them. Run may be called once.
func (f *Forwarder) Run(ctx context.Context) error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return ErrClosed
	}
	if f.running {
		f.mu.Unlock()
		return errors.New("dsr: Run called twice")
	}
	ctx, f.stop = context.WithCancel(ctx)
	f.running, f.done = true, make(chan struct{})
	f.mu.Unlock()
	defer close(f.done)

	errs := make(chan error, len(f.queues))
	for _, q := range f.queues {
		if q.ring != nil {
			go func() { errs <- f.forwardRing(ctx, q) }()
		} else {
			go func() { errs <- f.forwardQueue(ctx, q) }()
		}
	}
	// Wake the TUN readers when ctx ends: a past deadline fails their
	// wait. (Ring readers poll with a short timeout and check ctx.)
	waker := make(chan struct{})
	go func() {
		defer close(waker)
		<-ctx.Done()
		for _, q := range f.queues {
			if q.tun != nil {
				_ = q.tun.SetReadDeadline(time.Unix(1, 0))
			}
		}
	}()
	defer func() { <-waker }()
	var first error
	for range f.queues {
		if err := <-errs; err != nil && first == nil {
			first = err
			f.stop()
		}
	}
	f.stop()
	return first
}

// Close stops Run, waits for it, and releases the TUN (which disappears
// with its routes) and the sockets.
func (f *Forwarder) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	running, done := f.running, f.done
	if f.stop != nil {
		f.stop()
	}
	f.mu.Unlock()
	if running {
		<-done
	}
	f.closeFDs()
	return nil
}

func (f *Forwarder) closeFDs() {
	for _, q := range f.queues {
		q.close()
	}
	if f.arpFD >= 0 {
		unix.Close(f.arpFD)
		f.arpFD = -1
	}
	f.statsMu.Lock()
	if f.nlFD >= 0 {
		if f.cfg.Ingress == IngressPacketRing {
			for _, v := range f.cfg.VIPs {
				if err := delBlackholeOn(f.nlFD, netip.PrefixFrom(v, 32)); err != nil {
					f.log.Warn("dsr: close", "err", err)
				}
			}
		}
		unix.Close(f.nlFD)
		f.nlFD = -1
	}
	f.statsMu.Unlock()
}

// forwardQueue is one queue's loop: read a batch, decide, send a batch.
func (f *Forwarder) forwardQueue(ctx context.Context, q *queue) error {
	readOff := Headroom
	if f.offload {
		readOff -= vnetHdrLen
	}
	for {
		n, err := q.readBatch(readOff)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("dsr: read tun: %w", err)
		}
		f.received.Add(uint64(n))
		now := time.Now()
		m := 0
		for i := range n {
			buf := q.bufs[i][:readOff+q.lens[i]]
			var vnet [vnetHdrLen]byte
			if f.offload {
				copy(vnet[:], buf[readOff:Headroom])
			}
			r := f.core.Forward(buf, now)
			if r.Verdict != VerdictForward {
				continue
			}
			frame := r.Frame
			switch {
			case !f.offload:
			case f.cfg.Mode == ModeL2:
				frame = withVNetHeader(buf, len(buf)-len(frame), vnet)
			default:
				m = f.vxlanOffload(q, m, i, buf, r, vnet)
				continue
			}
			q.add(m, frame, r.Backend, f.cfg.Mode)
			m++
		}
		if m > 0 {
			sent, failed := q.sendBatch(m)
			f.sent.Add(uint64(sent))
			f.sendErrors.Add(uint64(failed))
		}
	}
}

// vxlanOffload sends one packet read with a virtio-net header in
// ModeVXLAN: a TCP super-packet is cut into segments that leave in UDP GSO
// sends (as many as fit 64 KiB), a packet with a partial checksum gets it
// completed. It returns the next message index, flushing when full.
func (f *Forwarder) vxlanOffload(q *queue, m, slot int, buf []byte, r Result, vnet [vnetHdrLen]byte) int {
	pkt := buf[Headroom:]
	hdr := r.Frame[:len(r.Frame)-len(pkt)]
	gsoSize := int(binary.LittleEndian.Uint16(vnet[4:6]))
	switch vnet[1] &^ vnetGSOECN {
	case vnetGSONone:
		if vnet[0]&vnetNeedsCsum != 0 && !finishChecksum(pkt, int(binary.LittleEndian.Uint16(vnet[6:8])), int(binary.LittleEndian.Uint16(vnet[8:10]))) {
			f.truncated.Add(1)
			return m
		}
		if m == len(q.msgs) {
			m = f.flush(q, m)
		}
		q.add(m, r.Frame, r.Backend, ModeVXLAN)
		return m + 1
	case vnetGSOTCPv4:
		segs, size, ok := segmentTCP4(q.segs[slot][:0], hdr, pkt, gsoSize)
		if !ok {
			f.truncated.Add(1)
			return m
		}
		per := max(1, 65000/size) // segments per UDP datagram train
		for len(segs) > 0 {
			n := min(len(segs), per*size)
			if m == len(q.msgs) {
				m = f.flush(q, m)
			}
			q.add(m, segs[:n], r.Backend, ModeVXLAN)
			if n > size {
				c := q.ctrl[m]
				h := (*unix.Cmsghdr)(unsafe.Pointer(&c[0]))
				h.Level, h.Type = unix.SOL_UDP, unix.UDP_SEGMENT
				h.SetLen(unix.CmsgLen(2))
				binary.NativeEndian.PutUint16(c[unix.CmsgLen(0):], uint16(size))
				q.msgs[m].Hdr.Control = &c[0]
				q.msgs[m].Hdr.SetControllen(len(c))
			}
			segs = segs[n:]
			m++
		}
		return m
	default:
		f.truncated.Add(1) // a GSO type we never asked the TUN for
		return m
	}
}

// flush sends the first m messages and returns 0.
func (f *Forwarder) flush(q *queue, m int) int {
	sent, failed := q.sendBatch(m)
	f.sent.Add(uint64(sent))
	f.sendErrors.Add(uint64(failed))
	return 0
}

// add makes frame the m-th message of the next sendmmsg.
func (q *queue) add(m int, frame []byte, backend netip.Addr, mode Mode) {
	q.iovs[m] = unix.Iovec{Base: &frame[0], Len: uint64(len(frame))}
	h := &q.msgs[m].Hdr
	*h = unix.Msghdr{Iov: &q.iovs[m], Iovlen: 1}
	if mode == ModeVXLAN {
		q.names[m] = unix.RawSockaddrInet4{Family: unix.AF_INET, Port: htons(VXLANPort), Addr: backend.As4()}
		h.Name = (*byte)(unsafe.Pointer(&q.names[m]))
		h.Namelen = unix.SizeofSockaddrInet4
	}
}

// withVNetHeader puts the virtio-net header read from the TUN in front of
// the Ethernet frame at buf[start:], with its offsets moved by the
// Ethernet header (the TUN counts from the IP header, AF_PACKET from the
// frame).
func withVNetHeader(buf []byte, start int, v [vnetHdrLen]byte) []byte {
	const needsCsum = 1 // VIRTIO_NET_HDR_F_NEEDS_CSUM
	if hl := binary.LittleEndian.Uint16(v[2:4]); hl != 0 {
		binary.LittleEndian.PutUint16(v[2:4], hl+ethHeaderLen)
	}
	if v[0]&needsCsum != 0 {
		binary.LittleEndian.PutUint16(v[6:8], binary.LittleEndian.Uint16(v[6:8])+ethHeaderLen)
	}
	start -= vnetHdrLen
	copy(buf[start:], v[:])
	return buf[start:]
}

// readBatch reads up to len(q.bufs) packets, waiting (in the runtime's
// poller) only while none is ready.
func (q *queue) readBatch(off int) (int, error) {
	n := 0
	var rerr error
	err := q.rc.Read(func(fd uintptr) bool {
		for n < len(q.bufs) {
			m, err := unix.Read(int(fd), q.bufs[n][off:])
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				if err != unix.EAGAIN {
					rerr = err
					return true
				}
				break
			}
			q.lens[n] = m
			n++
		}
		return n > 0
	})
	if n > 0 {
		return n, nil
	}
	if rerr != nil {
		return 0, rerr
	}
	return 0, err
}

// sendBatch sends q.msgs[:m] with sendmmsg, skipping a frame the kernel
// refuses. It never blocks: a full socket buffer counts as a failure.
func (q *queue) sendBatch(m int) (sent, failed int) {
	for i := 0; i < m; {
		r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(q.outFD), uintptr(unsafe.Pointer(&q.msgs[i])), uintptr(m-i), unix.MSG_DONTWAIT, 0, 0)
		switch {
		case errno == unix.EINTR:
			continue
		case errno != 0 || r == 0:
			failed++
			i++
		default:
			sent += int(r)
			i += int(r)
		}
	}
	return sent, failed
}
