package dsr

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// ErrUnresolved is returned by Forwarder.SetBackends when a backend did not
// answer ARP within ARPTimeout: check that it is up, on Interface's
// segment, and that its address is on the interface facing the balancer.
var ErrUnresolved = errors.New("dsr: backend MAC not resolved")

// resolve asks for ip's MAC with ARP (RFC 826) on the forwarder's
// interface, resending every 200 ms until ARPTimeout or ctx ends. The
// balancer's own ARP code keeps it independent of the kernel's neighbour
// table, which the forwarder's AF_PACKET frames bypass.
func (f *Forwarder) resolve(ctx context.Context, ip netip.Addr) (net.HardwareAddr, error) {
	timeout := f.cfg.ARPTimeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	req := make([]byte, 28)
	binary.BigEndian.PutUint16(req[0:], 1)      // hardware: Ethernet
	binary.BigEndian.PutUint16(req[2:], 0x0800) // protocol: IPv4
	req[4], req[5] = 6, 4
	binary.BigEndian.PutUint16(req[6:], 1) // request
	copy(req[8:14], f.ifMAC)
	if f.ifIP.IsValid() {
		a := f.ifIP.As4()
		copy(req[14:18], a[:])
	}
	target := ip.As4()
	copy(req[24:28], target[:])
	to := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: f.ifIndex, Halen: 6}
	copy(to.Addr[:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	buf := make([]byte, 128)
	for next := time.Now(); ; {
		now := time.Now()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !now.Before(deadline) {
			return nil, fmt.Errorf("%w: %v after %v", ErrUnresolved, ip, timeout)
		}
		if !now.Before(next) {
			if err := unix.Sendto(f.arpFD, req, 0, to); err != nil {
				return nil, os.NewSyscallError("sendto(ARP)", err)
			}
			next = now.Add(200 * time.Millisecond)
		}
		wait := min(time.Until(next), time.Until(deadline), 50*time.Millisecond)
		pfd := []unix.PollFd{{Fd: int32(f.arpFD), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, int(max(wait.Milliseconds(), 1)))
		if err != nil && err != unix.EINTR {
			return nil, os.NewSyscallError("poll(ARP)", err)
		}
		for n > 0 {
			m, _, err := unix.Recvfrom(f.arpFD, buf, unix.MSG_DONTWAIT)
			if err != nil {
				break
			}
			p := buf[:m]
			if m >= 28 && binary.BigEndian.Uint16(p[6:]) == 2 && bytes.Equal(p[14:18], target[:]) {
				return net.HardwareAddr(bytes.Clone(p[8:14])), nil
			}
		}
	}
}
