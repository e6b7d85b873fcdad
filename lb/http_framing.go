package lb

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
)

// framingListener wraps plain HTTP/1 connections in a framingConn.
type framingListener struct{ net.Listener }

func (l *framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framingConn{Conn: c}, nil
}

// framingConn follows the HTTP/1 message framing of the bytes the server
// reads, to find requests that carry both Content-Length and
// Transfer-Encoding. Go's server honours Transfer-Encoding and silently
// drops Content-Length (RFC 9112 §6.3 allows it); ALB's desync mitigation
// rejects such requests, and so does the listener, which needs this
// because the dropped header leaves no trace on the http.Request.
//
// It reads nothing itself: it watches Read results. It stops watching a
// connection that turns to HTTP/2 (preface) or asks for an Upgrade, whose
// bytes after the request are not HTTP/1 messages.
type framingConn struct {
	net.Conn

	mu sync.Mutex // Read may run on the server's background-read goroutine
	fr framer

	nAmbiguous atomic.Int32 // fast path: zero means nothing to look up
	served     atomic.Uint64
}

func (c *framingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if c.fr.feed(p[:n]) {
			c.nAmbiguous.Add(1)
		}
		c.mu.Unlock()
	}
	return n, err
}

// ambiguous reports whether the next request handed to the handler (in
// order) was ambiguous. It must be called once per HTTP/1 request.
func (c *framingConn) ambiguous() bool {
	i := c.served.Add(1) - 1
	if c.nAmbiguous.Load() == 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.fr.ambiguous {
		if a == i {
			return true
		}
	}
	return false
}

type framerState uint8

const (
	fsHead      framerState = iota // request line and headers
	fsBody                         // Content-Length bytes left
	fsChunkSize                    // chunk-size line
	fsChunkData                    // chunk bytes left, then CRLF
	fsTrailer                      // trailer lines until an empty one
	fsOff                          // not HTTP/1 any more
)

// framer is the incremental HTTP/1 request framing parser.
type framer struct {
	state     framerState
	line      []byte // current line, capped (only names and numbers matter)
	lineLen   int    // full length of the current line
	first     bool   // the current line is the request line
	started   bool
	hasCL     bool
	hasTE     bool
	chunked   bool
	upgrade   bool
	cl        int64
	left      int64 // body or chunk bytes left (+2 for a chunk's CRLF)
	requests  uint64
	ambiguous []uint64
}

const framerLineCap = 64

// feed consumes bytes and reports whether a request head completed in them
// was ambiguous.
func (f *framer) feed(b []byte) (found bool) {
	if !f.started {
		f.started, f.first = true, true
	}
	for len(b) > 0 {
		switch f.state {
		case fsOff:
			return found
		case fsBody, fsChunkData:
			n := min(int64(len(b)), f.left)
			f.left -= n
			b = b[n:]
			if f.left == 0 {
				if f.state == fsBody {
					f.nextRequest()
				} else {
					f.state = fsChunkSize
				}
			}
		default: // line-oriented states
			i := bytes.IndexByte(b, '\n')
			chunk := b
			if i >= 0 {
				chunk = b[:i]
			}
			if room := framerLineCap - len(f.line); room > 0 {
				f.line = append(f.line, chunk[:min(room, len(chunk))]...)
			}
			f.lineLen += len(chunk)
			if i < 0 {
				return found
			}
			b = b[i+1:]
			line := bytes.TrimSuffix(f.line, []byte("\r"))
			empty := f.lineLen == 0 || (f.lineLen == 1 && len(line) == 0)
			if f.endLine(line, empty) {
				found = true
			}
			f.line, f.lineLen = f.line[:0], 0
		}
	}
	return found
}

// endLine handles one complete line; it reports an ambiguous request head.
func (f *framer) endLine(line []byte, empty bool) bool {
	switch f.state {
	case fsHead:
		if f.first {
			if empty {
				return false // RFC 9112 §2.2: ignore empty lines before a request
			}
			f.first = false
			if bytes.HasPrefix(line, []byte("PRI * HTTP/2")) {
				f.state = fsOff
			}
			return false
		}
		if !empty {
			name, value, ok := bytes.Cut(line, []byte(":"))
			if !ok {
				return false
			}
			value = bytes.TrimSpace(value)
			switch {
			case bytes.EqualFold(name, []byte("content-length")):
				f.hasCL = true
				f.cl = parseDec(value)
			case bytes.EqualFold(name, []byte("transfer-encoding")):
				f.hasTE = true
				f.chunked = bytes.HasSuffix(bytes.ToLower(value), []byte("chunked"))
			case bytes.EqualFold(name, []byte("upgrade")):
				f.upgrade = true
			}
			return false
		}
		amb := f.hasCL && f.hasTE
		if amb {
			f.ambiguous = append(f.ambiguous, f.requests)
		}
		f.requests++
		switch {
		case f.upgrade:
			f.state = fsOff
		case f.chunked:
			f.state = fsChunkSize
		case f.hasTE:
			f.state = fsOff // Go answers 501 and closes
		case f.cl > 0:
			f.state, f.left = fsBody, f.cl
		default:
			f.nextRequest()
		}
		return amb
	case fsChunkSize:
		size := parseHex(line)
		if size < 0 {
			f.state = fsOff // malformed: Go fails the request and closes
		} else if size == 0 {
			f.state = fsTrailer
		} else {
			f.state, f.left = fsChunkData, size+2
		}
	case fsTrailer:
		if empty {
			f.nextRequest()
		}
	}
	return false
}

func (f *framer) nextRequest() {
	f.state, f.first = fsHead, true
	f.hasCL, f.hasTE, f.chunked, f.upgrade, f.cl, f.left = false, false, false, false, 0, 0
}

func parseDec(b []byte) int64 {
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' || n > 1<<40 {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// parseHex parses a chunk-size (extensions after ';' ignored); -1 if bad.
func parseHex(b []byte) int64 {
	if i := bytes.IndexByte(b, ';'); i >= 0 {
		b = b[:i]
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || len(b) > 15 {
		return -1
	}
	var n int64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | int64(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | int64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | int64(c-'A'+10)
		default:
			return -1
		}
	}
	return n
}
