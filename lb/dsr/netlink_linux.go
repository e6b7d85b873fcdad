package dsr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// A minimal rtnetlink client: just the four requests the helpers need
// (add an address, add a route, bring a link up, create a vxlan link).
// Every request runs in the network namespace of the calling OS thread.

type nlReq struct{ b []byte }

func newNLReq(typ, flags uint16, body []byte) *nlReq {
	r := &nlReq{b: make([]byte, unix.NLMSG_HDRLEN, 256)}
	binary.NativeEndian.PutUint16(r.b[4:], typ)
	binary.NativeEndian.PutUint16(r.b[6:], flags|unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(r.b[8:], 1) // sequence
	r.b = append(r.b, body...)
	return r
}

func nlAlign(n int) int { return (n + 3) &^ 3 }

func (r *nlReq) attr(typ uint16, data []byte) {
	var h [4]byte
	binary.NativeEndian.PutUint16(h[0:], uint16(4+len(data)))
	binary.NativeEndian.PutUint16(h[2:], typ)
	r.b = append(r.b, h[:]...)
	r.b = append(r.b, data...)
	for len(r.b)%4 != 0 {
		r.b = append(r.b, 0)
	}
}

// nest writes a nested attribute whose children fill() adds.
func (r *nlReq) nest(typ uint16, fill func()) {
	start := len(r.b)
	r.attr(typ|unix.NLA_F_NESTED, nil)
	fill()
	binary.NativeEndian.PutUint16(r.b[start:], uint16(len(r.b)-start))
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

// do sends the request on a new socket (in the calling thread's
// namespace) and waits for its acknowledgement.
func (r *nlReq) do() error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return os.NewSyscallError("socket(netlink)", err)
	}
	defer unix.Close(fd)
	return r.doOn(fd)
}

// doOn is do on an open netlink socket.
func (r *nlReq) doOn(fd int) error {
	binary.NativeEndian.PutUint32(r.b[0:], uint32(len(r.b)))
	if err := unix.Sendto(fd, r.b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return os.NewSyscallError("sendto(netlink)", err)
	}
	buf := make([]byte, 8192)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return os.NewSyscallError("recvfrom(netlink)", err)
		}
		for b := buf[:n]; len(b) >= unix.NLMSG_HDRLEN; {
			l := int(binary.NativeEndian.Uint32(b[0:]))
			typ := binary.NativeEndian.Uint16(b[4:])
			if l < unix.NLMSG_HDRLEN || l > len(b) {
				return errors.New("dsr: malformed netlink reply")
			}
			if typ == unix.NLMSG_ERROR && l >= unix.NLMSG_HDRLEN+4 {
				if errno := int32(binary.NativeEndian.Uint32(b[unix.NLMSG_HDRLEN:])); errno != 0 {
					return syscall.Errno(-errno)
				}
				return nil
			}
			b = b[nlAlign(l):]
		}
	}
}

func ifaddrmsg(prefixLen int, index int) []byte {
	b := make([]byte, unix.SizeofIfAddrmsg)
	b[0] = unix.AF_INET
	b[1] = byte(prefixLen)
	binary.NativeEndian.PutUint32(b[4:], uint32(index))
	return b
}

func ifinfomsg(index int, flags, change uint32) []byte {
	b := make([]byte, unix.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(b[4:], uint32(index))
	binary.NativeEndian.PutUint32(b[8:], flags)
	binary.NativeEndian.PutUint32(b[12:], change)
	return b
}

// addAddr adds an IPv4 address to a link; an address already there is
// not an error.
func addAddr(index int, p netip.Prefix) error {
	a := p.Addr().As4()
	r := newNLReq(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, ifaddrmsg(p.Bits(), index))
	r.attr(unix.IFA_LOCAL, a[:])
	r.attr(unix.IFA_ADDRESS, a[:])
	if err := r.do(); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("dsr: add address %v to link %d: %w", p, index, err)
	}
	return nil
}

// addRoute routes an IPv4 prefix to a link (scope link, main table), or
// to a blackhole, replacing any route to the same prefix.
func addRoute(p netip.Prefix, index int, blackhole bool) error {
	body := make([]byte, unix.SizeofRtMsg)
	body[0] = unix.AF_INET
	body[1] = byte(p.Bits())
	body[4] = unix.RT_TABLE_MAIN
	body[5] = unix.RTPROT_STATIC
	body[6] = unix.RT_SCOPE_LINK
	body[7] = unix.RTN_UNICAST
	if blackhole {
		body[6], body[7] = unix.RT_SCOPE_UNIVERSE, unix.RTN_BLACKHOLE
	}
	r := newNLReq(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, body)
	a := p.Addr().As4()
	r.attr(unix.RTA_DST, a[:])
	if !blackhole {
		r.attr(unix.RTA_OIF, u32(uint32(index)))
	}
	if err := r.do(); err != nil {
		return fmt.Errorf("dsr: add route %v dev %d: %w", p, index, err)
	}
	return nil
}

// delBlackholeOn deletes, through the netlink socket fd, a blackhole route
// added by addRoute; a route already gone is not an error.
func delBlackholeOn(fd int, p netip.Prefix) error {
	body := make([]byte, unix.SizeofRtMsg)
	body[0] = unix.AF_INET
	body[1] = byte(p.Bits())
	body[4] = unix.RT_TABLE_MAIN
	body[7] = unix.RTN_BLACKHOLE
	r := newNLReq(unix.RTM_DELROUTE, 0, body)
	a := p.Addr().As4()
	r.attr(unix.RTA_DST, a[:])
	if err := r.doOn(fd); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("dsr: delete blackhole %v: %w", p, err)
	}
	return nil
}

func setLinkUp(index int) error {
	r := newNLReq(unix.RTM_NEWLINK, 0, ifinfomsg(index, unix.IFF_UP, unix.IFF_UP))
	if err := r.do(); err != nil {
		return fmt.Errorf("dsr: set link %d up: %w", index, err)
	}
	return nil
}

// addVXLAN creates a vxlan link: VNI, local address, UDP port, no MAC
// learning (the balancer addresses it by its fixed MAC).
func addVXLAN(name string, vni uint32, local netip.Addr, port uint16, parent int, mac net.HardwareAddr) error {
	r := newNLReq(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, ifinfomsg(0, 0, 0))
	r.attr(unix.IFLA_IFNAME, append([]byte(name), 0))
	r.attr(unix.IFLA_ADDRESS, mac)
	r.nest(unix.IFLA_LINKINFO, func() {
		r.attr(unix.IFLA_INFO_KIND, []byte("vxlan"))
		r.nest(unix.IFLA_INFO_DATA, func() {
			r.attr(unix.IFLA_VXLAN_ID, u32(vni))
			if local.IsValid() {
				a := local.As4()
				r.attr(unix.IFLA_VXLAN_LOCAL, a[:])
			}
			if parent > 0 {
				r.attr(unix.IFLA_VXLAN_LINK, u32(uint32(parent)))
			}
			r.attr(unix.IFLA_VXLAN_PORT, binary.BigEndian.AppendUint16(nil, port))
			r.attr(unix.IFLA_VXLAN_LEARNING, []byte{0})
		})
	})
	if err := r.do(); err != nil {
		return fmt.Errorf("dsr: create vxlan link %s: %w", name, err)
	}
	return nil
}

// linkTxDropped reads a link's tx_dropped counter (struct
// rtnl_link_stats64, IFLA_STATS64) through fd, a netlink socket opened in
// the link's namespace.
func linkTxDropped(fd, index int) (uint64, error) {
	r := newNLReq(unix.RTM_GETLINK, 0, ifinfomsg(index, 0, 0))
	binary.NativeEndian.PutUint16(r.b[6:], unix.NLM_F_REQUEST)
	binary.NativeEndian.PutUint32(r.b[0:], uint32(len(r.b)))
	if err := unix.Sendto(fd, r.b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, os.NewSyscallError("sendto(netlink)", err)
	}
	buf := make([]byte, 16384)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return 0, os.NewSyscallError("recvfrom(netlink)", err)
	}
	b := buf[:n]
	if len(b) < unix.NLMSG_HDRLEN+unix.SizeofIfInfomsg {
		return 0, errors.New("dsr: short netlink reply")
	}
	if binary.NativeEndian.Uint16(b[4:]) == unix.NLMSG_ERROR {
		return 0, errors.New("dsr: netlink error reading link stats")
	}
	l := min(int(binary.NativeEndian.Uint32(b[0:])), len(b))
	attrs := b[unix.NLMSG_HDRLEN+unix.SizeofIfInfomsg : l]
	for len(attrs) >= 4 {
		al := int(binary.NativeEndian.Uint16(attrs[0:]))
		typ := binary.NativeEndian.Uint16(attrs[2:]) &^ unix.NLA_F_NESTED
		if al < 4 || al > len(attrs) {
			break
		}
		if typ == unix.IFLA_STATS64 && al >= 4+8*8 {
			return binary.NativeEndian.Uint64(attrs[4+7*8:]), nil
		}
		attrs = attrs[min(nlAlign(al), len(attrs)):]
	}
	return 0, errors.New("dsr: no IFLA_STATS64 in netlink reply")
}
