//go:build unix

package lb

import (
	"net"
	"syscall"
)

// udpRecv waits for c's next datagram and returns it in a buffer from
// udpBufPool (the caller puts it back). While it waits it holds no
// buffer: RawConn.Read calls back when the socket is readable, and only
// then is a buffer taken. Errors are the wait's (deadline, closed) or the
// receive's (ECONNREFUSED after an ICMP port unreachable).
func udpRecv(c *net.UDPConn) (*[]byte, int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, 0, err
	}
	var bp *[]byte
	var n int
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		bp = udpBufPool.Get().(*[]byte)
		n, _, rerr = syscall.Recvfrom(int(fd), *bp, syscall.MSG_DONTWAIT)
		if rerr == syscall.EAGAIN {
			udpBufPool.Put(bp)
			bp = nil
			return false // wait for readiness
		}
		return true
	})
	if err != nil { // the wait failed; no buffer is held
		return nil, 0, err
	}
	if rerr != nil {
		udpBufPool.Put(bp)
		return nil, 0, rerr
	}
	return bp, n, nil
}
