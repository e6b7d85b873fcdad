package local

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/lbkit/lbkit/elb"
)

// Explanation is the offline answer to "where does this request go?": the
// listener it reaches, the rule that matches (or the default actions), the
// terminal action and the target groups it may forward to, with the
// stack's lint findings. It prints itself (String).
type Explanation struct {
	LoadBalancer string
	Port         int
	Request      elb.Request
	// Rule is the matching rule; nil when the default actions apply.
	Rule *elb.Rule
	// Action is the terminal action (forward, redirect, fixed-response).
	Action elb.Action
	// Authenticate is true when authenticate actions run first.
	Authenticate bool
	// Lint are the findings of elb.Lint for the whole stack.
	Lint []elb.Finding
}

// NewRequest builds an elb.Request from a method and an absolute URL
// ("http://example.com/api?x=1"); header values may follow as "Name: value".
func NewRequest(method, rawURL string, headers ...string) (*elb.Request, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("local: request URL: %w", err)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("local: request URL %q has no host", rawURL)
	}
	r := &elb.Request{Method: method, Host: u.Host, Path: u.EscapedPath(), RawQuery: u.RawQuery}
	if r.Path == "" {
		r.Path = "/"
	}
	if len(headers) > 0 {
		h := http.Header{}
		for _, kv := range headers {
			k, v, ok := strings.Cut(kv, ":")
			if !ok {
				return nil, fmt.Errorf("local: header %q is not Name: value", kv)
			}
			h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
		r.Header = h
	}
	return r, nil
}

// Explain evaluates req against listener port of load balancer lbName in
// spec, with ALB's rule semantics (elb.Router, the same code that routes
// requests in a running Stack), without opening a socket. spec is not
// modified: defaults are filled in on a copy.
func Explain(spec *elb.Stack, lbName string, port int, req *elb.Request) (*Explanation, error) {
	c, err := prepare(spec)
	if err != nil {
		return nil, err
	}
	l := c.LoadBalancer(lbName)
	if l == nil {
		return nil, fmt.Errorf("local: no load balancer %q", lbName)
	}
	ls := l.Listener(port)
	if ls == nil {
		return nil, fmt.Errorf("local: load balancer %q has no listener on port %d", lbName, port)
	}
	e := &Explanation{LoadBalancer: lbName, Port: port, Request: *req, Lint: elb.Lint(c)}
	if !isALB(ls.Protocol) {
		// An NLB listener has no rules: its default forward applies.
		if len(ls.DefaultActions) > 0 {
			e.Action = ls.DefaultActions[len(ls.DefaultActions)-1]
		}
		return e, nil
	}
	r, err := elb.NewRouter(ls)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	m := r.Route(req)
	e.Rule = m.Rule
	e.Authenticate = len(m.Actions) > 1
	if a := m.Action(); a != nil {
		e.Action = *a
	}
	return e, nil
}

// String prints the explanation in a few lines:
//
//	GET example.com/api → demo:80
//	  matched rule 10 (path-pattern /api*)
//	  forward → api (weight 1)
func (e *Explanation) String() string {
	var b strings.Builder
	q := ""
	if e.Request.RawQuery != "" {
		q = "?" + e.Request.RawQuery
	}
	fmt.Fprintf(&b, "%s %s%s%s → %s:%d\n", e.Request.Method, e.Request.Host, e.Request.Path, q, e.LoadBalancer, e.Port)
	if e.Rule == nil {
		b.WriteString("  no rule matched: default action\n")
	} else {
		var conds []string
		for _, c := range e.Rule.Conditions {
			conds = append(conds, describeCondition(c))
		}
		fmt.Fprintf(&b, "  matched rule %d (%s)\n", e.Rule.Priority, strings.Join(conds, " AND "))
	}
	if e.Authenticate {
		b.WriteString("  authenticate first\n")
	}
	b.WriteString("  " + describeAction(e.Action) + "\n")
	for _, f := range e.Lint {
		b.WriteString("  lint " + f.String() + "\n")
	}
	return b.String()
}

func describeCondition(c elb.Condition) string {
	vals := c.Values
	switch {
	case c.HTTPHeaderName != "":
		return fmt.Sprintf("%s %s=%s", c.Field, c.HTTPHeaderName, strings.Join(vals, "|"))
	case len(c.QueryStrings) > 0:
		var kv []string
		for _, q := range c.QueryStrings {
			kv = append(kv, q.Key+"="+q.Value)
		}
		return fmt.Sprintf("%s %s", c.Field, strings.Join(kv, "|"))
	}
	return fmt.Sprintf("%s %s", c.Field, strings.Join(vals, "|"))
}

func describeAction(a elb.Action) string {
	switch {
	case a.Forward != nil:
		var tgs []string
		for _, t := range a.Forward.TargetGroups {
			w := 1
			if t.Weight != nil {
				w = *t.Weight
			}
			tgs = append(tgs, fmt.Sprintf("%s (weight %d)", t.TargetGroup, w))
		}
		return "forward → " + strings.Join(tgs, ", ")
	case a.Redirect != nil:
		r := a.Redirect
		return fmt.Sprintf("redirect %s → %s://%s:%s%s?%s", r.StatusCode, r.Protocol, r.Host, r.Port, r.Path, r.Query)
	case a.FixedResponse != nil:
		f := a.FixedResponse
		return fmt.Sprintf("fixed-response %s %q", f.StatusCode, f.MessageBody)
	}
	return "no action"
}
