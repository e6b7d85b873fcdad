package lb

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// tcpChunk is how many bytes one splice round moves before the copy loop
// looks at the clock again. Large enough that the per-chunk bookkeeping
// (a deadline and two atomics) is invisible next to the data, small enough
// that activity is noticed often on a busy connection.
const tcpChunk = 1 << 20

// errIdle reports that a connection saw no byte in either direction for
// its idle timeout.
var errIdle = errors.New("lb: connection idle timeout")

// tcpPipe is one proxied connection: the client side, the target side and
// what both copy directions share. When both ends are *net.TCPConn the
// copies run through TCPConn.ReadFrom with an io.LimitedReader around the
// source, which Go turns into splice(2): the bytes never enter user space.
type tcpPipe struct {
	client, target net.Conn
	idle           time.Duration
	// last is the unix-nano time of the last chunk boundary that moved
	// bytes in either direction.
	last atomic.Int64
	// onBytes, if not nil, is told about every chunk that moved bytes;
	// toTarget reports the direction. It must not block.
	onBytes func(toTarget bool, n int64)

	// eofs counts the directions that reached EOF: the second one needs
	// no half-close, as both sockets are about to be closed anyway.
	eofs atomic.Int32

	abortOnce sync.Once
	aborted   atomic.Bool
	cause     error // the error that aborted the pipe; set once in abort
}

// halfCloser is a connection whose write side can be closed on its own, so
// that a client's FIN reaches the target while the reply still flows back.
type halfCloser interface{ CloseWrite() error }

// run copies both ways until both directions have ended, then closes both
// connections. It returns the bytes moved toward the target and toward the
// client, and the first error that ended the pipe abnormally (nil when both
// sides finished with a FIN). On any abnormal end both connections are
// reset rather than closed cleanly, so that a peer never mistakes a cut
// stream for a complete one.
func (p *tcpPipe) run() (up, down int64, err error) {
	p.last.Store(time.Now().UnixNano())
	type result struct {
		n   int64
		err error
	}
	upc := make(chan result, 1)
	go func() {
		n, err := p.copyClientToTarget()
		upc <- result{n, err}
	}()
	dn, derr := p.copyTargetToClient()
	u := <-upc
	p.client.Close()
	p.target.Close()
	if u.err != nil || derr != nil {
		err = p.cause // the first failure, not the closed-conn error it caused
	}
	return u.n, dn, err
}

// copyClientToTarget is its own function so that stack dumps name the
// direction of a stuck copy.
func (p *tcpPipe) copyClientToTarget() (int64, error) {
	n, err := p.copy(p.target, p.client, true)
	if err != nil {
		p.abort(err)
	}
	return n, err
}

// copyTargetToClient is the reply direction; see copyClientToTarget.
func (p *tcpPipe) copyTargetToClient() (int64, error) {
	n, err := p.copy(p.client, p.target, false)
	if err != nil {
		p.abort(err)
	}
	return n, err
}

// abort resets both connections (RST, not FIN) so both copy loops return.
func (p *tcpPipe) abort(cause error) {
	p.abortOnce.Do(func() {
		p.cause = cause
		p.aborted.Store(true)
		for _, c := range []net.Conn{p.client, p.target} {
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			c.Close()
		}
	})
}

// copy moves bytes from src to dst until src reports EOF, then half-closes
// dst so the far peer sees the FIN. Errors other than EOF are returned as
// they are; an idle timeout returns errIdle.
func (p *tcpPipe) copy(dst, src net.Conn, toTarget bool) (int64, error) {
	var total int64
	lr := &io.LimitedReader{R: src}
	rf, splice := dst.(io.ReaderFrom)
	var buf []byte
	if _, ok := dst.(*net.TCPConn); !ok || !isTCP(src) {
		// Not splice-able (TLS on one side): copy through a buffer.
		splice = false
		buf = make([]byte, 32<<10)
	}
	// The idle deadline is re-armed every quarter of the timeout, so a
	// connection that stops moving bytes is closed between 1 and 1.5 idle
	// timeouts after its last byte, whichever direction carried it.
	slice := p.idle / 4
	for {
		if p.idle > 0 {
			src.SetReadDeadline(time.Now().Add(slice))
		}
		lr.N = tcpChunk
		var n int64
		var err error
		if splice {
			n, err = rf.ReadFrom(lr)
		} else {
			n, err = io.CopyBuffer(dst, lr, buf)
		}
		total += n
		if n > 0 {
			p.last.Store(time.Now().UnixNano())
			if p.onBytes != nil {
				p.onBytes(toTarget, n)
			}
		}
		if err != nil {
			if p.idle > 0 && errors.Is(err, os.ErrDeadlineExceeded) && !p.aborted.Load() {
				if time.Since(time.Unix(0, p.last.Load())) < p.idle {
					continue
				}
				return total, errIdle
			}
			return total, err
		}
		if lr.N > 0 { // src reached EOF before the chunk filled
			if p.eofs.Add(1) == 2 {
				return total, nil // both directions done: run closes both
			}
			if hc, ok := dst.(halfCloser); ok {
				if err := hc.CloseWrite(); err != nil && !p.aborted.Load() {
					return total, err
				}
			}
			return total, nil
		}
	}
}

func isTCP(c net.Conn) bool {
	_, ok := c.(*net.TCPConn)
	return ok
}
