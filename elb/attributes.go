package elb

import (
	"strconv"
)

// Attribute is one key/value attribute as the ELBv2 API carries it
// ("idle_timeout.timeout_seconds" = "60"). The typed attribute structs
// convert to and from them for code that speaks the API (elb/provision,
// elb/elbtest).
type Attribute struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// attr describes one API attribute of a typed struct T: which load balancer
// family it applies to ("" for both) and how to read and write it.
type attr[T any] struct {
	key    string
	family LoadBalancerType
	get    func(*T) string
	set    func(*T, string) bool
}

func boolAttr[T any](key string, fam LoadBalancerType, f func(*T) *bool) attr[T] {
	return attr[T]{key, fam,
		func(t *T) string { return strconv.FormatBool(*f(t)) },
		func(t *T, s string) bool {
			b, err := strconv.ParseBool(s)
			*f(t) = b
			return err == nil && (s == "true" || s == "false")
		}}
}

func boolPtrAttr[T any](key string, fam LoadBalancerType, f func(*T) **bool) attr[T] {
	return attr[T]{key, fam,
		func(t *T) string {
			if p := *f(t); p != nil {
				return strconv.FormatBool(*p)
			}
			return ""
		},
		func(t *T, s string) bool {
			if s != "true" && s != "false" {
				return false
			}
			*f(t) = Bool(s == "true")
			return true
		}}
}

func intAttr[T any](key string, fam LoadBalancerType, f func(*T) *int) attr[T] {
	return attr[T]{key, fam,
		func(t *T) string {
			if *f(t) == 0 {
				return ""
			}
			return strconv.Itoa(*f(t))
		},
		func(t *T, s string) bool { n, err := strconv.Atoi(s); *f(t) = n; return err == nil }}
}

func stringAttr[T any, S ~string](key string, fam LoadBalancerType, f func(*T) *S) attr[T] {
	return attr[T]{key, fam,
		func(t *T) string { return string(*f(t)) },
		func(t *T, s string) bool { *f(t) = S(s); return true }}
}

var lbAttrs = []attr[LoadBalancerAttributes]{
	boolAttr("deletion_protection.enabled", "", func(a *LoadBalancerAttributes) *bool { return &a.DeletionProtection }),
	intAttr("idle_timeout.timeout_seconds", LoadBalancerTypeApplication, func(a *LoadBalancerAttributes) *int { return &a.IdleTimeoutSeconds }),
	boolPtrAttr("routing.http2.enabled", LoadBalancerTypeApplication, func(a *LoadBalancerAttributes) **bool { return &a.HTTP2 }),
	stringAttr("routing.http.xff_header_processing.mode", LoadBalancerTypeApplication, func(a *LoadBalancerAttributes) *XFFHeaderProcessingMode { return &a.XFFHeaderProcessingMode }),
	stringAttr("routing.http.desync_mitigation_mode", LoadBalancerTypeApplication, func(a *LoadBalancerAttributes) *DesyncMitigationMode { return &a.DesyncMitigationMode }),
	boolAttr("routing.http.drop_invalid_header_fields.enabled", LoadBalancerTypeApplication, func(a *LoadBalancerAttributes) *bool { return &a.DropInvalidHeaderFields }),
	boolAttr("routing.http.preserve_host_header.enabled", LoadBalancerTypeApplication, func(a *LoadBalancerAttributes) *bool { return &a.PreserveHostHeader }),
	intAttr("client_keep_alive.seconds", LoadBalancerTypeApplication, func(a *LoadBalancerAttributes) *int { return &a.ClientKeepAliveSeconds }),
	boolPtrAttr("load_balancing.cross_zone.enabled", "", func(a *LoadBalancerAttributes) **bool { return &a.CrossZone }),
	boolAttr("access_logs.s3.enabled", "", func(a *LoadBalancerAttributes) *bool { return &a.AccessLogs.Enabled }),
	stringAttr("access_logs.s3.bucket", "", func(a *LoadBalancerAttributes) *string { return &a.AccessLogs.Bucket }),
	stringAttr("access_logs.s3.prefix", "", func(a *LoadBalancerAttributes) *string { return &a.AccessLogs.Prefix }),
	boolAttr("waf.fail_open.enabled", LoadBalancerTypeApplication, func(a *LoadBalancerAttributes) *bool { return &a.WAFFailOpen }),
}

var tgAttrs = []attr[TargetGroupAttributes]{
	{"deregistration_delay.timeout_seconds", "",
		func(a *TargetGroupAttributes) string {
			if a.DeregistrationDelaySeconds == nil {
				return ""
			}
			return strconv.Itoa(*a.DeregistrationDelaySeconds)
		},
		func(a *TargetGroupAttributes, s string) bool {
			n, err := strconv.Atoi(s)
			a.DeregistrationDelaySeconds = Int(n)
			return err == nil
		}},
	boolAttr("deregistration_delay.connection_termination.enabled", LoadBalancerTypeNetwork, func(a *TargetGroupAttributes) *bool { return &a.ConnectionTermination }),
	boolAttr("stickiness.enabled", "", func(a *TargetGroupAttributes) *bool { return &a.Stickiness.Enabled }),
	stringAttr("stickiness.type", "", func(a *TargetGroupAttributes) *StickinessType { return &a.Stickiness.Type }),
	intAttr("stickiness.lb_cookie.duration_seconds", LoadBalancerTypeApplication, func(a *TargetGroupAttributes) *int { return &a.Stickiness.LBCookieDurationSeconds }),
	stringAttr("stickiness.app_cookie.cookie_name", LoadBalancerTypeApplication, func(a *TargetGroupAttributes) *string { return &a.Stickiness.AppCookieName }),
	intAttr("stickiness.app_cookie.duration_seconds", LoadBalancerTypeApplication, func(a *TargetGroupAttributes) *int { return &a.Stickiness.AppCookieDurationSeconds }),
	stringAttr("load_balancing.algorithm.type", LoadBalancerTypeApplication, func(a *TargetGroupAttributes) *Algorithm { return &a.Algorithm }),
	{"slow_start.duration_seconds", LoadBalancerTypeApplication,
		func(a *TargetGroupAttributes) string { return strconv.Itoa(a.SlowStartSeconds) },
		func(a *TargetGroupAttributes, s string) bool {
			n, err := strconv.Atoi(s)
			a.SlowStartSeconds = n
			return err == nil
		}},
	stringAttr("load_balancing.cross_zone.enabled", "", func(a *TargetGroupAttributes) *CrossZoneMode { return &a.CrossZone }),
	boolAttr("proxy_protocol_v2.enabled", LoadBalancerTypeNetwork, func(a *TargetGroupAttributes) *bool { return &a.ProxyProtocolV2 }),
	boolPtrAttr("preserve_client_ip.enabled", LoadBalancerTypeNetwork, func(a *TargetGroupAttributes) **bool { return &a.PreserveClientIP }),
}

var listenerAttrs = []attr[ListenerAttributes]{
	intAttr("tcp.idle_timeout.seconds", LoadBalancerTypeNetwork, func(a *ListenerAttributes) *int { return &a.TCPIdleTimeoutSeconds }),
}

func toAttributes[T any](table []attr[T], fam LoadBalancerType, t *T) []Attribute {
	var out []Attribute
	for _, a := range table {
		if a.family != "" && a.family != fam {
			continue
		}
		if s := a.get(t); s != "" || a.key == "access_logs.s3.bucket" || a.key == "access_logs.s3.prefix" {
			out = append(out, Attribute{a.key, s})
		}
	}
	return out
}

// apply sets kvs onto t; unknown keys, keys of the other family and
// malformed values are errors. On error t is left unchanged.
func apply[T any](table []attr[T], fam LoadBalancerType, what string, t *T, kvs []Attribute) Errors {
	v := &validator{}
	next := *t
	seen := map[string]bool{}
	for i, kv := range kvs {
		p := idx("", i)
		if seen[kv.Key] {
			v.addf(p, CodeValidationError, "%s attribute key '%s' is specified more than once", what, kv.Key)
			continue
		}
		seen[kv.Key] = true
		found := false
		for _, a := range table {
			if a.key != kv.Key {
				continue
			}
			found = true
			if a.family != "" && a.family != fam {
				v.addf(p, CodeInvalidConfigurationRequest, "%s attribute key '%s' is not supported on %ss of type '%s'", what, kv.Key, lowerFirst(what), fam)
				break
			}
			if !a.set(&next, kv.Value) {
				v.addf(p, CodeValidationError, "%s attribute value '%s' is not valid for key '%s'", what, kv.Value, kv.Key)
			}
		}
		if !found {
			v.addf(p, CodeValidationError, "%s attribute key '%s' is not recognized", what, kv.Key)
		}
	}
	if len(v.errs) == 0 {
		*t = next
	}
	return v.errs
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return string(lower(s[0])) + s[1:]
}

// Attributes returns the attributes of a load balancer of type t as API
// key/value pairs: every key that applies to t and has a value (run
// Defaults first to get all of them, as DescribeLoadBalancerAttributes
// does).
func (a LoadBalancerAttributes) Attributes(t LoadBalancerType) []Attribute {
	return toAttributes(lbAttrs, t, &a)
}

// ApplyLoadBalancerAttributes returns base with kvs applied, as
// ModifyLoadBalancerAttributes does, and validates the result for a load
// balancer of type t. Unknown keys, keys that do not apply to t, malformed
// values and out-of-range values are errors (with paths "[i]" into kvs or
// the typed field name).
func ApplyLoadBalancerAttributes(t LoadBalancerType, base LoadBalancerAttributes, kvs []Attribute) (LoadBalancerAttributes, error) {
	next := base
	if errs := apply(lbAttrs, t, "Load balancer", &next, kvs); len(errs) > 0 {
		return base, errs
	}
	v := &validator{}
	v.lbAttributes("", t, next)
	if len(v.errs) > 0 {
		return base, v.errs
	}
	return next, nil
}

// AttributeList returns tg's attributes as API key/value pairs (run
// Defaults first to get all of them).
func (tg *TargetGroup) AttributeList() []Attribute {
	return toAttributes(tgAttrs, tgFamily(tg), &tg.Attributes)
}

// AttributeKeys returns every attribute key the model has for tg's kind of
// target group (ALB or NLB), including those AttributeList leaves out
// because their value is empty.
func (tg *TargetGroup) AttributeKeys() []string {
	fam := tgFamily(tg)
	var out []string
	for _, a := range tgAttrs {
		if a.family == "" || a.family == fam {
			out = append(out, a.key)
		}
	}
	return out
}

func tgFamily(tg *TargetGroup) LoadBalancerType {
	if isNLBProtocol(tg.Protocol) {
		return LoadBalancerTypeNetwork
	}
	return LoadBalancerTypeApplication
}

// ApplyTargetGroupAttributes returns tg's attributes with kvs applied, as
// ModifyTargetGroupAttributes does, validated against tg's protocol and
// target type. tg is not modified.
func ApplyTargetGroupAttributes(tg *TargetGroup, kvs []Attribute) (TargetGroupAttributes, error) {
	next := tg.Attributes
	if errs := apply(tgAttrs, tgFamily(tg), "Target group", &next, kvs); len(errs) > 0 {
		return tg.Attributes, errs
	}
	c := *tg
	c.Attributes = next
	if err := ValidateTargetGroupAttributes(&c); err != nil {
		return tg.Attributes, err
	}
	return next, nil
}

// Attributes returns the listener attributes as API key/value pairs.
func (a ListenerAttributes) Attributes() []Attribute {
	return toAttributes(listenerAttrs, LoadBalancerTypeNetwork, &a)
}

// ApplyListenerAttributes returns base with kvs applied, as
// ModifyListenerAttributes does, validated for a listener of protocol p.
func ApplyListenerAttributes(p Protocol, base ListenerAttributes, kvs []Attribute) (ListenerAttributes, error) {
	fam := LoadBalancerTypeApplication
	if isNLBProtocol(p) {
		fam = LoadBalancerTypeNetwork
	}
	next := base
	if errs := apply(listenerAttrs, fam, "Listener", &next, kvs); len(errs) > 0 {
		return base, errs
	}
	if next.TCPIdleTimeoutSeconds != 0 {
		v := &validator{}
		if p != ProtocolTCP {
			v.addf("tcpIdleTimeoutSeconds", CodeInvalidConfigurationRequest, "Listener attribute key 'tcp.idle_timeout.seconds' is not supported on listeners with the protocol '%s'", p)
		} else {
			v.attrRange("tcpIdleTimeoutSeconds", "tcp.idle_timeout.seconds", next.TCPIdleTimeoutSeconds, 60, 6000)
		}
		if len(v.errs) > 0 {
			return base, v.errs
		}
	}
	return next, nil
}
