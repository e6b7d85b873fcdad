package elb

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ValidateTargetGroup checks one target group: name, protocol, port,
// target type, VPC, health check, attributes, targets and tags; paths are
// relative to it. Zero fields are checked as AWS's defaults.
func ValidateTargetGroup(tg *TargetGroup) error {
	v := &validator{}
	v.merge("", AsErrors(ValidateTargetGroupName(tg.Name)))
	tt := tg.TargetType
	if tt == "" {
		tt = TargetTypeInstance
	}
	enumCheck(v, "targetType", "targetType", tt, TargetTypeInstance, TargetTypeIP, TargetTypeLambda, TargetTypeALB)
	if tt == TargetTypeLambda {
		if tg.Protocol != "" || tg.Port != 0 || tg.VPCID != "" || tg.ProtocolVersion != "" {
			v.add("", CodeValidationError, "The protocol, protocol version, port and VPC ID cannot be specified for target groups with target type 'lambda'")
		}
		if len(tg.Targets) > 1 {
			v.add("targets", CodeTooManyTargets, "You've reached the limit on the number of targets per target group: a target group with target type 'lambda' can have one target")
		}
	} else {
		if tg.Protocol == "" {
			v.addf("protocol", CodeValidationError, "A protocol must be specified for target groups with target type '%s'", tt)
		} else {
			enumCheck(v, "protocol", "protocol", tg.Protocol, ProtocolHTTP, ProtocolHTTPS, ProtocolTCP, ProtocolTLS, ProtocolUDP, ProtocolTCPUDP)
		}
		if tg.Port == 0 {
			v.addf("port", CodeValidationError, "A port must be specified for target groups with target type '%s'", tt)
		} else {
			v.rangeCheck("port", "port", tg.Port, 1, 65535)
		}
		if tg.VPCID == "" {
			v.addf("vpcId", CodeValidationError, "A VPC ID must be specified for target groups with target type '%s'", tt)
		}
		if tt == TargetTypeALB && tg.Protocol != "" && tg.Protocol != ProtocolTCP {
			v.addf("protocol", CodeValidationError, "Target groups with target type 'alb' must use the protocol 'TCP', not '%s'", tg.Protocol)
		}
	}
	if tg.ProtocolVersion != "" {
		enumCheck(v, "protocolVersion", "protocolVersion", tg.ProtocolVersion, ProtocolVersionHTTP1, ProtocolVersionHTTP2, ProtocolVersionGRPC)
		if tt != TargetTypeLambda && !isALBProtocol(tg.Protocol) {
			v.addf("protocolVersion", CodeValidationError, "A protocol version can be specified only for target groups with the protocol HTTP or HTTPS, not '%s'", tg.Protocol)
		}
	}
	if tg.IPAddressType != "" {
		enumCheck(v, "ipAddressType", "ipAddressType", tg.IPAddressType, IPAddressTypeIPv4, IPAddressTypeIPv6)
		if tg.IPAddressType == IPAddressTypeIPv6 && tt != TargetTypeIP {
			v.addf("ipAddressType", CodeValidationError, "The IP address type 'ipv6' is supported only for target groups with target type 'ip', not '%s'", tt)
		}
	}
	v.merge("healthCheck", AsErrors(ValidateHealthCheck(tg)))
	v.merge("attributes", AsErrors(ValidateTargetGroupAttributes(tg)))
	if len(tg.Targets) > MaxTargetsPerTargetGroup {
		v.addf("targets", CodeTooManyTargets, "You've reached the limit on the number of targets per target group: [%d]", MaxTargetsPerTargetGroup)
	}
	for i, t := range tg.Targets {
		v.merge(idx("targets", i), AsErrors(ValidateTarget(tg, t)))
	}
	v.tags("tags", tg.Tags)
	return v.errs.Err()
}

// ValidateTarget checks a target against its group: an instance ID for
// instance targets, an IP address (of the group's family) for ip targets,
// an ARN for lambda and alb targets, and the port.
func ValidateTarget(tg *TargetGroup, t Target) error {
	v := &validator{}
	tt := tg.TargetType
	if tt == "" {
		tt = TargetTypeInstance
	}
	switch tt {
	case TargetTypeInstance:
		if !strings.HasPrefix(t.ID, "i-") || len(t.ID) < 3 {
			v.addf("id", CodeValidationError, "The target ID '%s' is not a valid instance ID", t.ID)
		}
	case TargetTypeIP:
		a, err := netip.ParseAddr(t.ID)
		switch {
		case err != nil || a.Zone() != "":
			v.addf("id", CodeValidationError, "The target ID '%s' is not a valid IP address", t.ID)
		case tg.IPAddressType == IPAddressTypeIPv6 && !a.Is6():
			v.addf("id", CodeValidationError, "The IP address '%s' is not an IPv6 address, as the target group's IP address type requires", t.ID)
		case tg.IPAddressType != IPAddressTypeIPv6 && !a.Is4():
			v.addf("id", CodeValidationError, "The IP address '%s' is not an IPv4 address, as the target group's IP address type requires", t.ID)
		}
	case TargetTypeLambda, TargetTypeALB:
		if !strings.HasPrefix(t.ID, "arn:") {
			v.addf("id", CodeValidationError, "The target ID '%s' is not a valid ARN", t.ID)
		}
	}
	if t.Port != 0 {
		if tt == TargetTypeLambda {
			v.add("port", CodeValidationError, "A port cannot be specified for targets of target type 'lambda'")
		} else {
			v.rangeCheck("port", "targets.member.port", t.Port, 1, 65535)
		}
	}
	return v.errs.Err()
}

// ValidateHealthCheck checks tg's health check against its protocol and
// target type: ranges (interval 5–300, timeout 2–120, thresholds 2–10),
// timeout smaller than interval (HTTP and HTTPS checks), the protocol,
// port, path and matcher.
// Paths are relative to the health check.
func ValidateHealthCheck(tg *TargetGroup) error {
	v := &validator{}
	raw := tg.HealthCheck
	hc := tg.EffectiveHealthCheck()
	if raw.IntervalSeconds != 0 {
		v.rangeCheck("intervalSeconds", "healthCheckIntervalSeconds", raw.IntervalSeconds, 5, 300)
	}
	if raw.TimeoutSeconds != 0 {
		v.rangeCheck("timeoutSeconds", "healthCheckTimeoutSeconds", raw.TimeoutSeconds, 2, 120)
	}
	if raw.HealthyThreshold != 0 {
		v.rangeCheck("healthyThreshold", "healthyThresholdCount", raw.HealthyThreshold, 2, 10)
	}
	if raw.UnhealthyThreshold != 0 {
		v.rangeCheck("unhealthyThreshold", "unhealthyThresholdCount", raw.UnhealthyThreshold, 2, 10)
	}
	// AWS rejects a timeout not below the interval for HTTP and HTTPS
	// checks; NLB TCP checks accept equal values (the AWS Load Balancer
	// Controller's Service defaults are 10 s and 10 s).
	if hc.Protocol != ProtocolTCP && hc.TimeoutSeconds >= hc.IntervalSeconds && hc.IntervalSeconds >= 5 && hc.TimeoutSeconds >= 2 {
		v.addf("timeoutSeconds", CodeValidationError, "Health check timeout '%d' must be smaller than the interval '%d'", hc.TimeoutSeconds, hc.IntervalSeconds)
	}
	tt := tg.TargetType
	if tt == TargetTypeLambda {
		if raw.Protocol != "" || raw.Port != "" {
			v.add("", CodeValidationError, "A health check protocol and port cannot be specified for target groups with target type 'lambda'")
		}
	} else if raw.Protocol != "" {
		switch {
		case isALBProtocol(tg.Protocol) && !isALBProtocol(raw.Protocol):
			v.addf("protocol", CodeValidationError, "Health check protocol '%s' must be one of 'HTTPS, HTTP'", raw.Protocol)
		case isNLBProtocol(tg.Protocol) && raw.Protocol != ProtocolTCP && !isALBProtocol(raw.Protocol):
			v.addf("protocol", CodeValidationError, "Health check protocol '%s' must be one of 'HTTPS, HTTP, TCP'", raw.Protocol)
		}
	}
	if raw.Port != "" && raw.Port != TrafficPort {
		if n, err := strconv.Atoi(raw.Port); err != nil || n < 1 || n > 65535 {
			v.addf("port", CodeValidationError, "Health check port '%s' must be 'traffic-port' or a port number between 1 and 65535", raw.Port)
		}
	}
	httpCheck := isALBProtocol(hc.Protocol) || tt == TargetTypeLambda
	if raw.Path != "" {
		switch {
		case !httpCheck:
			v.addf("path", CodeValidationError, "A health check path cannot be specified for health checks with the protocol '%s'", hc.Protocol)
		case raw.Path[0] != '/' || len(raw.Path) > 1024:
			v.addf("path", CodeValidationError, "Health check path '%s' must begin with '/' and be at most 1024 characters long", raw.Path)
		}
	}
	m := raw.Matcher
	if m.HTTPCode != "" && m.GRPCCode != "" {
		v.add("matcher", CodeValidationError, "Only one of the HTTP code and the gRPC code can be specified in a matcher")
	}
	if (m.HTTPCode != "" || m.GRPCCode != "") && !httpCheck {
		v.addf("matcher", CodeValidationError, "A matcher cannot be specified for health checks with the protocol '%s'", hc.Protocol)
	}
	if m.GRPCCode != "" && tg.ProtocolVersion != ProtocolVersionGRPC {
		v.add("matcher.grpcCode", CodeValidationError, "A gRPC code can be specified only for target groups with the protocol version 'GRPC'")
	}
	if m.HTTPCode != "" && tg.ProtocolVersion == ProtocolVersionGRPC {
		v.add("matcher.httpCode", CodeValidationError, "An HTTP code cannot be specified for target groups with the protocol version 'GRPC'")
	}
	if m.HTTPCode != "" && httpCheck {
		lo, hi := 200, 499
		if isNLBProtocol(tg.Protocol) {
			hi = 599
		}
		if !validCodes(m.HTTPCode, lo, hi) {
			v.addf("matcher.httpCode", CodeValidationError, "Health check matcher HTTP code '%s' must be a value, a list or a range of values between %d and %d", m.HTTPCode, lo, hi)
		}
	}
	if m.GRPCCode != "" && !validCodes(m.GRPCCode, 0, 99) {
		v.addf("matcher.grpcCode", CodeValidationError, "Health check matcher gRPC code '%s' must be a value, a list or a range of values between 0 and 99", m.GRPCCode)
	}
	return v.errs.Err()
}

// validCodes reports whether s is "200", "200,202" or "200-299" with every
// code in [lo, hi].
func validCodes(s string, lo, hi int) bool {
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		x, err := strconv.Atoi(a)
		if err != nil || x < lo || x > hi {
			return false
		}
		if isRange {
			y, err := strconv.Atoi(b)
			if err != nil || y < x || y > hi {
				return false
			}
		}
	}
	return true
}

// ValidateTargetGroupAttributes checks tg's attributes against its
// protocol and target type. Paths are relative to the attributes.
func ValidateTargetGroupAttributes(tg *TargetGroup) error {
	v := &validator{}
	a := tg.Attributes
	family := "application"
	if isNLBProtocol(tg.Protocol) {
		family = "network"
	}
	onlyFor := func(field, key, want string, set bool) {
		if set && family != want {
			proto := string(tg.Protocol)
			if tg.TargetType == TargetTypeLambda {
				proto = "lambda"
			}
			v.addf(field, CodeInvalidConfigurationRequest, "Target group attribute key '%s' is not supported on target groups with the protocol '%s'", key, proto)
		}
	}
	if a.DeregistrationDelaySeconds != nil {
		v.attrRange("deregistrationDelaySeconds", "deregistration_delay.timeout_seconds", *a.DeregistrationDelaySeconds, 0, 3600)
	}
	onlyFor("connectionTermination", "deregistration_delay.connection_termination.enabled", "network", a.ConnectionTermination)
	onlyFor("algorithm", "load_balancing.algorithm.type", "application", a.Algorithm != "")
	onlyFor("slowStartSeconds", "slow_start.duration_seconds", "application", a.SlowStartSeconds != 0)
	onlyFor("proxyProtocolV2", "proxy_protocol_v2.enabled", "network", a.ProxyProtocolV2)
	onlyFor("preserveClientIP", "preserve_client_ip.enabled", "network", a.PreserveClientIP != nil)
	if a.Algorithm != "" {
		v.attrEnum("algorithm", "load_balancing.algorithm.type", string(a.Algorithm), "round_robin", "least_outstanding_requests", "weighted_random")
	}
	if a.SlowStartSeconds != 0 {
		v.attrRange("slowStartSeconds", "slow_start.duration_seconds", a.SlowStartSeconds, 30, 900)
		if a.Algorithm == AlgorithmWeightedRandom {
			v.add("slowStartSeconds", CodeInvalidConfigurationRequest, "Slow start duration cannot be enabled with the 'weighted_random' load balancing algorithm")
		}
	}
	if a.CrossZone != "" {
		v.attrEnum("crossZone", "load_balancing.cross_zone.enabled", string(a.CrossZone), "true", "false", "use_load_balancer_configuration")
	}
	st := a.Stickiness
	if st.Type != "" {
		v.attrEnum("stickiness.type", "stickiness.type", string(st.Type), "lb_cookie", "app_cookie", "source_ip")
		ok := (family == "application" && (st.Type == StickinessLBCookie || st.Type == StickinessAppCookie)) ||
			(family == "network" && st.Type == StickinessSourceIP)
		if !ok && tg.TargetType != TargetTypeLambda {
			v.addf("stickiness.type", CodeInvalidConfigurationRequest, "Stickiness type '%s' is not supported for target groups with the %s protocol", st.Type, tg.Protocol)
		}
	}
	if st.LBCookieDurationSeconds != 0 {
		v.attrRange("stickiness.lbCookieDurationSeconds", "stickiness.lb_cookie.duration_seconds", st.LBCookieDurationSeconds, 1, 604800)
	}
	if st.AppCookieDurationSeconds != 0 {
		v.attrRange("stickiness.appCookieDurationSeconds", "stickiness.app_cookie.duration_seconds", st.AppCookieDurationSeconds, 1, 604800)
	}
	if st.Enabled && st.Type == StickinessAppCookie && st.AppCookieName == "" {
		v.add("stickiness.appCookieName", CodeValidationError, "The value of 'stickiness.app_cookie.cookie_name' cannot be empty when stickiness type is 'app_cookie'")
	}
	if n := strings.ToUpper(st.AppCookieName); strings.HasPrefix(n, "AWSALB") {
		v.addf("stickiness.appCookieName", CodeValidationError, "The app cookie name '%s' cannot start with the reserved prefix 'AWSALB'", st.AppCookieName)
	}
	return v.errs.Err()
}
