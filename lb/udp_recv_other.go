//go:build !unix

package lb

import "net"

// udpRecv waits for c's next datagram and returns it in a buffer from
// udpBufPool (the caller puts it back). Without raw readiness callbacks
// the buffer is held while waiting.
func udpRecv(c *net.UDPConn) (*[]byte, int, error) {
	bp := udpBufPool.Get().(*[]byte)
	n, err := c.Read(*bp)
	if err != nil {
		udpBufPool.Put(bp)
		return nil, 0, err
	}
	return bp, n, nil
}
