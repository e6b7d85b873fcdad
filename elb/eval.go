package elb

import (
	"math/bits"
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
//
// Layout, for speed on the request path: rules repeat conditions (one host
// with many paths), so the router keeps each distinct condition once, and a
// rule is a list of condition ids; Route evaluates a distinct condition at
// most once per request. An exact-host index skips the rules that name
// other hosts.
type Router struct {
	rules []compiledRule // in ascending priority
	ids   []uint16       // condition ids of every rule, rule after rule
	conds []compiledCond // distinct conditions
	def   []Action
	// headers are the distinct header names the rules read; conditions
	// refer to them by index so each header is looked up once per request.
	headers []string
	// Exact-host index: a rule whose host-header condition has only exact
	// values can match only those hosts. indexed is false when there are
	// more than maxIndexedRules rules.
	indexed bool
	hostAny ruleSet            // rules that can match any host
	hostIdx map[string]ruleSet // lower-cased host → rules naming it
	// Exact-value indexes of http-header conditions, one per header name.
	hdrIdx []headerIndex
}

// headerIndex is the exact-value index of one header: a rule with an
// http-header condition on it whose values are all exact can match only
// requests carrying one of those values.
type headerIndex struct {
	hidx    int                // index into Router.headers
	any     ruleSet            // rules that do not constrain the header so
	byValue map[string]ruleSet // lower-cased value → rules naming it
}

func (s *ruleSet) intersect(o *ruleSet) {
	for i := range s {
		s[i] &= o[i]
	}
}

// maxIndexedRules bounds the exact-host index (AWS allows 100 rules per
// load balancer; the index covers more than that).
const maxIndexedRules = 256

// ruleSet is a bitset over positions in Router.rules.
type ruleSet [maxIndexedRules / 64]uint64

func (s *ruleSet) add(i int) { s[i>>6] |= 1 << (i & 63) }
func (s *ruleSet) union(o *ruleSet) {
	for i := range s {
		s[i] |= o[i]
	}
}

type compiledRule struct {
	// n and inline hold the rule's condition ids when there are at most
	// len(inline) (AWS allows 5 condition values, so always in practice),
	// keeping a rule's data in one cache line; otherwise n is 0 and they
	// are Router.ids[start:end].
	n          uint8
	inline     [7]uint16
	start, end uint32
	rule       *Rule
	actions    []Action
}

// condIDs returns the rule's condition ids.
func (rt *Router) condIDs(r *compiledRule) []uint16 {
	if r.n > 0 {
		return r.inline[:r.n]
	}
	return rt.ids[r.start:r.end]
}

// condKind is a condition field as a small integer, in evaluation order:
// cheap and selective conditions first.
type condKind uint8

const (
	kindSourceIP condKind = iota
	kindHost
	kindPath
	kindMethod
	kindHeader
	kindQuery
)

type compiledCond struct {
	kind condKind
	// memo is the condition's slot in the per-request result cache, or -1:
	// only conditions that several rules share are cached, as caching a
	// condition evaluated once costs more than it saves.
	memo int16
	// nq > 0 enables a prefilter for host and path conditions: the input
	// can match only if its first 8 bytes, masked by qm[i], equal qw[i]
	// for some i (each value's literal prefix). It rejects most
	// non-matching rules without calling the matcher.
	nq       uint8
	qw, qm   [MaxValuesPerCondition]uint64
	field    ConditionField
	header   string // canonical header name (http-header)
	hidx     int    // index of header in Router.headers
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

// maxConds bounds the distinct conditions of one router: ids are uint16.
// AWS's quotas (100 rules, 5 condition values each) stay far below.
const maxConds = 1 << 16

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
	type pending struct {
		rule *Rule
		ids  []uint16
	}
	var rules []pending
	byKey := map[string]uint16{}
	for _, r := range l.Rules {
		if r == nil {
			continue
		}
		pr := pending{rule: r}
		for ci, c := range r.Conditions {
			key := condKey(c)
			id, ok := byKey[key]
			if !ok {
				cc, err := compileCondition(c)
				if err != nil {
					err.Path = "rules[priority " + itoa(r.Priority) + "].conditions[" + itoa(ci) + "]" + err.Path
					return nil, err
				}
				if len(rt.conds) >= maxConds {
					return nil, &Error{Path: "rules", Code: CodeTooManyRules, Message: "Too many distinct conditions to compile"}
				}
				if cc.kind == kindHost {
					for i := range cc.pats {
						cc.pats[i].fold = false // the request host is lower-cased once in Route
					}
				}
				cc.buildPrefilter()
				if cc.kind == kindHeader {
					cc.hidx = slices.Index(rt.headers, cc.header)
					if cc.hidx < 0 {
						cc.hidx = len(rt.headers)
						rt.headers = append(rt.headers, cc.header)
					}
				}
				id = uint16(len(rt.conds))
				rt.conds = append(rt.conds, cc)
				byKey[key] = id
			}
			pr.ids = append(pr.ids, id)
		}
		slices.SortStableFunc(pr.ids, func(a, b uint16) int { return int(rt.conds[a].kind) - int(rt.conds[b].kind) })
		rules = append(rules, pr)
	}
	slices.SortStableFunc(rules, func(a, b pending) int { return a.rule.Priority - b.rule.Priority })
	uses := make([]int, len(rt.conds))
	for _, pr := range rules {
		for _, id := range pr.ids {
			uses[id]++
		}
	}
	slots := 0
	for id := range rt.conds {
		rt.conds[id].memo = -1
		if uses[id] > 1 && slots < maxMemo {
			rt.conds[id].memo = int16(slots)
			slots++
		}
	}
	for _, pr := range rules {
		cr := compiledRule{rule: pr.rule, actions: orderedActions(pr.rule.Actions)}
		if len(pr.ids) > 0 && len(pr.ids) <= len(cr.inline) {
			cr.n = uint8(copy(cr.inline[:], pr.ids))
		} else {
			cr.start = uint32(len(rt.ids))
			rt.ids = append(rt.ids, pr.ids...)
			cr.end = uint32(len(rt.ids))
		}
		rt.rules = append(rt.rules, cr)
	}
	rt.buildHostIndex()
	return rt, nil
}

// exactValues returns the literal values of a condition whose patterns are
// all exact, or nil.
func exactValues(c *compiledCond) []string {
	var out []string
	for _, p := range c.pats {
		if p.kind != kindExact {
			return nil
		}
		out = append(out, p.lit)
	}
	return out
}

func (rt *Router) buildHeaderIndexes() {
	for h := range rt.headers {
		hi := headerIndex{hidx: h, byValue: map[string]ruleSet{}}
		constrained := false
		for i, r := range rt.rules {
			var exact []string
			for _, id := range rt.condIDs(&r) {
				c := &rt.conds[id]
				if c.kind == kindHeader && c.hidx == h {
					if exact = exactValues(c); exact != nil {
						break
					}
				}
			}
			if exact == nil {
				hi.any.add(i)
				continue
			}
			constrained = true
			for _, v := range exact {
				set := hi.byValue[v]
				set.add(i)
				hi.byValue[v] = set
			}
		}
		if constrained {
			rt.hdrIdx = append(rt.hdrIdx, hi)
		}
	}
}

func (rt *Router) buildHostIndex() {
	if len(rt.rules) > maxIndexedRules {
		return
	}
	rt.indexed = true
	rt.buildHeaderIndexes()
	rt.hostIdx = map[string]ruleSet{}
	for i, r := range rt.rules {
		var exact []string
		for _, id := range rt.condIDs(&r) {
			c := &rt.conds[id]
			if c.kind != kindHost {
				continue
			}
			exact = []string{}
			for _, p := range c.pats {
				if p.kind != kindExact {
					exact = nil
					break
				}
				exact = append(exact, p.lit)
			}
		}
		if exact == nil {
			rt.hostAny.add(i)
			continue
		}
		for _, h := range exact {
			set := rt.hostIdx[h]
			set.add(i)
			rt.hostIdx[h] = set
		}
	}
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
		cc.kind = kindHost
		for _, v := range c.Values {
			cc.pats = append(cc.pats, compilePattern(v, true, false))
		}
	case FieldPathPattern:
		cc.kind = kindPath
		for _, v := range c.Values {
			cc.pats = append(cc.pats, compilePattern(v, false, false))
		}
	case FieldHTTPHeader:
		cc.kind = kindHeader
		cc.header = textproto.CanonicalMIMEHeaderKey(c.HTTPHeaderName)
		for _, v := range c.Values {
			cc.pats = append(cc.pats, compilePattern(v, true, false))
		}
	case FieldHTTPRequestMethod:
		cc.kind = kindMethod
		cc.methods = slices.Clone(c.Values)
	case FieldSourceIP:
		cc.kind = kindSourceIP
		for i, v := range c.Values {
			p, err := netip.ParsePrefix(v)
			if err != nil {
				return cc, &Error{Path: ".values[" + itoa(i) + "]", Code: CodeValidationError, Message: "The source IP '" + v + "' is not a valid CIDR block"}
			}
			cc.prefixes = append(cc.prefixes, p.Masked())
		}
	case FieldQueryString:
		cc.kind = kindQuery
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

// buildPrefilter sets up the literal-prefix prefilter of a host or path
// condition whose every value starts with at least one literal byte.
func (c *compiledCond) buildPrefilter() {
	if (c.kind != kindHost && c.kind != kindPath) || len(c.pats) == 0 || len(c.pats) > len(c.qw) {
		return
	}
	for i := range c.pats {
		p := &c.pats[i]
		var w, m uint64
		for j := 0; j < 8 && j < len(p.text); j++ {
			if p.wild != nil && p.wild[j] {
				break
			}
			w |= uint64(p.text[j]) << (8 * j)
			m |= 0xff << (8 * j)
		}
		if m == 0 {
			return // a value starting with a wildcard: no prefilter
		}
		c.qw[i], c.qm[i] = w, m
	}
	c.nq = uint8(len(c.pats))
}

// word8 packs the first (up to) 8 bytes of s, little-endian.
func word8[S text](s S) uint64 {
	var w uint64
	for j := 0; j < 8 && j < len(s); j++ {
		w |= uint64(s[j]) << (8 * j)
	}
	return w
}

// prefilter reports whether the condition may match: false means it
// certainly does not.
func (c *compiledCond) prefilter(ctx *evalCtx) bool {
	w := ctx.pathWord
	if c.kind == kindHost {
		w = ctx.hostWord
	}
	for i := uint8(0); i < c.nq; i++ {
		if w&c.qm[i] == c.qw[i] {
			return true
		}
	}
	return false
}

// condKey identifies a condition by what it matches.
func condKey(c Condition) string {
	var b strings.Builder
	b.WriteString(string(c.Field))
	b.WriteByte(0)
	b.WriteString(textproto.CanonicalMIMEHeaderKey(c.HTTPHeaderName))
	for _, v := range c.Values {
		b.WriteByte(0)
		b.WriteString(v)
	}
	for _, kv := range c.QueryStrings {
		b.WriteByte(0)
		b.WriteString(kv.Key)
		b.WriteByte(1)
		b.WriteString(kv.Value)
	}
	return b.String()
}

// maxCachedHeaders is how many distinct header names Route caches per
// request on the stack; conditions on further names look theirs up each
// time.
const maxCachedHeaders = 8

// maxMemo is how many shared conditions Route remembers results for;
// further ones are evaluated each time they are reached.
const maxMemo = 512

// evalCtx is what Route derives from a request once: the lower-cased host
// without port, the unmapped source address, the header values read so
// far and the results of the conditions evaluated so far. It lives on
// Route's stack.
type evalCtx struct {
	req     *Request
	host    string
	hostLen int // >= 0: the lowered host is hostBuf[:hostLen]; -1: use host
	src     netip.Addr
	// pathWord and hostWord are the first 8 bytes of the path and of the
	// lower-cased host, for compiledCond.prefilter.
	pathWord, hostWord uint64
	headers            []string
	hdrDone            [maxCachedHeaders]bool
	hdrVals            [maxCachedHeaders][]string
	// known and result are bitsets over condition ids.
	known, result [maxMemo / 64]uint64
	hostBuf       [256]byte
}

// Route returns the first rule, in ascending priority, whose conditions
// all match req, or the default actions. It does not allocate (a Host
// longer than 256 bytes with upper-case letters, and query parts longer
// than 256 bytes that need percent-decoding, excepted) and does not retain
// req.
func (rt *Router) Route(req *Request) Match {
	var ctx evalCtx
	ctx.req = req
	ctx.headers = rt.headers
	ctx.host = hostOnly(req.Host)
	ctx.hostLen = -1
	if hasUpper(ctx.host) {
		if len(ctx.host) <= len(ctx.hostBuf) {
			for i := 0; i < len(ctx.host); i++ {
				ctx.hostBuf[i] = lower(ctx.host[i])
			}
			ctx.hostLen = len(ctx.host)
		} else {
			ctx.host = strings.ToLower(ctx.host)
		}
	}
	ctx.src = req.SourceIP.Unmap()
	ctx.pathWord = word8(req.Path)
	if ctx.hostLen >= 0 {
		ctx.hostWord = word8(ctx.hostBuf[:ctx.hostLen])
	} else {
		ctx.hostWord = word8(ctx.host)
	}
	if !rt.indexed {
		for i := range rt.rules {
			if rt.ruleMatches(i, &ctx) {
				return Match{Rule: rt.rules[i].rule, Actions: rt.rules[i].actions}
			}
		}
		return Match{Actions: rt.def}
	}
	cand := rt.hostAny
	var named ruleSet
	var ok bool
	if ctx.hostLen >= 0 {
		named, ok = rt.hostIdx[string(ctx.hostBuf[:ctx.hostLen])]
	} else {
		named, ok = rt.hostIdx[ctx.host]
	}
	if ok {
		cand.union(&named)
	}
	for i := range rt.hdrIdx {
		rt.hdrIdx[i].filter(&cand, &ctx)
	}
	for w, bits := range cand {
		for bits != 0 {
			i := w<<6 + bits64(bits)
			bits &= bits - 1
			if rt.ruleMatches(i, &ctx) {
				return Match{Rule: rt.rules[i].rule, Actions: rt.rules[i].actions}
			}
		}
	}
	return Match{Actions: rt.def}
}

// filter removes from cand the rules whose exact header values the
// request does not carry.
func (hi *headerIndex) filter(cand *ruleSet, ctx *evalCtx) {
	keep := hi.any
	var buf [MaxPatternLength]byte
	for _, v := range ctx.headerValues(hi.hidx) {
		if len(v) > len(buf) {
			continue // longer than any pattern: no exact value matches
		}
		for j := 0; j < len(v); j++ {
			buf[j] = lower(v[j])
		}
		if set, ok := hi.byValue[string(buf[:len(v)])]; ok {
			keep.union(&set)
		}
	}
	cand.intersect(&keep)
}

// ruleMatches evaluates rule i, reusing condition results of this request.
func (rt *Router) ruleMatches(i int, ctx *evalCtx) bool {
	for _, id := range rt.condIDs(&rt.rules[i]) {
		c := &rt.conds[id]
		if c.memo < 0 {
			if (c.nq > 0 && !c.prefilter(ctx)) || !c.matches(ctx) {
				return false
			}
			continue
		}
		w, bit := c.memo>>6, uint64(1)<<(c.memo&63)
		if ctx.known[w]&bit == 0 {
			ctx.known[w] |= bit
			if (c.nq == 0 || c.prefilter(ctx)) && c.matches(ctx) {
				ctx.result[w] |= bit
			}
		}
		if ctx.result[w]&bit == 0 {
			return false
		}
	}
	return true
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
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

func (c *compiledCond) matches(ctx *evalCtx) bool {
	switch c.kind {
	case kindMethod:
		m := ctx.req.Method
		for _, x := range c.methods {
			if x == m {
				return true
			}
		}
		return false
	case kindSourceIP:
		if !ctx.src.IsValid() {
			return false
		}
		for _, p := range c.prefixes {
			if p.Contains(ctx.src) {
				return true
			}
		}
		return false
	case kindHost:
		if ctx.hostLen >= 0 {
			return matchAny(c.pats, ctx.hostBuf[:ctx.hostLen])
		}
		return matchAny(c.pats, ctx.host)
	case kindPath:
		return matchAny(c.pats, ctx.req.Path)
	case kindHeader:
		for _, v := range ctx.headerValues(c.hidx) {
			if matchAny(c.pats, v) {
				return true
			}
		}
		return false
	case kindQuery:
		return c.matchQuery(ctx.req.RawQuery)
	}
	return false
}

// headerValues returns the values of header i, looked up once per request.
func (ctx *evalCtx) headerValues(i int) []string {
	h := ctx.req.Header
	if h == nil {
		return nil
	}
	if i >= maxCachedHeaders {
		return h.Values(ctx.headers[i])
	}
	if !ctx.hdrDone[i] {
		ctx.hdrVals[i] = h.Values(ctx.headers[i])
		ctx.hdrDone[i] = true
	}
	return ctx.hdrVals[i]
}

// matchQuery reports whether one key=value pair of the query matches one of
// the condition's patterns. Pairs are separated by "&"; a pair without "="
// has an empty value.
func (c *compiledCond) matchQuery(q string) bool {
	if strings.IndexByte(q, '%') >= 0 {
		return c.matchQueryDecoded(q)
	}
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		for i := range c.qs {
			p := &c.qs[i]
			if (!p.hasKey || p.key.match(k)) && p.value.match(v) {
				return true
			}
		}
	}
	return false
}

// matchQueryDecoded is matchQuery for a query with percent-escapes: each
// key and value is decoded into a stack buffer before matching.
func (c *compiledCond) matchQueryDecoded(q string) bool {
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

func bits64(x uint64) int { return bits.TrailingZeros64(x) }
