package elb

import "strconv"

// Bool returns a pointer to v, for the optional boolean fields.
func Bool(v bool) *bool { return &v }

// Int returns a pointer to v, for the optional integer fields.
func Int(v int) *int { return &v }

// NewApplicationLoadBalancer returns an internet-facing ALB named name.
func NewApplicationLoadBalancer(name string) *LoadBalancer {
	return &LoadBalancer{Name: name, Type: LoadBalancerTypeApplication}
}

// NewNetworkLoadBalancer returns an internet-facing NLB named name.
func NewNetworkLoadBalancer(name string) *LoadBalancer {
	return &LoadBalancer{Name: name, Type: LoadBalancerTypeNetwork}
}

// NewTargetGroup returns a target group with AWS's defaults left to
// Defaults. For lambda target groups pass an empty protocol and port 0.
func NewTargetGroup(name string, protocol Protocol, port int, targetType TargetType) *TargetGroup {
	return &TargetGroup{Name: name, Protocol: protocol, Port: port, TargetType: targetType}
}

// AddLoadBalancer adds lb to the stack and returns it.
func (s *Stack) AddLoadBalancer(lb *LoadBalancer) *LoadBalancer {
	s.LoadBalancers = append(s.LoadBalancers, lb)
	return lb
}

// AddTargetGroup adds tg to the stack and returns it.
func (s *Stack) AddTargetGroup(tg *TargetGroup) *TargetGroup {
	s.TargetGroups = append(s.TargetGroups, tg)
	return tg
}

// LoadBalancer returns the stack's load balancer named name, or nil.
func (s *Stack) LoadBalancer(name string) *LoadBalancer {
	for _, lb := range s.LoadBalancers {
		if lb != nil && lb.Name == name {
			return lb
		}
	}
	return nil
}

// TargetGroup returns the stack's target group whose Name or ARN is ref, or
// nil.
func (s *Stack) TargetGroup(ref string) *TargetGroup {
	for _, tg := range s.TargetGroups {
		if tg != nil && (tg.Name == ref || (tg.ARN != "" && tg.ARN == ref)) {
			return tg
		}
	}
	return nil
}

// AddListener adds a listener on port with the given default actions (an
// optional authenticate action followed by a terminal one) and returns it.
func (lb *LoadBalancer) AddListener(protocol Protocol, port int, defaultActions ...Action) *Listener {
	l := &Listener{Port: port, Protocol: protocol, DefaultActions: defaultActions}
	lb.Listeners = append(lb.Listeners, l)
	return l
}

// Listener returns the load balancer's listener on port, or nil.
func (lb *LoadBalancer) Listener(port int) *Listener {
	for _, l := range lb.Listeners {
		if l != nil && l.Port == port {
			return l
		}
	}
	return nil
}

// AddRule adds a rule that sends the requests matching all conditions to
// action, and returns it. Use Rule.Authenticate to put an authenticate
// action in front.
func (l *Listener) AddRule(priority int, action Action, conditions ...Condition) *Rule {
	r := &Rule{Priority: priority, Conditions: conditions, Actions: []Action{action}}
	l.Rules = append(l.Rules, r)
	return r
}

// Authenticate puts an authenticate action in front of the rule's actions
// and returns r.
func (r *Rule) Authenticate(auth Action) *Rule {
	r.Actions = append([]Action{auth}, r.Actions...)
	return r
}

// AddTargets registers targets, each an ID with the group's port, and
// returns tg.
func (tg *TargetGroup) AddTargets(ids ...string) *TargetGroup {
	for _, id := range ids {
		tg.Targets = append(tg.Targets, Target{ID: id})
	}
	return tg
}

// Forward is a forward action to one target group.
func Forward(tg *TargetGroup) Action {
	return Action{Type: ActionForward, Forward: &ForwardConfig{
		TargetGroups: []TargetGroupTuple{{TargetGroup: tgRef(tg)}},
	}}
}

// Weight pairs a target group with a weight (0–999) for WeightedForward.
func Weight(tg *TargetGroup, weight int) TargetGroupTuple {
	return TargetGroupTuple{TargetGroup: tgRef(tg), Weight: Int(weight)}
}

// WeightedForward is a forward action that splits traffic by weight.
func WeightedForward(groups ...TargetGroupTuple) Action {
	return Action{Type: ActionForward, Forward: &ForwardConfig{TargetGroups: groups}}
}

// WithGroupStickiness returns a copy of a forward action that keeps a client
// on one target group for d seconds.
func (a Action) WithGroupStickiness(seconds int) Action {
	if a.Forward != nil {
		f := *a.Forward
		f.Stickiness = &GroupStickiness{Enabled: true, DurationSeconds: seconds}
		a.Forward = &f
	}
	return a
}

func tgRef(tg *TargetGroup) string {
	if tg == nil {
		return ""
	}
	return tg.Name
}

// Redirect is a redirect action.
func Redirect(cfg RedirectConfig) Action {
	return Action{Type: ActionRedirect, Redirect: &cfg}
}

// RedirectToHTTPS is the usual HTTP→HTTPS redirect: protocol HTTPS, port
// 443, everything else kept, status 301.
func RedirectToHTTPS() Action {
	return Redirect(RedirectConfig{Protocol: "HTTPS", Port: "443", StatusCode: RedirectPermanent})
}

// FixedResponse is a fixed-response action with an HTTP status (2XX, 4XX or
// 5XX), a content type (a ContentType constant, or empty) and a body.
func FixedResponse(status int, contentType, body string) Action {
	return Action{Type: ActionFixedResponse, FixedResponse: &FixedResponseConfig{
		StatusCode: strconv.Itoa(status), ContentType: contentType, MessageBody: body,
	}}
}

// AuthenticateOIDC is an authenticate-oidc action.
func AuthenticateOIDC(cfg AuthenticateOIDCConfig) Action {
	return Action{Type: ActionAuthenticateOIDC, AuthenticateOIDC: &cfg}
}

// AuthenticateCognito is an authenticate-cognito action.
func AuthenticateCognito(cfg AuthenticateCognitoConfig) Action {
	return Action{Type: ActionAuthenticateCognito, AuthenticateCognito: &cfg}
}

// HostHeader matches the Host header against patterns (case-insensitive,
// `*` and `?`).
func HostHeader(patterns ...string) Condition {
	return Condition{Field: FieldHostHeader, Values: patterns}
}

// PathPattern matches the URL path against patterns (case-sensitive, `*`
// and `?`; the query string is not part of the path).
func PathPattern(patterns ...string) Condition {
	return Condition{Field: FieldPathPattern, Values: patterns}
}

// HTTPHeader matches the values of header name against patterns
// (case-insensitive, `*` and `?`).
func HTTPHeader(name string, patterns ...string) Condition {
	return Condition{Field: FieldHTTPHeader, HTTPHeaderName: name, Values: patterns}
}

// HTTPRequestMethod matches the request method exactly (case-sensitive).
func HTTPRequestMethod(methods ...string) Condition {
	return Condition{Field: FieldHTTPRequestMethod, Values: methods}
}

// QueryString matches query parameters against key/value patterns.
func QueryString(kvs ...QueryStringKeyValue) Condition {
	return Condition{Field: FieldQueryString, QueryStrings: kvs}
}

// SourceIP matches the client address of the connection (not
// X-Forwarded-For) against CIDR blocks.
func SourceIP(cidrs ...string) Condition {
	return Condition{Field: FieldSourceIP, Values: cidrs}
}

// TotalWeight returns the sum of the forward's weights (a nil weight
// counts 1).
func (f *ForwardConfig) TotalWeight() int {
	total := 0
	for _, t := range f.TargetGroups {
		total += weightOf(t)
	}
	return total
}

func weightOf(t TargetGroupTuple) int {
	if t.Weight == nil {
		return 1
	}
	return max(*t.Weight, 0)
}

// Pick chooses a target group of a weighted forward: n is a random number
// (any uint64); a target group with weight w is chosen with probability
// w/TotalWeight. It returns false when every weight is 0. It does not
// allocate; a data plane (elb/local) calls it per request, and implements
// group stickiness itself.
func (f *ForwardConfig) Pick(n uint64) (string, bool) {
	total := f.TotalWeight()
	if total == 0 {
		return "", false
	}
	r := int(n % uint64(total))
	for _, t := range f.TargetGroups {
		if w := weightOf(t); r < w {
			return t.TargetGroup, true
		} else {
			r -= w
		}
	}
	return "", false
}
