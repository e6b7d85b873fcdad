package lb

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/url"
)

// Fast paths for the common HTTP/1.x messages a proxy sees on every request:
// a body-less request and a response framed by Content-Length. They parse a
// head that is already buffered in full, with one string for the whole head
// (values are substrings of it), interned names for common header fields and
// one backing array for all values, instead of net/http's per-line strings
// and readers. They are conservative: anything unusual (bodies on requests,
// chunked or close-delimited responses, obs-fold, control bytes, escapes in
// the path, duplicate framing fields, HTTP/1.0 responses, 1xx/204/304, HEAD)
// makes them decline, and the caller parses the same buffered bytes with
// net/http, so behaviour and error handling stay net/http's.

// headEnd returns the length of the head (through CRLFCRLF) buffered in buf,
// or -1.
func headEnd(buf []byte) int {
	i := bytes.Index(buf, crlfcrlf)
	if i < 0 {
		return -1
	}
	return i + 4
}

// internField returns the canonical name b spells as a constant string,
// without allocating, for common header fields; ok is false for others.
// (A switch on string(b) neither allocates nor hashes.)
func internField(b []byte) (string, bool) {
	switch string(b) {
	case "Accept":
		return "Accept", true
	case "Accept-Charset":
		return "Accept-Charset", true
	case "Accept-Encoding":
		return "Accept-Encoding", true
	case "Accept-Language":
		return "Accept-Language", true
	case "Accept-Ranges":
		return "Accept-Ranges", true
	case "Access-Control-Allow-Origin":
		return "Access-Control-Allow-Origin", true
	case "Age":
		return "Age", true
	case "Authorization":
		return "Authorization", true
	case "Cache-Control":
		return "Cache-Control", true
	case "Connection":
		return "Connection", true
	case "Content-Encoding":
		return "Content-Encoding", true
	case "Content-Language":
		return "Content-Language", true
	case "Content-Length":
		return "Content-Length", true
	case "Content-Type":
		return "Content-Type", true
	case "Cookie":
		return "Cookie", true
	case "Date":
		return "Date", true
	case "Dnt":
		return "Dnt", true
	case "Etag":
		return "Etag", true
	case "Expect":
		return "Expect", true
	case "Expires":
		return "Expires", true
	case "Host":
		return "Host", true
	case "If-Match":
		return "If-Match", true
	case "If-Modified-Since":
		return "If-Modified-Since", true
	case "If-None-Match":
		return "If-None-Match", true
	case "Keep-Alive":
		return "Keep-Alive", true
	case "Last-Modified":
		return "Last-Modified", true
	case "Location":
		return "Location", true
	case "Origin":
		return "Origin", true
	case "Pragma":
		return "Pragma", true
	case "Proxy-Connection":
		return "Proxy-Connection", true
	case "Range":
		return "Range", true
	case "Referer":
		return "Referer", true
	case "Sec-Fetch-Dest":
		return "Sec-Fetch-Dest", true
	case "Sec-Fetch-Mode":
		return "Sec-Fetch-Mode", true
	case "Sec-Fetch-Site":
		return "Sec-Fetch-Site", true
	case "Server":
		return "Server", true
	case "Set-Cookie":
		return "Set-Cookie", true
	case "Strict-Transport-Security":
		return "Strict-Transport-Security", true
	case "Te":
		return "Te", true
	case "Trailer":
		return "Trailer", true
	case "Transfer-Encoding":
		return "Transfer-Encoding", true
	case "Upgrade":
		return "Upgrade", true
	case "Upgrade-Insecure-Requests":
		return "Upgrade-Insecure-Requests", true
	case "User-Agent":
		return "User-Agent", true
	case "Vary":
		return "Vary", true
	case "Via":
		return "Via", true
	case "X-Amzn-Trace-Id":
		return "X-Amzn-Trace-Id", true
	case "X-Content-Type-Options":
		return "X-Content-Type-Options", true
	case "X-Forwarded-For":
		return "X-Forwarded-For", true
	case "X-Forwarded-Port":
		return "X-Forwarded-Port", true
	case "X-Forwarded-Proto":
		return "X-Forwarded-Proto", true
	case "X-Frame-Options":
		return "X-Frame-Options", true
	case "X-Request-Id":
		return "X-Request-Id", true
	}
	return "", false
}

// tokenTable marks the bytes allowed in a field name (RFC 9110 tchar).
var tokenTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// pathTable marks the bytes url.URL keeps as they are in a path (so Path
// is the raw text and RawPath stays empty). '%' is not among them: escapes
// go to net/http.
var pathTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-._~$&+,;=:@/" {
		t[c] = true
	}
	return t
}()

// parseFields parses the header fields of head (the lines after the start
// line, ending with the empty line) into a new http.Header; ok is false
// for anything the fast path does not handle.
func parseFields(head string) (h http.Header, ok bool) {
	n := 0
	for i := 0; i < len(head); i++ {
		if head[i] == '\n' {
			n++
		}
	}
	h = make(http.Header, n)
	strs := make([]string, n)
	var kb [64]byte
	var seen [16]string
	nseen := 0
	for len(head) > 2 {
		eol := indexCRLF(head)
		if eol <= 0 {
			return nil, false
		}
		line := head[:eol]
		head = head[eol+2:]
		colon := -1
		for i := 0; i < len(line); i++ {
			c := line[i]
			if c == ':' {
				colon = i
				break
			}
			if !tokenTable[c] {
				return nil, false
			}
		}
		if colon <= 0 || colon > len(kb) {
			return nil, false
		}
		upper := true
		for i := 0; i < colon; i++ {
			c := line[i]
			if upper && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			} else if !upper && 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			kb[i] = c
			upper = c == '-'
		}
		key, interned := internField(kb[:colon])
		if !interned {
			key = string(kb[:colon])
		}
		v := line[colon+1:]
		for i := 0; i < len(v); i++ {
			if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
				return nil, false
			}
		}
		for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
			v = v[1:]
		}
		for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
			v = v[:len(v)-1]
		}
		// Duplicates are rare: look for one among the names seen so far
		// (string compares, mostly of interned constants) rather than hash
		// the name twice.
		dup := false
		if nseen < len(seen) {
			for _, k := range seen[:nseen] {
				if k == key {
					dup = true
					break
				}
			}
			if !dup {
				seen[nseen] = key
				nseen++
			}
		} else {
			_, dup = h[key]
		}
		if dup {
			h[key] = append(h[key], v)
		} else if len(strs) > 0 {
			strs[0] = v
			h[key] = strs[:1:1]
			strs = strs[1:]
		} else {
			h[key] = []string{v}
		}
	}
	if head != "\r\n" {
		return nil, false
	}
	return h, true
}

func indexCRLF(s string) int {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\n' {
			return -1 // bare LF
		}
		if s[i] == '\r' {
			if s[i+1] != '\n' {
				return -1 // bare CR
			}
			return i
		}
	}
	return -1
}

// hasToken reports whether the comma-separated values contain token,
// case-insensitively (as httpguts.HeaderValuesContainsToken).
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for len(v) > 0 {
			var f string
			if i := indexByte(v, ','); i >= 0 {
				f, v = v[:i], v[i+1:]
			} else {
				f, v = v, ""
			}
			for len(f) > 0 && (f[0] == ' ' || f[0] == '\t') {
				f = f[1:]
			}
			for len(f) > 0 && (f[len(f)-1] == ' ' || f[len(f)-1] == '\t') {
				f = f[:len(f)-1]
			}
			if asciiEqualFold(f, token) {
				return true
			}
		}
	}
	return false
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// fastMethod returns the constant for a common method, so that the method
// string does not keep the head alive or allocate.
func fastMethod(m string) string {
	switch m {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodHead:
		return http.MethodHead
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodOptions:
		return http.MethodOptions
	case http.MethodPatch:
		return http.MethodPatch
	}
	return ""
}

// readRequestFast parses a body-less request whose head is buffered in br
// in full into a copy of tmpl (which carries the connection's context). ok
// false means br is untouched and the caller must use http.ReadRequest.
func readRequestFast(br *bufio.Reader, tmpl *http.Request, maxHead int) (req *http.Request, ok bool) {
	buf, _ := br.Peek(br.Buffered())
	end := headEnd(buf)
	if end < 0 || end > maxHead {
		return nil, false
	}
	head := string(buf[:end])
	eol := indexCRLF(head)
	if eol < 0 {
		return nil, false
	}
	line := head[:eol]
	sp1 := indexByte(line, ' ')
	if sp1 < 0 {
		return nil, false
	}
	method := fastMethod(line[:sp1])
	rest := line[sp1+1:]
	sp2 := indexByte(rest, ' ')
	if method == "" || sp2 < 0 {
		return nil, false
	}
	target, proto := rest[:sp2], rest[sp2+1:]
	var minor int
	switch proto {
	case "HTTP/1.1":
		minor, proto = 1, "HTTP/1.1"
	case "HTTP/1.0":
		minor, proto = 0, "HTTP/1.0"
	default:
		return nil, false
	}
	if len(target) == 0 || target[0] != '/' || (len(target) > 1 && target[1] == '/') {
		return nil, false
	}
	path, query, hasQuery := target, "", false
	if i := indexByte(target, '?'); i >= 0 {
		path, query, hasQuery = target[:i], target[i+1:], true
	}
	for i := 0; i < len(path); i++ {
		if !pathTable[path[i]] {
			return nil, false
		}
	}
	for i := 0; i < len(query); i++ {
		if c := query[i]; c <= ' ' || c == 0x7f {
			return nil, false
		}
	}
	h, ok := parseFields(head[eol+2:])
	if !ok {
		return nil, false
	}
	// Framing and fields net/http rewrites go the slow path.
	if h["Content-Length"] != nil || h["Transfer-Encoding"] != nil || h["Pragma"] != nil || len(h["Host"]) > 1 {
		return nil, false
	}
	br.Discard(end)
	req = new(http.Request)
	*req = *tmpl
	req.Method = method
	req.URL = &url.URL{Path: path, RawQuery: query, ForceQuery: hasQuery && query == ""}
	req.RequestURI = target
	req.Proto, req.ProtoMajor, req.ProtoMinor = proto, 1, minor
	req.Header = h
	if v := h["Host"]; len(v) > 0 {
		req.Host = v[0]
		delete(h, "Host") // as http.ReadRequest
	}
	conn := h["Connection"]
	req.Close = hasToken(conn, "close") || (minor == 0 && !hasToken(conn, "keep-alive"))
	req.Body = http.NoBody
	return req, true
}

// readResponseFast parses a response to req framed by Content-Length whose
// head is buffered in br. ok false means br is untouched and the caller
// must use http.ReadResponse. The body is read from br by the caller,
// exactly ContentLength bytes.
func readResponseFast(br *bufio.Reader, req *http.Request) (res *http.Response, ok bool) {
	if req.Method == http.MethodHead {
		return nil, false
	}
	buf, _ := br.Peek(br.Buffered())
	end := headEnd(buf)
	if end < 0 {
		return nil, false
	}
	head := string(buf[:end])
	eol := indexCRLF(head)
	// "HTTP/1.1 200 OK": version, code, and a reason that may be empty.
	if eol < 13 || head[:9] != "HTTP/1.1 " || head[12] != ' ' {
		return nil, false
	}
	code := 0
	for i := 9; i < 12; i++ {
		c := head[i]
		if c < '0' || c > '9' {
			return nil, false
		}
		code = code*10 + int(c-'0')
	}
	if code < 200 || code > 599 || code == http.StatusNoContent || code == http.StatusNotModified {
		return nil, false
	}
	for i := 13; i < eol; i++ {
		if c := head[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return nil, false
		}
	}
	h, ok := parseFields(head[eol+2:])
	if !ok {
		return nil, false
	}
	cl := h["Content-Length"]
	if len(cl) != 1 || h["Transfer-Encoding"] != nil || h["Connection"] != nil || h["Pragma"] != nil || h["Trailer"] != nil {
		return nil, false
	}
	n, ok := parseDecimal(cl[0])
	if !ok {
		return nil, false
	}
	br.Discard(end)
	return &http.Response{
		Status:        head[9:eol],
		StatusCode:    code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		ContentLength: n,
		Request:       req,
	}, true
}

func parseDecimal(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// fixedBody reads exactly n bytes of a response body from br and then
// reports io.EOF with the last bytes, as net/http's body does, so that the
// connection goes back to the pool before the proxy writes them out.
type fixedBody struct {
	br   *bufio.Reader
	left int64
}

func (b *fixedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.br.Read(p)
	b.left -= int64(n)
	if b.left == 0 {
		return n, io.EOF
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *fixedBody) Close() error { return nil }
