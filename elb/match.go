package elb

import "strings"

// pattern is a compiled ALB match value: literal bytes and the wildcards
// `*` (zero or more bytes) and `?` (exactly one byte). ALB matches visible
// ASCII only, so matching works on bytes, and case folding is ASCII folding.
type pattern struct {
	// text is the pattern with escapes removed, lower-cased when fold.
	text string
	// wild marks the wildcard positions of text (nil when there are none).
	wild []bool
	// fold makes the match case-insensitive.
	fold bool
	// kind selects a fast path.
	kind patternKind
	// lit is the literal part for the fast paths: the whole text (exact),
	// text before the only `*` (prefix) or after it (suffix).
	lit string
	// minLen is the number of non-`*` positions: no shorter input matches.
	minLen int
}

type patternKind uint8

const (
	kindGeneral patternKind = iota
	kindExact               // no wildcards
	kindPrefix              // literal then one trailing `*`
	kindSuffix              // one leading `*` then literal
	kindAny                 // only `*`s: matches everything
)

// compilePattern compiles an ALB match value. With escapes, `\*`, `\?` and
// `\\` are literal characters (query-string values); without, a backslash
// is an ordinary character.
func compilePattern(s string, fold, escapes bool) pattern {
	var b strings.Builder
	var wild []bool
	hasWild := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		isWild := false
		switch {
		case escapes && c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			i++
			c = s[i]
		case c == '*' || c == '?':
			isWild = true
			hasWild = true
		}
		if fold {
			c = lower(c)
		}
		b.WriteByte(c)
		wild = append(wild, isWild)
	}
	p := pattern{text: b.String(), fold: fold}
	if hasWild {
		p.wild = wild
	}
	stars := 0
	for i := range p.text {
		if p.isStar(i) {
			stars++
		}
	}
	p.minLen = len(p.text) - stars
	qs := 0
	for i := range p.text {
		if p.isQuestion(i) {
			qs++
		}
	}
	switch {
	case !hasWild:
		p.kind, p.lit = kindExact, p.text
	case stars == len(p.text):
		p.kind = kindAny
	case qs == 0 && stars == 1 && p.isStar(len(p.text)-1):
		p.kind, p.lit = kindPrefix, p.text[:len(p.text)-1]
	case qs == 0 && stars == 1 && p.isStar(0):
		p.kind, p.lit = kindSuffix, p.text[1:]
	default:
		p.kind = kindGeneral
	}
	return p
}

func (p *pattern) isStar(i int) bool     { return p.wild != nil && p.wild[i] && p.text[i] == '*' }
func (p *pattern) isQuestion(i int) bool { return p.wild != nil && p.wild[i] && p.text[i] == '?' }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// text is what patterns match: a string, or a []byte decoded on the stack.
type text interface{ ~string | ~[]byte }

// eq compares s with the literal lit (already folded when fold).
func eq[S text](s S, lit string, fold bool) bool {
	if len(s) != len(lit) {
		return false
	}
	if !fold {
		return string(s) == lit // no allocation: the compiler compares in place
	}
	for i := 0; i < len(s); i++ {
		if lower(s[i]) != lit[i] {
			return false
		}
	}
	return true
}

// match reports whether s matches the pattern. It does not allocate.
func (p *pattern) match(s string) bool { return globMatch(p, s) }

// globMatch is match for strings and for bytes decoded on the stack. The
// common shapes (exact, prefix, suffix) compare memory directly; the
// general case is globGeneral.
func globMatch[S text](p *pattern, s S) bool {
	if len(s) < p.minLen {
		return false
	}
	switch p.kind {
	case kindExact:
		return eq(s, p.lit, p.fold)
	case kindAny:
		return true
	case kindPrefix:
		return eq(s[:len(p.lit)], p.lit, p.fold)
	case kindSuffix:
		return eq(s[len(s)-len(p.lit):], p.lit, p.fold)
	}
	return globGeneral(p, s)
}

// globGeneral is the classic greedy glob match with one backtrack point,
// O(len(p)·len(s)) in the worst case and linear in the usual ones.
func globGeneral[S text](p *pattern, s S) bool {
	t := p.text
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(t) {
			if p.wild[pi] {
				if t[pi] == '*' {
					starP, starS = pi, si
					pi++
					continue
				}
				pi++ // '?'
				si++
				continue
			}
			c := s[si]
			if p.fold {
				c = lower(c)
			}
			if c == t[pi] {
				pi++
				si++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		pi, si = starP+1, starS
	}
	for pi < len(t) && p.isStar(pi) {
		pi++
	}
	return pi == len(t)
}

// matchAny reports whether s matches one of ps.
func matchAny[S text](ps []pattern, s S) bool {
	for i := range ps {
		if globMatch(&ps[i], s) {
			return true
		}
	}
	return false
}

// MatchPattern reports whether s matches the ALB pattern pat, as a
// path-pattern (caseSensitive) or a host-header or http-header value (not
// caseSensitive) would. `*` matches zero or more characters, including
// "/"; `?` exactly one. It compiles pat on each call; NewRouter compiles once.
func MatchPattern(pat, s string, caseSensitive bool) bool {
	p := compilePattern(pat, !caseSensitive, false)
	return p.match(s)
}
