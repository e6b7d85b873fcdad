package elbtest

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/lbkit/lbkit/elb"
)

// actionTargetGroups lists the target groups the actions forward to.
func actionTargetGroups(actions []types.Action) []string {
	var out []string
	for _, a := range actions {
		if a.TargetGroupArn != nil && !contains(out, *a.TargetGroupArn) {
			out = append(out, *a.TargetGroupArn)
		}
		if a.ForwardConfig != nil {
			for _, t := range a.ForwardConfig.TargetGroups {
				if t.TargetGroupArn != nil && !contains(out, *t.TargetGroupArn) {
					out = append(out, *t.TargetGroupArn)
				}
			}
		}
	}
	return out
}

func isTerminal(t types.ActionTypeEnum) bool {
	return t == types.ActionTypeEnumForward || t == types.ActionTypeEnumRedirect || t == types.ActionTypeEnumFixedResponse
}

var statusCodeRE = regexp.MustCompile(`^(2|4|5)\d\d$`)

var contentTypes = []string{"text/plain", "text/css", "text/html", "application/javascript", "application/json"}

// compatible reports whether a listener of protocol lp may forward to a
// target group of protocol tp.
func compatible(lbType types.LoadBalancerTypeEnum, lp types.ProtocolEnum, tg *types.TargetGroup) bool {
	if lbType == types.LoadBalancerTypeEnumApplication {
		return tg.TargetType == types.TargetTypeEnumLambda || isL7(tg.Protocol)
	}
	switch lp {
	case types.ProtocolEnumTcp:
		return tg.Protocol == types.ProtocolEnumTcp || tg.Protocol == types.ProtocolEnumTcpUdp
	case types.ProtocolEnumTls:
		return tg.Protocol == types.ProtocolEnumTcp || tg.Protocol == types.ProtocolEnumTls
	case types.ProtocolEnumUdp:
		return tg.Protocol == types.ProtocolEnumUdp || tg.Protocol == types.ProtocolEnumTcpUdp
	case types.ProtocolEnumTcpUdp:
		return tg.Protocol == types.ProtocolEnumTcpUdp
	}
	return false
}

// checkActions validates the actions of a listener or rule on lb and
// returns them normalized as AWS describes them: ordered, a single-group
// forward with both TargetGroupArn and ForwardConfig (weight 1,
// stickiness off), redirect defaults filled in.
func (s *Server) checkActions(lb *LoadBalancerRecord, lp types.ProtocolEnum, actions []types.Action) ([]types.Action, error) {
	if len(actions) > 5 {
		return nil, apiErr("TooManyActions", "A rule or listener can have at most 5 actions")
	}
	if err := specErr(elb.ValidateActions(specLBType(lb.LoadBalancer.Type), specActions(actions))); err != nil {
		return nil, err
	}
	out := make([]types.Action, len(actions))
	copy(out, actions)
	for i := range out {
		if len(out) > 1 && out[i].Order == nil {
			return nil, validationf("An action order must be specified when there is more than one action")
		}
		if o := i32(out[i].Order, 1); o < 1 || o > 50000 {
			return nil, constraint(o, "actions.member.order", "Member must have value less than or equal to 50000 and greater than or equal to 1")
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return i32(out[a].Order, 0) < i32(out[b].Order, 0) })
	lbType := lb.LoadBalancer.Type
	for i := range out {
		a := &out[i]
		if i > 0 && i32(out[i-1].Order, 0) == i32(a.Order, 0) {
			return nil, validationf("Action order '%d' is used more than once", i32(a.Order, 0))
		}
		if a.Order == nil {
			a.Order = ptr(int32(i + 1))
		}
		last := i == len(out)-1
		if isTerminal(a.Type) != last {
			return nil, apiErr("InvalidLoadBalancerAction", "A rule or listener must have exactly one forward, redirect or fixed-response action, and it must be the last action")
		}
		if lbType == types.LoadBalancerTypeEnumNetwork && a.Type != types.ActionTypeEnumForward {
			return nil, apiErr("InvalidLoadBalancerAction", "The action type '%s' is not supported for Network Load Balancers", a.Type)
		}
		switch a.Type {
		case types.ActionTypeEnumForward:
			if err := s.checkForward(lb, lp, a); err != nil {
				return nil, err
			}
		case types.ActionTypeEnumRedirect:
			rc := a.RedirectConfig
			if rc == nil {
				return nil, validationf("A redirect configuration must be specified for a redirect action")
			}
			if rc.StatusCode != types.RedirectActionStatusCodeEnumHttp301 && rc.StatusCode != types.RedirectActionStatusCodeEnumHttp302 {
				return nil, constraint(rc.StatusCode, "actions.member.redirectConfig.statusCode", "Member must satisfy enum value set: [HTTP_301, HTTP_302]")
			}
			c := *rc
			c.Protocol = ptr(strOr(c.Protocol, "#{protocol}"))
			c.Port = ptr(strOr(c.Port, "#{port}"))
			c.Host = ptr(strOr(c.Host, "#{host}"))
			c.Path = ptr(strOr(c.Path, "/#{path}"))
			c.Query = ptr(strOr(c.Query, "#{query}"))
			if p := *c.Protocol; p != "#{protocol}" && p != "HTTP" && p != "HTTPS" {
				return nil, validationf("Redirect protocol '%s' must be HTTP, HTTPS or #{protocol}", p)
			}
			a.RedirectConfig = &c
		case types.ActionTypeEnumFixedResponse:
			fc := a.FixedResponseConfig
			if fc == nil {
				return nil, validationf("A fixed-response configuration must be specified for a fixed-response action")
			}
			if !statusCodeRE.MatchString(str(fc.StatusCode)) {
				return nil, constraint(str(fc.StatusCode), "actions.member.fixedResponseConfig.statusCode", "Member must satisfy regular expression pattern: ^(2|4|5)\\d\\d$")
			}
			if fc.ContentType != nil && !contains(contentTypes, *fc.ContentType) {
				return nil, validationf("Content type '%s' is not valid; use one of %s", *fc.ContentType, strings.Join(contentTypes, ", "))
			}
			if len(str(fc.MessageBody)) > 1024 {
				return nil, constraint("…", "actions.member.fixedResponseConfig.messageBody", "Member must have length less than or equal to 1024")
			}
		case types.ActionTypeEnumAuthenticateOidc, types.ActionTypeEnumAuthenticateCognito:
			if lp != types.ProtocolEnumHttps {
				return nil, apiErr("InvalidLoadBalancerAction", "Authenticate actions are supported only on HTTPS listeners")
			}
			if a.Type == types.ActionTypeEnumAuthenticateOidc && a.AuthenticateOidcConfig == nil ||
				a.Type == types.ActionTypeEnumAuthenticateCognito && a.AuthenticateCognitoConfig == nil {
				return nil, validationf("An authenticate configuration must be specified for an %s action", a.Type)
			}
		default:
			return nil, constraint(a.Type, "actions.member.type", "Member must satisfy enum value set: [forward, authenticate-oidc, authenticate-cognito, redirect, fixed-response]")
		}
	}
	return out, nil
}

func (s *Server) checkForward(lb *LoadBalancerRecord, lp types.ProtocolEnum, a *types.Action) error {
	var groups []types.TargetGroupTuple
	if a.ForwardConfig != nil {
		groups = a.ForwardConfig.TargetGroups
	}
	if a.TargetGroupArn != nil {
		if len(groups) > 1 || len(groups) == 1 && str(groups[0].TargetGroupArn) != *a.TargetGroupArn {
			return validationf("You cannot specify both a target group ARN and a forward configuration with different target groups")
		}
		if len(groups) == 0 {
			groups = []types.TargetGroupTuple{{TargetGroupArn: a.TargetGroupArn}}
		}
	}
	if len(groups) == 0 {
		return validationf("A target group ARN must be specified for a forward action")
	}
	if len(groups) > s.opts.Quotas.TargetGroupsPerAction {
		return apiErr("TooManyTargetGroups", "A forward action can have at most %d target groups", s.opts.Quotas.TargetGroupsPerAction)
	}
	norm := make([]types.TargetGroupTuple, len(groups))
	seen := map[string]bool{}
	lbArn := *lb.LoadBalancer.LoadBalancerArn
	for i, g := range groups {
		arn := str(g.TargetGroupArn)
		if seen[arn] {
			return validationf("Target group '%s' is specified more than once in the forward action", arn)
		}
		seen[arn] = true
		w := i32(g.Weight, 1)
		if w < 0 || w > 999 {
			return constraint(w, "actions.member.forwardConfig.targetGroups.member.weight", "Member must have value less than or equal to 999 and greater than or equal to 0")
		}
		rec, err := s.tg(arn)
		if err != nil {
			return err
		}
		tg := &rec.TargetGroup
		if !compatible(lb.LoadBalancer.Type, lp, tg) {
			if tg.Protocol == "" {
				return apiErr("IncompatibleProtocols", "Listener protocol '%s' is not supported with a target group with target type '%s'", lp, tg.TargetType)
			}
			return apiErr("IncompatibleProtocols", "Listener protocol '%s' is not supported with a target group with the protocol '%s'", lp, tg.Protocol)
		}
		if tg.VpcId != nil && *tg.VpcId != str(lb.LoadBalancer.VpcId) {
			return apiErr("InvalidConfigurationRequest", "The target group '%s' is in VPC '%s', not in the load balancer's VPC '%s'", arn, *tg.VpcId, str(lb.LoadBalancer.VpcId))
		}
		for _, user := range s.tgUsers(arn) {
			if user != lbArn {
				return apiErr("TargetGroupAssociationLimit", "The following target groups cannot be associated with more than one load balancer: %s", arn)
			}
		}
		norm[i] = types.TargetGroupTuple{TargetGroupArn: ptr(arn), Weight: ptr(w)}
	}
	stick := &types.TargetGroupStickinessConfig{Enabled: ptr(false)}
	if a.ForwardConfig != nil && a.ForwardConfig.TargetGroupStickinessConfig != nil {
		st := *a.ForwardConfig.TargetGroupStickinessConfig
		if st.Enabled == nil {
			st.Enabled = ptr(false)
		}
		if st.DurationSeconds != nil && (*st.DurationSeconds < 1 || *st.DurationSeconds > 604800) {
			return constraint(*st.DurationSeconds, "actions.member.forwardConfig.targetGroupStickinessConfig.durationSeconds", "Member must have value less than or equal to 604800 and greater than or equal to 1")
		}
		stick = &st
	}
	a.ForwardConfig = &types.ForwardActionConfig{TargetGroups: norm, TargetGroupStickinessConfig: stick}
	a.TargetGroupArn = nil
	if len(norm) == 1 {
		a.TargetGroupArn = ptr(*norm[0].TargetGroupArn)
	}
	return nil
}

// lbRuleGroups returns the target groups the rules of lb forward to,
// with the rules in skip replaced by extra.
func (s *Server) lbTargetGroups(lbArn, skipRule string, extra []types.Action) map[string]bool {
	out := map[string]bool{}
	for _, rule := range s.st.d.Rules {
		if rule.Rule.RuleArn != nil && *rule.Rule.RuleArn == skipRule {
			continue
		}
		if l := s.st.d.Listeners[rule.ListenerArn]; l != nil && str(l.Listener.LoadBalancerArn) == lbArn {
			for _, tg := range actionTargetGroups(rule.Rule.Actions) {
				out[tg] = true
			}
		}
	}
	for _, tg := range actionTargetGroups(extra) {
		out[tg] = true
	}
	return out
}

func (s *Server) checkUniqueTGs(lb *LoadBalancerRecord, skipRule string, actions []types.Action) error {
	if n := len(s.lbTargetGroups(*lb.LoadBalancer.LoadBalancerArn, skipRule, actions)); n > s.opts.Quotas.TargetGroupsPerLoadBalancer {
		return apiErr("TooManyUniqueTargetGroupsPerLoadBalancer", "You have reached the maximum number of unique target groups that you can associate with a load balancer of type '%s': [%d]", lb.LoadBalancer.Type, s.opts.Quotas.TargetGroupsPerLoadBalancer)
	}
	return nil
}

func validListenerProtocol(lbType types.LoadBalancerTypeEnum, p types.ProtocolEnum) bool {
	if lbType == types.LoadBalancerTypeEnumApplication {
		return isL7(p)
	}
	return isL4(p)
}

func needsCert(p types.ProtocolEnum) bool {
	return p == types.ProtocolEnumHttps || p == types.ProtocolEnumTls
}

func checkCertARN(arn string) error {
	if !strings.HasPrefix(arn, "arn:aws:acm:") && !strings.HasPrefix(arn, "arn:aws:iam::") {
		return apiErr("CertificateNotFound", "Certificate '%s' not found", arn)
	}
	return nil
}

func defaultListenerAttributes(lbType types.LoadBalancerTypeEnum, p types.ProtocolEnum) map[string]string {
	if lbType == types.LoadBalancerTypeEnumNetwork {
		if p == types.ProtocolEnumTcp {
			return map[string]string{"tcp.idle_timeout.seconds": "350"}
		}
		return map[string]string{}
	}
	return map[string]string{
		"routing.http.response.server.enabled": "true",
	}
}

func (s *Server) createListener(r *request, in *elbv2.CreateListenerInput) (*elbv2.CreateListenerOutput, error) {
	lb, err := s.lb(str(in.LoadBalancerArn))
	if err != nil {
		return nil, err
	}
	lbType := lb.LoadBalancer.Type
	if len(in.DefaultActions) > 5 {
		return nil, apiErr("TooManyActions", "A rule or listener can have at most 5 actions")
	}
	if err := specErr(elb.ValidateListener(specLBType(lbType), specListener(in.Port, in.Protocol, in.Certificates, in.SslPolicy, in.AlpnPolicy, in.DefaultActions))); err != nil {
		return nil, err
	}
	if in.Protocol == "" {
		return nil, validationf("A listener protocol must be specified")
	}
	if !validListenerProtocol(lbType, in.Protocol) {
		return nil, apiErr("UnsupportedProtocol", "Protocol '%s' is not supported for load balancers of type '%s'", in.Protocol, lbType)
	}
	if in.Port == nil {
		return nil, validationf("A listener port must be specified")
	}
	if *in.Port < 1 || *in.Port > 65535 {
		return nil, constraint(*in.Port, "port", "Member must have value less than or equal to 65535 and greater than or equal to 1")
	}
	l := types.Listener{LoadBalancerArn: lb.LoadBalancer.LoadBalancerArn, Port: ptr(*in.Port), Protocol: in.Protocol}
	if needsCert(in.Protocol) {
		if len(in.Certificates) == 0 {
			return nil, validationf("A certificate must be specified for %s listeners", in.Protocol)
		}
		if len(in.Certificates) > 1 {
			return nil, apiErr("TooManyCertificates", "A listener can have only one default certificate")
		}
		if err := checkCertARN(str(in.Certificates[0].CertificateArn)); err != nil {
			return nil, err
		}
		policy := strOr(in.SslPolicy, defaultSSLPolicy)
		if !knownSSLPolicy(policy) {
			return nil, apiErr("SSLPolicyNotFound", "SSL policy '%s' not found", policy)
		}
		l.SslPolicy = ptr(policy)
		l.Certificates = []types.Certificate{{CertificateArn: ptr(str(in.Certificates[0].CertificateArn))}}
		if in.Protocol == types.ProtocolEnumTls && len(in.AlpnPolicy) > 0 {
			l.AlpnPolicy = append([]string{}, in.AlpnPolicy...)
		}
	} else if len(in.Certificates) > 0 || in.SslPolicy != nil {
		return nil, validationf("Certificates and an SSL policy can be specified only for HTTPS and TLS listeners")
	}
	actions, err := s.checkActions(lb, in.Protocol, in.DefaultActions)
	if err != nil {
		return nil, err
	}
	if err := s.validateTags(in.Tags, nil); err != nil {
		return nil, err
	}
	count := 0
	for _, other := range s.st.d.Listeners {
		if str(other.Listener.LoadBalancerArn) != *lb.LoadBalancer.LoadBalancerArn {
			continue
		}
		count++
		if i32(other.Listener.Port, 0) != *in.Port {
			continue
		}
		if other.Listener.Protocol == l.Protocol && str(other.Listener.SslPolicy) == str(l.SslPolicy) &&
			fmt.Sprint(certARNs(other.Listener.Certificates)) == fmt.Sprint(certARNs(l.Certificates)) &&
			actionsEqual(other.Listener.DefaultActions, actions) {
			return &elbv2.CreateListenerOutput{Listeners: []types.Listener{other.Listener}}, nil
		}
		return nil, apiErr("DuplicateListener", "A listener already exists on this port for this load balancer '%s'", *lb.LoadBalancer.LoadBalancerArn)
	}
	if count >= s.opts.Quotas.ListenersPerLoadBalancer {
		return nil, apiErr("TooManyListeners", "You've reached the limit on the number of listeners per load balancer")
	}
	if err := s.checkUniqueTGs(lb, "", actions); err != nil {
		return nil, err
	}
	lbPath := strings.SplitN(*lb.LoadBalancer.LoadBalancerArn, ":loadbalancer/", 2)[1]
	l.ListenerArn = ptr(s.st.arn("listener/" + lbPath + "/" + s.st.hexID(16)))
	l.DefaultActions = actions
	rec := &ListenerRecord{Listener: l, Attributes: defaultListenerAttributes(lbType, l.Protocol), Seq: s.st.next()}
	s.st.d.Listeners[*l.ListenerArn] = rec
	s.addRule(rec, nil, actions, nil, r)
	if len(in.Tags) > 0 {
		s.st.d.Tags[*l.ListenerArn] = mergeTags(nil, in.Tags)
	}
	return &elbv2.CreateListenerOutput{Listeners: []types.Listener{l}}, nil
}

func certARNs(cs []types.Certificate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, str(c.CertificateArn))
	}
	return out
}

func actionsEqual(a, b []types.Action) bool {
	var x, y xmlWriter
	encodeMember(&x, "a", valueOf(a))
	encodeMember(&y, "a", valueOf(b))
	return x.String() == y.String()
}

// addRule creates a rule on listener l; priority nil makes the default
// rule.
func (s *Server) addRule(l *ListenerRecord, priority *int32, actions []types.Action, conditions []types.RuleCondition, r *request) *RuleRecord {
	listenerPath := strings.SplitN(*l.Listener.ListenerArn, ":listener/", 2)[1]
	rule := types.Rule{
		RuleArn:    ptr(s.st.arn("listener-rule/" + listenerPath + "/" + s.st.hexID(16))),
		Actions:    actions,
		Conditions: conditions,
		IsDefault:  ptr(priority == nil),
		Priority:   ptr("default"),
	}
	if rule.Conditions == nil {
		rule.Conditions = []types.RuleCondition{}
	}
	if priority != nil {
		rule.Priority = ptr(strconv.Itoa(int(*priority)))
	}
	rec := &RuleRecord{Rule: rule, ListenerArn: *l.Listener.ListenerArn, ChangedAt: r.now, Seq: s.st.next()}
	s.st.d.Rules[*rule.RuleArn] = rec
	return rec
}

func (s *Server) defaultRule(listenerArn string) *RuleRecord {
	for _, rule := range s.st.d.Rules {
		if rule.ListenerArn == listenerArn && rule.Rule.IsDefault != nil && *rule.Rule.IsDefault {
			return rule
		}
	}
	return nil
}

func (s *Server) modifyListener(r *request, in *elbv2.ModifyListenerInput) (*elbv2.ModifyListenerOutput, error) {
	rec, err := s.listener(str(in.ListenerArn))
	if err != nil {
		return nil, err
	}
	lb := s.st.d.LoadBalancers[str(rec.Listener.LoadBalancerArn)]
	l := rec.Listener
	if in.Protocol != "" {
		if !validListenerProtocol(lb.LoadBalancer.Type, in.Protocol) {
			return nil, apiErr("UnsupportedProtocol", "Protocol '%s' is not supported for load balancers of type '%s'", in.Protocol, lb.LoadBalancer.Type)
		}
		l.Protocol = in.Protocol
	}
	if in.Port != nil {
		if *in.Port < 1 || *in.Port > 65535 {
			return nil, constraint(*in.Port, "port", "Member must have value less than or equal to 65535 and greater than or equal to 1")
		}
		for _, other := range s.st.d.Listeners {
			if other != rec && str(other.Listener.LoadBalancerArn) == str(l.LoadBalancerArn) && i32(other.Listener.Port, 0) == *in.Port {
				return nil, validationf("Listener port '%d' is already in use", *in.Port)
			}
		}
		l.Port = ptr(*in.Port)
	}
	if in.Certificates != nil {
		if len(in.Certificates) > 1 {
			return nil, apiErr("TooManyCertificates", "A listener can have only one default certificate")
		}
		l.Certificates = nil
		for _, c := range in.Certificates {
			if err := checkCertARN(str(c.CertificateArn)); err != nil {
				return nil, err
			}
			l.Certificates = append(l.Certificates, types.Certificate{CertificateArn: ptr(str(c.CertificateArn))})
		}
	}
	if in.SslPolicy != nil {
		if !knownSSLPolicy(*in.SslPolicy) {
			return nil, apiErr("SSLPolicyNotFound", "SSL policy '%s' not found", *in.SslPolicy)
		}
		l.SslPolicy = ptr(*in.SslPolicy)
	}
	if needsCert(l.Protocol) {
		if len(l.Certificates) == 0 {
			return nil, validationf("A certificate must be specified for %s listeners", l.Protocol)
		}
		if l.SslPolicy == nil {
			l.SslPolicy = ptr(defaultSSLPolicy)
		}
	} else {
		if len(in.Certificates) > 0 || in.SslPolicy != nil {
			return nil, validationf("Certificates and an SSL policy can be specified only for HTTPS and TLS listeners")
		}
		l.Certificates, l.SslPolicy = nil, nil
	}
	if in.AlpnPolicy != nil {
		l.AlpnPolicy = append([]string{}, in.AlpnPolicy...)
	}
	actions := l.DefaultActions
	if in.DefaultActions != nil {
		actions = in.DefaultActions
	}
	def := s.defaultRule(*l.ListenerArn)
	if len(actions) > 5 {
		return nil, apiErr("TooManyActions", "A rule or listener can have at most 5 actions")
	}
	if err := specErr(elb.ValidateListener(specLBType(lb.LoadBalancer.Type), specListener(l.Port, l.Protocol, l.Certificates, l.SslPolicy, l.AlpnPolicy, actions))); err != nil {
		return nil, err
	}
	actions, err = s.checkActions(lb, l.Protocol, actions)
	if err != nil {
		return nil, err
	}
	// A protocol change must stay compatible with every rule's groups.
	for _, rule := range s.st.d.Rules {
		if rule.ListenerArn != *l.ListenerArn || rule == def {
			continue
		}
		if _, err := s.checkActions(lb, l.Protocol, rule.Rule.Actions); err != nil {
			return nil, err
		}
	}
	if err := s.checkUniqueTGs(lb, str(def.Rule.RuleArn), actions); err != nil {
		return nil, err
	}
	l.DefaultActions = actions
	rec.Listener = l
	if in.DefaultActions != nil {
		def.Rule.Actions = actions
		def.ChangedAt = r.now
	}
	return &elbv2.ModifyListenerOutput{Listeners: []types.Listener{l}}, nil
}

func (s *Server) describeListeners(r *request, in *elbv2.DescribeListenersInput) (*elbv2.DescribeListenersOutput, error) {
	if in.LoadBalancerArn == nil && len(in.ListenerArns) == 0 {
		return nil, validationf("You must specify either listener ARNs or a load balancer ARN")
	}
	if in.LoadBalancerArn != nil && len(in.ListenerArns) > 0 {
		return nil, validationf("Listener ARNs and a load balancer ARN cannot be specified at the same time")
	}
	var match []*ListenerRecord
	if in.LoadBalancerArn != nil {
		if _, err := s.lb(*in.LoadBalancerArn); err != nil {
			return nil, err
		}
		for _, l := range sortedBySeq(s.st.d.Listeners, func(v *ListenerRecord) uint64 { return v.Seq }) {
			if str(l.Listener.LoadBalancerArn) == *in.LoadBalancerArn {
				match = append(match, l)
			}
		}
	}
	for _, arn := range in.ListenerArns {
		l, err := s.listener(arn)
		if err != nil {
			return nil, err
		}
		match = append(match, l)
	}
	start, end, next, err := page(in.Marker, in.PageSize, len(match))
	if err != nil {
		return nil, err
	}
	out := &elbv2.DescribeListenersOutput{Listeners: []types.Listener{}, NextMarker: next}
	for _, l := range match[start:end] {
		out.Listeners = append(out.Listeners, l.Listener)
	}
	return out, nil
}

// dropListener removes a listener and its rules.
func (s *Server) dropListener(arn string) {
	for rarn, rule := range s.st.d.Rules {
		if rule.ListenerArn == arn {
			delete(s.st.d.Rules, rarn)
			delete(s.st.d.Tags, rarn)
		}
	}
	delete(s.st.d.Listeners, arn)
	delete(s.st.d.Tags, arn)
}

func (s *Server) deleteListener(r *request, in *elbv2.DeleteListenerInput) (*elbv2.DeleteListenerOutput, error) {
	if _, err := s.listener(str(in.ListenerArn)); err != nil {
		return nil, err
	}
	s.dropListener(str(in.ListenerArn))
	return &elbv2.DeleteListenerOutput{}, nil
}

func listenerAttr(k, v string) types.ListenerAttribute {
	return types.ListenerAttribute{Key: ptr(k), Value: ptr(v)}
}

func (s *Server) describeListenerAttributes(r *request, in *elbv2.DescribeListenerAttributesInput) (*elbv2.DescribeListenerAttributesOutput, error) {
	rec, err := s.listener(str(in.ListenerArn))
	if err != nil {
		return nil, err
	}
	return &elbv2.DescribeListenerAttributesOutput{Attributes: attrList(rec.Attributes, listenerAttr)}, nil
}

func (s *Server) modifyListenerAttributes(r *request, in *elbv2.ModifyListenerAttributesInput) (*elbv2.ModifyListenerAttributesOutput, error) {
	rec, err := s.listener(str(in.ListenerArn))
	if err != nil {
		return nil, err
	}
	for _, a := range in.Attributes {
		k, v := str(a.Key), str(a.Value)
		if _, ok := rec.Attributes[k]; !ok {
			return nil, apiErr("InvalidConfigurationRequest", "Listener attribute key '%s' is not recognized for this listener", k)
		}
		if k == "tcp.idle_timeout.seconds" && !intIn(60, 6000)(v) || k == "routing.http.response.server.enabled" && !isBool(v) {
			return nil, validationf("Listener attribute value '%s' is not valid for attribute key '%s'", v, k)
		}
	}
	for _, a := range in.Attributes {
		rec.Attributes[str(a.Key)] = str(a.Value)
	}
	return &elbv2.ModifyListenerAttributesOutput{Attributes: attrList(rec.Attributes, listenerAttr)}, nil
}

// ---- listener certificates ----

func (s *Server) addListenerCertificates(r *request, in *elbv2.AddListenerCertificatesInput) (*elbv2.AddListenerCertificatesOutput, error) {
	rec, err := s.listener(str(in.ListenerArn))
	if err != nil {
		return nil, err
	}
	if !needsCert(rec.Listener.Protocol) {
		return nil, validationf("Certificates can be added only to HTTPS and TLS listeners")
	}
	add := []string{}
	for _, c := range in.Certificates {
		arn := str(c.CertificateArn)
		if err := checkCertARN(arn); err != nil {
			return nil, err
		}
		if !contains(rec.ExtraCertificates, arn) && !contains(add, arn) {
			add = append(add, arn)
		}
	}
	if 1+len(rec.ExtraCertificates)+len(add) > s.opts.Quotas.CertificatesPerLoadBalancer {
		return nil, apiErr("TooManyCertificates", "You've reached the limit on the number of certificates per load balancer")
	}
	rec.ExtraCertificates = append(rec.ExtraCertificates, add...)
	out := &elbv2.AddListenerCertificatesOutput{Certificates: []types.Certificate{}}
	for _, c := range rec.ExtraCertificates {
		out.Certificates = append(out.Certificates, types.Certificate{CertificateArn: ptr(c), IsDefault: ptr(false)})
	}
	return out, nil
}

func (s *Server) removeListenerCertificates(r *request, in *elbv2.RemoveListenerCertificatesInput) (*elbv2.RemoveListenerCertificatesOutput, error) {
	rec, err := s.listener(str(in.ListenerArn))
	if err != nil {
		return nil, err
	}
	for _, c := range in.Certificates {
		if contains(certARNs(rec.Listener.Certificates), str(c.CertificateArn)) || c.IsDefault != nil && *c.IsDefault {
			return nil, apiErr("OperationNotPermitted", "The default certificate of a listener cannot be removed; use ModifyListener to replace it")
		}
	}
	var keep []string
	for _, c := range rec.ExtraCertificates {
		drop := false
		for _, d := range in.Certificates {
			drop = drop || str(d.CertificateArn) == c
		}
		if !drop {
			keep = append(keep, c)
		}
	}
	rec.ExtraCertificates = keep
	return &elbv2.RemoveListenerCertificatesOutput{}, nil
}

func (s *Server) describeListenerCertificates(r *request, in *elbv2.DescribeListenerCertificatesInput) (*elbv2.DescribeListenerCertificatesOutput, error) {
	rec, err := s.listener(str(in.ListenerArn))
	if err != nil {
		return nil, err
	}
	var all []types.Certificate
	for _, c := range rec.Listener.Certificates {
		all = append(all, types.Certificate{CertificateArn: c.CertificateArn, IsDefault: ptr(true)})
	}
	for _, c := range rec.ExtraCertificates {
		all = append(all, types.Certificate{CertificateArn: ptr(c), IsDefault: ptr(false)})
	}
	start, end, next, err := page(in.Marker, in.PageSize, len(all))
	if err != nil {
		return nil, err
	}
	return &elbv2.DescribeListenerCertificatesOutput{Certificates: append([]types.Certificate{}, all[start:end]...), NextMarker: next}, nil
}

// ---- rules ----

var (
	pathPatternRE = regexp.MustCompile(`^[A-Za-z0-9_\-.$/~"'@:+&*?]{1,128}$`)
	hostHeaderRE  = regexp.MustCompile(`^[A-Za-z0-9\-.*?]{1,128}$`)
	methodRE      = regexp.MustCompile(`^[A-Z_\-]{1,40}$`)
)

// checkConditions validates a rule's conditions (§6) and returns them
// normalized: host-header and path-pattern carry both the legacy Values
// and their Config, as AWS describes them.
func checkConditions(conds []types.RuleCondition) ([]types.RuleCondition, error) {
	if err := specErr(elb.ValidateConditions(specConditions(conds))); err != nil {
		return nil, err
	}
	once := map[string]bool{}
	values, wildcards := 0, 0
	out := make([]types.RuleCondition, len(conds))
	for i, c := range conds {
		field := str(c.Field)
		var vals []string
		switch field {
		case "host-header", "path-pattern":
			cfgVals := []string(nil)
			if field == "host-header" && c.HostHeaderConfig != nil {
				cfgVals = c.HostHeaderConfig.Values
			}
			if field == "path-pattern" && c.PathPatternConfig != nil {
				cfgVals = c.PathPatternConfig.Values
			}
			switch {
			case len(c.Values) > 0 && cfgVals != nil:
				return nil, validationf("You cannot specify both Values and a %s configuration in one condition", field)
			case len(c.Values) > 1:
				return nil, validationf("A '%s' condition with the legacy Values field can have only one value", field)
			case len(c.Values) == 1:
				vals = c.Values
			default:
				vals = cfgVals
			}
			re := pathPatternRE
			if field == "host-header" {
				re = hostHeaderRE
			}
			for _, v := range vals {
				if !re.MatchString(v) {
					return nil, validationf("Condition value '%s' is not valid for field '%s'", v, field)
				}
			}
			nc := types.RuleCondition{Field: ptr(field), Values: vals}
			if field == "host-header" {
				nc.HostHeaderConfig = &types.HostHeaderConditionConfig{Values: vals}
			} else {
				nc.PathPatternConfig = &types.PathPatternConditionConfig{Values: vals}
			}
			out[i] = nc
		case "http-header":
			hc := c.HttpHeaderConfig
			if hc == nil || hc.HttpHeaderName == nil {
				return nil, validationf("An http-header condition needs an HttpHeaderConfig with a header name")
			}
			name := *hc.HttpHeaderName
			if name == "" || len(name) > 40 || strings.EqualFold(name, "host") {
				return nil, validationf("HTTP header name '%s' is not valid: 1 to 40 characters, and not 'Host' (use a host-header condition)", name)
			}
			vals = hc.Values
			out[i] = types.RuleCondition{Field: ptr(field), HttpHeaderConfig: &types.HttpHeaderConditionConfig{HttpHeaderName: ptr(name), Values: vals}}
		case "http-request-method":
			if c.HttpRequestMethodConfig != nil {
				vals = c.HttpRequestMethodConfig.Values
			}
			for _, v := range vals {
				if !methodRE.MatchString(v) {
					return nil, validationf("HTTP request method '%s' is not valid", v)
				}
			}
			out[i] = types.RuleCondition{Field: ptr(field), HttpRequestMethodConfig: &types.HttpRequestMethodConditionConfig{Values: vals}}
		case "query-string":
			if c.QueryStringConfig == nil {
				return nil, validationf("A query-string condition needs a QueryStringConfig")
			}
			for _, kv := range c.QueryStringConfig.Values {
				if kv.Value == nil || *kv.Value == "" {
					return nil, validationf("A query-string condition value must have a Value")
				}
				vals = append(vals, str(kv.Key)+str(kv.Value))
			}
			out[i] = types.RuleCondition{Field: ptr(field), QueryStringConfig: &types.QueryStringConditionConfig{Values: c.QueryStringConfig.Values}}
		case "source-ip":
			if c.SourceIpConfig != nil {
				vals = c.SourceIpConfig.Values
			}
			for _, v := range vals {
				if _, err := netip.ParsePrefix(v); err != nil {
					return nil, validationf("Source IP '%s' is not a valid CIDR block", v)
				}
			}
			out[i] = types.RuleCondition{Field: ptr(field), SourceIpConfig: &types.SourceIpConditionConfig{Values: vals}}
		default:
			return nil, validationf("Condition field '%s' must be one of [host-header, path-pattern, http-header, http-request-method, query-string, source-ip]", field)
		}
		if len(vals) == 0 {
			return nil, validationf("A '%s' condition must have at least one value", field)
		}
		if field != "http-header" && field != "query-string" {
			if once[field] {
				return nil, validationf("A rule can have only one '%s' condition", field)
			}
			once[field] = true
		}
		values += len(vals)
		for _, v := range vals {
			wildcards += strings.Count(v, "*") + strings.Count(v, "?")
		}
	}
	if values > 5 {
		return nil, validationf("A rule can only have '5' condition values")
	}
	if wildcards > 5 {
		return nil, validationf("A rule can only have '5' wildcards")
	}
	return out, nil
}

func (s *Server) checkPriority(p int32) error {
	if p < 1 || p > 50000 {
		return constraint(p, "priority", "Member must have value less than or equal to 50000 and greater than or equal to 1")
	}
	return nil
}

func (s *Server) priorityTaken(listenerArn string, p int32, except string) bool {
	want := strconv.Itoa(int(p))
	for _, rule := range s.st.d.Rules {
		if rule.ListenerArn == listenerArn && str(rule.Rule.Priority) == want && str(rule.Rule.RuleArn) != except {
			return true
		}
	}
	return false
}

func (s *Server) createRule(r *request, in *elbv2.CreateRuleInput) (*elbv2.CreateRuleOutput, error) {
	l, err := s.listener(str(in.ListenerArn))
	if err != nil {
		return nil, err
	}
	lb := s.st.d.LoadBalancers[str(l.Listener.LoadBalancerArn)]
	if lb.LoadBalancer.Type != types.LoadBalancerTypeEnumApplication {
		return nil, apiErr("UnsupportedProtocol", "Listener rules are not supported for listeners with the protocol '%s'", l.Listener.Protocol)
	}
	if err := s.checkPriority(*in.Priority); err != nil {
		return nil, err
	}
	conds, err := checkConditions(in.Conditions)
	if err != nil {
		return nil, err
	}
	actions, err := s.checkActions(lb, l.Listener.Protocol, in.Actions)
	if err != nil {
		return nil, err
	}
	if err := s.validateTags(in.Tags, nil); err != nil {
		return nil, err
	}
	if s.priorityTaken(*l.Listener.ListenerArn, *in.Priority, "") {
		return nil, apiErr("PriorityInUse", "Priority '%d' is currently in use", *in.Priority)
	}
	n := 0
	for _, rule := range s.st.d.Rules {
		if other := s.st.d.Listeners[rule.ListenerArn]; other != nil && str(other.Listener.LoadBalancerArn) == *lb.LoadBalancer.LoadBalancerArn && !*rule.Rule.IsDefault {
			n++
		}
	}
	if n >= s.opts.Quotas.RulesPerLoadBalancer {
		return nil, apiErr("TooManyRules", "You've reached the limit on the number of rules per load balancer")
	}
	if err := s.checkUniqueTGs(lb, "", actions); err != nil {
		return nil, err
	}
	rec := s.addRule(l, in.Priority, actions, conds, r)
	if len(in.Tags) > 0 {
		s.st.d.Tags[*rec.Rule.RuleArn] = mergeTags(nil, in.Tags)
	}
	return &elbv2.CreateRuleOutput{Rules: []types.Rule{rec.Rule}}, nil
}

// rulePriority orders rules: by number, the default rule last.
func rulePriority(r *RuleRecord) int {
	if *r.Rule.IsDefault {
		return 1 << 30
	}
	n, _ := strconv.Atoi(str(r.Rule.Priority))
	return n
}

func (s *Server) describeRules(r *request, in *elbv2.DescribeRulesInput) (*elbv2.DescribeRulesOutput, error) {
	if in.ListenerArn == nil && len(in.RuleArns) == 0 {
		return nil, validationf("You must specify either listener ARN or rule ARNs")
	}
	if in.ListenerArn != nil && len(in.RuleArns) > 0 {
		return nil, validationf("Listener ARN and rule ARNs cannot be specified at the same time")
	}
	var match []*RuleRecord
	if in.ListenerArn != nil {
		if _, err := s.listener(*in.ListenerArn); err != nil {
			return nil, err
		}
		for _, rule := range s.st.d.Rules {
			if rule.ListenerArn == *in.ListenerArn {
				match = append(match, rule)
			}
		}
		sort.Slice(match, func(i, j int) bool { return rulePriority(match[i]) < rulePriority(match[j]) })
	}
	for _, arn := range in.RuleArns {
		rule, err := s.rule(arn)
		if err != nil {
			return nil, err
		}
		match = append(match, rule)
	}
	start, end, next, err := page(in.Marker, in.PageSize, len(match))
	if err != nil {
		return nil, err
	}
	out := &elbv2.DescribeRulesOutput{Rules: []types.Rule{}, NextMarker: next}
	for _, rule := range match[start:end] {
		out.Rules = append(out.Rules, rule.Rule)
	}
	return out, nil
}

func (s *Server) modifyRule(r *request, in *elbv2.ModifyRuleInput) (*elbv2.ModifyRuleOutput, error) {
	rule, err := s.rule(str(in.RuleArn))
	if err != nil {
		return nil, err
	}
	if *rule.Rule.IsDefault {
		return nil, apiErr("OperationNotPermitted", "Default rule '%s' cannot be modified", *rule.Rule.RuleArn)
	}
	l := s.st.d.Listeners[rule.ListenerArn]
	lb := s.st.d.LoadBalancers[str(l.Listener.LoadBalancerArn)]
	next := rule.Rule
	if in.Conditions != nil {
		conds, err := checkConditions(in.Conditions)
		if err != nil {
			return nil, err
		}
		next.Conditions = conds
	}
	if in.Actions != nil {
		actions, err := s.checkActions(lb, l.Listener.Protocol, in.Actions)
		if err != nil {
			return nil, err
		}
		if err := s.checkUniqueTGs(lb, *rule.Rule.RuleArn, actions); err != nil {
			return nil, err
		}
		next.Actions = actions
		rule.ChangedAt = r.now
	}
	rule.Rule = next
	return &elbv2.ModifyRuleOutput{Rules: []types.Rule{next}}, nil
}

func (s *Server) setRulePriorities(r *request, in *elbv2.SetRulePrioritiesInput) (*elbv2.SetRulePrioritiesOutput, error) {
	if len(in.RulePriorities) == 0 {
		return nil, constraint("[]", "rulePriorities", "Member must have length greater than or equal to 1")
	}
	newPrio := map[string]int32{}
	for _, p := range in.RulePriorities {
		rule, err := s.rule(str(p.RuleArn))
		if err != nil {
			return nil, err
		}
		if *rule.Rule.IsDefault {
			return nil, apiErr("OperationNotPermitted", "Default rule '%s' cannot have its priority changed", *rule.Rule.RuleArn)
		}
		if p.Priority == nil {
			return nil, validationf("1 validation error detected: Value null at 'rulePriorities.member.priority' failed to satisfy constraint: Member must not be null")
		}
		if err := s.checkPriority(*p.Priority); err != nil {
			return nil, err
		}
		newPrio[*rule.Rule.RuleArn] = *p.Priority
	}
	// The new order must have no conflicts once every change is applied,
	// so swapping two rules' priorities in one call works.
	used := map[string]string{}
	for _, rule := range s.st.d.Rules {
		if *rule.Rule.IsDefault {
			continue
		}
		p := str(rule.Rule.Priority)
		if np, ok := newPrio[*rule.Rule.RuleArn]; ok {
			p = strconv.Itoa(int(np))
		}
		k := rule.ListenerArn + "/" + p
		if prev, dup := used[k]; dup {
			_ = prev
			return nil, apiErr("PriorityInUse", "Priority '%s' is currently in use", p)
		}
		used[k] = *rule.Rule.RuleArn
	}
	out := &elbv2.SetRulePrioritiesOutput{Rules: []types.Rule{}}
	for _, p := range in.RulePriorities {
		rule := s.st.d.Rules[*p.RuleArn]
		rule.Rule.Priority = ptr(strconv.Itoa(int(*p.Priority)))
		out.Rules = append(out.Rules, rule.Rule)
	}
	return out, nil
}

func (s *Server) deleteRule(r *request, in *elbv2.DeleteRuleInput) (*elbv2.DeleteRuleOutput, error) {
	rule, err := s.rule(str(in.RuleArn))
	if err != nil {
		return nil, err
	}
	if *rule.Rule.IsDefault {
		return nil, apiErr("OperationNotPermitted", "Default rule '%s' cannot be deleted", *rule.Rule.RuleArn)
	}
	delete(s.st.d.Rules, *rule.Rule.RuleArn)
	delete(s.st.d.Tags, *rule.Rule.RuleArn)
	return &elbv2.DeleteRuleOutput{}, nil
}
