package elb

import (
	"fmt"
	"net/textproto"
	"slices"
)

// Severity ranks a lint finding.
type Severity string

// Severities.
const (
	// SeverityWarning is a likely mistake: AWS accepts it, but traffic will
	// not go where the spec seems to say.
	SeverityWarning Severity = "warning"
	// SeverityInfo is worth knowing, such as closeness to a quota.
	SeverityInfo Severity = "info"
)

// Lint finding codes.
const (
	// LintShadowedRule: every request the rule matches is matched first by
	// a rule of higher precedence, so the rule never applies.
	LintShadowedRule = "ShadowedRule"
	// LintDuplicatePriority: two rules of a listener share a priority
	// (AWS refuses the second with PriorityInUse).
	LintDuplicatePriority = "DuplicatePriority"
	// LintUnreachableTargetGroup: no reachable action forwards to the
	// target group with a weight above zero.
	LintUnreachableTargetGroup = "UnreachableTargetGroup"
	// LintQuotaHeadroom: a resource uses 80 % or more of an AWS quota.
	LintQuotaHeadroom = "QuotaHeadroom"
)

// Finding is one lint result.
type Finding struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	// Path locates the resource, as in Error.Path.
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s: %s: %s: %s", f.Severity, f.Path, f.Code, f.Message)
}

// QuotaHeadroomRatio is the share of a quota from which Lint reports
// LintQuotaHeadroom.
const QuotaHeadroomRatio = 0.8

// Lint reports what no ELB tool checks and AWS accepts: rules shadowed by
// a rule of higher precedence, duplicate priorities, target groups no
// reachable action sends traffic to, and quotas nearly used up. Shadowing is
// decided soundly but not completely: a reported rule is certainly
// unreachable; some unreachable rules (shadowed only by a combination of
// rules) are not reported. Lint expects a stack that validates; it does not
// modify s.
func Lint(s *Stack) []Finding {
	var out []Finding
	reached := map[string]bool{} // target group names with traffic
	for i, lb := range s.LoadBalancers {
		if lb == nil {
			continue
		}
		lp := idx("loadBalancers", i)
		rules, certs := 0, 0
		for j, l := range lb.Listeners {
			if l == nil {
				continue
			}
			p := idx(join(lp, "listeners"), j)
			rules += len(l.Rules)
			certs += len(l.Certificates)
			out = append(out, lintListener(p, l, s, reached)...)
		}
		out = append(out, headroom(join(lp, "listeners"), "listeners per load balancer", len(lb.Listeners), MaxListenersPerLoadBalancer)...)
		out = append(out, headroom(lp, "rules per load balancer", rules, MaxRulesPerLoadBalancer)...)
		out = append(out, headroom(lp, "certificates per load balancer", certs, MaxCertificatesPerLoadBalancer)...)
		if lb.Type == "" || lb.Type == LoadBalancerTypeApplication {
			out = append(out, headroom(lp, "unique target groups per load balancer", uniqueTargetGroups(s, lb), MaxTargetGroupsPerALB)...)
		}
	}
	for i, tg := range s.TargetGroups {
		if tg == nil {
			continue
		}
		p := idx("targetGroups", i)
		if !reached[tg.Name] && !(tg.ARN != "" && reached[tg.ARN]) {
			out = append(out, Finding{SeverityWarning, LintUnreachableTargetGroup, p,
				fmt.Sprintf("No reachable action forwards to target group '%s' with a weight above 0", tg.Name)})
		}
		out = append(out, headroom(join(p, "targets"), "targets per target group", len(tg.Targets), MaxTargetsPerTargetGroup)...)
	}
	return out
}

func headroom(path, what string, n, limit int) []Finding {
	if float64(n) < QuotaHeadroomRatio*float64(limit) {
		return nil
	}
	return []Finding{{SeverityInfo, LintQuotaHeadroom, path,
		fmt.Sprintf("Uses %d of %d %s (%d%%)", n, limit, what, n*100/limit)}}
}

func lintListener(p string, l *Listener, s *Stack, reached map[string]bool) []Finding {
	var out []Finding
	markReached(l.DefaultActions, s, reached)
	order := make([]int, 0, len(l.Rules))
	for i, r := range l.Rules {
		if r != nil {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return l.Rules[a].Priority - l.Rules[b].Priority })
	compiled := make([][]compiledCond, len(l.Rules))
	for _, i := range order {
		for _, c := range l.Rules[i].Conditions {
			cc, err := compileCondition(c)
			if err != nil {
				compiled[i] = nil
				break
			}
			compiled[i] = append(compiled[i], cc)
		}
	}
	for k, i := range order {
		r := l.Rules[i]
		rp := idx(join(p, "rules"), i)
		shadowed := false
		for _, j := range order[:k] {
			a := l.Rules[j]
			if a.Priority == r.Priority {
				out = append(out, Finding{SeverityWarning, LintDuplicatePriority, join(rp, "priority"),
					fmt.Sprintf("Priority '%d' is also used by rules[%d]", r.Priority, j)})
			}
			if len(compiled[j]) > 0 && len(compiled[i]) > 0 && covers(compiled[j], compiled[i]) {
				out = append(out, Finding{SeverityWarning, LintShadowedRule, rp,
					fmt.Sprintf("Rule with priority %d never applies: every request it matches is matched first by the rule with priority %d (rules[%d])", r.Priority, a.Priority, j)})
				shadowed = true
				break
			}
		}
		if !shadowed {
			markReached(r.Actions, s, reached)
		}
	}
	return out
}

func markReached(as []Action, s *Stack, reached map[string]bool) {
	for _, a := range as {
		if a.Forward == nil {
			continue
		}
		for _, t := range a.Forward.TargetGroups {
			if t.Weight != nil && *t.Weight == 0 {
				continue
			}
			reached[t.TargetGroup] = true
			if tg := s.TargetGroup(t.TargetGroup); tg != nil {
				reached[tg.Name] = true
			}
		}
	}
}

// covers reports whether every request matching the conditions b also
// matches the conditions a: each condition of a includes some condition of
// b.
func covers(a, b []compiledCond) bool {
	for i := range a {
		ok := universal(&a[i])
		for j := range b {
			if condIncludes(&a[i], &b[j]) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// universal reports whether every request matches c: a path-pattern with
// a value of only `*` (every request has a path, possibly empty).
func universal(c *compiledCond) bool {
	if c.kind != kindPath {
		return false
	}
	for i := range c.pats {
		if c.pats[i].kind == kindAny {
			return true
		}
	}
	return false
}

// condIncludes reports whether every request matching cb matches ca.
func condIncludes(ca, cb *compiledCond) bool {
	if ca.field != cb.field {
		return false
	}
	switch ca.field {
	case FieldHTTPRequestMethod:
		for _, m := range cb.methods {
			if !slices.Contains(ca.methods, m) {
				return false
			}
		}
		return true
	case FieldSourceIP:
		for _, pb := range cb.prefixes {
			ok := false
			for _, pa := range ca.prefixes {
				if pa.Bits() <= pb.Bits() && pa.Contains(pb.Addr()) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
		return true
	case FieldHTTPHeader:
		if textproto.CanonicalMIMEHeaderKey(ca.header) != textproto.CanonicalMIMEHeaderKey(cb.header) {
			return false
		}
		fallthrough
	case FieldHostHeader, FieldPathPattern:
		for k := range cb.pats {
			ok := false
			for m := range ca.pats {
				if patternIncludes(&ca.pats[m], &cb.pats[k]) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
		return true
	case FieldQueryString:
		for k := range cb.qs {
			qb := &cb.qs[k]
			ok := false
			for m := range ca.qs {
				qa := &ca.qs[m]
				if (!qa.hasKey || (qb.hasKey && patternIncludes(&qa.key, &qb.key))) && patternIncludes(&qa.value, &qb.value) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
		return true
	}
	return false
}

// patternIncludes reports (soundly, not completely) whether every string
// matching b matches a: a's `*` may absorb any part of b, a's `?` any one
// non-`*` token of b, a's literals only the same literal.
func patternIncludes(a, b *pattern) bool {
	n, m := len(a.text), len(b.text)
	// dp[i][j]: a[i:] includes b[j:]; computed backwards in one row pair.
	next := make([]bool, m+1)
	cur := make([]bool, m+1)
	next[m] = true // a exhausted: includes only the empty rest of b
	for i := n - 1; i >= 0; i-- {
		for j := m; j >= 0; j-- {
			switch {
			case a.isStar(i):
				cur[j] = next[j] || (j < m && cur[j+1])
			case j == m:
				cur[j] = false
			case a.isQuestion(i):
				cur[j] = !b.isStar(j) && next[j+1]
			default:
				cur[j] = b.wild == nil || !b.wild[j]
				cur[j] = cur[j] && a.text[i] == b.text[j] && next[j+1]
			}
		}
		next, cur = cur, next
	}
	return next[0]
}

// uniqueTargetGroups counts the target groups lb's actions forward to.
func uniqueTargetGroups(s *Stack, lb *LoadBalancer) int {
	seen := map[string]bool{}
	add := func(as []Action) {
		for _, a := range as {
			if a.Forward == nil {
				continue
			}
			for _, t := range a.Forward.TargetGroups {
				name := t.TargetGroup
				if tg := s.TargetGroup(name); tg != nil {
					name = tg.Name
				}
				seen[name] = true
			}
		}
	}
	for _, l := range lb.Listeners {
		if l == nil {
			continue
		}
		add(l.DefaultActions)
		for _, r := range l.Rules {
			if r != nil {
				add(r.Actions)
			}
		}
	}
	return len(seen)
}
