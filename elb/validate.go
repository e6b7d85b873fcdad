package elb

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// AWS quotas that validation and Lint check. The values are AWS's default
// quotas (some can be raised on request; adjust with Limits).
const (
	MaxNameLength                  = 32
	MaxListenersPerLoadBalancer    = 50
	MaxRulesPerLoadBalancer        = 100 // default rules excluded
	MaxTargetGroupsPerALB          = 100
	MaxTargetGroupsPerAction       = 5
	MaxTargetsPerTargetGroup       = 1000
	MaxTargetsPerALB               = 1000
	MaxTargetsPerNLB               = 3000
	MaxCertificatesPerLoadBalancer = 25
	MaxTags                        = 50
	MaxValuesPerCondition          = 3
	MaxSourceIPValues              = 5
	MaxValuesPerRule               = 5
	MaxWildcardsPerRule            = 5
	MaxPatternLength               = 128
	MaxPriority                    = 50000
)

type validator struct{ errs Errors }

func (v *validator) add(path, code, msg string) {
	v.errs = append(v.errs, &Error{Path: path, Code: code, Message: msg})
}

func (v *validator) addf(path, code, format string, args ...any) {
	v.add(path, code, fmt.Sprintf(format, args...))
}

// merge appends errs with their paths under prefix.
func (v *validator) merge(prefix string, errs Errors) {
	for _, e := range errs {
		v.errs = append(v.errs, &Error{Path: join(prefix, e.Path), Code: e.Code, Message: e.Message})
	}
}

func join(prefix, path string) string {
	switch {
	case prefix == "":
		return path
	case path == "":
		return prefix
	case path[0] == '[':
		return prefix + path
	}
	return prefix + "." + path
}

func idx(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// rangeCheck reports v outside [lo, hi] in AWS's standard constraint form:
// "1 validation error detected: Value '0' at 'port' failed to satisfy
// constraint: Member must have value greater than or equal to 1".
func (v *validator) rangeCheck(path, member string, val, lo, hi int) {
	switch {
	case val < lo:
		v.addf(path, CodeValidationError, "1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", val, member, lo)
	case val > hi:
		v.addf(path, CodeValidationError, "1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", val, member, hi)
	}
}

// enumCheck reports a value outside its enum in AWS's standard form.
func enumCheck[T ~string](v *validator, path, member string, val T, allowed ...T) {
	for _, a := range allowed {
		if val == a {
			return
		}
	}
	set := make([]string, len(allowed))
	for i, a := range allowed {
		set[i] = string(a)
	}
	v.addf(path, CodeValidationError, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", val, member, strings.Join(set, ", "))
}

// Validate reports every problem of the stack: each load balancer, listener,
// rule and target group, the references between them (a missing target
// group, a target group on two load balancers, incompatible protocols) and
// AWS's quotas. It returns nil or Errors, and does not modify s. Fields left
// at zero are checked as the defaults AWS would apply, so Validate gives
// the same answer before and after Defaults.
func (s *Stack) Validate() error {
	v := &validator{}
	lbNames := map[string]int{}
	for i, lb := range s.LoadBalancers {
		p := idx("loadBalancers", i)
		if lb == nil {
			v.add(p, CodeValidationError, "A load balancer must not be null")
			continue
		}
		if j, dup := lbNames[lb.Name]; dup {
			v.addf(join(p, "name"), CodeDuplicateLoadBalancerName, "A load balancer with the same name '%s' exists, but with different settings (loadBalancers[%d])", lb.Name, j)
		} else {
			lbNames[lb.Name] = i
		}
		v.merge(p, AsErrors(ValidateLoadBalancer(lb)))
	}
	tgNames := map[string]int{}
	for i, tg := range s.TargetGroups {
		p := idx("targetGroups", i)
		if tg == nil {
			v.add(p, CodeValidationError, "A target group must not be null")
			continue
		}
		if j, dup := tgNames[tg.Name]; dup {
			v.addf(join(p, "name"), CodeDuplicateTargetGroupName, "A target group with the same name '%s' exists, but with different settings (targetGroups[%d])", tg.Name, j)
		} else {
			tgNames[tg.Name] = i
		}
		v.merge(p, AsErrors(ValidateTargetGroup(tg)))
	}
	s.validateReferences(v)
	return v.errs.Err()
}

// validateReferences checks what spans resources: forwards name existing
// target groups of a compatible protocol, each target group serves one load
// balancer, and per-load-balancer quotas on target groups and targets.
func (s *Stack) validateReferences(v *validator) {
	owner := map[*TargetGroup]int{}
	for i, lb := range s.LoadBalancers {
		if lb == nil {
			continue
		}
		lbType := lb.Type
		if lbType == "" {
			lbType = LoadBalancerTypeApplication
		}
		unique := map[*TargetGroup]bool{}
		for j, l := range lb.Listeners {
			if l == nil {
				continue
			}
			lp := idx(join(idx("loadBalancers", i), "listeners"), j)
			proto := l.Protocol
			if proto == "" {
				proto = map[LoadBalancerType]Protocol{LoadBalancerTypeApplication: ProtocolHTTP, LoadBalancerTypeNetwork: ProtocolTCP}[lbType]
			}
			check := func(path string, actions []Action) {
				for k, a := range actions {
					if a.Forward == nil {
						continue
					}
					for m, t := range a.Forward.TargetGroups {
						tp := join(idx(join(idx(path, k), "forward.targetGroups"), m), "targetGroup")
						tg := s.TargetGroup(t.TargetGroup)
						if tg == nil {
							v.addf(tp, CodeTargetGroupNotFound, "One or more target groups not found: '%s'", t.TargetGroup)
							continue
						}
						unique[tg] = true
						if prev, ok := owner[tg]; ok && prev != i {
							v.addf(tp, CodeTargetGroupAssociationLimit, "The following target groups cannot be associated with more than one load balancer: %s", tg.Name)
						} else {
							owner[tg] = i
						}
						if !compatible(proto, tg) {
							tgp := tg.Protocol
							if tg.TargetType == TargetTypeLambda {
								tgp = "lambda"
							}
							v.addf(tp, CodeIncompatibleProtocols, "The protocol '%s' of target group '%s' is not compatible with the listener protocol '%s'", tgp, tg.Name, proto)
						}
					}
				}
			}
			check(join(lp, "defaultActions"), l.DefaultActions)
			for k, r := range l.Rules {
				if r != nil {
					check(join(idx(join(lp, "rules"), k), "actions"), r.Actions)
				}
			}
		}
		lbp := idx("loadBalancers", i)
		if lbType == LoadBalancerTypeApplication && len(unique) > MaxTargetGroupsPerALB {
			v.addf(lbp, CodeTooManyUniqueTargetGroupsPerLoadBalancer, "You have reached the maximum number of unique target groups that you can associate with a load balancer of type 'application': [%d]", MaxTargetGroupsPerALB)
		}
		targets := 0
		for tg := range unique {
			targets += len(tg.Targets)
		}
		limit := MaxTargetsPerALB
		if lbType == LoadBalancerTypeNetwork {
			limit = MaxTargetsPerNLB
		}
		if targets > limit {
			v.addf(lbp, CodeTooManyTargets, "You've reached the limit on the number of targets per load balancer of type '%s': [%d]", lbType, limit)
		}
	}
}

// compatible reports whether a listener of protocol lp may forward to tg.
func compatible(lp Protocol, tg *TargetGroup) bool {
	if tg.TargetType == TargetTypeLambda {
		return isALBProtocol(lp)
	}
	switch lp {
	case ProtocolHTTP, ProtocolHTTPS:
		return isALBProtocol(tg.Protocol)
	case ProtocolTCP:
		return tg.Protocol == ProtocolTCP || tg.Protocol == ProtocolTCPUDP
	case ProtocolTLS:
		return tg.Protocol == ProtocolTCP || tg.Protocol == ProtocolTLS
	case ProtocolUDP:
		return tg.Protocol == ProtocolUDP || tg.Protocol == ProtocolTCPUDP
	case ProtocolTCPUDP:
		return tg.Protocol == ProtocolTCPUDP
	}
	return false
}

// ValidateLoadBalancerName checks a load balancer name: 1–32 alphanumerics
// and hyphens, no hyphen first or last, not beginning with "internal-".
func ValidateLoadBalancerName(name string) error {
	v := &validator{}
	v.name("name", "load balancer", name)
	if strings.HasPrefix(strings.ToLower(name), "internal-") {
		v.addf("name", CodeValidationError, "Load balancer name '%s' cannot begin with 'internal-'", name)
	}
	return v.errs.Err()
}

// ValidateTargetGroupName checks a target group name: 1–32 alphanumerics
// and hyphens, no hyphen first or last.
func ValidateTargetGroupName(name string) error {
	v := &validator{}
	v.name("name", "target group", name)
	return v.errs.Err()
}

func (v *validator) name(path, kind, name string) {
	what := "Target group name"
	if kind == "load balancer" {
		what = "The load balancer name"
	}
	switch {
	case name == "":
		v.add(path, CodeValidationError, "1 validation error detected: Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1")
		return
	case len(name) > MaxNameLength:
		v.addf(path, CodeValidationError, "%s '%s' cannot be longer than '%d' characters", what, name, MaxNameLength)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isAlnum(c) && c != '-' {
			v.addf(path, CodeValidationError, "%s '%s' can only contain characters that are alphanumeric characters or hyphens(-)", what, name)
			return
		}
	}
	if name[0] == '-' || name[len(name)-1] == '-' {
		v.addf(path, CodeValidationError, "%s '%s' cannot begin or end with '-'", what, name)
	}
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// ValidateTags checks a tag set: at most 50 tags, keys 1–128 characters
// not starting with "aws:", values at most 256 characters.
func ValidateTags(tags Tags) error {
	v := &validator{}
	v.tags("", tags)
	return v.errs.Err()
}

func (v *validator) tags(path string, tags Tags) {
	if len(tags) > MaxTags {
		v.addf(path, CodeTooManyTags, "You've reached the limit on the number of tags for this resource: [%d]", MaxTags)
	}
	for _, k := range sortedKeys(tags) {
		kp := path + "[" + strconv.Quote(k) + "]"
		switch {
		case k == "" || len(k) > 128:
			v.addf(kp, CodeValidationError, "1 validation error detected: Value '%s' at 'tags.member.key' failed to satisfy constraint: Member must have length between 1 and 128", k)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			v.addf(kp, CodeValidationError, "Tag keys starting with 'aws:' are reserved for internal use: '%s'", k)
		}
		if len(tags[k]) > 256 {
			v.addf(kp, CodeValidationError, "1 validation error detected: Value at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256")
		}
	}
}

// ValidateLoadBalancer checks one load balancer with its listeners and
// rules; paths are relative to it ("listeners[0].port"). References to
// target groups are checked by Stack.Validate.
func ValidateLoadBalancer(lb *LoadBalancer) error {
	v := &validator{}
	v.merge("", AsErrors(ValidateLoadBalancerName(lb.Name)))
	t := lb.Type
	if t == "" {
		t = LoadBalancerTypeApplication
	}
	enumCheck(v, "type", "type", t, LoadBalancerTypeApplication, LoadBalancerTypeNetwork)
	if lb.Scheme != "" {
		enumCheck(v, "scheme", "scheme", lb.Scheme, SchemeInternetFacing, SchemeInternal)
	}
	if lb.IPAddressType != "" {
		enumCheck(v, "ipAddressType", "ipAddressType", lb.IPAddressType, IPAddressTypeIPv4, IPAddressTypeDualstack, IPAddressTypeDualstackWithoutPublicIPv4)
		if lb.IPAddressType == IPAddressTypeDualstackWithoutPublicIPv4 && t != LoadBalancerTypeApplication {
			v.addf("ipAddressType", CodeValidationError, "IP address type '%s' is supported only by load balancers of type 'application'", lb.IPAddressType)
		}
	}
	v.subnets(lb, t)
	v.lbAttributes("attributes", t, lb.Attributes)
	v.tags("tags", lb.Tags)

	if len(lb.Listeners) > MaxListenersPerLoadBalancer {
		v.addf("listeners", CodeTooManyListeners, "You've reached the limit on the number of listeners per load balancer: [%d]", MaxListenersPerLoadBalancer)
	}
	ports := map[int]bool{}
	rules, certs := 0, 0
	for i, l := range lb.Listeners {
		p := idx("listeners", i)
		if l == nil {
			v.add(p, CodeValidationError, "A listener must not be null")
			continue
		}
		if ports[l.Port] {
			v.addf(join(p, "port"), CodeDuplicateListener, "A listener already exists on this port for this load balancer '%s'", lb.Name)
		}
		ports[l.Port] = true
		rules += len(l.Rules)
		certs += len(l.Certificates)
		v.merge(p, AsErrors(ValidateListener(t, l)))
	}
	if rules > MaxRulesPerLoadBalancer {
		v.addf("listeners", CodeTooManyRules, "You've reached the limit on the number of rules per load balancer: [%d]", MaxRulesPerLoadBalancer)
	}
	if certs > MaxCertificatesPerLoadBalancer {
		v.addf("listeners", CodeTooManyCertificates, "You've reached the limit on the number of certificates per load balancer: [%d]", MaxCertificatesPerLoadBalancer)
	}
	return v.errs.Err()
}

func (v *validator) subnets(lb *LoadBalancer, t LoadBalancerType) {
	sources := 0
	for _, set := range []bool{len(lb.Subnets) > 0, len(lb.SubnetMappings) > 0, lb.SubnetSelector != nil} {
		if set {
			sources++
		}
	}
	switch {
	case sources == 0:
		if t == LoadBalancerTypeApplication {
			v.add("subnets", CodeValidationError, "At least two subnets in two different Availability Zones must be specified")
		} else {
			v.add("subnets", CodeValidationError, "At least one subnet must be specified")
		}
		return
	case sources > 1:
		v.add("subnets", CodeValidationError, "You can specify only one of subnets, subnet mappings and a subnet selector")
		return
	}
	ids := lb.Subnets
	path := "subnets"
	if len(lb.SubnetMappings) > 0 {
		path = "subnetMappings"
		ids = nil
		for i, m := range lb.SubnetMappings {
			ids = append(ids, m.SubnetID)
			if m.AllocationID != "" && lb.Scheme == SchemeInternal {
				v.add(join(idx(path, i), "allocationId"), CodeInvalidConfigurationRequest, "Elastic IP addresses can be associated only with internet-facing load balancers")
			}
			if m.PrivateIPv4Address != "" {
				if a, err := netip.ParseAddr(m.PrivateIPv4Address); err != nil || !a.Is4() {
					v.addf(join(idx(path, i), "privateIPv4Address"), CodeValidationError, "The private IPv4 address '%s' is not valid", m.PrivateIPv4Address)
				}
			}
			if (m.AllocationID != "" || m.PrivateIPv4Address != "") && t == LoadBalancerTypeApplication {
				v.add(idx(path, i), CodeInvalidConfigurationRequest, "Elastic IP addresses and private IPv4 addresses can be specified only for load balancers of type 'network'")
			}
		}
	}
	if lb.SubnetSelector != nil {
		if len(lb.SubnetSelector.Tags) == 0 {
			v.add("subnetSelector.tags", CodeValidationError, "A subnet selector must have at least one tag")
		}
		return
	}
	seen := map[string]bool{}
	for i, id := range ids {
		if id == "" {
			v.add(idx(path, i), CodeValidationError, "A subnet ID must not be empty")
		}
		if seen[id] {
			v.addf(idx(path, i), CodeInvalidConfigurationRequest, "Subnet '%s' is specified more than once", id)
		}
		seen[id] = true
	}
	if t == LoadBalancerTypeApplication && len(seen) < 2 {
		v.add(path, CodeValidationError, "At least two subnets in two different Availability Zones must be specified")
	}
}

func (v *validator) lbAttributes(path string, t LoadBalancerType, a LoadBalancerAttributes) {
	albOnly := func(field, key string, set bool) {
		if set && t != LoadBalancerTypeApplication {
			v.addf(join(path, field), CodeInvalidConfigurationRequest, "Load balancer attribute key '%s' is not supported on load balancers with type '%s'", key, t)
		}
	}
	albOnly("idleTimeoutSeconds", "idle_timeout.timeout_seconds", a.IdleTimeoutSeconds != 0)
	albOnly("http2", "routing.http2.enabled", a.HTTP2 != nil)
	albOnly("xffHeaderProcessingMode", "routing.http.xff_header_processing.mode", a.XFFHeaderProcessingMode != "")
	albOnly("desyncMitigationMode", "routing.http.desync_mitigation_mode", a.DesyncMitigationMode != "")
	albOnly("dropInvalidHeaderFields", "routing.http.drop_invalid_header_fields.enabled", a.DropInvalidHeaderFields)
	albOnly("preserveHostHeader", "routing.http.preserve_host_header.enabled", a.PreserveHostHeader)
	albOnly("clientKeepAliveSeconds", "client_keep_alive.seconds", a.ClientKeepAliveSeconds != 0)
	albOnly("wafFailOpen", "waf.fail_open.enabled", a.WAFFailOpen)
	if a.IdleTimeoutSeconds != 0 {
		v.attrRange(join(path, "idleTimeoutSeconds"), "idle_timeout.timeout_seconds", a.IdleTimeoutSeconds, 1, 4000)
	}
	if a.ClientKeepAliveSeconds != 0 {
		v.attrRange(join(path, "clientKeepAliveSeconds"), "client_keep_alive.seconds", a.ClientKeepAliveSeconds, 60, 604800)
	}
	if a.XFFHeaderProcessingMode != "" {
		v.attrEnum(join(path, "xffHeaderProcessingMode"), "routing.http.xff_header_processing.mode", string(a.XFFHeaderProcessingMode), "append", "preserve", "remove")
	}
	if a.DesyncMitigationMode != "" {
		v.attrEnum(join(path, "desyncMitigationMode"), "routing.http.desync_mitigation_mode", string(a.DesyncMitigationMode), "monitor", "defensive", "strictest")
	}
	if t == LoadBalancerTypeApplication && a.CrossZone != nil && !*a.CrossZone {
		v.add(join(path, "crossZone"), CodeInvalidConfigurationRequest, "Load balancer attribute key 'load_balancing.cross_zone.enabled' cannot be set to 'false' on load balancers with type 'application'")
	}
	if a.AccessLogs.Enabled && a.AccessLogs.Bucket == "" {
		v.add(join(path, "accessLogs.bucket"), CodeValidationError, "The value of 'access_logs.s3.bucket' cannot be empty when access logs are enabled")
	}
}

func (v *validator) attrRange(path, key string, val, lo, hi int) {
	if val < lo || val > hi {
		v.addf(path, CodeValidationError, "The value of '%s' must be between %d and %d, not '%d'", key, lo, hi, val)
	}
}

func (v *validator) attrEnum(path, key, val string, allowed ...string) {
	for _, a := range allowed {
		if val == a {
			return
		}
	}
	v.addf(path, CodeValidationError, "The value of '%s' must be one of '%s', not '%s'", key, strings.Join(allowed, ", "), val)
}

// ValidateListener checks one listener of a load balancer of type lbType,
// with its default actions and rules; paths are relative to it. Target
// group references are checked by Stack.Validate.
func ValidateListener(lbType LoadBalancerType, l *Listener) error {
	v := &validator{}
	if lbType == "" {
		lbType = LoadBalancerTypeApplication
	}
	v.rangeCheck("port", "port", l.Port, 1, 65535)
	proto := l.Protocol
	switch lbType {
	case LoadBalancerTypeApplication:
		if proto == "" {
			proto = ProtocolHTTP
		}
		if !isALBProtocol(proto) {
			v.addf("protocol", CodeValidationError, "Listener protocol '%s' must be one of 'HTTPS, HTTP'", proto)
		}
	case LoadBalancerTypeNetwork:
		if proto == "" {
			proto = ProtocolTCP
		}
		if !isNLBProtocol(proto) {
			v.addf("protocol", CodeValidationError, "Listener protocol '%s' must be one of 'TCP_UDP, UDP, TLS, TCP'", proto)
		}
	}
	secure := proto == ProtocolHTTPS || proto == ProtocolTLS
	switch {
	case secure && len(l.Certificates) == 0:
		v.addf("certificates", CodeValidationError, "A certificate must be specified for %s listeners", proto)
	case !secure && len(l.Certificates) > 0:
		v.addf("certificates", CodeValidationError, "Certificates can be specified only for HTTPS and TLS listeners, not '%s'", proto)
	case !secure && l.SSLPolicy != "":
		v.addf("sslPolicy", CodeValidationError, "An SSL policy can be specified only for HTTPS and TLS listeners, not '%s'", proto)
	}
	for i, c := range l.Certificates {
		if c == "" {
			v.add(idx("certificates", i), CodeValidationError, "A certificate ARN must not be empty")
		}
	}
	if l.ALPNPolicy != "" {
		enumCheck(v, "alpnPolicy", "alpnPolicy", l.ALPNPolicy, ALPNHTTP1Only, ALPNHTTP2Only, ALPNHTTP2Optional, ALPNHTTP2Preferred, ALPNNone)
		if proto != ProtocolTLS {
			v.addf("alpnPolicy", CodeValidationError, "An ALPN policy can be specified only for TLS listeners, not '%s'", proto)
		}
	}
	if l.Attributes.TCPIdleTimeoutSeconds != 0 {
		if proto != ProtocolTCP {
			v.addf("attributes.tcpIdleTimeoutSeconds", CodeInvalidConfigurationRequest, "Listener attribute key 'tcp.idle_timeout.seconds' is not supported on listeners with the protocol '%s'", proto)
		} else {
			v.attrRange("attributes.tcpIdleTimeoutSeconds", "tcp.idle_timeout.seconds", l.Attributes.TCPIdleTimeoutSeconds, 60, 6000)
		}
	}
	v.actions("defaultActions", "defaultActions", lbType, l.DefaultActions)
	if lbType == LoadBalancerTypeApplication {
		v.actionProtocol("defaultActions", proto, l.DefaultActions)
	}
	v.tags("tags", l.Tags)
	if len(l.Rules) > 0 && lbType != LoadBalancerTypeApplication {
		v.addf("rules", CodeUnsupportedProtocol, "Listener rules are not supported for listeners with the protocol '%s'", proto)
	}
	prio := map[int]bool{}
	for i, r := range l.Rules {
		p := idx("rules", i)
		if r == nil {
			v.add(p, CodeValidationError, "A rule must not be null")
			continue
		}
		if prio[r.Priority] {
			v.addf(join(p, "priority"), CodePriorityInUse, "Priority '%d' is currently in use", r.Priority)
		}
		prio[r.Priority] = true
		v.merge(p, AsErrors(ValidateRule(r)))
		if lbType == LoadBalancerTypeApplication {
			v.actionProtocol(join(p, "actions"), proto, r.Actions)
		}
	}
	return v.errs.Err()
}

// actionProtocol checks what depends on the listener protocol:
// authenticate actions need HTTPS.
func (v *validator) actionProtocol(path string, proto Protocol, as []Action) {
	for i, a := range as {
		if (a.Type == ActionAuthenticateOIDC || a.Type == ActionAuthenticateCognito) && proto != ProtocolHTTPS {
			v.addf(join(idx(path, i), "type"), CodeInvalidLoadBalancerAction, "Action type '%s' is supported only on HTTPS listeners", a.Type)
		}
	}
}

// ValidateRule checks one rule: its priority, conditions (fields, counts,
// lengths, characters, wildcards) and actions. Listener-dependent checks
// (authenticate actions need HTTPS, priorities unique) are in
// ValidateListener.
func ValidateRule(r *Rule) error {
	v := &validator{}
	v.rangeCheck("priority", "priority", r.Priority, 1, MaxPriority)
	v.conditions("conditions", r.Conditions)
	v.actions("actions", "actions", LoadBalancerTypeApplication, r.Actions)
	v.tags("tags", r.Tags)
	return v.errs.Err()
}

// ValidateConditions checks a rule's conditions alone.
func ValidateConditions(conds []Condition) error {
	v := &validator{}
	v.conditions("", conds)
	return v.errs.Err()
}

func (v *validator) conditions(path string, conds []Condition) {
	if len(conds) == 0 {
		v.add(path, CodeValidationError, "A rule must have at least one condition")
		return
	}
	once := map[ConditionField]bool{}
	values, wildcards := 0, 0
	for i, c := range conds {
		p := idx(path, i)
		switch c.Field {
		case FieldHostHeader, FieldPathPattern, FieldHTTPRequestMethod, FieldSourceIP:
			if once[c.Field] {
				v.addf(join(p, "field"), CodeValidationError, "A rule can only have one '%s' condition", c.Field)
			}
			once[c.Field] = true
		case FieldHTTPHeader, FieldQueryString:
		default:
			enumCheck(v, join(p, "field"), "conditions.member.field", c.Field, FieldHostHeader, FieldPathPattern, FieldHTTPHeader, FieldHTTPRequestMethod, FieldQueryString, FieldSourceIP)
			continue
		}
		if c.Field == FieldQueryString {
			if len(c.Values) > 0 {
				v.add(join(p, "values"), CodeValidationError, "A 'query-string' condition takes key/value pairs in 'queryStrings', not 'values'")
			}
		} else if len(c.QueryStrings) > 0 {
			v.addf(join(p, "queryStrings"), CodeValidationError, "Key/value pairs can be specified only for 'query-string' conditions, not '%s'", c.Field)
		}
		if c.Field != FieldHTTPHeader && c.HTTPHeaderName != "" {
			v.addf(join(p, "httpHeaderName"), CodeValidationError, "A header name can be specified only for 'http-header' conditions, not '%s'", c.Field)
		}
		n := len(c.Values)
		if c.Field == FieldQueryString {
			n = len(c.QueryStrings)
		}
		values += n
		limit := MaxValuesPerCondition
		if c.Field == FieldSourceIP {
			limit = MaxSourceIPValues
		}
		switch {
		case n == 0:
			v.addf(p, CodeValidationError, "A '%s' condition must have at least one value", c.Field)
		case n > limit:
			v.addf(p, CodeValidationError, "A '%s' condition can only have '%d' values", c.Field, limit)
		}
		vp := join(p, "values")
		switch c.Field {
		case FieldHostHeader:
			for j, s := range c.Values {
				wildcards += v.hostValue(idx(vp, j), s)
			}
		case FieldPathPattern:
			for j, s := range c.Values {
				wildcards += v.patternValue(idx(vp, j), "path pattern", s, pathChar)
				if s != "" && s[0] != '/' && s[0] != '*' && s[0] != '?' {
					v.addf(idx(vp, j), CodeValidationError, "The path pattern '%s' must begin with '/' or a wildcard", s)
				}
			}
		case FieldHTTPHeader:
			name := c.HTTPHeaderName
			switch {
			case name == "" || len(name) > 40:
				v.addf(join(p, "httpHeaderName"), CodeValidationError, "1 validation error detected: Value '%s' at 'httpHeaderConfig.httpHeaderName' failed to satisfy constraint: Member must have length between 1 and 40", name)
			case strings.EqualFold(name, "Host"):
				v.add(join(p, "httpHeaderName"), CodeValidationError, "The 'Host' header cannot be used in an 'http-header' condition; use a 'host-header' condition")
			case strings.ContainsAny(name, "*?"):
				v.addf(join(p, "httpHeaderName"), CodeValidationError, "The header name '%s' cannot contain wildcards", name)
			default:
				for k := 0; k < len(name); k++ {
					if !tokenChar(name[k]) {
						v.addf(join(p, "httpHeaderName"), CodeValidationError, "The header name '%s' contains an invalid character", name)
						break
					}
				}
			}
			for j, s := range c.Values {
				wildcards += v.patternValue(idx(vp, j), "header value", s, visibleChar)
			}
		case FieldHTTPRequestMethod:
			for j, s := range c.Values {
				if s == "" || len(s) > 40 {
					v.addf(idx(vp, j), CodeValidationError, "The HTTP request method '%s' must be 1 to 40 characters long", s)
					continue
				}
				for k := 0; k < len(s); k++ {
					if !('A' <= s[k] && s[k] <= 'Z' || s[k] == '_' || s[k] == '-') {
						v.addf(idx(vp, j), CodeValidationError, "The HTTP request method '%s' can only contain the characters A-Z, hyphen (-) and underscore (_)", s)
						break
					}
				}
			}
		case FieldSourceIP:
			for j, s := range c.Values {
				if _, err := netip.ParsePrefix(s); err != nil {
					v.addf(idx(vp, j), CodeValidationError, "The source IP '%s' is not a valid CIDR block", s)
				}
			}
		case FieldQueryString:
			qp := join(p, "queryStrings")
			for j, kv := range c.QueryStrings {
				if kv.Key != "" {
					wildcards += v.patternValue(join(idx(qp, j), "key"), "query string key", kv.Key, visibleChar)
				}
				wildcards += v.patternValue(join(idx(qp, j), "value"), "query string value", kv.Value, visibleChar)
			}
		}
	}
	if values > MaxValuesPerRule {
		v.addf(path, CodeValidationError, "A rule can only have '%d' condition values", MaxValuesPerRule)
	}
	if wildcards > MaxWildcardsPerRule {
		v.addf(path, CodeValidationError, "A rule can only have '%d' wildcards", MaxWildcardsPerRule)
	}
}

func pathChar(c byte) bool {
	return isAlnum(c) || strings.IndexByte("_-.$/~\"'@:+&*?", c) >= 0
}

func visibleChar(c byte) bool { return c >= 0x20 && c < 0x7f }

func tokenChar(c byte) bool {
	return isAlnum(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// patternValue checks a wildcard value's length and characters and returns
// its number of wildcards.
func (v *validator) patternValue(path, what, s string, ok func(byte) bool) int {
	if s == "" || len(s) > MaxPatternLength {
		v.addf(path, CodeValidationError, "The %s '%s' must be 1 to %d characters long", what, s, MaxPatternLength)
	}
	w := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?') && what != "path pattern" {
			i++
			continue
		}
		if c == '*' || c == '?' {
			w++
		}
		if !ok(c) {
			v.addf(path, CodeValidationError, "The %s '%s' contains an invalid character '%c'", what, s, c)
			return w
		}
	}
	return w
}

// hostValue checks a host-header pattern: 1–128 characters of A-Z, a-z,
// 0-9, "-", ".", "*", "?", at least one ".", only letters (or wildcards)
// after the last one.
func (v *validator) hostValue(path, s string) int {
	w := v.patternValue(path, "host header", s, func(c byte) bool {
		return isAlnum(c) || c == '-' || c == '.' || c == '*' || c == '?'
	})
	dot := strings.LastIndexByte(s, '.')
	if dot < 0 {
		v.addf(path, CodeValidationError, "The host header '%s' must contain at least one '.'", s)
		return w
	}
	for i := dot + 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '*' || c == '?') {
			v.addf(path, CodeValidationError, "The host header '%s' can only contain alphabetical characters after the final '.'", s)
			break
		}
	}
	return w
}

// ValidateActions checks a rule's or a listener's actions for a load
// balancer of type lbType.
func ValidateActions(lbType LoadBalancerType, actions []Action) error {
	v := &validator{}
	v.actions("", "actions", lbType, actions)
	return v.errs.Err()
}

// actions checks: at least one action, at most one authenticate action,
// exactly one terminal action and it is last, unique orders, and each
// action's config.
func (v *validator) actions(path, member string, lbType LoadBalancerType, as []Action) {
	if len(as) == 0 {
		v.addf(path, CodeValidationError, "1 validation error detected: Value '[]' at '%s' failed to satisfy constraint: Member must have length greater than or equal to 1", member)
		return
	}
	ordered := orderedActions(as)
	terminals, auths := 0, 0
	orders := map[int]bool{}
	for i, a := range as {
		p := idx(path, i)
		if a.Order != 0 {
			v.rangeCheck(join(p, "order"), member+".member.order", a.Order, 1, MaxPriority)
			if orders[a.Order] {
				v.addf(join(p, "order"), CodeValidationError, "Action order '%d' is specified more than once", a.Order)
			}
			orders[a.Order] = true
		} else if len(as) > 1 && len(orders) > 0 {
			v.add(join(p, "order"), CodeValidationError, "An order must be specified for each action when one action has an order")
		}
		if a.Type.Terminal() {
			terminals++
		}
		if a.Type == ActionAuthenticateOIDC || a.Type == ActionAuthenticateCognito {
			auths++
		}
		v.action(p, member, lbType, a)
	}
	if terminals != 1 || !ordered[len(ordered)-1].Type.Terminal() {
		v.add(path, CodeInvalidLoadBalancerAction, "Exactly one action must be of type 'forward', 'redirect' or 'fixed-response', and it must be the last action")
	}
	if auths > 1 {
		v.addf(path, CodeTooManyActions, "You've reached the limit on the number of actions per rule: only one authenticate action is allowed")
	}
	if lbType == LoadBalancerTypeNetwork {
		for i, a := range as {
			if a.Type != ActionForward {
				v.addf(join(idx(path, i), "type"), CodeInvalidLoadBalancerAction, "Action type '%s' is not supported for load balancers of type 'network'; use 'forward'", a.Type)
			}
		}
	}
}

func (v *validator) action(p, member string, lbType LoadBalancerType, a Action) {
	configs := 0
	for _, set := range []bool{a.Forward != nil, a.Redirect != nil, a.FixedResponse != nil, a.AuthenticateOIDC != nil, a.AuthenticateCognito != nil} {
		if set {
			configs++
		}
	}
	want := map[ActionType]bool{
		ActionForward: a.Forward != nil, ActionRedirect: a.Redirect != nil, ActionFixedResponse: a.FixedResponse != nil,
		ActionAuthenticateOIDC: a.AuthenticateOIDC != nil, ActionAuthenticateCognito: a.AuthenticateCognito != nil,
	}
	has, known := want[a.Type]
	if !known {
		enumCheck(v, join(p, "type"), member+".member.type", a.Type, ActionForward, ActionRedirect, ActionFixedResponse, ActionAuthenticateOIDC, ActionAuthenticateCognito)
		return
	}
	if !has || configs != 1 {
		v.addf(p, CodeValidationError, "An action of type '%s' must have exactly one config, the '%s' config", a.Type, configName[a.Type])
		return
	}
	switch a.Type {
	case ActionForward:
		f := a.Forward
		fp := join(p, "forward")
		switch {
		case len(f.TargetGroups) == 0:
			v.add(join(fp, "targetGroups"), CodeValidationError, "A target group ARN must be specified")
		case len(f.TargetGroups) > MaxTargetGroupsPerAction:
			v.addf(join(fp, "targetGroups"), CodeTooManyTargetGroups, "You can specify at most '%d' target groups in a forward action", MaxTargetGroupsPerAction)
		case len(f.TargetGroups) > 1 && lbType == LoadBalancerTypeNetwork:
			v.add(join(fp, "targetGroups"), CodeInvalidLoadBalancerAction, "A forward action of a load balancer of type 'network' can have only one target group")
		}
		seen := map[string]bool{}
		for i, t := range f.TargetGroups {
			tp := idx(join(fp, "targetGroups"), i)
			if t.TargetGroup == "" {
				v.add(join(tp, "targetGroup"), CodeValidationError, "A target group ARN must be specified")
			} else if seen[t.TargetGroup] {
				v.addf(join(tp, "targetGroup"), CodeValidationError, "Target group '%s' is specified more than once in the forward action", t.TargetGroup)
			}
			seen[t.TargetGroup] = true
			if t.Weight != nil {
				v.rangeCheck(join(tp, "weight"), "forwardConfig.targetGroups.member.weight", *t.Weight, 0, 999)
			}
		}
		if st := f.Stickiness; st != nil && st.Enabled {
			v.rangeCheck(join(fp, "stickiness.durationSeconds"), "forwardConfig.targetGroupStickinessConfig.durationSeconds", st.DurationSeconds, 1, 604800)
		}
	case ActionRedirect:
		r := a.Redirect
		rp := join(p, "redirect")
		enumCheck(v, join(rp, "statusCode"), "redirectConfig.statusCode", r.StatusCode, RedirectPermanent, RedirectFound)
		if r.Protocol != "" && r.Protocol != "#{protocol}" && r.Protocol != "HTTP" && r.Protocol != "HTTPS" {
			v.addf(join(rp, "protocol"), CodeValidationError, "The redirect protocol '%s' must be one of 'HTTP', 'HTTPS' or '#{protocol}'", r.Protocol)
		}
		if r.Port != "" && r.Port != "#{port}" {
			if n, err := strconv.Atoi(r.Port); err != nil || n < 1 || n > 65535 {
				v.addf(join(rp, "port"), CodeValidationError, "The redirect port '%s' must be a port number or '#{port}'", r.Port)
			}
		}
		if r.Path != "" && r.Path[0] != '/' {
			v.addf(join(rp, "path"), CodeValidationError, "The redirect path '%s' must start with '/'", r.Path)
		}
		for _, c := range []struct{ f, val string }{{"host", r.Host}, {"path", r.Path}, {"query", r.Query}} {
			if len(c.val) > 128 {
				v.addf(join(rp, c.f), CodeValidationError, "The redirect %s must be at most 128 characters long", c.f)
			}
		}
		if keeps(r.Protocol, "#{protocol}") && keeps(r.Host, "#{host}") && keeps(r.Port, "#{port}") && keeps(r.Path, "/#{path}") && keeps(r.Query, "#{query}") {
			v.add(rp, CodeInvalidLoadBalancerAction, "The redirect must change at least one of protocol, host, port, path or query; otherwise it redirects to itself")
		}
	case ActionFixedResponse:
		f := a.FixedResponse
		fp := join(p, "fixedResponse")
		if !validStatus(f.StatusCode) {
			v.addf(join(fp, "statusCode"), CodeValidationError, "1 validation error detected: Value '%s' at 'fixedResponseConfig.statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(2|4|5)\\d\\d$", f.StatusCode)
		}
		if f.ContentType != "" {
			enumCheck(v, join(fp, "contentType"), "fixedResponseConfig.contentType", f.ContentType, ContentTypeTextPlain, ContentTypeTextCSS, ContentTypeTextHTML, ContentTypeJavaScript, ContentTypeJSON)
		}
		if len(f.MessageBody) > 1024 {
			v.add(join(fp, "messageBody"), CodeValidationError, "1 validation error detected: Value at 'fixedResponseConfig.messageBody' failed to satisfy constraint: Member must have length less than or equal to 1024")
		}
	case ActionAuthenticateOIDC:
		o := a.AuthenticateOIDC
		op := join(p, "authenticateOIDC")
		for _, f := range []struct{ name, val string }{
			{"issuer", o.Issuer}, {"authorizationEndpoint", o.AuthorizationEndpoint},
			{"tokenEndpoint", o.TokenEndpoint}, {"userInfoEndpoint", o.UserInfoEndpoint}, {"clientId", o.ClientID},
		} {
			if f.val == "" {
				v.addf(join(op, f.name), CodeValidationError, "1 validation error detected: Value null at 'authenticateOidcConfig.%s' failed to satisfy constraint: Member must not be null", f.name)
			} else if f.name != "clientId" && !strings.HasPrefix(f.val, "https://") {
				v.addf(join(op, f.name), CodeValidationError, "The %s '%s' must be an HTTPS URL", f.name, f.val)
			}
		}
		if o.ClientSecret == "" && !o.UseExistingClientSecret {
			v.add(join(op, "clientSecret"), CodeValidationError, "A client secret must be specified unless useExistingClientSecret is true")
		}
		v.authSession(op, o.AuthSession)
	case ActionAuthenticateCognito:
		c := a.AuthenticateCognito
		cp := join(p, "authenticateCognito")
		for _, f := range []struct{ name, val string }{{"userPoolArn", c.UserPoolARN}, {"userPoolClientId", c.UserPoolClientID}, {"userPoolDomain", c.UserPoolDomain}} {
			if f.val == "" {
				v.addf(join(cp, f.name), CodeValidationError, "1 validation error detected: Value null at 'authenticateCognitoConfig.%s' failed to satisfy constraint: Member must not be null", f.name)
			}
		}
		v.authSession(cp, c.AuthSession)
	}
}

var configName = map[ActionType]string{
	ActionForward: "forward", ActionRedirect: "redirect", ActionFixedResponse: "fixedResponse",
	ActionAuthenticateOIDC: "authenticateOIDC", ActionAuthenticateCognito: "authenticateCognito",
}

func keeps(val, placeholder string) bool { return val == "" || val == placeholder }

func validStatus(s string) bool {
	return len(s) == 3 && (s[0] == '2' || s[0] == '4' || s[0] == '5') &&
		'0' <= s[1] && s[1] <= '9' && '0' <= s[2] && s[2] <= '9'
}

func (v *validator) authSession(p string, s AuthSession) {
	if s.SessionTimeoutSeconds != 0 && (s.SessionTimeoutSeconds < 1 || s.SessionTimeoutSeconds > 604800) {
		v.addf(join(p, "sessionTimeoutSeconds"), CodeValidationError, "The session timeout '%d' must be between 1 and 604800 seconds", s.SessionTimeoutSeconds)
	}
	if s.OnUnauthenticatedRequest != "" {
		enumCheck(v, join(p, "onUnauthenticatedRequest"), "onUnauthenticatedRequest", s.OnUnauthenticatedRequest, UnauthenticatedDeny, UnauthenticatedAllow, UnauthenticatedAuthenticate)
	}
	if len(s.AuthenticationRequestExtraParams) > 10 {
		v.add(join(p, "authenticationRequestExtraParams"), CodeValidationError, "At most 10 authentication request extra parameters can be specified")
	}
}
