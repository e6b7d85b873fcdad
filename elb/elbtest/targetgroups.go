package elbtest

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/lbkit/lbkit/elb"
)

func isL7(p types.ProtocolEnum) bool {
	return p == types.ProtocolEnumHttp || p == types.ProtocolEnumHttps
}

func isL4(p types.ProtocolEnum) bool {
	switch p {
	case types.ProtocolEnumTcp, types.ProtocolEnumTls, types.ProtocolEnumUdp, types.ProtocolEnumTcpUdp:
		return true
	}
	return false
}

var tgProtocols = []string{"HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP"}

// tgDefaults builds a target group from a create request, filling AWS's
// defaults (§3): ALB groups 30/5/5/2 with matcher 200, NLB groups 30/10/5/2
// (timeout 6 when the health check is HTTP), lambda 35/30/5/5 with health
// checks off.
func tgDefaults(in *elbv2.CreateTargetGroupInput) (types.TargetGroup, error) {
	tg := types.TargetGroup{
		TargetGroupName: in.Name,
		Protocol:        in.Protocol,
		Port:            in.Port,
		VpcId:           in.VpcId,
		TargetType:      in.TargetType,
		IpAddressType:   in.IpAddressType,
		ProtocolVersion: in.ProtocolVersion,
	}
	if tg.TargetType == "" {
		tg.TargetType = types.TargetTypeEnumInstance
	}
	if !contains([]string{"instance", "ip", "lambda", "alb"}, string(tg.TargetType)) {
		return tg, constraint(tg.TargetType, "targetType", "Member must satisfy enum value set: [instance, ip, lambda, alb]")
	}
	lambda := tg.TargetType == types.TargetTypeEnumLambda
	if lambda {
		if in.Protocol != "" || in.Port != nil || in.VpcId != nil {
			return tg, validationf("Protocol, port and VPC ID cannot be specified for target groups with target type 'lambda'")
		}
		tg.HealthCheckEnabled = in.HealthCheckEnabled
		tg.HealthCheckIntervalSeconds = in.HealthCheckIntervalSeconds
		tg.HealthCheckTimeoutSeconds = in.HealthCheckTimeoutSeconds
		tg.HealthyThresholdCount = in.HealthyThresholdCount
		tg.UnhealthyThresholdCount = in.UnhealthyThresholdCount
		tg.HealthCheckPath = in.HealthCheckPath
		tg.Matcher = in.Matcher
		applyHealthCheckDefaults(&tg)
		return tg, nil
	}
	if in.Protocol == "" {
		return tg, validationf("A protocol must be specified")
	}
	if !contains(tgProtocols, string(in.Protocol)) {
		return tg, constraint(in.Protocol, "protocol", "Member must satisfy enum value set: [HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP]")
	}
	if in.Port == nil {
		return tg, validationf("A port must be specified")
	}
	if *in.Port < 1 || *in.Port > 65535 {
		return tg, constraint(*in.Port, "port", "Member must have value less than or equal to 65535 and greater than or equal to 1")
	}
	if in.VpcId == nil {
		return tg, validationf("A VPC ID must be specified")
	}
	if tg.TargetType == types.TargetTypeEnumAlb && in.Protocol != types.ProtocolEnumTcp {
		return tg, validationf("Target groups with target type 'alb' must use the TCP protocol")
	}
	if tg.IpAddressType == "" {
		tg.IpAddressType = types.TargetGroupIpAddressTypeEnumIpv4
	}
	l7 := isL7(in.Protocol)
	hcProto := in.HealthCheckProtocol
	if hcProto == "" {
		if l7 {
			hcProto = in.Protocol
		} else {
			hcProto = types.ProtocolEnumTcp
		}
	}
	if !contains([]string{"HTTP", "HTTPS", "TCP"}, string(hcProto)) {
		return tg, constraint(hcProto, "healthCheckProtocol", "Member must satisfy enum value set: [HTTP, HTTPS, TCP]")
	}
	if l7 && hcProto == types.ProtocolEnumTcp {
		return tg, validationf("Health check protocol 'TCP' is not supported for target groups with the '%s' protocol", in.Protocol)
	}
	tg.HealthCheckProtocol = hcProto
	tg.HealthCheckEnabled = in.HealthCheckEnabled
	tg.HealthCheckPort = in.HealthCheckPort
	tg.HealthCheckIntervalSeconds = in.HealthCheckIntervalSeconds
	tg.HealthCheckTimeoutSeconds = in.HealthCheckTimeoutSeconds
	tg.HealthyThresholdCount = in.HealthyThresholdCount
	tg.UnhealthyThresholdCount = in.UnhealthyThresholdCount
	tg.HealthCheckPath = in.HealthCheckPath
	tg.Matcher = in.Matcher
	httpHC := hcProto != types.ProtocolEnumTcp
	if l7 {
		pv := strOr(in.ProtocolVersion, "HTTP1")
		if !contains([]string{"HTTP1", "HTTP2", "GRPC"}, pv) {
			return tg, validationf("Protocol version '%s' is not valid; use HTTP1, HTTP2 or GRPC", pv)
		}
		tg.ProtocolVersion = ptr(pv)
	} else if in.ProtocolVersion != nil {
		return tg, validationf("A protocol version can be specified only for HTTP and HTTPS target groups")
	}
	if !httpHC && (in.HealthCheckPath != nil || in.Matcher != nil) {
		return tg, validationf("Health check path and matcher can be specified only for HTTP and HTTPS health checks")
	}
	// The defaults for the group's protocol and target type are elb's.
	applyHealthCheckDefaults(&tg)
	return tg, validateHealthCheck(&tg)
}

func strOr(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

// validateHealthCheck checks the ranges of §1 and the timeout rule.
func validateHealthCheck(tg *types.TargetGroup) error {
	check := func(v *int32, lo, hi int32, member string) error {
		if v != nil && (*v < lo || *v > hi) {
			return constraint(*v, member, "Member must have value less than or equal to "+strconv.Itoa(int(hi))+" and greater than or equal to "+strconv.Itoa(int(lo)))
		}
		return nil
	}
	for _, err := range []error{
		check(tg.HealthCheckIntervalSeconds, 5, 300, "healthCheckIntervalSeconds"),
		check(tg.HealthCheckTimeoutSeconds, 2, 120, "healthCheckTimeoutSeconds"),
		check(tg.HealthyThresholdCount, 2, 10, "healthyThresholdCount"),
		check(tg.UnhealthyThresholdCount, 2, 10, "unhealthyThresholdCount"),
	} {
		if err != nil {
			return err
		}
	}
	if p := str(tg.HealthCheckPort); p != "traffic-port" && p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return validationf("Health check port '%s' must be 'traffic-port' or a port from 1 to 65535", p)
		}
	}
	if path := str(tg.HealthCheckPath); tg.HealthCheckPath != nil && (path == "" || path[0] != '/' || len(path) > 1024) {
		return validationf("Health check path '%s' must begin with '/' and be at most 1024 characters", path)
	}
	if tg.Matcher != nil && tg.Matcher.HttpCode != nil && !validHTTPCodes(*tg.Matcher.HttpCode) {
		return validationf("Health check matcher HTTP code '%s' must be a code from 200 to 599, a list or a range", *tg.Matcher.HttpCode)
	}
	// As elb.ValidateHealthCheck: TCP checks may have timeout = interval.
	if it, to := tg.HealthCheckIntervalSeconds, tg.HealthCheckTimeoutSeconds; it != nil && to != nil && *to >= *it && tg.HealthCheckProtocol != types.ProtocolEnumTcp {
		return validationf("Health check timeout '%d' must be smaller than the interval '%d'", *to, *it)
	}
	return nil
}

// validHTTPCodes accepts "200", "200,202" and "200-299" with codes 200–599.
func validHTTPCodes(s string) bool {
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 200 || b > 599 || a > b {
			return false
		}
	}
	return s != ""
}

func defaultTGAttributes(tg *types.TargetGroup) map[string]string {
	a := map[string]string{
		"deregistration_delay.timeout_seconds":                                           "300",
		"stickiness.enabled":                                                             "false",
		"load_balancing.cross_zone.enabled":                                              "use_load_balancer_configuration",
		"target_group_health.dns_failover.minimum_healthy_targets.count":                 "1",
		"target_group_health.dns_failover.minimum_healthy_targets.percentage":            "off",
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":      "1",
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
	}
	switch {
	case tg.TargetType == types.TargetTypeEnumLambda:
		a = map[string]string{"lambda.multi_value_headers.enabled": "false"}
	case isL7(tg.Protocol):
		a["stickiness.type"] = "lb_cookie"
		a["stickiness.lb_cookie.duration_seconds"] = "86400"
		a["stickiness.app_cookie.duration_seconds"] = "86400"
		a["stickiness.app_cookie.cookie_name"] = ""
		a["load_balancing.algorithm.type"] = "round_robin"
		a["load_balancing.algorithm.anomaly_mitigation"] = "off"
		a["slow_start.duration_seconds"] = "0"
	default:
		a["stickiness.type"] = "source_ip"
		a["proxy_protocol_v2.enabled"] = "false"
		a["connection_termination.enabled"] = "false"
		a["deregistration_delay.connection_termination.enabled"] = "false"
		preserve := "true"
		if tg.TargetType == types.TargetTypeEnumIp && (tg.Protocol == types.ProtocolEnumTcp || tg.Protocol == types.ProtocolEnumTls) {
			preserve = "false"
		}
		a["preserve_client_ip.enabled"] = preserve
	}
	return a
}

var tgAttrCheck = map[string]func(string) bool{
	"deregistration_delay.timeout_seconds":                intIn(0, 3600),
	"stickiness.enabled":                                  isBool,
	"stickiness.type":                                     oneOf("lb_cookie", "app_cookie", "source_ip", "source_ip_dest_ip", "source_ip_dest_ip_proto"),
	"stickiness.lb_cookie.duration_seconds":               intIn(1, 604800),
	"stickiness.app_cookie.duration_seconds":              intIn(1, 604800),
	"load_balancing.algorithm.type":                       oneOf("round_robin", "least_outstanding_requests", "weighted_random"),
	"load_balancing.algorithm.anomaly_mitigation":         oneOf("on", "off"),
	"slow_start.duration_seconds":                         func(v string) bool { return v == "0" || intIn(30, 900)(v) },
	"load_balancing.cross_zone.enabled":                   oneOf("true", "false", "use_load_balancer_configuration"),
	"proxy_protocol_v2.enabled":                           isBool,
	"preserve_client_ip.enabled":                          isBool,
	"connection_termination.enabled":                      isBool,
	"lambda.multi_value_headers.enabled":                  isBool,
	"deregistration_delay.connection_termination.enabled": isBool,
}

func tgAttr(k, v string) types.TargetGroupAttribute {
	return types.TargetGroupAttribute{Key: ptr(k), Value: ptr(v)}
}

// sameTG compares the settings a create sets, for idempotency.
func sameTG(a, b *types.TargetGroup) bool {
	eq := func(x, y *int32) bool { return i32(x, -1) == i32(y, -1) }
	return a.Protocol == b.Protocol && eq(a.Port, b.Port) && str(a.VpcId) == str(b.VpcId) && a.TargetType == b.TargetType &&
		a.HealthCheckProtocol == b.HealthCheckProtocol && str(a.HealthCheckPort) == str(b.HealthCheckPort) &&
		str(a.HealthCheckPath) == str(b.HealthCheckPath) && eq(a.HealthCheckIntervalSeconds, b.HealthCheckIntervalSeconds) &&
		eq(a.HealthCheckTimeoutSeconds, b.HealthCheckTimeoutSeconds) && eq(a.HealthyThresholdCount, b.HealthyThresholdCount) &&
		eq(a.UnhealthyThresholdCount, b.UnhealthyThresholdCount) && str(a.ProtocolVersion) == str(b.ProtocolVersion) &&
		(a.Matcher == nil) == (b.Matcher == nil) && (a.Matcher == nil || str(a.Matcher.HttpCode) == str(b.Matcher.HttpCode) && str(a.Matcher.GrpcCode) == str(b.Matcher.GrpcCode))
}

func (s *Server) createTargetGroup(r *request, in *elbv2.CreateTargetGroupInput) (*elbv2.CreateTargetGroupOutput, error) {
	name := str(in.Name)
	raw := &types.TargetGroup{TargetGroupName: in.Name, Protocol: in.Protocol, ProtocolVersion: in.ProtocolVersion, Port: in.Port, TargetType: in.TargetType,
		VpcId: in.VpcId, IpAddressType: in.IpAddressType, HealthCheckEnabled: in.HealthCheckEnabled, HealthCheckProtocol: in.HealthCheckProtocol,
		HealthCheckPort: in.HealthCheckPort, HealthCheckPath: in.HealthCheckPath, HealthCheckIntervalSeconds: in.HealthCheckIntervalSeconds,
		HealthCheckTimeoutSeconds: in.HealthCheckTimeoutSeconds, HealthyThresholdCount: in.HealthyThresholdCount, UnhealthyThresholdCount: in.UnhealthyThresholdCount, Matcher: in.Matcher}
	if err := specErr(elb.ValidateTargetGroup(specTargetGroup(raw))); err != nil {
		return nil, err
	}
	tg, err := tgDefaults(in)
	if err != nil {
		return nil, err
	}
	if tg.VpcId != nil && s.st.d.VPCs[*tg.VpcId] == nil {
		return nil, validationf("The VPC ID '%s' is not found", *tg.VpcId)
	}
	if err := s.validateTags(in.Tags, nil); err != nil {
		return nil, err
	}
	for _, rec := range s.st.d.TargetGroups {
		if str(rec.TargetGroup.TargetGroupName) != name {
			continue
		}
		if sameTG(&rec.TargetGroup, &tg) {
			return &elbv2.CreateTargetGroupOutput{TargetGroups: []types.TargetGroup{s.tgView(rec)}}, nil
		}
		return nil, apiErr("DuplicateTargetGroupName", "A target group with the same name '%s' exists, but with different settings", name)
	}
	if len(s.st.d.TargetGroups) >= s.opts.Quotas.TargetGroups {
		return nil, apiErr("TooManyTargetGroups", "The quota for the number of target groups has been reached")
	}
	tg.TargetGroupArn = ptr(s.st.arn("targetgroup/" + name + "/" + s.st.hexID(16)))
	rec := &TargetGroupRecord{TargetGroup: tg, Attributes: defaultTGAttributes(&tg), Seq: s.st.next()}
	s.st.d.TargetGroups[*tg.TargetGroupArn] = rec
	if len(in.Tags) > 0 {
		s.st.d.Tags[*tg.TargetGroupArn] = mergeTags(nil, in.Tags)
	}
	return &elbv2.CreateTargetGroupOutput{TargetGroups: []types.TargetGroup{s.tgView(rec)}}, nil
}

// tgUsers returns the load balancers whose listeners or rules forward to
// the target group, in creation order.
func (s *Server) tgUsers(tgArn string) []string {
	var out []string
	for _, rule := range sortedBySeq(s.st.d.Rules, func(v *RuleRecord) uint64 { return v.Seq }) {
		if !contains(actionTargetGroups(rule.Rule.Actions), tgArn) {
			continue
		}
		l := s.st.d.Listeners[rule.ListenerArn]
		if l != nil && !contains(out, str(l.Listener.LoadBalancerArn)) {
			out = append(out, str(l.Listener.LoadBalancerArn))
		}
	}
	return out
}

func (s *Server) tgView(rec *TargetGroupRecord) types.TargetGroup {
	v := rec.TargetGroup
	v.LoadBalancerArns = s.tgUsers(*v.TargetGroupArn)
	if v.LoadBalancerArns == nil {
		v.LoadBalancerArns = []string{}
	}
	return v
}

func (s *Server) describeTargetGroups(r *request, in *elbv2.DescribeTargetGroupsInput) (*elbv2.DescribeTargetGroupsOutput, error) {
	all := sortedBySeq(s.st.d.TargetGroups, func(v *TargetGroupRecord) uint64 { return v.Seq })
	n := 0
	for _, set := range []bool{in.LoadBalancerArn != nil, len(in.TargetGroupArns) > 0, len(in.Names) > 0} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, validationf("Only one of load balancer ARN, target group ARNs or names can be specified")
	}
	var match []*TargetGroupRecord
	switch {
	case in.LoadBalancerArn != nil:
		if _, err := s.lb(*in.LoadBalancerArn); err != nil {
			return nil, err
		}
		for _, rec := range all {
			if contains(s.tgUsers(*rec.TargetGroup.TargetGroupArn), *in.LoadBalancerArn) {
				match = append(match, rec)
			}
		}
	default:
		var err error
		match, err = selectRecords(all, in.TargetGroupArns, in.Names, s.tg,
			func(r *TargetGroupRecord) string { return str(r.TargetGroup.TargetGroupName) },
			func(n string) error { return apiErr("TargetGroupNotFound", "Target groups '[%s]' not found", n) })
		if err != nil {
			return nil, err
		}
	}
	start, end, next, err := page(in.Marker, in.PageSize, len(match))
	if err != nil {
		return nil, err
	}
	out := &elbv2.DescribeTargetGroupsOutput{TargetGroups: []types.TargetGroup{}, NextMarker: next}
	for _, rec := range match[start:end] {
		out.TargetGroups = append(out.TargetGroups, s.tgView(rec))
	}
	return out, nil
}

func (s *Server) modifyTargetGroup(r *request, in *elbv2.ModifyTargetGroupInput) (*elbv2.ModifyTargetGroupOutput, error) {
	rec, err := s.tg(str(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	tg := rec.TargetGroup
	if in.HealthCheckProtocol != "" {
		if !contains([]string{"HTTP", "HTTPS", "TCP"}, string(in.HealthCheckProtocol)) {
			return nil, constraint(in.HealthCheckProtocol, "healthCheckProtocol", "Member must satisfy enum value set: [HTTP, HTTPS, TCP]")
		}
		if isL7(tg.Protocol) && in.HealthCheckProtocol == types.ProtocolEnumTcp {
			return nil, validationf("Health check protocol 'TCP' is not supported for target groups with the '%s' protocol", tg.Protocol)
		}
		tg.HealthCheckProtocol = in.HealthCheckProtocol
		if tg.HealthCheckProtocol != types.ProtocolEnumTcp && tg.HealthCheckPath == nil {
			tg.HealthCheckPath = ptr("/")
			tg.Matcher = &types.Matcher{HttpCode: ptr("200-399")}
		}
	}
	set := func(dst **int32, v *int32) {
		if v != nil {
			*dst = ptr(*v)
		}
	}
	set(&tg.HealthCheckIntervalSeconds, in.HealthCheckIntervalSeconds)
	set(&tg.HealthCheckTimeoutSeconds, in.HealthCheckTimeoutSeconds)
	set(&tg.HealthyThresholdCount, in.HealthyThresholdCount)
	set(&tg.UnhealthyThresholdCount, in.UnhealthyThresholdCount)
	if in.HealthCheckEnabled != nil {
		tg.HealthCheckEnabled = ptr(*in.HealthCheckEnabled)
	}
	if in.HealthCheckPort != nil {
		tg.HealthCheckPort = ptr(*in.HealthCheckPort)
	}
	if in.HealthCheckPath != nil || in.Matcher != nil {
		if tg.HealthCheckProtocol == types.ProtocolEnumTcp {
			return nil, validationf("Health check path and matcher can be specified only for HTTP and HTTPS health checks")
		}
		if in.HealthCheckPath != nil {
			tg.HealthCheckPath = ptr(*in.HealthCheckPath)
		}
		if in.Matcher != nil {
			tg.Matcher = &types.Matcher{HttpCode: in.Matcher.HttpCode, GrpcCode: in.Matcher.GrpcCode}
		}
	}
	if err := specErr(elb.ValidateHealthCheck(specTargetGroup(&tg))); err != nil {
		return nil, err
	}
	if err := validateHealthCheck(&tg); err != nil {
		return nil, err
	}
	rec.TargetGroup = tg
	return &elbv2.ModifyTargetGroupOutput{TargetGroups: []types.TargetGroup{s.tgView(rec)}}, nil
}

func (s *Server) describeTargetGroupAttributes(r *request, in *elbv2.DescribeTargetGroupAttributesInput) (*elbv2.DescribeTargetGroupAttributesOutput, error) {
	rec, err := s.tg(str(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	return &elbv2.DescribeTargetGroupAttributesOutput{Attributes: attrList(rec.Attributes, tgAttr)}, nil
}

func (s *Server) modifyTargetGroupAttributes(r *request, in *elbv2.ModifyTargetGroupAttributesInput) (*elbv2.ModifyTargetGroupAttributesOutput, error) {
	rec, err := s.tg(str(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	var req [][2]string
	for _, a := range in.Attributes {
		req = append(req, [2]string{str(a.Key), str(a.Value)})
	}
	if err := checkTGAttributes(&rec.TargetGroup, rec.Attributes, req); err != nil {
		return nil, err
	}
	for _, a := range in.Attributes {
		k, v := str(a.Key), str(a.Value)
		if _, ok := rec.Attributes[k]; !ok {
			return nil, apiErr("InvalidConfigurationRequest", "Target group attribute key '%s' is not recognized", k)
		}
		if check := tgAttrCheck[k]; check != nil && !check(v) {
			return nil, validationf("Target group attribute value '%s' is not valid for attribute key '%s'", v, k)
		}
		if k == "stickiness.type" && isL7(rec.TargetGroup.Protocol) != (v == "lb_cookie" || v == "app_cookie") {
			return nil, apiErr("InvalidConfigurationRequest", "Stickiness type '%s' is not supported for target groups with the %s protocol", v, rec.TargetGroup.Protocol)
		}
	}
	for _, a := range in.Attributes {
		rec.Attributes[str(a.Key)] = str(a.Value)
	}
	return &elbv2.ModifyTargetGroupAttributesOutput{Attributes: attrList(rec.Attributes, tgAttr)}, nil
}

func (s *Server) deleteTargetGroup(r *request, in *elbv2.DeleteTargetGroupInput) (*elbv2.DeleteTargetGroupOutput, error) {
	arn := str(in.TargetGroupArn)
	if s.st.d.TargetGroups[arn] == nil {
		if arnKind(arn) != "targetgroup" {
			return nil, validationf("'%s' is not a valid target group ARN", arn)
		}
		return &elbv2.DeleteTargetGroupOutput{}, nil
	}
	for _, rule := range s.st.d.Rules {
		if contains(actionTargetGroups(rule.Rule.Actions), arn) {
			return nil, apiErr("ResourceInUse", "Target group '%s' is currently in use by a listener or a rule", arn)
		}
	}
	delete(s.st.d.TargetGroups, arn)
	delete(s.st.d.Tags, arn)
	return &elbv2.DeleteTargetGroupOutput{}, nil
}

// ---- targets ----

func (s *Server) checkTarget(tg *types.TargetGroup, t *types.TargetDescription) error {
	id := str(t.Id)
	switch tg.TargetType {
	case types.TargetTypeEnumInstance:
		if !strings.HasPrefix(id, "i-") || len(id) < 3 {
			return apiErr("InvalidTarget", "The following targets are not valid instances: '%s'", id)
		}
	case types.TargetTypeEnumIp:
		a, err := netip.ParseAddr(id)
		if err != nil || (tg.IpAddressType == types.TargetGroupIpAddressTypeEnumIpv6) != a.Is6() {
			return apiErr("InvalidTarget", "The IP address '%s' is not a valid IP address for this target group", id)
		}
	case types.TargetTypeEnumLambda:
		if !strings.HasPrefix(id, "arn:aws:lambda:") {
			return apiErr("InvalidTarget", "The Lambda function ARN '%s' is not valid", id)
		}
	case types.TargetTypeEnumAlb:
		if arnKind(id) != "loadbalancer" || s.st.d.LoadBalancers[id] == nil {
			return apiErr("InvalidTarget", "The Application Load Balancer '%s' was not found", id)
		}
	}
	if t.Port != nil && (*t.Port < 1 || *t.Port > 65535) {
		return constraint(*t.Port, "targets.member.port", "Member must have value less than or equal to 65535 and greater than or equal to 1")
	}
	return nil
}

func targetPort(tg *types.TargetGroup, t *types.TargetDescription) int32 {
	if t.Port != nil {
		return *t.Port
	}
	return i32(tg.Port, 0)
}

// expired drops targets whose deregistration delay has passed. It runs
// under the write lock, from mutating calls; describes filter the same
// targets out without writing.
func (s *Server) expired(rec *TargetGroupRecord, now time.Time) {
	delay := s.deregDelay(rec)
	kept := rec.Targets[:0]
	for _, t := range rec.Targets {
		if t.DeregisteredAt.IsZero() || now.Sub(t.DeregisteredAt) < delay {
			kept = append(kept, t)
		}
	}
	clear(rec.Targets[len(kept):])
	rec.Targets = kept
}

func (s *Server) deregDelay(rec *TargetGroupRecord) time.Duration {
	n, _ := strconv.Atoi(rec.Attributes["deregistration_delay.timeout_seconds"])
	return time.Duration(n) * time.Second
}

func (s *Server) registerTargets(r *request, in *elbv2.RegisterTargetsInput) (*elbv2.RegisterTargetsOutput, error) {
	rec, err := s.tg(str(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	if len(in.Targets) == 0 {
		return nil, constraint("[]", "targets", "Member must have length greater than or equal to 1")
	}
	tg := &rec.TargetGroup
	for i := range in.Targets {
		if err := s.checkTarget(tg, &in.Targets[i]); err != nil {
			return nil, err
		}
	}
	s.expired(rec, r.now)
	limit := s.opts.Quotas.TargetsPerTargetGroup
	if tg.TargetType == types.TargetTypeEnumLambda {
		limit = 1
	}
	// Index the request (small), not the group (up to the quota): one
	// pass over the group finds which requested targets exist.
	type key struct {
		id   string
		port int32
	}
	want := make(map[key]*TargetRecord, len(in.Targets))
	for i := range in.Targets {
		want[key{str(in.Targets[i].Id), targetPort(tg, &in.Targets[i])}] = nil
	}
	for _, cur := range rec.Targets {
		k := key{cur.ID, cur.Port}
		if _, ok := want[k]; ok {
			want[k] = cur
		}
	}
	added := 0
	for _, cur := range want {
		if cur == nil {
			added++
		}
	}
	if len(rec.Targets)+added > limit {
		return nil, apiErr("TooManyTargets", "You've reached the limit on the number of targets registered to a target group (%d)", limit)
	}
	for i := range in.Targets {
		t := &in.Targets[i]
		k := key{str(t.Id), targetPort(tg, t)}
		switch cur := want[k]; {
		case cur == nil:
			cur = &TargetRecord{ID: k.id, Port: k.port, AvailabilityZone: str(t.AvailabilityZone), RegisteredAt: r.now}
			rec.Targets = append(rec.Targets, cur)
			want[k] = cur
		case !cur.DeregisteredAt.IsZero():
			// Re-registering a draining target starts it over.
			cur.DeregisteredAt = time.Time{}
			cur.RegisteredAt = r.now
		}
	}
	return &elbv2.RegisterTargetsOutput{}, nil
}

func (s *Server) deregisterTargets(r *request, in *elbv2.DeregisterTargetsInput) (*elbv2.DeregisterTargetsOutput, error) {
	rec, err := s.tg(str(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	if len(in.Targets) == 0 {
		return nil, constraint("[]", "targets", "Member must have length greater than or equal to 1")
	}
	s.expired(rec, r.now)
	inUse := len(s.tgUsers(*rec.TargetGroup.TargetGroupArn)) > 0 && s.deregDelay(rec) > 0
	for i := range in.Targets {
		t := &in.Targets[i]
		id, port := str(t.Id), targetPort(&rec.TargetGroup, t)
		for j, cur := range rec.Targets {
			if cur.ID != id || (t.Port != nil && cur.Port != port) || !cur.DeregisteredAt.IsZero() {
				continue
			}
			if inUse {
				cur.DeregisteredAt = r.now
			} else {
				rec.Targets[j] = nil
			}
		}
	}
	kept := rec.Targets[:0]
	for _, t := range rec.Targets {
		if t != nil {
			kept = append(kept, t)
		}
	}
	clear(rec.Targets[len(kept):])
	rec.Targets = kept
	return &elbv2.DeregisterTargetsOutput{}, nil
}

// inUseSince is when a load balancer began using the group: the creation
// of the oldest rule that forwards to it. Zero means not in use.
func (s *Server) inUseSince(tgArn string) (time.Time, bool) {
	var since time.Time
	found := false
	for _, rule := range s.st.d.Rules {
		if !contains(actionTargetGroups(rule.Rule.Actions), tgArn) {
			continue
		}
		l := s.st.d.Listeners[rule.ListenerArn]
		if l == nil {
			continue
		}
		at := rule.ChangedAt
		if !found || at.Before(since) {
			since, found = at, true
		}
	}
	return since, found
}

func (s *Server) describeTargetHealth(r *request, in *elbv2.DescribeTargetHealthInput) (*elbv2.DescribeTargetHealthOutput, error) {
	rec, err := s.tg(str(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	tg := &rec.TargetGroup
	for i := range in.Targets {
		if err := s.checkTarget(tg, &in.Targets[i]); err != nil {
			return nil, err
		}
	}
	delay := s.deregDelay(rec)
	since, inUse := s.inUseSince(*tg.TargetGroupArn)
	live := func(t *TargetRecord) bool {
		return t.DeregisteredAt.IsZero() || r.now.Sub(t.DeregisteredAt) < delay
	}
	out := &elbv2.DescribeTargetHealthOutput{TargetHealthDescriptions: make([]types.TargetHealthDescription, 0, len(rec.Targets))}
	add := func(t *TargetRecord) {
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, s.targetHealth(r, rec, t, inUse, since))
	}
	if len(in.Targets) == 0 {
		for _, t := range rec.Targets {
			if live(t) {
				add(t)
			}
		}
		return out, nil
	}
	for i := range in.Targets {
		q := &in.Targets[i]
		id, port := str(q.Id), targetPort(tg, q)
		found := false
		for _, t := range rec.Targets {
			if t.ID == id && (q.Port == nil || t.Port == port) && live(t) {
				add(t)
				found = true
			}
		}
		if !found {
			out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, types.TargetHealthDescription{
				Target:       &types.TargetDescription{Id: ptr(id), Port: ptr(port), AvailabilityZone: q.AvailabilityZone},
				TargetHealth: healthView(healthWith(StateUnused, ReasonNotRegistered)),
			})
		}
	}
	return out, nil
}

func healthView(h Health) *types.TargetHealth {
	th := &types.TargetHealth{State: types.TargetHealthStateEnum(h.State), Reason: types.TargetHealthReasonEnum(h.Reason)}
	if h.Description != "" {
		th.Description = ptr(h.Description)
	}
	return th
}

func (s *Server) targetHealth(r *request, rec *TargetGroupRecord, t *TargetRecord, inUse bool, since time.Time) types.TargetHealthDescription {
	tg := &rec.TargetGroup
	hcPort := str(tg.HealthCheckPort)
	if hcPort == "traffic-port" || hcPort == "" {
		hcPort = strconv.Itoa(int(t.Port))
	}
	d := types.TargetHealthDescription{
		Target:          &types.TargetDescription{Id: ptr(t.ID), Port: ptr(t.Port)},
		HealthCheckPort: ptr(hcPort),
	}
	if t.AvailabilityZone != "" {
		d.Target.AvailabilityZone = ptr(t.AvailabilityZone)
	}
	var h Health
	switch {
	case !t.DeregisteredAt.IsZero():
		h = healthWith(StateDraining, ReasonDeregistrationInProgress)
	case !inUse:
		h = healthWith(StateUnused, ReasonNotInUse)
	case tg.HealthCheckEnabled != nil && !*tg.HealthCheckEnabled:
		h = healthWith(StateUnavailable, ReasonHealthCheckDisabled)
	default:
		h = s.opts.Health.TargetHealth(HealthQuery{
			TargetGroupARN: *tg.TargetGroupArn,
			TargetType:     string(tg.TargetType),
			TargetID:       t.ID,
			Port:           t.Port,
			HealthCheck: HealthCheck{
				Protocol:           string(tg.HealthCheckProtocol),
				Port:               str(tg.HealthCheckPort),
				Path:               str(tg.HealthCheckPath),
				Interval:           time.Duration(i32(tg.HealthCheckIntervalSeconds, 30)) * time.Second,
				Timeout:            time.Duration(i32(tg.HealthCheckTimeoutSeconds, 5)) * time.Second,
				HealthyThreshold:   int(i32(tg.HealthyThresholdCount, 5)),
				UnhealthyThreshold: int(i32(tg.UnhealthyThresholdCount, 2)),
			},
			Since: maxTime(t.RegisteredAt, since),
			Now:   r.now,
		})
	}
	d.TargetHealth = healthView(h)
	return d
}
