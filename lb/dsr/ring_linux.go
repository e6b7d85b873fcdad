package dsr

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fanoutSeq makes PACKET_FANOUT group ids unique within the process.
var fanoutSeq atomic.Uint32

// rxRing is a PACKET_MMAP TPACKET_V2 receive ring: frames of a fixed
// size, each owned by the kernel or by us according to its status word.
// V2 rather than V3: V3 hands over whole blocks, on a timer when traffic
// is light, which adds up to a millisecond of latency per packet.
type rxRing struct {
	fd        int
	mem       []byte
	frameSize int
	frames    int
	next      int
}

// newRingQueue opens a fanned-out receive ring on the interface and the
// queue's egress socket.
func (f *Forwarder) newRingQueue(group uint32, batch, mtu int) (_ *queue, err error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_IP)))
	if err != nil {
		return nil, os.NewSyscallError("socket(AF_PACKET)", err)
	}
	r := &rxRing{fd: fd}
	q := &queue{ring: r, outFD: -1}
	defer func() {
		if err != nil {
			q.close()
		}
	}()
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V2); err != nil {
		return nil, os.NewSyscallError("setsockopt(PACKET_VERSION)", err)
	}
	if f.offload {
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VNET_HDR, 1); err != nil {
			return nil, os.NewSyscallError("setsockopt(PACKET_VNET_HDR)", err)
		}
	}
	// Our own frames to backends leave by this interface with the VIP as
	// destination: never read them back.
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		return nil, os.NewSyscallError("setsockopt(PACKET_IGNORE_OUTGOING)", err)
	}
	prog := vipFilter(f.core.vips)
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}); err != nil {
		return nil, os.NewSyscallError("setsockopt(SO_ATTACH_FILTER)", err)
	}
	// A frame holds the ring header, the sockaddr_ll, the virtio-net
	// header and a packet: up to 64 KiB with offload (GSO super-packets),
	// else the MTU. One frame per block keeps blocks page-aligned.
	payload := mtu + ethHeaderLen
	if f.offload {
		payload = 65536 + ethHeaderLen
	}
	page := os.Getpagesize()
	r.frameSize = (payload + 128 + page - 1) / page * page
	r.frames = 256
	if f.offload {
		r.frames = 512
	}
	req := unix.TpacketReq{Block_size: uint32(r.frameSize), Block_nr: uint32(r.frames), Frame_size: uint32(r.frameSize), Frame_nr: uint32(r.frames)}
	if err := unix.SetsockoptTpacketReq(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return nil, os.NewSyscallError("setsockopt(PACKET_RX_RING)", err)
	}
	if r.mem, err = unix.Mmap(fd, 0, r.frameSize*r.frames, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
		return nil, os.NewSyscallError("mmap(ring)", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: f.ifIndex}); err != nil {
		return nil, os.NewSyscallError("bind(ring)", err)
	}
	// Spread flows over the queues by the kernel's flow hash.
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT, int(group|unix.PACKET_FANOUT_HASH<<16)); err != nil {
		return nil, os.NewSyscallError("setsockopt(PACKET_FANOUT)", err)
	}
	if err := f.setupEgress(q, batch); err != nil {
		return nil, err
	}
	return q, nil
}

// vipFilter is a classic BPF program accepting IPv4 packets (the socket
// only gets ETH_P_IP) whose destination, at byte 30 of the frame, is a
// VIP.
func vipFilter(vips []uint32) []unix.SockFilter {
	prog := []unix.SockFilter{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 30}}
	for i, v := range vips {
		// Jump to "accept" (after the remaining compares and the reject).
		prog = append(prog, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: v, Jt: uint8(len(vips) - i)})
	}
	return append(prog,
		unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: 0},
		unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: 0xffffffff},
	)
}

func (r *rxRing) close() {
	if r.mem != nil {
		unix.Munmap(r.mem)
		r.mem = nil
	}
	unix.Close(r.fd)
}

func (r *rxRing) status(i int) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&r.mem[i*r.frameSize]))
}

// forwardRing is one ring queue's loop: take every frame the kernel has
// filled, decide, send them in one sendmmsg, then hand the frames back.
// It waits in poll(2) only when the ring is empty, waking every 100 ms to
// notice ctx.
func (f *Forwarder) forwardRing(ctx context.Context, q *queue) error {
	r := q.ring
	batch := len(q.msgs)
	held := make([]int, 0, batch)
	flush := func(m int) {
		if m > 0 {
			sent, failed := q.sendBatch(m)
			f.sent.Add(uint64(sent))
			f.sendErrors.Add(uint64(failed))
		}
		for _, i := range held {
			r.status(i).Store(unix.TP_STATUS_KERNEL)
		}
		held = held[:0]
	}
	pfd := []unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN}}
	m := 0
	var now time.Time
	for {
		i := r.next
		st := r.status(i).Load()
		if st&unix.TP_STATUS_USER == 0 {
			flush(m)
			m = 0
			if ctx.Err() != nil {
				return nil
			}
			if r.status(i).Load()&unix.TP_STATUS_USER == 0 {
				if _, err := unix.Poll(pfd, 100); err != nil && err != unix.EINTR {
					return fmt.Errorf("dsr: poll ring: %w", os.NewSyscallError("poll", err))
				}
			}
			continue
		}
		if len(held) == 0 {
			now = time.Now()
		}
		r.next = (i + 1) % r.frames
		held = append(held, i)
		f.received.Add(1)
		fr := r.mem[i*r.frameSize : (i+1)*r.frameSize]
		length := binary.NativeEndian.Uint32(fr[4:8])
		snap := binary.NativeEndian.Uint32(fr[8:12])
		mac := int(binary.NativeEndian.Uint16(fr[12:14]))
		netOff := int(binary.NativeEndian.Uint16(fr[14:16]))
		if snap < length || netOff-mac != ethHeaderLen || netOff < Headroom+vnetHdrLen || netOff+int(snap)-mac > len(fr) {
			f.truncated.Add(1)
		} else {
			buf := fr[netOff-Headroom : mac+int(snap)]
			res := f.core.Forward(buf, now)
			if res.Verdict == VerdictForward {
				frame := res.Frame
				if f.offload {
					// The kernel wrote the virtio-net header just before
					// the MAC header, with offsets already counted from it.
					frame = fr[mac-vnetHdrLen : mac+int(snap)]
				}
				q.add(m, frame, res.Backend, f.cfg.Mode)
				m++
			}
		}
		if len(held) == batch {
			flush(m)
			m = 0
		}
	}
}
