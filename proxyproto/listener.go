package proxyproto

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Policy says what a [Listener] does with the PROXY header of one
// connection. The zero value is Require.
type Policy uint8

// Policies, per connection, chosen by [Listener.Policy] from the peer's
// address.
const (
	// Require: the connection must start with a valid header, or it is
	// closed. The spec's rule for a listener configured for the protocol
	// ("MUST not try to guess whether the protocol header is present").
	Require Policy = iota
	// Use: a header is read and used if the data starts with a signature;
	// otherwise the connection is used as it is. A peer that sends nothing
	// until the header timeout is taken as sending no header. Use only
	// where every peer that can reach the listener is trusted: anyone
	// able to connect can claim any address.
	Use
	// Ignore: like Use, but the header's addresses and TLVs are discarded,
	// so RemoteAddr and LocalAddr stay the real ones. For peers that may
	// send a header you do not trust.
	Ignore
	// Reject: a connection that starts with a header is closed; one
	// without is used as it is. For peers that must never claim another
	// address.
	Reject
	// Skip: no header is looked for; every byte is application data.
	Skip
	// Drop: the connection is closed in Accept, before anything is read.
	Drop
)

func (p Policy) String() string {
	switch p {
	case Require:
		return "require"
	case Use:
		return "use"
	case Ignore:
		return "ignore"
	case Reject:
		return "reject"
	case Skip:
		return "skip"
	case Drop:
		return "drop"
	}
	return fmt.Sprintf("Policy(%d)", uint8(p))
}

// PolicyFunc chooses the policy for a connection from its peer's address
// (the real one, from the socket). It is called in Accept and must not
// block.
type PolicyFunc func(remote net.Addr) Policy

// TrustedFrom returns a PolicyFunc that gives trusted to peers whose IP
// address is in one of the prefixes and untrusted to every other peer (and
// to peers without an IP address). IPv4-mapped IPv6 addresses
// (::ffff:a.b.c.d, as a dual-stack listener reports IPv4 peers) match IPv4
// prefixes, and IPv4-mapped prefixes match IPv4 peers.
//
// The usual rule is TrustedFrom(proxies, Require, Drop): only the proxies
// may connect, and they must send a header.
func TrustedFrom(prefixes []netip.Prefix, trusted, untrusted Policy) PolicyFunc {
	ps := make([]netip.Prefix, 0, len(prefixes))
	for _, p := range prefixes {
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		ps = append(ps, p.Masked())
	}
	return func(remote net.Addr) Policy {
		ip, ok := addrIP(remote)
		if !ok {
			return untrusted
		}
		for _, p := range ps {
			if p.Contains(ip) {
				return trusted
			}
		}
		return untrusted
	}
}

func addrIP(a net.Addr) (netip.Addr, bool) {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.TCPAddr:
		ap = a.AddrPort()
	case *net.UDPAddr:
		ap = a.AddrPort()
	default:
		return netip.Addr{}, false
	}
	ip := ap.Addr().Unmap().WithZone("")
	return ip, ip.IsValid()
}

// DefaultReadHeaderTimeout bounds the time from Accept to the end of the
// header when the Listener sets none. The spec asks for at least 3 seconds
// "to cover a TCP retransmit"; AWS NLB sends the header with the client's
// first data, which a client may hold back a few seconds.
const DefaultReadHeaderTimeout = 10 * time.Second

// ErrRejected is the error of a connection closed because its policy is
// Reject and it started with a header, or because Listener.Validate
// refused its header.
var ErrRejected = errors.New("proxyproto: header rejected by policy")

// Listener wraps a net.Listener whose connections start with a PROXY
// protocol header. Accept returns a [*Conn] at once; the header is read by
// the connection's first Read, Write, RemoteAddr, LocalAddr or
// ProxyHeader, within ReadHeaderTimeout of Accept. A slow or silent client
// therefore never holds up Accept, and an application that calls
// RemoteAddr in its accept loop should do so in the connection's own
// goroutine, as net/http does.
//
// The header timeout runs from Accept; a header not complete by then gives
// an error wrapping os.ErrDeadlineExceeded (under Require).
//
// Under Require, a Write waits for the header too (the spec forbids
// processing a connection before it): a server-first protocol (SMTP, SSH)
// behind AWS NLB, which sends the header with the client's first data,
// waits until the client speaks. That is NLB's behaviour, not this
// package's.
//
// The zero value of every field but Listener is usable.
type Listener struct {
	net.Listener

	// Policy chooses what to do with each connection's header. Nil means
	// Require for every peer.
	Policy PolicyFunc
	// ReadHeaderTimeout bounds the time from Accept to the end of the
	// header. Zero means DefaultReadHeaderTimeout; negative means none
	// (only for listeners that no untrusted peer can reach).
	ReadHeaderTimeout time.Duration
	// MaxHeaderSize caps a v2 header. Zero means DefaultMaxHeaderSize.
	MaxHeaderSize int
	// Validate, if set, is called with each header read; an error closes
	// the connection (Read and Write then return it, wrapping ErrRejected).
	Validate func(*Header) error
}

// Accept waits for the next connection whose policy is not Drop and returns
// it as a *Conn.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		policy := Require
		if l.Policy != nil {
			policy = l.Policy(c.RemoteAddr())
		}
		if policy == Drop {
			_ = c.Close()
			continue
		}
		return l.newConn(c, policy), nil
	}
}

func (l *Listener) newConn(c net.Conn, policy Policy) *Conn {
	var dl time.Time
	switch t := l.ReadHeaderTimeout; {
	case t == 0:
		dl = time.Now().Add(DefaultReadHeaderTimeout)
	case t > 0:
		dl = time.Now().Add(t)
	}
	max := l.MaxHeaderSize
	if max == 0 {
		max = DefaultMaxHeaderSize
	}
	return newConn(c, policy, dl, max, l.Validate)
}

// NewConn wraps a connection that starts with a PROXY header, for servers
// that accept connections themselves. The header must arrive before
// deadline (zero: no limit). policy and validate are as in [Listener].
func NewConn(c net.Conn, policy Policy, deadline time.Time, validate func(*Header) error) *Conn {
	return newConn(c, policy, deadline, DefaultMaxHeaderSize, validate)
}

func newConn(c net.Conn, policy Policy, deadline time.Time, max int, validate func(*Header) error) *Conn {
	pc := &Conn{conn: c, policy: policy, headerDeadline: deadline, max: max, validate: validate}
	if policy == Skip {
		pc.done.Store(true)
	}
	return pc
}

// Conn is a connection from a [Listener]: its first bytes, the PROXY
// header, are read and removed before any Read returns data, and
// RemoteAddr and LocalAddr report the addresses the header carries.
//
// If the header is missing when required, malformed, late or refused, the
// connection is closed and every Read and Write returns the error; none of
// its bytes reach the application.
type Conn struct {
	conn           net.Conn
	policy         Policy
	headerDeadline time.Time
	max            int
	validate       func(*Header) error

	hsMu sync.Mutex  // held while reading the header
	done atomic.Bool // the header has been dealt with
	br   *bufio.Reader
	hdr  Header
	has  bool  // hdr holds a header to use
	err  error // the header's error, final

	dlMu       sync.Mutex
	inHS       bool      // a header read is under way: hold read deadlines
	userReadDL time.Time // the application's last read deadline
}

var (
	_ net.Conn      = (*Conn)(nil)
	_ io.WriterTo   = (*Conn)(nil)
	_ io.ReaderFrom = (*Conn)(nil)
)

// handshake reads the header once; every caller after the first waits for
// it and sees the same outcome.
func (c *Conn) handshake() error {
	if c.done.Load() {
		return c.err
	}
	c.hsMu.Lock()
	defer c.hsMu.Unlock()
	if c.done.Load() {
		return c.err
	}
	c.err = c.readHeader()
	if c.err != nil {
		_ = c.conn.Close()
	}
	c.done.Store(true)
	return c.err
}

func (c *Conn) readHeader() error {
	c.br = bufio.NewReaderSize(c.conn, minReaderSize)

	c.dlMu.Lock()
	c.inHS = true
	dl := c.headerDeadline
	if !c.userReadDL.IsZero() && (dl.IsZero() || c.userReadDL.Before(dl)) {
		dl = c.userReadDL
	}
	// A deadline error means the connection is gone (net.Pipe reports its
	// peer's close this way); the read that follows reports it.
	_ = c.conn.SetReadDeadline(dl)
	c.dlMu.Unlock()
	err := ReadLimit(c.br, &c.hdr, c.max)
	c.dlMu.Lock()
	c.inHS = false
	_ = c.conn.SetReadDeadline(c.userReadDL)
	c.dlMu.Unlock()

	switch {
	case err == nil:
		c.has = true
	case errors.Is(err, ErrNoHeader) && c.policy != Require:
		err = nil
	case isTimeout(err) && c.policy != Require && c.br.Buffered() == 0:
		// A peer that sent nothing sent no header (server-first
		// protocols under Use, Ignore or Reject).
		err = nil
	}
	if err != nil {
		return fmt.Errorf("proxyproto: reading header from %v (policy %v): %w", c.conn.RemoteAddr(), c.policy, err)
	}
	switch {
	case c.has && c.policy == Reject:
		c.has = false
		return fmt.Errorf("%w: %v sent a header", ErrRejected, c.conn.RemoteAddr())
	case c.has && c.policy == Ignore:
		c.has = false
	case c.has && c.validate != nil:
		if verr := c.validate(&c.hdr); verr != nil {
			c.has = false
			return fmt.Errorf("%w: %w", ErrRejected, verr)
		}
	}
	return nil
}

func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// ProxyHeader reads the header if it has not been read yet and returns it:
// nil if the connection had none (under Use, Ignore, Reject or Skip), and
// the error that closed the connection, if any. The header is owned by
// the Conn; do not modify it.
func (c *Conn) ProxyHeader() (*Header, error) {
	if err := c.handshake(); err != nil {
		return nil, err
	}
	if !c.has {
		return nil, nil
	}
	return &c.hdr, nil
}

// Read reads application data: the bytes after the header.
func (c *Conn) Read(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	if c.br != nil {
		if c.br.Buffered() > 0 {
			return c.br.Read(p)
		}
		c.br = nil // drained: read straight from the socket from now on
	}
	return c.conn.Read(p)
}

// Write writes to the connection once the header has been read: the spec
// forbids processing a connection before its header is complete.
func (c *Conn) Write(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.conn.Write(p)
}

// WriteTo copies the connection's application data to w, so that io.Copy
// can use the socket's own fast paths once the buffered bytes are out.
func (c *Conn) WriteTo(w io.Writer) (int64, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	var n int64
	if c.br != nil {
		if b := c.br.Buffered(); b > 0 {
			buf, _ := c.br.Peek(b)
			m, err := w.Write(buf)
			_, _ = c.br.Discard(m)
			n += int64(m)
			if err != nil {
				return n, err
			}
		}
		c.br = nil
	}
	m, err := io.Copy(w, c.conn)
	return n + m, err
}

// ReadFrom copies r to the connection once the header has been read, using
// the socket's ReadFrom (splice on Linux) when it has one.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	if rf, ok := c.conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{c.conn}, r)
}

type writerOnly struct{ io.Writer }

// Close closes the connection. A header read under way fails.
func (c *Conn) Close() error { return c.conn.Close() }

// RemoteAddr returns the client address from the header, or the socket's
// peer address if the connection had no header, a Local one, one without
// addresses, or a failed one. It reads the header if needed, so it may
// block until the header timeout.
func (c *Conn) RemoteAddr() net.Addr {
	if c.handshake() == nil && c.has {
		if a := c.hdr.SourceAddr(); a != nil {
			return a
		}
	}
	return c.conn.RemoteAddr()
}

// LocalAddr returns the destination address from the header (the address
// the client connected to, at the proxy), with the same fallbacks as
// RemoteAddr.
func (c *Conn) LocalAddr() net.Addr {
	if c.handshake() == nil && c.has {
		if a := c.hdr.DestinationAddr(); a != nil {
			return a
		}
	}
	return c.conn.LocalAddr()
}

// SetDeadline sets the read and write deadlines, as [Conn.SetReadDeadline]
// and [Conn.SetWriteDeadline] do.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.conn.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline. While the header is being read,
// the earlier of t and the header deadline applies; t alone applies after.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	c.userReadDL = t
	if c.inHS {
		return nil // readHeader restores it
	}
	return c.conn.SetReadDeadline(t)
}

// SetWriteDeadline sets the write deadline of the underlying connection.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }

// NetConn returns the underlying connection. Reading from it directly
// skips the header handling and any bytes buffered after the header.
func (c *Conn) NetConn() net.Conn { return c.conn }

// CloseWrite shuts down the writing side, if the underlying connection
// supports it (TCP and Unix connections do).
func (c *Conn) CloseWrite() error {
	if cw, ok := c.conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return fmt.Errorf("proxyproto: %T has no CloseWrite", c.conn)
}

// CloseRead shuts down the reading side, if the underlying connection
// supports it.
func (c *Conn) CloseRead() error {
	if cr, ok := c.conn.(interface{ CloseRead() error }); ok {
		return cr.CloseRead()
	}
	return fmt.Errorf("proxyproto: %T has no CloseRead", c.conn)
}
