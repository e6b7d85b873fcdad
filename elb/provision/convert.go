package provision

import (
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/lbkit/lbkit/elb"
)

// Conversions between the elb model and the SDK's types. Target groups are
// referred to by name in the model and by ARN in AWS; arnOf and nameOf
// translate (an unknown reference passes through unchanged).

func toSDKActions(as []elb.Action, arnOf func(string) string) []types.Action {
	out := make([]types.Action, 0, len(as))
	for _, a := range as {
		sa := types.Action{Type: types.ActionTypeEnum(a.Type)}
		if a.Order != 0 {
			sa.Order = aws.Int32(int32(a.Order))
		}
		switch {
		case a.Forward != nil:
			fc := &types.ForwardActionConfig{}
			for _, t := range a.Forward.TargetGroups {
				tt := types.TargetGroupTuple{TargetGroupArn: aws.String(arnOf(t.TargetGroup))}
				if t.Weight != nil {
					tt.Weight = aws.Int32(int32(*t.Weight))
				}
				fc.TargetGroups = append(fc.TargetGroups, tt)
			}
			if st := a.Forward.Stickiness; st != nil {
				fc.TargetGroupStickinessConfig = &types.TargetGroupStickinessConfig{Enabled: aws.Bool(st.Enabled)}
				if st.DurationSeconds != 0 {
					fc.TargetGroupStickinessConfig.DurationSeconds = aws.Int32(int32(st.DurationSeconds))
				}
			}
			sa.ForwardConfig = fc
		case a.Redirect != nil:
			r := a.Redirect
			sa.RedirectConfig = &types.RedirectActionConfig{StatusCode: types.RedirectActionStatusCodeEnum(r.StatusCode),
				Protocol: strp(r.Protocol), Host: strp(r.Host), Port: strp(r.Port), Path: strp(r.Path), Query: strp(r.Query)}
		case a.FixedResponse != nil:
			f := a.FixedResponse
			sa.FixedResponseConfig = &types.FixedResponseActionConfig{StatusCode: aws.String(f.StatusCode),
				ContentType: strp(f.ContentType), MessageBody: strp(f.MessageBody)}
		case a.AuthenticateOIDC != nil:
			o := a.AuthenticateOIDC
			sa.AuthenticateOidcConfig = &types.AuthenticateOidcActionConfig{Issuer: aws.String(o.Issuer),
				AuthorizationEndpoint: aws.String(o.AuthorizationEndpoint), TokenEndpoint: aws.String(o.TokenEndpoint),
				UserInfoEndpoint: aws.String(o.UserInfoEndpoint), ClientId: aws.String(o.ClientID), ClientSecret: strp(o.ClientSecret),
				UseExistingClientSecret: boolp(o.UseExistingClientSecret),
				SessionCookieName:       strp(o.SessionCookieName), Scope: strp(o.Scope), AuthenticationRequestExtraParams: o.AuthenticationRequestExtraParams,
				OnUnauthenticatedRequest: types.AuthenticateOidcActionConditionalBehaviorEnum(o.OnUnauthenticatedRequest)}
			if o.SessionTimeoutSeconds != 0 {
				sa.AuthenticateOidcConfig.SessionTimeout = aws.Int64(o.SessionTimeoutSeconds)
			}
		case a.AuthenticateCognito != nil:
			c := a.AuthenticateCognito
			sa.AuthenticateCognitoConfig = &types.AuthenticateCognitoActionConfig{UserPoolArn: aws.String(c.UserPoolARN),
				UserPoolClientId: aws.String(c.UserPoolClientID), UserPoolDomain: aws.String(c.UserPoolDomain),
				SessionCookieName: strp(c.SessionCookieName), Scope: strp(c.Scope), AuthenticationRequestExtraParams: c.AuthenticationRequestExtraParams,
				OnUnauthenticatedRequest: types.AuthenticateCognitoActionConditionalBehaviorEnum(c.OnUnauthenticatedRequest)}
			if c.SessionTimeoutSeconds != 0 {
				sa.AuthenticateCognitoConfig.SessionTimeout = aws.Int64(c.SessionTimeoutSeconds)
			}
		}
		out = append(out, sa)
	}
	return out
}

func fromSDKActions(as []types.Action, nameOf func(string) string) []elb.Action {
	out := make([]elb.Action, 0, len(as))
	for _, sa := range as {
		a := elb.Action{Type: elb.ActionType(sa.Type), Order: int(aws.ToInt32(sa.Order))}
		switch {
		case sa.Type == types.ActionTypeEnumForward:
			fc := &elb.ForwardConfig{}
			if sa.ForwardConfig != nil && len(sa.ForwardConfig.TargetGroups) > 0 {
				for _, t := range sa.ForwardConfig.TargetGroups {
					tt := elb.TargetGroupTuple{TargetGroup: nameOf(aws.ToString(t.TargetGroupArn))}
					if t.Weight != nil {
						tt.Weight = elb.Int(int(*t.Weight))
					}
					fc.TargetGroups = append(fc.TargetGroups, tt)
				}
				if st := sa.ForwardConfig.TargetGroupStickinessConfig; st != nil {
					fc.Stickiness = &elb.GroupStickiness{Enabled: aws.ToBool(st.Enabled), DurationSeconds: int(aws.ToInt32(st.DurationSeconds))}
				}
			} else {
				fc.TargetGroups = []elb.TargetGroupTuple{{TargetGroup: nameOf(aws.ToString(sa.TargetGroupArn))}}
			}
			a.Forward = fc
		case sa.RedirectConfig != nil:
			r := sa.RedirectConfig
			a.Redirect = &elb.RedirectConfig{StatusCode: elb.RedirectStatus(r.StatusCode), Protocol: aws.ToString(r.Protocol),
				Host: aws.ToString(r.Host), Port: aws.ToString(r.Port), Path: aws.ToString(r.Path), Query: aws.ToString(r.Query)}
		case sa.FixedResponseConfig != nil:
			f := sa.FixedResponseConfig
			a.FixedResponse = &elb.FixedResponseConfig{StatusCode: aws.ToString(f.StatusCode), ContentType: aws.ToString(f.ContentType), MessageBody: aws.ToString(f.MessageBody)}
		case sa.AuthenticateOidcConfig != nil:
			o := sa.AuthenticateOidcConfig
			a.AuthenticateOIDC = &elb.AuthenticateOIDCConfig{Issuer: aws.ToString(o.Issuer), AuthorizationEndpoint: aws.ToString(o.AuthorizationEndpoint),
				TokenEndpoint: aws.ToString(o.TokenEndpoint), UserInfoEndpoint: aws.ToString(o.UserInfoEndpoint), ClientID: aws.ToString(o.ClientId),
				// AWS never returns the secret: keep comparing equal.
				UseExistingClientSecret: aws.ToBool(o.UseExistingClientSecret),
				AuthSession: elb.AuthSession{SessionCookieName: aws.ToString(o.SessionCookieName), Scope: aws.ToString(o.Scope),
					SessionTimeoutSeconds: aws.ToInt64(o.SessionTimeout), AuthenticationRequestExtraParams: o.AuthenticationRequestExtraParams,
					OnUnauthenticatedRequest: elb.OnUnauthenticatedRequest(o.OnUnauthenticatedRequest)}}
		case sa.AuthenticateCognitoConfig != nil:
			c := sa.AuthenticateCognitoConfig
			a.AuthenticateCognito = &elb.AuthenticateCognitoConfig{UserPoolARN: aws.ToString(c.UserPoolArn), UserPoolClientID: aws.ToString(c.UserPoolClientId),
				UserPoolDomain: aws.ToString(c.UserPoolDomain),
				AuthSession: elb.AuthSession{SessionCookieName: aws.ToString(c.SessionCookieName), Scope: aws.ToString(c.Scope),
					SessionTimeoutSeconds: aws.ToInt64(c.SessionTimeout), AuthenticationRequestExtraParams: c.AuthenticationRequestExtraParams,
					OnUnauthenticatedRequest: elb.OnUnauthenticatedRequest(c.OnUnauthenticatedRequest)}}
		}
		out = append(out, a)
	}
	return out
}

func toSDKConditions(cs []elb.Condition) []types.RuleCondition {
	out := make([]types.RuleCondition, 0, len(cs))
	for _, c := range cs {
		rc := types.RuleCondition{Field: aws.String(string(c.Field))}
		switch c.Field {
		case elb.FieldHostHeader:
			rc.HostHeaderConfig = &types.HostHeaderConditionConfig{Values: c.Values}
		case elb.FieldPathPattern:
			rc.PathPatternConfig = &types.PathPatternConditionConfig{Values: c.Values}
		case elb.FieldHTTPHeader:
			rc.HttpHeaderConfig = &types.HttpHeaderConditionConfig{HttpHeaderName: aws.String(c.HTTPHeaderName), Values: c.Values}
		case elb.FieldHTTPRequestMethod:
			rc.HttpRequestMethodConfig = &types.HttpRequestMethodConditionConfig{Values: c.Values}
		case elb.FieldSourceIP:
			rc.SourceIpConfig = &types.SourceIpConditionConfig{Values: c.Values}
		case elb.FieldQueryString:
			qc := &types.QueryStringConditionConfig{}
			for _, kv := range c.QueryStrings {
				qc.Values = append(qc.Values, types.QueryStringKeyValuePair{Key: strp(kv.Key), Value: aws.String(kv.Value)})
			}
			rc.QueryStringConfig = qc
		}
		out = append(out, rc)
	}
	return out
}

func fromSDKConditions(rcs []types.RuleCondition) []elb.Condition {
	out := make([]elb.Condition, 0, len(rcs))
	for _, rc := range rcs {
		c := elb.Condition{Field: elb.ConditionField(aws.ToString(rc.Field))}
		switch {
		case rc.HostHeaderConfig != nil:
			c.Values = rc.HostHeaderConfig.Values
		case rc.PathPatternConfig != nil:
			c.Values = rc.PathPatternConfig.Values
		case rc.HttpHeaderConfig != nil:
			c.HTTPHeaderName = aws.ToString(rc.HttpHeaderConfig.HttpHeaderName)
			c.Values = rc.HttpHeaderConfig.Values
		case rc.HttpRequestMethodConfig != nil:
			c.Values = rc.HttpRequestMethodConfig.Values
		case rc.SourceIpConfig != nil:
			c.Values = rc.SourceIpConfig.Values
		case rc.QueryStringConfig != nil:
			for _, kv := range rc.QueryStringConfig.Values {
				c.QueryStrings = append(c.QueryStrings, elb.QueryStringKeyValue{Key: aws.ToString(kv.Key), Value: aws.ToString(kv.Value)})
			}
		default:
			c.Values = rc.Values
		}
		if len(c.Values) == 0 && len(rc.Values) > 0 {
			c.Values = rc.Values
		}
		out = append(out, c)
	}
	return out
}

// tgFromSDK converts a described target group (without attributes).
func tgFromSDK(t types.TargetGroup) *elb.TargetGroup {
	tg := &elb.TargetGroup{
		Name: aws.ToString(t.TargetGroupName), ARN: aws.ToString(t.TargetGroupArn),
		Protocol: elb.Protocol(t.Protocol), ProtocolVersion: elb.ProtocolVersion(aws.ToString(t.ProtocolVersion)),
		Port: int(aws.ToInt32(t.Port)), TargetType: elb.TargetType(t.TargetType), VPCID: aws.ToString(t.VpcId),
		IPAddressType: elb.IPAddressType(t.IpAddressType),
		HealthCheck: elb.HealthCheck{Enabled: t.HealthCheckEnabled, Protocol: elb.Protocol(t.HealthCheckProtocol),
			Port: aws.ToString(t.HealthCheckPort), Path: aws.ToString(t.HealthCheckPath),
			IntervalSeconds: int(aws.ToInt32(t.HealthCheckIntervalSeconds)), TimeoutSeconds: int(aws.ToInt32(t.HealthCheckTimeoutSeconds)),
			HealthyThreshold: int(aws.ToInt32(t.HealthyThresholdCount)), UnhealthyThreshold: int(aws.ToInt32(t.UnhealthyThresholdCount))},
	}
	if t.Matcher != nil {
		tg.HealthCheck.Matcher = elb.Matcher{HTTPCode: aws.ToString(t.Matcher.HttpCode), GRPCCode: aws.ToString(t.Matcher.GrpcCode)}
	}
	return tg
}

func healthCheckInput(hc elb.HealthCheck) (m *types.Matcher) {
	if hc.Matcher.HTTPCode != "" || hc.Matcher.GRPCCode != "" {
		m = &types.Matcher{HttpCode: strp(hc.Matcher.HTTPCode), GrpcCode: strp(hc.Matcher.GRPCCode)}
	}
	return m
}

func toSDKTags(t elb.Tags) []types.Tag {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]types.Tag, 0, len(t))
	for _, k := range keys {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(t[k])})
	}
	return out
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func boolp(b bool) *bool {
	if !b {
		return nil
	}
	return aws.Bool(b)
}

func i32(n int) *int32 {
	if n == 0 {
		return nil
	}
	return aws.Int32(int32(n))
}

func itoa(n int) string { return strconv.Itoa(n) }
