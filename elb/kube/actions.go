package kube

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/lbkit/lbkit/elb"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Action is the JSON of an actions.<name> annotation, in ALBC's schema.
type Action struct {
	Type                string                   `json:"type"`
	TargetGroupARN      string                   `json:"targetGroupARN,omitempty"`
	ForwardConfig       *ForwardActionConfig     `json:"forwardConfig,omitempty"`
	RedirectConfig      *elb.RedirectConfig      `json:"redirectConfig,omitempty"`
	FixedResponseConfig *elb.FixedResponseConfig `json:"fixedResponseConfig,omitempty"`
}

// ForwardActionConfig forwards to weighted target groups: existing ones by
// ARN or the target groups of Service ports.
type ForwardActionConfig struct {
	TargetGroups                []TargetGroupTuple           `json:"targetGroups"`
	TargetGroupStickinessConfig *TargetGroupStickinessConfig `json:"targetGroupStickinessConfig,omitempty"`
}

// TargetGroupTuple is one weighted destination of a forward action.
type TargetGroupTuple struct {
	TargetGroupARN string             `json:"targetGroupARN,omitempty"`
	ServiceName    string             `json:"serviceName,omitempty"`
	ServicePort    intstr.IntOrString `json:"servicePort,omitempty"`
	Weight         *int               `json:"weight,omitempty"`
}

// TargetGroupStickinessConfig is a forward action's group stickiness.
type TargetGroupStickinessConfig struct {
	Enabled         bool `json:"enabled"`
	DurationSeconds int  `json:"durationSeconds,omitempty"`
}

// ParseAction parses and checks an actions.<name> value.
func ParseAction(v string) (*Action, error) {
	var a Action
	if err := unmarshalStrict(v, &a); err != nil {
		return nil, err
	}
	switch a.Type {
	case "forward":
		if a.RedirectConfig != nil || a.FixedResponseConfig != nil {
			return nil, fmt.Errorf("forward action with redirectConfig or fixedResponseConfig")
		}
		if a.TargetGroupARN == "" && a.ForwardConfig == nil {
			return nil, fmt.Errorf("forward action needs targetGroupARN or forwardConfig")
		}
		if a.TargetGroupARN != "" && a.ForwardConfig != nil {
			return nil, fmt.Errorf("forward action has both targetGroupARN and forwardConfig")
		}
		if a.ForwardConfig != nil {
			if n := len(a.ForwardConfig.TargetGroups); n == 0 || n > 5 {
				return nil, fmt.Errorf("forwardConfig.targetGroups: %d target groups, want 1-5", n)
			}
			for i, tg := range a.ForwardConfig.TargetGroups {
				if (tg.TargetGroupARN == "") == (tg.ServiceName == "") {
					return nil, fmt.Errorf("forwardConfig.targetGroups[%d]: exactly one of targetGroupARN and serviceName", i)
				}
				if tg.ServiceName != "" && tg.ServicePort.String() == "" || tg.ServiceName != "" && tg.ServicePort.Type == intstr.Int && tg.ServicePort.IntVal == 0 {
					return nil, fmt.Errorf("forwardConfig.targetGroups[%d].servicePort is required", i)
				}
				if tg.Weight != nil && (*tg.Weight < 0 || *tg.Weight > 999) {
					return nil, fmt.Errorf("forwardConfig.targetGroups[%d].weight %d: must be 0-999", i, *tg.Weight)
				}
			}
			if st := a.ForwardConfig.TargetGroupStickinessConfig; st != nil && st.Enabled && (st.DurationSeconds < 1 || st.DurationSeconds > 604800) {
				return nil, fmt.Errorf("targetGroupStickinessConfig.durationSeconds %d: must be 1-604800", st.DurationSeconds)
			}
		}
	case "redirect":
		if a.RedirectConfig == nil || a.ForwardConfig != nil || a.FixedResponseConfig != nil || a.TargetGroupARN != "" {
			return nil, fmt.Errorf("redirect action needs redirectConfig only")
		}
		if a.RedirectConfig.StatusCode != elb.RedirectPermanent && a.RedirectConfig.StatusCode != elb.RedirectFound {
			return nil, fmt.Errorf("redirectConfig.statusCode %q: must be HTTP_301 or HTTP_302", a.RedirectConfig.StatusCode)
		}
	case "fixed-response":
		if a.FixedResponseConfig == nil || a.ForwardConfig != nil || a.RedirectConfig != nil || a.TargetGroupARN != "" {
			return nil, fmt.Errorf("fixed-response action needs fixedResponseConfig only")
		}
		c := a.FixedResponseConfig
		if len(c.StatusCode) != 3 || c.StatusCode[0] < '2' || c.StatusCode[0] > '5' || strings.Trim(c.StatusCode, "0123456789") != "" {
			return nil, fmt.Errorf("fixedResponseConfig.statusCode %q: must be 2XX, 4XX or 5XX", c.StatusCode)
		}
		if len(c.MessageBody) > 1024 {
			return nil, fmt.Errorf("fixedResponseConfig.messageBody: at most 1024 characters")
		}
	case "":
		return nil, fmt.Errorf("type is required (forward, redirect or fixed-response)")
	default:
		return nil, fmt.Errorf("type %q: must be forward, redirect or fixed-response (authenticate actions use the auth-* annotations)", a.Type)
	}
	return &a, nil
}

// Condition is one element of a conditions.<name> annotation, in ALBC's schema.
type Condition struct {
	Field                   string        `json:"field"`
	HostHeaderConfig        *valuesConfig `json:"hostHeaderConfig,omitempty"`
	PathPatternConfig       *valuesConfig `json:"pathPatternConfig,omitempty"`
	HTTPHeaderConfig        *headerConfig `json:"httpHeaderConfig,omitempty"`
	HTTPRequestMethodConfig *valuesConfig `json:"httpRequestMethodConfig,omitempty"`
	QueryStringConfig       *queryConfig  `json:"queryStringConfig,omitempty"`
	SourceIPConfig          *valuesConfig `json:"sourceIpConfig,omitempty"`
	Values                  []string      `json:"values,omitempty"`
}

type valuesConfig struct {
	Values []string `json:"values"`
}

type headerConfig struct {
	HTTPHeaderName string   `json:"httpHeaderName"`
	Values         []string `json:"values"`
}

type queryConfig struct {
	Values []elb.QueryStringKeyValue `json:"values"`
}

// ParseConditions parses a conditions.<name> value into elb conditions.
func ParseConditions(v string) ([]elb.Condition, error) {
	var cs []Condition
	if err := unmarshalStrict(v, &cs); err != nil {
		return nil, err
	}
	var out []elb.Condition
	for i, c := range cs {
		var ec elb.Condition
		set := 0
		cfg := func(vc *valuesConfig, f elb.ConditionField) {
			if vc != nil {
				set++
				ec = elb.Condition{Field: f, Values: vc.Values}
			}
		}
		cfg(c.HostHeaderConfig, elb.FieldHostHeader)
		cfg(c.PathPatternConfig, elb.FieldPathPattern)
		cfg(c.HTTPRequestMethodConfig, elb.FieldHTTPRequestMethod)
		cfg(c.SourceIPConfig, elb.FieldSourceIP)
		if c.HTTPHeaderConfig != nil {
			set++
			ec = elb.Condition{Field: elb.FieldHTTPHeader, HTTPHeaderName: c.HTTPHeaderConfig.HTTPHeaderName, Values: c.HTTPHeaderConfig.Values}
		}
		if c.QueryStringConfig != nil {
			set++
			ec = elb.Condition{Field: elb.FieldQueryString, QueryStrings: c.QueryStringConfig.Values}
		}
		if set == 0 && len(c.Values) > 0 && (c.Field == string(elb.FieldHostHeader) || c.Field == string(elb.FieldPathPattern)) {
			set++ // the legacy "values" form
			ec = elb.Condition{Field: elb.ConditionField(c.Field), Values: c.Values}
		}
		if set != 1 {
			return nil, fmt.Errorf("[%d]: exactly one config matching field %q", i, c.Field)
		}
		if string(ec.Field) != c.Field {
			return nil, fmt.Errorf("[%d]: field %q with the config of %q", i, c.Field, ec.Field)
		}
		if len(ec.Values) == 0 && len(ec.QueryStrings) == 0 {
			return nil, fmt.Errorf("[%d]: no values", i)
		}
		if ec.Field == elb.FieldHTTPHeader && ec.HTTPHeaderName == "" {
			return nil, fmt.Errorf("[%d]: httpHeaderConfig.httpHeaderName is required", i)
		}
		if ec.Field == elb.FieldSourceIP {
			for _, s := range ec.Values {
				if _, err := netip.ParsePrefix(s); err != nil {
					return nil, fmt.Errorf("[%d]: source IP %q is not a CIDR", i, s)
				}
			}
		}
		out = append(out, ec)
	}
	return out, nil
}
