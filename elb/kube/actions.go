package kube

import (
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/lbkit/lbkit/elb"
)

// actionJSON is ALBC's actions.${name} annotation: AWS's Action shape,
// with target groups named by Service as well as by ARN.
type actionJSON struct {
	Type                string                   `json:"type"`
	TargetGroupARN      string                   `json:"targetGroupARN,omitempty"`
	ForwardConfig       *forwardJSON             `json:"forwardConfig,omitempty"`
	RedirectConfig      *elb.RedirectConfig      `json:"redirectConfig,omitempty"`
	FixedResponseConfig *elb.FixedResponseConfig `json:"fixedResponseConfig,omitempty"`
}

type forwardJSON struct {
	TargetGroups []struct {
		TargetGroupARN string              `json:"targetGroupARN,omitempty"`
		ServiceName    string              `json:"serviceName,omitempty"`
		ServicePort    *intstr.IntOrString `json:"servicePort,omitempty"`
		Weight         *int                `json:"weight,omitempty"`
	} `json:"targetGroups"`
	TargetGroupStickinessConfig *struct {
		Enabled         bool `json:"enabled"`
		DurationSeconds int  `json:"durationSeconds,omitempty"`
	} `json:"targetGroupStickinessConfig,omitempty"`
}

// conditionJSON is one entry of ALBC's conditions.${name} annotation.
type conditionJSON struct {
	Field            string `json:"field"`
	HostHeaderConfig *struct {
		Values []string `json:"values"`
	} `json:"hostHeaderConfig,omitempty"`
	PathPatternConfig *struct {
		Values []string `json:"values"`
	} `json:"pathPatternConfig,omitempty"`
	HTTPHeaderConfig *struct {
		HTTPHeaderName string   `json:"httpHeaderName"`
		Values         []string `json:"values"`
	} `json:"httpHeaderConfig,omitempty"`
	HTTPRequestMethodConfig *struct {
		Values []string `json:"values"`
	} `json:"httpRequestMethodConfig,omitempty"`
	QueryStringConfig *struct {
		Values []elb.QueryStringKeyValue `json:"values"`
	} `json:"queryStringConfig,omitempty"`
	SourceIPConfig *struct {
		Values []string `json:"values"`
	} `json:"sourceIpConfig,omitempty"`
}

// serviceTG resolves a Service backend to its target group.
type serviceTG func(service string, port intstr.IntOrString) (*elb.TargetGroup, error)

// toAction converts an actions.* value.
func (a actionJSON) toAction(resolve serviceTG) (elb.Action, error) {
	switch a.Type {
	case "fixed-response":
		if a.FixedResponseConfig == nil {
			return elb.Action{}, fmt.Errorf("fixed-response needs fixedResponseConfig")
		}
		code, err := strconv.Atoi(a.FixedResponseConfig.StatusCode)
		if err != nil {
			return elb.Action{}, fmt.Errorf("fixedResponseConfig.statusCode %q is not a number", a.FixedResponseConfig.StatusCode)
		}
		return elb.FixedResponse(code, a.FixedResponseConfig.ContentType, a.FixedResponseConfig.MessageBody), nil
	case "redirect":
		if a.RedirectConfig == nil {
			return elb.Action{}, fmt.Errorf("redirect needs redirectConfig")
		}
		return elb.Redirect(*a.RedirectConfig), nil
	case "forward":
		var tuples []elb.TargetGroupTuple
		if a.TargetGroupARN != "" {
			tuples = append(tuples, elb.TargetGroupTuple{TargetGroup: a.TargetGroupARN})
		}
		if f := a.ForwardConfig; f != nil {
			for i, t := range f.TargetGroups {
				switch {
				case t.TargetGroupARN != "":
					tuples = append(tuples, elb.TargetGroupTuple{TargetGroup: t.TargetGroupARN, Weight: t.Weight})
				case t.ServiceName != "" && t.ServicePort != nil:
					tg, err := resolve(t.ServiceName, *t.ServicePort)
					if err != nil {
						return elb.Action{}, err
					}
					tuples = append(tuples, elb.TargetGroupTuple{TargetGroup: tg.Name, Weight: t.Weight})
				default:
					return elb.Action{}, fmt.Errorf("forwardConfig.targetGroups[%d] needs targetGroupARN, or serviceName and servicePort", i)
				}
			}
		}
		if len(tuples) == 0 {
			return elb.Action{}, fmt.Errorf("forward needs a target group")
		}
		act := elb.Action{Type: elb.ActionForward, Forward: &elb.ForwardConfig{TargetGroups: tuples}}
		if f := a.ForwardConfig; f != nil && f.TargetGroupStickinessConfig != nil {
			act.Forward.Stickiness = &elb.GroupStickiness{Enabled: f.TargetGroupStickinessConfig.Enabled, DurationSeconds: f.TargetGroupStickinessConfig.DurationSeconds}
		}
		return act, nil
	}
	return elb.Action{}, fmt.Errorf("type %q is not forward, redirect or fixed-response", a.Type)
}

func (c conditionJSON) toCondition() (elb.Condition, error) {
	missing := func(cfg string) error { return fmt.Errorf("field %s needs %s", c.Field, cfg) }
	switch c.Field {
	case "host-header":
		if c.HostHeaderConfig == nil {
			return elb.Condition{}, missing("hostHeaderConfig")
		}
		return elb.HostHeader(c.HostHeaderConfig.Values...), nil
	case "path-pattern":
		if c.PathPatternConfig == nil {
			return elb.Condition{}, missing("pathPatternConfig")
		}
		return elb.PathPattern(c.PathPatternConfig.Values...), nil
	case "http-header":
		if c.HTTPHeaderConfig == nil {
			return elb.Condition{}, missing("httpHeaderConfig")
		}
		return elb.HTTPHeader(c.HTTPHeaderConfig.HTTPHeaderName, c.HTTPHeaderConfig.Values...), nil
	case "http-request-method":
		if c.HTTPRequestMethodConfig == nil {
			return elb.Condition{}, missing("httpRequestMethodConfig")
		}
		return elb.HTTPRequestMethod(c.HTTPRequestMethodConfig.Values...), nil
	case "query-string":
		if c.QueryStringConfig == nil {
			return elb.Condition{}, missing("queryStringConfig")
		}
		return elb.QueryString(c.QueryStringConfig.Values...), nil
	case "source-ip":
		if c.SourceIPConfig == nil {
			return elb.Condition{}, missing("sourceIpConfig")
		}
		return elb.SourceIP(c.SourceIPConfig.Values...), nil
	}
	return elb.Condition{}, fmt.Errorf("field %q is not one of host-header, path-pattern, http-header, http-request-method, query-string, source-ip", c.Field)
}

// listenPort is one entry of listen-ports: [{"HTTP":80},{"HTTPS":443}].
type listenPort struct {
	Protocol elb.Protocol
	Port     int
}

func parseListenPorts(raw string) ([]listenPort, error) {
	var entries []map[string]int
	if err := decodeStrictJSON(raw, &entries); err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("no listen ports")
	}
	var out []listenPort
	for _, e := range entries {
		if len(e) != 1 {
			return nil, fmt.Errorf("each entry names one protocol, as {\"HTTPS\":443}")
		}
		for p, port := range e {
			if p != "HTTP" && p != "HTTPS" {
				return nil, fmt.Errorf("protocol %q is not HTTP or HTTPS", p)
			}
			if port < 1 || port > 65535 {
				return nil, fmt.Errorf("port %d is not 1-65535", port)
			}
			out = append(out, listenPort{elb.Protocol(p), port})
		}
	}
	return out, nil
}
