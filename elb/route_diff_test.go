package elb

import (
	"math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// naiveRoute is the reference for Router.Route: a direct reading of ALB's
// rules with no compilation, index or cache — rules sorted by priority,
// every condition checked with the slow reference matcher.
func naiveRoute(l *Listener, req *Request) *Rule {
	rules := slices.Clone(l.Rules)
	slices.SortStableFunc(rules, func(a, b *Rule) int { return a.Priority - b.Priority })
	host := strings.ToLower(hostOnly(req.Host))
	for _, r := range rules {
		ok := true
		for _, c := range r.Conditions {
			if !naiveCond(c, req, host) {
				ok = false
				break
			}
		}
		if ok {
			return r
		}
	}
	return nil
}

func slowPattern(pat, s string, fold, escapes bool) bool {
	text, wild := slowUnescape(pat, escapes)
	if fold {
		text = lowerASCII(text)
	}
	return slowMatch(text, wild, s, fold)
}

func naiveCond(c Condition, req *Request, host string) bool {
	any := func(vals []string, s string, fold bool) bool {
		for _, v := range vals {
			if slowPattern(v, s, fold, false) {
				return true
			}
		}
		return false
	}
	switch c.Field {
	case FieldHostHeader:
		return any(c.Values, host, true)
	case FieldPathPattern:
		return any(c.Values, req.Path, false)
	case FieldHTTPRequestMethod:
		return slices.Contains(c.Values, req.Method)
	case FieldHTTPHeader:
		if req.Header == nil {
			return false
		}
		for _, v := range req.Header.Values(http.CanonicalHeaderKey(c.HTTPHeaderName)) {
			if any(c.Values, v, true) {
				return true
			}
		}
		return false
	case FieldSourceIP:
		for _, v := range c.Values {
			if p, err := netip.ParsePrefix(v); err == nil && req.SourceIP.IsValid() && p.Masked().Contains(req.SourceIP.Unmap()) {
				return true
			}
		}
		return false
	case FieldQueryString:
		for _, pair := range strings.Split(req.RawQuery, "&") {
			if pair == "" {
				continue
			}
			k, v, _ := strings.Cut(pair, "=")
			if dk, err := url.PathUnescape(k); err == nil {
				k = dk
			}
			if dv, err := url.PathUnescape(v); err == nil {
				v = dv
			}
			for _, kv := range c.QueryStrings {
				if (kv.Key == "" || slowPattern(kv.Key, k, true, true)) && slowPattern(kv.Value, v, true, true) {
					return true
				}
			}
		}
		return false
	}
	return false
}

// randomListener draws rules from small pools so that requests often match
// several rules and the indexes, the prefilter and the cache all matter.
func randomListener(rng *rand.Rand, n int) *Listener {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	l := &Listener{Protocol: ProtocolHTTP, Port: 80, DefaultActions: []Action{FixedResponse(404, "", "default")}}
	for i := 0; i < n; i++ {
		var conds []Condition
		for k := 0; k < 1+rng.IntN(3); k++ {
			switch rng.IntN(6) {
			case 0:
				conds = append(conds, HostHeader(pick("a.example.com", "B.example.com", "*.example.com", "a.example.*", "?.example.com")))
			case 1:
				conds = append(conds, PathPattern(pick("/", "/a", "/a/*", "/a/b", "*", "/b*", "/?"), pick("/c", "/a/?")))
			case 2:
				conds = append(conds, HTTPRequestMethod(pick("GET", "POST", "PUT")))
			case 3:
				conds = append(conds, HTTPHeader(pick("X-A", "x-b"), pick("1", "2", "*", "V")))
			case 4:
				conds = append(conds, SourceIP(pick("10.0.0.0/8", "10.1.0.0/16", "192.168.0.1/32", "::/0", "2001:db8::/32")))
			case 5:
				conds = append(conds, QueryString(QueryStringKeyValue{Key: pick("", "q", "Q*"), Value: pick("1", "x*", `\*`, "%")}))
			}
		}
		l.AddRule(rng.IntN(n*2)+1, FixedResponse(200, "", ""), conds...)
	}
	return l
}

func randomRequest(rng *rand.Rand) *Request {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	h := http.Header{}
	for _, name := range []string{"X-A", "X-B"} {
		for k := rng.IntN(3); k > 0; k-- {
			h.Add(name, pick("1", "2", "v", "V", ""))
		}
	}
	return &Request{
		Method:   pick("GET", "POST", "get", "PUT"),
		Host:     pick("a.example.com", "A.EXAMPLE.COM:8080", "b.example.com", "x.example.org", "a.example.co", ""),
		Path:     pick("/", "/a", "/a/b", "/a/", "/b", "/bb", "/c", "/A"),
		RawQuery: pick("", "q=1", "Q=1&x=2", "qq=x1", "a=%2A", "q=%31", "z=*", "=1", "q", "q=%"),
		Header:   h,
		SourceIP: netip.MustParseAddr(pick("10.0.0.1", "10.1.2.3", "192.168.0.1", "::ffff:10.1.0.1", "2001:db8::1", "::1")),
	}
}

// TestRouteMatchesReference checks Router.Route against naiveRoute on
// random listeners and requests.
func TestRouteMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 300; iter++ {
		n := 1 + rng.IntN(40)
		if iter%100 == 0 {
			n = maxIndexedRules + 50 // beyond the index: the plain scan
		}
		l := randomListener(rng, n)
		rt, err := NewRouter(l)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 30; k++ {
			req := randomRequest(rng)
			want := naiveRoute(l, req)
			if got := rt.Route(req).Rule; got != want {
				t.Fatalf("request %+v:\n got rule %+v\nwant rule %+v", req, got, want)
			}
		}
	}
}

// FuzzRoute is TestRouteMatchesReference driven by the fuzzer's seeds.
func FuzzRoute(f *testing.F) {
	f.Add(uint64(1), uint64(2), uint8(10))
	f.Add(uint64(7), uint64(7), uint8(100))
	f.Fuzz(func(t *testing.T, s1, s2 uint64, n uint8) {
		rng := rand.New(rand.NewPCG(s1, s2))
		l := randomListener(rng, 1+int(n)%120)
		rt, err := NewRouter(l)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 20; k++ {
			req := randomRequest(rng)
			if got, want := rt.Route(req).Rule, naiveRoute(l, req); got != want {
				t.Fatalf("request %+v:\n got rule %+v\nwant rule %+v", req, got, want)
			}
		}
	})
}

// TestCoversIsSound checks the shadowing analysis Lint uses: whenever it
// claims rule a covers rule b, no random request matches b without a.
func TestCoversIsSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	claims := 0
	for iter := 0; iter < 200; iter++ {
		l := randomListener(rng, 12)
		compiled := make([][]compiledCond, len(l.Rules))
		for i, r := range l.Rules {
			for _, c := range r.Conditions {
				cc, err := compileCondition(c)
				if err != nil {
					t.Fatal(err)
				}
				compiled[i] = append(compiled[i], cc)
			}
		}
		for i := range l.Rules {
			for j := range l.Rules {
				if i == j || !covers(compiled[i], compiled[j]) {
					continue
				}
				claims++
				a := &Listener{Rules: []*Rule{l.Rules[i]}}
				b := &Listener{Rules: []*Rule{l.Rules[j]}}
				for k := 0; k < 50; k++ {
					req := randomRequest(rng)
					if naiveRoute(b, req) != nil && naiveRoute(a, req) == nil {
						t.Fatalf("rule %+v claimed to cover %+v, but request %+v matches only the latter", l.Rules[i].Conditions, l.Rules[j].Conditions, req)
					}
				}
			}
		}
	}
	if claims == 0 {
		t.Fatal("no covering pairs generated; the test checks nothing")
	}
}

// BenchmarkRouteNaive is the uncompiled reference evaluator on
// BenchmarkRoute's listener and request, for the ratio.
func BenchmarkRouteNaive(b *testing.B) {
	l, req := benchListener(100)
	reportCPU(b, func() { naiveRoute(l, req) })
}
