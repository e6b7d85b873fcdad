package healthcheck

import (
	"fmt"
	"strconv"
	"strings"
)

// Matcher is a parsed ELB success-code matcher: a set of HTTP status codes
// or gRPC status codes. The zero Matcher matches nothing.
type Matcher struct {
	ranges []codeRange
}

type codeRange struct{ lo, hi int }

// ParseMatcher parses ELB matcher syntax: a code ("200"), a comma-separated
// list ("200,202"), a range ("200-299"), or (an lbkit superset) a list
// mixing codes and ranges. Every code must lie in [min, max]: 200–599 for
// HTTP, 0–99 for gRPC. Spaces around items are allowed.
func ParseMatcher(s string, min, max int) (Matcher, error) {
	if strings.TrimSpace(s) == "" {
		return Matcher{}, fmt.Errorf("empty matcher")
	}
	var m Matcher
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		lo, hi, isRange := strings.Cut(item, "-")
		a, err := parseCode(lo, min, max)
		if err != nil {
			return Matcher{}, err
		}
		b := a
		if isRange {
			if b, err = parseCode(hi, min, max); err != nil {
				return Matcher{}, err
			}
			if b < a {
				return Matcher{}, fmt.Errorf("range %q is reversed", item)
			}
		}
		m.ranges = append(m.ranges, codeRange{a, b})
	}
	return m, nil
}

func parseCode(s string, min, max int) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 3 {
		return 0, fmt.Errorf("code %q is not a number of at most 3 digits", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || s[0] == '+' {
		return 0, fmt.Errorf("code %q is not a number", s)
	}
	if n < min || n > max {
		return 0, fmt.Errorf("code %d is outside %d–%d", n, min, max)
	}
	return n, nil
}

// Match reports whether code is one of m's codes.
func (m Matcher) Match(code int) bool {
	for _, r := range m.ranges {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

// String returns m in canonical matcher syntax.
func (m Matcher) String() string {
	var b strings.Builder
	for i, r := range m.ranges {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(r.lo))
		if r.hi != r.lo {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(r.hi))
		}
	}
	return b.String()
}
