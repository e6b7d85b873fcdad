//go:build linux

package lb

import (
	"errors"
	"syscall"
)

var errTooManyFiles = syscall.EMFILE

// transparentControl marks a socket IP_TRANSPARENT (IPV6_TRANSPARENT for
// IPv6) so it may bind the client's address, which is not local, and
// SO_REUSEADDR so that the client's port may be reused toward several
// targets. It needs CAP_NET_ADMIN.
func transparentControl(network, address string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
		if serr != nil {
			return
		}
		if network == "tcp6" || network == "udp6" {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_IPV6, ipv6Transparent, 1)
		} else {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_IP, syscall.IP_TRANSPARENT, 1)
		}
	})
	return errors.Join(err, serr)
}

// ipv6Transparent is IPV6_TRANSPARENT from linux/in6.h, which package
// syscall does not name.
const ipv6Transparent = 75
