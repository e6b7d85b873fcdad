package elbtest

import (
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/lbkit/lbkit/elb"
)

// This file is where the endpoint defers to package elb, the one source of
// truth for what a valid ELB spec is and what AWS fills in: request
// members are converted to elb's model and checked with its validators;
// target group health-check defaults come from elb too. What elb cannot
// see — other resources, quotas on the live state, AWS's wire-level
// checks (Values and a Config in one condition) — stays here.

// specErr turns elb's first validation problem into the error AWS returns.
func specErr(err error) error {
	e := elb.AsErrors(err).First()
	if e == nil {
		return nil
	}
	return &APIError{Code: e.Code, Message: e.Message}
}

func derefInt(p *int32) int {
	if p == nil {
		return 0
	}
	return int(*p)
}

func specTags(tags []types.Tag) elb.Tags {
	if len(tags) == 0 {
		return nil
	}
	out := make(elb.Tags, len(tags))
	for _, t := range tags {
		out[str(t.Key)] = str(t.Value)
	}
	return out
}

func specMatcher(m *types.Matcher) elb.Matcher {
	if m == nil {
		return elb.Matcher{}
	}
	return elb.Matcher{HTTPCode: str(m.HttpCode), GRPCCode: str(m.GrpcCode)}
}

// specTargetGroup converts a target group as the API describes it (or a
// create request's members) into elb's model.
func specTargetGroup(tg *types.TargetGroup) *elb.TargetGroup {
	return &elb.TargetGroup{
		Name:            str(tg.TargetGroupName),
		ARN:             str(tg.TargetGroupArn),
		Protocol:        elb.Protocol(tg.Protocol),
		ProtocolVersion: elb.ProtocolVersion(str(tg.ProtocolVersion)),
		Port:            derefInt(tg.Port),
		TargetType:      elb.TargetType(tg.TargetType),
		VPCID:           str(tg.VpcId),
		IPAddressType:   elb.IPAddressType(tg.IpAddressType),
		HealthCheck: elb.HealthCheck{
			Enabled:            tg.HealthCheckEnabled,
			Protocol:           elb.Protocol(tg.HealthCheckProtocol),
			Port:               str(tg.HealthCheckPort),
			Path:               str(tg.HealthCheckPath),
			IntervalSeconds:    derefInt(tg.HealthCheckIntervalSeconds),
			TimeoutSeconds:     derefInt(tg.HealthCheckTimeoutSeconds),
			HealthyThreshold:   derefInt(tg.HealthyThresholdCount),
			UnhealthyThreshold: derefInt(tg.UnhealthyThresholdCount),
			Matcher:            specMatcher(tg.Matcher),
		},
	}
}

// applyHealthCheckDefaults fills the health check members the request
// left out with elb's defaults for the group's protocol and target type.
func applyHealthCheckDefaults(tg *types.TargetGroup) {
	hc := specTargetGroup(tg).EffectiveHealthCheck()
	if tg.HealthCheckEnabled == nil && hc.Enabled != nil {
		tg.HealthCheckEnabled = ptr(*hc.Enabled)
	}
	if tg.HealthCheckProtocol == "" && hc.Protocol != "" {
		tg.HealthCheckProtocol = types.ProtocolEnum(hc.Protocol)
	}
	if tg.HealthCheckPort == nil && hc.Port != "" {
		tg.HealthCheckPort = ptr(hc.Port)
	}
	if tg.HealthCheckPath == nil && hc.Path != "" {
		tg.HealthCheckPath = ptr(hc.Path)
	}
	setInt := func(dst **int32, v int) {
		if *dst == nil && v != 0 {
			*dst = ptr(int32(v))
		}
	}
	setInt(&tg.HealthCheckIntervalSeconds, hc.IntervalSeconds)
	setInt(&tg.HealthCheckTimeoutSeconds, hc.TimeoutSeconds)
	setInt(&tg.HealthyThresholdCount, hc.HealthyThreshold)
	setInt(&tg.UnhealthyThresholdCount, hc.UnhealthyThreshold)
	if tg.Matcher == nil && (hc.Matcher.HTTPCode != "" || hc.Matcher.GRPCCode != "") {
		tg.Matcher = &types.Matcher{}
		if hc.Matcher.HTTPCode != "" {
			tg.Matcher.HttpCode = ptr(hc.Matcher.HTTPCode)
		}
		if hc.Matcher.GRPCCode != "" {
			tg.Matcher.GrpcCode = ptr(hc.Matcher.GRPCCode)
		}
	}
}

func specConditions(conds []types.RuleCondition) []elb.Condition {
	out := make([]elb.Condition, 0, len(conds))
	for _, c := range conds {
		sc := elb.Condition{Field: elb.ConditionField(str(c.Field)), Values: c.Values}
		switch {
		case c.HostHeaderConfig != nil && len(c.Values) == 0:
			sc.Values = c.HostHeaderConfig.Values
		case c.PathPatternConfig != nil && len(c.Values) == 0:
			sc.Values = c.PathPatternConfig.Values
		case c.HttpHeaderConfig != nil:
			sc.HTTPHeaderName = str(c.HttpHeaderConfig.HttpHeaderName)
			sc.Values = c.HttpHeaderConfig.Values
		case c.HttpRequestMethodConfig != nil:
			sc.Values = c.HttpRequestMethodConfig.Values
		case c.SourceIpConfig != nil:
			sc.Values = c.SourceIpConfig.Values
		case c.QueryStringConfig != nil:
			for _, kv := range c.QueryStringConfig.Values {
				sc.QueryStrings = append(sc.QueryStrings, elb.QueryStringKeyValue{Key: str(kv.Key), Value: str(kv.Value)})
			}
		}
		out = append(out, sc)
	}
	return out
}

func specActions(actions []types.Action) []elb.Action {
	out := make([]elb.Action, 0, len(actions))
	for _, a := range actions {
		sa := elb.Action{Type: elb.ActionType(a.Type), Order: derefInt(a.Order)}
		switch {
		case a.ForwardConfig != nil:
			fc := &elb.ForwardConfig{}
			for _, t := range a.ForwardConfig.TargetGroups {
				tuple := elb.TargetGroupTuple{TargetGroup: str(t.TargetGroupArn)}
				if t.Weight != nil {
					w := int(*t.Weight)
					tuple.Weight = &w
				}
				fc.TargetGroups = append(fc.TargetGroups, tuple)
			}
			if st := a.ForwardConfig.TargetGroupStickinessConfig; st != nil {
				fc.Stickiness = &elb.GroupStickiness{Enabled: st.Enabled != nil && *st.Enabled, DurationSeconds: derefInt(st.DurationSeconds)}
			}
			if len(fc.TargetGroups) == 0 && a.TargetGroupArn != nil {
				fc.TargetGroups = []elb.TargetGroupTuple{{TargetGroup: *a.TargetGroupArn}}
			}
			sa.Forward = fc
		case a.TargetGroupArn != nil:
			sa.Forward = &elb.ForwardConfig{TargetGroups: []elb.TargetGroupTuple{{TargetGroup: *a.TargetGroupArn}}}
		}
		if rc := a.RedirectConfig; rc != nil {
			sa.Redirect = &elb.RedirectConfig{Protocol: str(rc.Protocol), Host: str(rc.Host), Port: str(rc.Port), Path: str(rc.Path), Query: str(rc.Query), StatusCode: elb.RedirectStatus(rc.StatusCode)}
		}
		if fr := a.FixedResponseConfig; fr != nil {
			sa.FixedResponse = &elb.FixedResponseConfig{StatusCode: str(fr.StatusCode), ContentType: str(fr.ContentType), MessageBody: str(fr.MessageBody)}
		}
		if oc := a.AuthenticateOidcConfig; oc != nil {
			sa.AuthenticateOIDC = &elb.AuthenticateOIDCConfig{Issuer: str(oc.Issuer), AuthorizationEndpoint: str(oc.AuthorizationEndpoint), TokenEndpoint: str(oc.TokenEndpoint),
				UserInfoEndpoint: str(oc.UserInfoEndpoint), ClientID: str(oc.ClientId), ClientSecret: str(oc.ClientSecret),
				UseExistingClientSecret: oc.UseExistingClientSecret != nil && *oc.UseExistingClientSecret}
		}
		if cc := a.AuthenticateCognitoConfig; cc != nil {
			sa.AuthenticateCognito = &elb.AuthenticateCognitoConfig{UserPoolARN: str(cc.UserPoolArn), UserPoolClientID: str(cc.UserPoolClientId), UserPoolDomain: str(cc.UserPoolDomain)}
		}
		out = append(out, sa)
	}
	return out
}

func specLBType(t types.LoadBalancerTypeEnum) elb.LoadBalancerType {
	return elb.LoadBalancerType(t)
}

// specListener converts a listener's members into elb's model (rules and
// attributes are checked separately).
func specListener(port *int32, proto types.ProtocolEnum, certs []types.Certificate, policy *string, alpn []string, actions []types.Action) *elb.Listener {
	l := &elb.Listener{Port: derefInt(port), Protocol: elb.Protocol(proto), SSLPolicy: str(policy), DefaultActions: specActions(actions)}
	for _, c := range certs {
		l.Certificates = append(l.Certificates, str(c.CertificateArn))
	}
	if len(alpn) > 0 {
		l.ALPNPolicy = elb.ALPNPolicy(alpn[0])
	}
	return l
}

// knownKeys returns the keys of kvs as a set.
func knownKeys(kvs []elb.Attribute) map[string]bool {
	out := make(map[string]bool, len(kvs))
	for _, kv := range kvs {
		out[kv.Key] = true
	}
	return out
}

// splitKnown returns the pairs whose keys elb models, in order.
func splitKnown(known map[string]bool, pairs [][2]string) []elb.Attribute {
	var out []elb.Attribute
	for _, p := range pairs {
		if known[p[0]] {
			out = append(out, elb.Attribute{Key: p[0], Value: p[1]})
		}
	}
	return out
}

func mapPairs(m map[string]string) [][2]string {
	out := make([][2]string, 0, len(m))
	for _, k := range sortStrings(keys(m)) {
		out = append(out, [2]string{k, m[k]})
	}
	return out
}

// checkLBAttributes validates, through elb, the attributes of a
// ModifyLoadBalancerAttributes request that elb models, against the load
// balancer's current values. Keys elb does not model (access logs,
// connection logs, …) are left to the endpoint's own checks.
func checkLBAttributes(t types.LoadBalancerTypeEnum, current map[string]string, req [][2]string) error {
	lt := specLBType(t)
	def := &elb.LoadBalancer{Type: lt}
	def.Defaults()
	known := knownKeys(def.Attributes.Attributes(lt))
	base, err := elb.ApplyLoadBalancerAttributes(lt, def.Attributes, splitKnown(known, mapPairs(current)))
	if err != nil {
		base = def.Attributes
	}
	_, err = elb.ApplyLoadBalancerAttributes(lt, base, splitKnown(known, req))
	return specErr(err)
}

// checkTGAttributes is checkLBAttributes for target groups.
func checkTGAttributes(tg *types.TargetGroup, current map[string]string, req [][2]string) error {
	spec := specTargetGroup(tg)
	spec.Defaults()
	known := map[string]bool{}
	for _, k := range spec.AttributeKeys() {
		known[k] = true
	}
	if base, err := elb.ApplyTargetGroupAttributes(spec, splitKnown(known, mapPairs(current))); err == nil {
		spec.Attributes = base
	}
	_, err := elb.ApplyTargetGroupAttributes(spec, splitKnown(known, req))
	return specErr(err)
}
