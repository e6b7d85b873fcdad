package elb

import (
	"net/http"
	"net/netip"
	"net/textproto"
	"slices"
	"strings"
)

// Headers gives rule evaluation the values of a request header. name is in
// canonical MIME form (textproto.CanonicalMIMEHeaderKey); an implementation
// that keeps other spellings must look names up case-insensitively.
// http.Header implements it.
type Headers interface {
	Values(name string) []string
}

var _ Headers = http.Header(nil)

// Request is the view of an HTTP request that rule evaluation reads. It is
// a plain struct so that a data plane can fill it from whatever it parsed,
// without building an *http.Request; Router.RouteHTTP fills it from one.
type Request struct {
	// Method is the request method, matched case-sensitively.
	Method string
	// Host is the Host header (or :authority), with or without a port;
	// the port is ignored.
	Host string
	// Path is the URL path as sent, without the query string.
	Path string
	// RawQuery is the query string as sent, without "?"; keys and values
	// are percent-decoded before matching.
	RawQuery string
	// Header holds the request headers; nil means none.
	Header Headers
	// SourceIP is the client address of the connection (or the one a
	// PROXY protocol header carried) — never X-Forwarded-For.
	SourceIP netip.Addr
}

// Match is the outcome of evaluating a request: the rule that matched and
// its actions, or the listener's default actions.
type Match struct {
	// Rule is the matching rule, nil when the default actions apply.
	Rule *Rule
	// Actions are the actions to run, in Order; the last is terminal.
	// The slice belongs to the Router: do not modify it.
	Actions []Action
}

// Default reports whether no rule matched and the listener's default
// actions apply.
func (m Match) Default() bool { return m.Rule == nil }

// Action returns the terminal action (forward, redirect or fixed-response),
// or nil for a zero Match.
func (m Match) Action() *Action {
	if len(m.Actions) == 0 {
		return nil
	}
	return &m.Actions[len(m.Actions)-1]
}

// Router evaluates requests against a listener's rules with ALB's
// semantics. It is immutable and safe for concurrent use; build a new one
// when the listener changes (and swap it atomically in a data plane).
type Router struct {
	rules []compiledRule
	def   []Action
}

type compiledRule struct {
	rule    *Rule
	actions []Action
	conds   []compiledCond
}

type compiledCond struct {
	field    ConditionField
	header   string // canonical header name (http-header)
	pats     []pattern
	methods  []string
	prefixes []netip.Prefix
	qs       []queryPattern
}

type queryPattern struct {
	key    pattern
	hasKey bool
	value  pattern
}

// fieldCost orders a rule's conditions so the cheapest and most selective
// run first; conditions are ANDed, so the order does not change the result.
var fieldCost = map[ConditionField]int{
	FieldHTTPRequestMethod: 0,
	FieldSourceIP:          1,
	FieldHostHeader:        2,
	FieldPathPattern:       3,
	FieldHTTPHeader:        4,
	FieldQueryString:       5,
}

// NewRouter compiles the rules of l. Rules are ordered by ascending
// Priority (rules with equal priorities, which Validate rejects, keep their
// order); the default actions come last. It returns ErrUnroutable for an
// NLB listener and for a listener without a terminal default action, and
// an *Error for a condition it cannot compile (a bad CIDR or an unknown
// field). It does not otherwise validate: run Validate first.
func NewRouter(l *Listener) (*Router, error) {
	switch l.Protocol {
	case ProtocolTCP, ProtocolTLS, ProtocolUDP, ProtocolTCPUDP:
		return nil, ErrUnroutable
	}
	def := orderedActions(l.DefaultActions)
	if len(def) == 0 || !def[len(def)-1].Type.Terminal() {
		return nil, ErrUnroutable
	}
	rt := &Router{def: def}
	for _, r := range l.Rules {
		cr := compiledRule{rule: r, actions: orderedActions(r.Actions)}
		for ci, c := range r.Conditions {
			cc, err := compileCondition(c)
			if err != nil {
				err.Path = "rules[priority " + itoa(r.Priority) + "].conditions[" + itoa(ci) + "]" + err.Path
				return nil, err
			}
			cr.conds = append(cr.conds, cc)
		}
		slices.SortStableFunc(cr.conds, func(a, b compiledCond) int { return fieldCost[a.field] - fieldCost[b.field] })
		rt.rules = append(rt.rules, cr)
	}
	slices.SortStableFunc(rt.rules, func(a, b compiledRule) int { return a.rule.Priority - b.rule.Priority })
	return rt, nil
}

// Terminal reports whether actions of type t end a rule (forward, redirect,
// fixed-response).
func (t ActionType) Terminal() bool {
	return t == ActionForward || t == ActionRedirect || t == ActionFixedResponse
}

// orderedActions copies actions sorted by Order (stable, so unordered
// actions keep their positions).
func orderedActions(in []Action) []Action {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b Action) int { return a.Order - b.Order })
	return out
}

func compileCondition(c Condition) (compiledCond, *Error) {
	cc := compiledCond{field: c.Field}
	switch c.Field {
	case FieldHostHeader:
		for _, v := range c.Values {
			cc.pats = append(cc.pats, compilePattern(v, true, false))
		}
	case FieldPathPattern:
		for _, v := range c.Values {
			cc.pats = append(cc.pats, compilePattern(v, false, false))
		}
	case FieldHTTPHeader:
		cc.header = textproto.CanonicalMIMEHeaderKey(c.HTTPHeaderName)
		for _, v := range c.Values {
			cc.pats = append(cc.pats, compilePattern(v, true, false))
		}
	case FieldHTTPRequestMethod:
		cc.methods = slices.Clone(c.Values)
	case FieldSourceIP:
		for i, v := range c.Values {
			p, err := netip.ParsePrefix(v)
			if err != nil {
				return cc, &Error{Path: ".values[" + itoa(i) + "]", Code: CodeValidationError, Message: "The source IP '" + v + "' is not a valid CIDR block"}
			}
			cc.prefixes = append(cc.prefixes, p.Masked())
		}
	case FieldQueryString:
		for _, kv := range c.QueryStrings {
			cc.qs = append(cc.qs, queryPattern{
				key:    compilePattern(kv.Key, true, true),
				hasKey: kv.Key != "",
				value:  compilePattern(kv.Value, true, true),
			})
		}
	default:
		return cc, &Error{Path: ".field", Code: CodeValidationError, Message: "Condition field '" + string(c.Field) + "' is not supported"}
	}
	return cc, nil
}

// Route returns the first rule, in ascending priority, whose conditions
// all match req, or the default actions. It does not allocate (query
// values longer than 512 bytes that need percent-decoding excepted) and
// does not retain req.
func (rt *Router) Route(req *Request) Match {
	host := hostOnly(req.Host)
	for i := range rt.rules {
		r := &rt.rules[i]
		if r.matches(req, host) {
			return Match{Rule: r.rule, Actions: r.actions}
		}
	}
	return Match{Actions: rt.def}
}

// RouteHTTP evaluates r: its method, Host, escaped path, raw query,
// headers and the address in RemoteAddr. It does not allocate.
func (rt *Router) RouteHTTP(r *http.Request) Match {
	req := Request{Method: r.Method, Host: r.Host, Header: r.Header}
	if r.URL != nil {
		req.Path = r.URL.RawPath
		if req.Path == "" {
			req.Path = r.URL.Path
		}
		req.RawQuery = r.URL.RawQuery
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		req.SourceIP = ap.Addr()
	} else if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		req.SourceIP = a
	}
	return rt.Route(&req)
}

// Len returns the number of rules, the default excluded.
func (rt *Router) Len() int { return len(rt.rules) }

func (r *compiledRule) matches(req *Request, host string) bool {
	for i := range r.conds {
		if !r.conds[i].matches(req, host) {
			return false
		}
	}
	return true
}

func (c *compiledCond) matches(req *Request, host string) bool {
	switch c.field {
	case FieldHTTPRequestMethod:
		for _, m := range c.methods {
			if m == req.Method {
				return true
			}
		}
		return false
	case FieldSourceIP:
		if !req.SourceIP.IsValid() {
			return false
		}
		ip := req.SourceIP.Unmap()
		for _, p := range c.prefixes {
			if p.Contains(ip) {
				return true
			}
		}
		return false
	case FieldHostHeader:
		return matchAny(c.pats, host)
	case FieldPathPattern:
		return matchAny(c.pats, req.Path)
	case FieldHTTPHeader:
		if req.Header == nil {
			return false
		}
		for _, v := range req.Header.Values(c.header) {
			if matchAny(c.pats, v) {
				return true
			}
		}
		return false
	case FieldQueryString:
		return c.matchQuery(req.RawQuery)
	}
	return false
}

// matchQuery reports whether one key=value pair of the query matches one of
// the condition's patterns. Pairs are separated by "&"; a pair without "="
// has an empty value.
func (c *compiledCond) matchQuery(q string) bool {
	var kbuf, vbuf [256]byte
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		kd, kok := unescapeInto(kbuf[:0], k)
		vd, vok := unescapeInto(vbuf[:0], v)
		for i := range c.qs {
			p := &c.qs[i]
			if p.hasKey && !matchMaybeDecoded(&p.key, k, kd, kok) {
				continue
			}
			if matchMaybeDecoded(&p.value, v, vd, vok) {
				return true
			}
		}
	}
	return false
}

func matchMaybeDecoded(p *pattern, raw string, decoded []byte, wasEncoded bool) bool {
	if wasEncoded {
		return globMatch(p, decoded)
	}
	return globMatch(p, raw)
}

// unescapeInto percent-decodes s into buf when s has escapes (and reports
// true); invalid escapes stay as they are. It allocates only when the
// result does not fit in buf.
func unescapeInto(buf []byte, s string) ([]byte, bool) {
	if strings.IndexByte(s, '%') < 0 {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]) {
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		buf = append(buf, c)
	}
	return buf, true
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// hostOnly strips a port from a Host header: "a.example.com:8080" →
// "a.example.com", "[::1]:80" → "[::1]".
func hostOnly(h string) string {
	i := strings.LastIndexByte(h, ':')
	if i < 0 {
		return h
	}
	if strings.IndexByte(h, ']') > i || (h[0] != '[' && strings.IndexByte(h[:i], ':') >= 0) {
		return h // an IPv6 literal without a port
	}
	return h[:i]
}
