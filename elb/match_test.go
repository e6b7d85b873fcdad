package elb

import (
	"strings"
	"testing"
)

// slowMatch is the reference matcher: a direct recursive reading of ALB's
// definition (`*` any run of bytes, `?` one byte, ASCII case folding when
// fold), memoized on (pattern position, input position) so that patterns
// with many stars stay polynomial — and still obviously right.
func slowMatch(pat string, wild []bool, s string, fold bool) bool {
	memo := map[[2]int]bool{}
	var rec func(pi, si int) bool
	rec = func(pi, si int) bool {
		key := [2]int{pi, si}
		if v, ok := memo[key]; ok {
			return v
		}
		var r bool
		switch {
		case pi == len(pat):
			r = si == len(s)
		case wild != nil && wild[pi] && pat[pi] == '*':
			r = rec(pi+1, si) || (si < len(s) && rec(pi, si+1))
		case si == len(s):
			r = false
		case wild != nil && wild[pi] && pat[pi] == '?':
			r = rec(pi+1, si+1)
		default:
			a, b := pat[pi], s[si]
			if fold {
				a, b = lower(a), lower(b)
			}
			r = a == b && rec(pi+1, si+1)
		}
		memo[key] = r
		return r
	}
	return rec(0, 0)
}

// slowUnescape splits a query-string pattern into bytes and wildcard flags.
func slowUnescape(p string, escapes bool) (string, []bool) {
	var b strings.Builder
	var w []bool
	for i := 0; i < len(p); i++ {
		c := p[i]
		if escapes && c == '\\' && i+1 < len(p) && strings.IndexByte(`*?\`, p[i+1]) >= 0 {
			b.WriteByte(p[i+1])
			w = append(w, false)
			i++
			continue
		}
		b.WriteByte(c)
		w = append(w, c == '*' || c == '?')
	}
	return b.String(), w
}

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pat, s        string
		fold, escapes bool
		want          bool
	}{
		{"/", "/", false, false, true},
		{"/", "", false, false, false},
		{"/api/*", "/api/", false, false, true},
		{"/api/*", "/api/v1/users", false, false, true}, // * crosses "/"
		{"/api/*", "/API/v1", false, false, false},      // path is case-sensitive
		{"/api/*", "/ap", false, false, false},
		{"*", "", false, false, true},
		{"*", "anything", false, false, true},
		{"**", "x", false, false, true},
		{"?", "", false, false, false},
		{"?", "a", false, false, true},
		{"?", "ab", false, false, false},
		{"/img/*.png", "/img/a/b.png", false, false, true},
		{"/img/*.png", "/img/a/b.jpg", false, false, false},
		{"/a?c", "/abc", false, false, true},
		{"/a?c", "/ac", false, false, false},
		{"*.example.com", "www.example.com", true, false, true},
		{"*.example.com", "WWW.EXAMPLE.COM", true, false, true}, // host is case-insensitive
		{"*.example.com", "example.com", true, false, false},
		{"*.EXAMPLE.com", "a.example.COM", true, false, true},
		{"a*b*c", "aXbYbZc", false, false, true},
		{"a*b*c", "aXbYbZ", false, false, false},
		{"*a*a*a*a*b", strings.Repeat("a", 60), false, false, false}, // backtracking stays linear enough
		{`v\*`, "v*", true, true, true},                              // escaped star is literal
		{`v\*`, "vx", true, true, false},
		{`v\?`, "v?", true, true, true},
		{`v\?`, "va", true, true, false},
		{`a\\b`, `a\b`, true, true, true},
		{`a\b`, `a\b`, false, false, true}, // no escapes outside query strings
	}
	for _, tt := range tests {
		t.Run(tt.pat+"~"+tt.s, func(t *testing.T) {
			p := compilePattern(tt.pat, tt.fold, tt.escapes)
			if got := p.match(tt.s); got != tt.want {
				t.Errorf("match(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
			}
			text, wild := slowUnescape(tt.pat, tt.escapes)
			if tt.fold {
				text = strings.ToLower(text)
			}
			if got := slowMatch(text, wild, tt.s, tt.fold); got != tt.want {
				t.Errorf("reference disagrees with the table on (%q, %q)", tt.pat, tt.s)
			}
		})
	}
}

func TestPatternIncludes(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"*", "/anything/*", true},
		{"/api/*", "/api/v1/*", true},
		{"/api/*", "/api/v1", true},
		{"/api/v1/*", "/api/*", false},
		{"/a?c", "/abc", true},
		{"/a?c", "/a*c", false},
		{"/a*c", "/a?c", true},
		{"/x", "/x", true},
		{"/x", "/y", false},
		{"*.example.com", "api.example.com", true},
	}
	for _, tt := range tests {
		a, b := compilePattern(tt.a, false, false), compilePattern(tt.b, false, false)
		if got := patternIncludes(&a, &b); got != tt.want {
			t.Errorf("patternIncludes(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// FuzzPatternMatch compares the matcher with the slow reference on every
// input, in all three modes (path, host/header, query string).
func FuzzPatternMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"/api/*", "/api/x"}, {"*.example.com", "A.Example.Com"}, {"a*b?c", "aXXbYc"},
		{`\*x\?`, "*x?"}, {"*", ""}, {"?*?", "ab"}, {"*a*", "bab"}, {"", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pat, s string) {
		if len(pat) > 128 || len(s) > 512 {
			return // keep the quadratic reference fast
		}
		for _, mode := range []struct{ fold, escapes bool }{{false, false}, {true, false}, {true, true}} {
			p := compilePattern(pat, mode.fold, mode.escapes)
			text, wild := slowUnescape(pat, mode.escapes)
			if mode.fold {
				text = lowerASCII(text)
			}
			want := slowMatch(text, wild, s, mode.fold)
			if got := p.match(s); got != want {
				t.Fatalf("mode %+v: match(%q, %q) = %v, reference %v", mode, pat, s, got, want)
			}
			if got := globMatch(&p, []byte(s)); got != want {
				t.Fatalf("mode %+v: byte match(%q, %q) = %v, reference %v", mode, pat, s, got, want)
			}
		}
	})
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] = lower(b[i])
	}
	return string(b)
}

// FuzzPatternIncludes checks that inclusion, which Lint uses to call a
// rule shadowed, is sound: if a includes b, every string b matches, a
// matches.
func FuzzPatternIncludes(f *testing.F) {
	f.Add("/api/*", "/api/v?/*", "/api/v1/x")
	f.Add("*", "/x", "/x")
	f.Add("/a*c", "/a?c", "/abc")
	f.Fuzz(func(t *testing.T, as, bs, s string) {
		if len(as) > 64 || len(bs) > 64 {
			return
		}
		a, b := compilePattern(as, false, false), compilePattern(bs, false, false)
		if patternIncludes(&a, &b) && b.match(s) && !a.match(s) {
			t.Fatalf("%q claimed to include %q, but %q matches only the latter", as, bs, s)
		}
		// Also check the string made from b by replacing wildcards.
		w := strings.NewReplacer("*", "zz", "?", "q").Replace(bs)
		if patternIncludes(&a, &b) && b.match(w) && !a.match(w) {
			t.Fatalf("%q claimed to include %q, but %q matches only the latter", as, bs, w)
		}
	})
}

func BenchmarkPatternMatch(b *testing.B) {
	for _, bc := range []struct{ name, pat, s string }{
		{"exact", "/healthz", "/healthz"},
		{"prefix", "/api/*", "/api/v1/users/42"},
		{"suffix-fold", "*.example.com", "WWW.Example.com"},
		{"general", "/img/*/thumb-?.png", "/img/2024/05/thumb-1.png"},
	} {
		p := compilePattern(bc.pat, bc.name == "suffix-fold", false)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.match(bc.s)
			}
		})
	}
}
