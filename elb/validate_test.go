package elb

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// validStack is a stack that validates: an ALB with an HTTP:80 listener and
// a rule, an NLB with TCP:80, their target groups.
func validStack() *Stack {
	s := &Stack{}
	web := s.AddTargetGroup(NewTargetGroup("web", ProtocolHTTP, 80, TargetTypeIP))
	web.VPCID = "vpc-1"
	web.AddTargets("10.0.1.10", "10.0.2.10")
	api := s.AddTargetGroup(NewTargetGroup("api", ProtocolHTTP, 8080, TargetTypeInstance))
	api.VPCID = "vpc-1"
	api.AddTargets("i-0123456789abcdef0")
	tcp := s.AddTargetGroup(NewTargetGroup("tcp", ProtocolTCP, 80, TargetTypeIP))
	tcp.VPCID = "vpc-1"
	alb := s.AddLoadBalancer(NewApplicationLoadBalancer("alb"))
	alb.Subnets = []string{"subnet-a", "subnet-b"}
	l := alb.AddListener(ProtocolHTTP, 80, Forward(web))
	l.AddRule(10, Forward(api), PathPattern("/api/*"))
	nlb := s.AddLoadBalancer(NewNetworkLoadBalancer("nlb"))
	nlb.Subnets = []string{"subnet-a"}
	nlb.AddListener(ProtocolTCP, 80, Forward(tcp))
	return s
}

func TestValidStack(t *testing.T) {
	s := validStack()
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	s.Defaults()
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate after Defaults: %v", err)
	}
}

// TestValidate has one case per validation rule: a change to a valid stack,
// and the error it must produce (path, AWS code, message).
func TestValidate(t *testing.T) {
	alb := func(s *Stack) *LoadBalancer { return s.LoadBalancers[0] }
	nlb := func(s *Stack) *LoadBalancer { return s.LoadBalancers[1] }
	http80 := func(s *Stack) *Listener { return s.LoadBalancers[0].Listeners[0] }
	rule := func(s *Stack) *Rule { return http80(s).Rules[0] }
	web := func(s *Stack) *TargetGroup { return s.TargetGroups[0] }
	tcp := func(s *Stack) *TargetGroup { return s.TargetGroups[2] }
	const lb0, l0, r0 = "loadBalancers[0]", "loadBalancers[0].listeners[0]", "loadBalancers[0].listeners[0].rules[0]"
	const tg0, tg2 = "targetGroups[0]", "targetGroups[2]"
	tests := []struct {
		name       string
		mutate     func(*Stack)
		path, code string
		msg        string
	}{
		// Names.
		{"lb name too long", func(s *Stack) { alb(s).Name = strings.Repeat("a", 33) }, lb0 + ".name", CodeValidationError,
			"The load balancer name '" + strings.Repeat("a", 33) + "' cannot be longer than '32' characters"},
		{"lb name bad char", func(s *Stack) { alb(s).Name = "my_alb" }, lb0 + ".name", CodeValidationError,
			"The load balancer name 'my_alb' can only contain characters that are alphanumeric characters or hyphens(-)"},
		{"lb name leading hyphen", func(s *Stack) { alb(s).Name = "-alb" }, lb0 + ".name", CodeValidationError,
			"The load balancer name '-alb' cannot begin or end with '-'"},
		{"lb name trailing hyphen", func(s *Stack) { alb(s).Name = "alb-" }, lb0 + ".name", CodeValidationError,
			"The load balancer name 'alb-' cannot begin or end with '-'"},
		{"lb name internal-", func(s *Stack) { alb(s).Name = "internal-alb" }, lb0 + ".name", CodeValidationError,
			"Load balancer name 'internal-alb' cannot begin with 'internal-'"},
		{"lb name empty", func(s *Stack) { alb(s).Name = "" }, lb0 + ".name", CodeValidationError,
			"1 validation error detected: Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"tg name too long", func(s *Stack) {
			web(s).Name = strings.Repeat("t", 33)
			http80(s).DefaultActions[0].Forward.TargetGroups[0].TargetGroup = web(s).Name
		},
			tg0 + ".name", CodeValidationError, "Target group name '" + strings.Repeat("t", 33) + "' cannot be longer than '32' characters"},
		{"tg name bad char", func(s *Stack) {
			web(s).Name = "w.b"
			http80(s).DefaultActions[0].Forward.TargetGroups[0].TargetGroup = "w.b"
		},
			tg0 + ".name", CodeValidationError, "Target group name 'w.b' can only contain characters that are alphanumeric characters or hyphens(-)"},
		{"duplicate lb name", func(s *Stack) { nlb(s).Name = "alb" }, "loadBalancers[1].name", CodeDuplicateLoadBalancerName,
			"A load balancer with the same name 'alb' exists, but with different settings (loadBalancers[0])"},
		{"duplicate tg name", func(s *Stack) { s.TargetGroups[1].Name = "web" }, "targetGroups[1].name", CodeDuplicateTargetGroupName,
			"A target group with the same name 'web' exists, but with different settings (targetGroups[0])"},

		// Load balancers.
		{"lb type", func(s *Stack) { alb(s).Type = "gateway" }, lb0 + ".type", CodeValidationError,
			"1 validation error detected: Value 'gateway' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [application, network]"},
		{"scheme", func(s *Stack) { alb(s).Scheme = "public" }, lb0 + ".scheme", CodeValidationError,
			"1 validation error detected: Value 'public' at 'scheme' failed to satisfy constraint: Member must satisfy enum value set: [internet-facing, internal]"},
		{"ALB one subnet", func(s *Stack) { alb(s).Subnets = []string{"subnet-a"} }, lb0 + ".subnets", CodeValidationError,
			"At least two subnets in two different Availability Zones must be specified"},
		{"ALB no subnets", func(s *Stack) { alb(s).Subnets = nil }, lb0 + ".subnets", CodeValidationError,
			"At least two subnets in two different Availability Zones must be specified"},
		{"NLB no subnets", func(s *Stack) { nlb(s).Subnets = nil }, "loadBalancers[1].subnets", CodeValidationError,
			"At least one subnet must be specified"},
		{"subnets and mappings", func(s *Stack) { alb(s).SubnetMappings = []SubnetMapping{{SubnetID: "subnet-c"}} }, lb0 + ".subnets", CodeValidationError,
			"You can specify only one of subnets, subnet mappings and a subnet selector"},
		{"duplicate subnet", func(s *Stack) { alb(s).Subnets = []string{"subnet-a", "subnet-a", "subnet-b"} }, lb0 + ".subnets[1]", CodeInvalidConfigurationRequest,
			"Subnet 'subnet-a' is specified more than once"},
		{"EIP on internal NLB", func(s *Stack) {
			nlb(s).Subnets = nil
			nlb(s).Scheme = SchemeInternal
			nlb(s).SubnetMappings = []SubnetMapping{{SubnetID: "subnet-a", AllocationID: "eipalloc-1"}}
		}, "loadBalancers[1].subnetMappings[0].allocationId", CodeInvalidConfigurationRequest, "Elastic IP addresses can be associated only with internet-facing load balancers"},
		{"empty subnet selector", func(s *Stack) { alb(s).Subnets = nil; alb(s).SubnetSelector = &SubnetSelector{} }, lb0 + ".subnetSelector.tags", CodeValidationError,
			"A subnet selector must have at least one tag"},
		{"idle timeout range", func(s *Stack) { alb(s).Attributes.IdleTimeoutSeconds = 4001 }, lb0 + ".attributes.idleTimeoutSeconds", CodeValidationError,
			"The value of 'idle_timeout.timeout_seconds' must be between 1 and 4000, not '4001'"},
		{"client keep-alive range", func(s *Stack) { alb(s).Attributes.ClientKeepAliveSeconds = 59 }, lb0 + ".attributes.clientKeepAliveSeconds", CodeValidationError,
			"The value of 'client_keep_alive.seconds' must be between 60 and 604800, not '59'"},
		{"ALB attribute on NLB", func(s *Stack) { nlb(s).Attributes.HTTP2 = Bool(true) }, "loadBalancers[1].attributes.http2", CodeInvalidConfigurationRequest,
			"Load balancer attribute key 'routing.http2.enabled' is not supported on load balancers with type 'network'"},
		{"ALB cross-zone off", func(s *Stack) { alb(s).Attributes.CrossZone = Bool(false) }, lb0 + ".attributes.crossZone", CodeInvalidConfigurationRequest,
			"Load balancer attribute key 'load_balancing.cross_zone.enabled' cannot be set to 'false' on load balancers with type 'application'"},
		{"xff mode", func(s *Stack) { alb(s).Attributes.XFFHeaderProcessingMode = "drop" }, lb0 + ".attributes.xffHeaderProcessingMode", CodeValidationError,
			"The value of 'routing.http.xff_header_processing.mode' must be one of 'append, preserve, remove', not 'drop'"},
		{"desync mode", func(s *Stack) { alb(s).Attributes.DesyncMitigationMode = "lax" }, lb0 + ".attributes.desyncMitigationMode", CodeValidationError,
			"The value of 'routing.http.desync_mitigation_mode' must be one of 'monitor, defensive, strictest', not 'lax'"},
		{"access logs without bucket", func(s *Stack) { alb(s).Attributes.AccessLogs.Enabled = true }, lb0 + ".attributes.accessLogs.bucket", CodeValidationError,
			"The value of 'access_logs.s3.bucket' cannot be empty when access logs are enabled"},
		{"too many tags", func(s *Stack) {
			alb(s).Tags = Tags{}
			for i := 0; i < 51; i++ {
				alb(s).Tags[strings.Repeat("k", i+1)] = "v"
			}
		}, lb0 + ".tags", CodeTooManyTags, "You've reached the limit on the number of tags for this resource: [50]"},
		{"aws: tag", func(s *Stack) { alb(s).Tags = Tags{"aws:x": "y"} }, lb0 + `.tags["aws:x"]`, CodeValidationError,
			"Tag keys starting with 'aws:' are reserved for internal use: 'aws:x'"},
		{"too many listeners", func(s *Stack) {
			for p := 81; p <= 131; p++ {
				alb(s).AddListener(ProtocolHTTP, p, Forward(web(s)))
			}
		}, lb0 + ".listeners", CodeTooManyListeners, "You've reached the limit on the number of listeners per load balancer: [50]"},
		{"too many rules", func(s *Stack) {
			for p := 11; p <= 111; p++ {
				http80(s).AddRule(p, Forward(web(s)), PathPattern("/x"))
			}
		}, lb0 + ".listeners", CodeTooManyRules, "You've reached the limit on the number of rules per load balancer: [100]"},

		// Listeners.
		{"duplicate listener port", func(s *Stack) { alb(s).AddListener(ProtocolHTTP, 80, Forward(web(s))) }, lb0 + ".listeners[1].port", CodeDuplicateListener,
			"A listener already exists on this port for this load balancer 'alb'"},
		{"listener port range", func(s *Stack) { http80(s).Port = 70000 }, l0 + ".port", CodeValidationError,
			"1 validation error detected: Value '70000' at 'port' failed to satisfy constraint: Member must have value less than or equal to 65535"},
		{"TCP listener on ALB", func(s *Stack) { http80(s).Protocol = ProtocolTCP }, l0 + ".protocol", CodeValidationError,
			"Listener protocol 'TCP' must be one of 'HTTPS, HTTP'"},
		{"HTTP listener on NLB", func(s *Stack) { nlb(s).Listeners[0].Protocol = ProtocolHTTP }, "loadBalancers[1].listeners[0].protocol", CodeValidationError,
			"Listener protocol 'HTTP' must be one of 'TCP_UDP, UDP, TLS, TCP'"},
		{"HTTPS without certificate", func(s *Stack) { http80(s).Protocol = ProtocolHTTPS }, l0 + ".certificates", CodeValidationError,
			"A certificate must be specified for HTTPS listeners"},
		{"certificate on HTTP", func(s *Stack) { http80(s).Certificates = []string{"arn:aws:acm:::certificate/x"} }, l0 + ".certificates", CodeValidationError,
			"Certificates can be specified only for HTTPS and TLS listeners, not 'HTTP'"},
		{"ALPN on HTTP", func(s *Stack) { http80(s).ALPNPolicy = ALPNHTTP2Only }, l0 + ".alpnPolicy", CodeValidationError,
			"An ALPN policy can be specified only for TLS listeners, not 'HTTP'"},
		{"TCP idle timeout range", func(s *Stack) { nlb(s).Listeners[0].Attributes.TCPIdleTimeoutSeconds = 30 }, "loadBalancers[1].listeners[0].attributes.tcpIdleTimeoutSeconds", CodeValidationError,
			"The value of 'tcp.idle_timeout.seconds' must be between 60 and 6000, not '30'"},
		{"no default action", func(s *Stack) { http80(s).DefaultActions = nil }, l0 + ".defaultActions", CodeValidationError,
			"1 validation error detected: Value '[]' at 'defaultActions' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"rules on NLB", func(s *Stack) { nlb(s).Listeners[0].AddRule(1, Forward(tcp(s)), PathPattern("/")) }, "loadBalancers[1].listeners[0].rules", CodeUnsupportedProtocol,
			"Listener rules are not supported for listeners with the protocol 'TCP'"},
		{"redirect on NLB", func(s *Stack) { nlb(s).Listeners[0].DefaultActions = []Action{RedirectToHTTPS()} }, "loadBalancers[1].listeners[0].defaultActions[0].type", CodeInvalidLoadBalancerAction,
			"Action type 'redirect' is not supported for load balancers of type 'network'; use 'forward'"},
		{"authenticate on HTTP", func(s *Stack) {
			rule(s).Authenticate(AuthenticateCognito(AuthenticateCognitoConfig{UserPoolARN: "arn:x", UserPoolClientID: "c", UserPoolDomain: "d"}))
		}, r0 + ".actions[0].type", CodeInvalidLoadBalancerAction, "Action type 'authenticate-cognito' is supported only on HTTPS listeners"},

		// Rules.
		{"priority 0", func(s *Stack) { rule(s).Priority = 0 }, r0 + ".priority", CodeValidationError,
			"1 validation error detected: Value '0' at 'priority' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"priority 50001", func(s *Stack) { rule(s).Priority = 50001 }, r0 + ".priority", CodeValidationError,
			"1 validation error detected: Value '50001' at 'priority' failed to satisfy constraint: Member must have value less than or equal to 50000"},
		{"priority in use", func(s *Stack) { http80(s).AddRule(10, Forward(web(s)), PathPattern("/b")) }, "loadBalancers[0].listeners[0].rules[1].priority", CodePriorityInUse,
			"Priority '10' is currently in use"},
		{"no conditions", func(s *Stack) { rule(s).Conditions = nil }, r0 + ".conditions", CodeValidationError,
			"A rule must have at least one condition"},
		{"two path conditions", func(s *Stack) { rule(s).Conditions = append(rule(s).Conditions, PathPattern("/b")) }, r0 + ".conditions[1].field", CodeValidationError,
			"A rule can only have one 'path-pattern' condition"},
		{"unknown field", func(s *Stack) { rule(s).Conditions[0].Field = "cookie" }, r0 + ".conditions[0].field", CodeValidationError,
			"1 validation error detected: Value 'cookie' at 'conditions.member.field' failed to satisfy constraint: Member must satisfy enum value set: [host-header, path-pattern, http-header, http-request-method, query-string, source-ip]"},
		{"condition without values", func(s *Stack) { rule(s).Conditions[0].Values = nil }, r0 + ".conditions[0]", CodeValidationError,
			"A 'path-pattern' condition must have at least one value"},
		{"four values in a condition", func(s *Stack) { rule(s).Conditions[0] = PathPattern("/a", "/b", "/c", "/d") }, r0 + ".conditions[0]", CodeValidationError,
			"A 'path-pattern' condition can only have '3' values"},
		{"six values in a rule", func(s *Stack) {
			rule(s).Conditions = []Condition{PathPattern("/a", "/b", "/c"), HostHeader("a.example.com", "b.example.com"), HTTPRequestMethod("GET")}
		}, r0 + ".conditions", CodeValidationError, "A rule can only have '5' condition values"},
		{"six wildcards", func(s *Stack) { rule(s).Conditions[0] = PathPattern("/*/*/*", "/?/?/?") }, r0 + ".conditions", CodeValidationError,
			"A rule can only have '5' wildcards"},
		{"path too long", func(s *Stack) { rule(s).Conditions[0] = PathPattern("/" + strings.Repeat("a", 128)) }, r0 + ".conditions[0].values[0]", CodeValidationError,
			"The path pattern '/" + strings.Repeat("a", 128) + "' must be 1 to 128 characters long"},
		{"path bad char", func(s *Stack) { rule(s).Conditions[0] = PathPattern("/a b") }, r0 + ".conditions[0].values[0]", CodeValidationError,
			"The path pattern '/a b' contains an invalid character ' '"},
		{"host without dot", func(s *Stack) { rule(s).Conditions[0] = HostHeader("localhost") }, r0 + ".conditions[0].values[0]", CodeValidationError,
			"The host header 'localhost' must contain at least one '.'"},
		{"host digits after last dot", func(s *Stack) { rule(s).Conditions[0] = HostHeader("10.0.0.1") }, r0 + ".conditions[0].values[0]", CodeValidationError,
			"The host header '10.0.0.1' can only contain alphabetical characters after the final '.'"},
		{"host bad char", func(s *Stack) { rule(s).Conditions[0] = HostHeader("a_b.example.com") }, r0 + ".conditions[0].values[0]", CodeValidationError,
			"The host header 'a_b.example.com' contains an invalid character '_'"},
		{"header Host", func(s *Stack) { rule(s).Conditions[0] = HTTPHeader("host", "x") }, r0 + ".conditions[0].httpHeaderName", CodeValidationError,
			"The 'Host' header cannot be used in an 'http-header' condition; use a 'host-header' condition"},
		{"header name too long", func(s *Stack) { rule(s).Conditions[0] = HTTPHeader(strings.Repeat("h", 41), "x") }, r0 + ".conditions[0].httpHeaderName", CodeValidationError,
			"1 validation error detected: Value '" + strings.Repeat("h", 41) + "' at 'httpHeaderConfig.httpHeaderName' failed to satisfy constraint: Member must have length between 1 and 40"},
		{"header name wildcard", func(s *Stack) { rule(s).Conditions[0] = HTTPHeader("X-*", "x") }, r0 + ".conditions[0].httpHeaderName", CodeValidationError,
			"The header name 'X-*' cannot contain wildcards"},
		{"method lower-case", func(s *Stack) { rule(s).Conditions[0] = HTTPRequestMethod("get") }, r0 + ".conditions[0].values[0]", CodeValidationError,
			"The HTTP request method 'get' can only contain the characters A-Z, hyphen (-) and underscore (_)"},
		{"source ip not CIDR", func(s *Stack) { rule(s).Conditions[0] = SourceIP("10.0.0.1") }, r0 + ".conditions[0].values[0]", CodeValidationError,
			"The source IP '10.0.0.1' is not a valid CIDR block"},
		{"six source ips", func(s *Stack) {
			rule(s).Conditions[0] = SourceIP("10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16", "10.4.0.0/16", "10.5.0.0/16")
		}, r0 + ".conditions[0]", CodeValidationError, "A 'source-ip' condition can only have '5' values"},
		{"query in values", func(s *Stack) { rule(s).Conditions[0] = Condition{Field: FieldQueryString, Values: []string{"a=b"}} }, r0 + ".conditions[0].values", CodeValidationError,
			"A 'query-string' condition takes key/value pairs in 'queryStrings', not 'values'"},
		{"query value empty", func(s *Stack) { rule(s).Conditions[0] = QueryString(QueryStringKeyValue{Key: "a"}) }, r0 + ".conditions[0].queryStrings[0].value", CodeValidationError,
			"The query string value '' must be 1 to 128 characters long"},

		// Actions.
		{"no actions", func(s *Stack) { rule(s).Actions = nil }, r0 + ".actions", CodeValidationError,
			"1 validation error detected: Value '[]' at 'actions' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"two terminal actions", func(s *Stack) { rule(s).Actions = append(rule(s).Actions, FixedResponse(200, "", "")) }, r0 + ".actions", CodeInvalidLoadBalancerAction,
			"Exactly one action must be of type 'forward', 'redirect' or 'fixed-response', and it must be the last action"},
		{"terminal not last", func(s *Stack) {
			https := http80(s)
			https.Protocol, https.Certificates = ProtocolHTTPS, []string{"arn:c"}
			rule(s).Actions = append(rule(s).Actions, AuthenticateCognito(AuthenticateCognitoConfig{UserPoolARN: "arn:x", UserPoolClientID: "c", UserPoolDomain: "d"}))
		}, r0 + ".actions", CodeInvalidLoadBalancerAction, "Exactly one action must be of type 'forward', 'redirect' or 'fixed-response', and it must be the last action"},
		{"duplicate order", func(s *Stack) {
			rule(s).Actions = []Action{FixedResponse(200, "", ""), FixedResponse(200, "", "")}
			rule(s).Actions[0].Order, rule(s).Actions[1].Order = 1, 1
		}, r0 + ".actions[1].order", CodeValidationError, "Action order '1' is specified more than once"},
		{"unknown action type", func(s *Stack) { rule(s).Actions[0].Type = "drop" }, r0 + ".actions[0].type", CodeValidationError,
			"1 validation error detected: Value 'drop' at 'actions.member.type' failed to satisfy constraint: Member must satisfy enum value set: [forward, redirect, fixed-response, authenticate-oidc, authenticate-cognito]"},
		{"type without config", func(s *Stack) { rule(s).Actions[0] = Action{Type: ActionRedirect} }, r0 + ".actions[0]", CodeValidationError,
			"An action of type 'redirect' must have exactly one config, the 'redirect' config"},
		{"forward without target group", func(s *Stack) { rule(s).Actions[0] = WeightedForward() }, r0 + ".actions[0].forward.targetGroups", CodeValidationError,
			"A target group ARN must be specified"},
		{"six target groups", func(s *Stack) {
			var ts []TargetGroupTuple
			for i := 0; i < 6; i++ {
				ts = append(ts, TargetGroupTuple{TargetGroup: strings.Repeat("x", i+1)})
			}
			rule(s).Actions[0] = WeightedForward(ts...)
		}, r0 + ".actions[0].forward.targetGroups", CodeTooManyTargetGroups, "You can specify at most '5' target groups in a forward action"},
		{"weight 1000", func(s *Stack) { rule(s).Actions[0] = WeightedForward(Weight(web(s), 1000)) }, r0 + ".actions[0].forward.targetGroups[0].weight", CodeValidationError,
			"1 validation error detected: Value '1000' at 'forwardConfig.targetGroups.member.weight' failed to satisfy constraint: Member must have value less than or equal to 999"},
		{"same target group twice", func(s *Stack) { rule(s).Actions[0] = WeightedForward(Weight(web(s), 1), Weight(web(s), 2)) }, r0 + ".actions[0].forward.targetGroups[1].targetGroup", CodeValidationError,
			"Target group 'web' is specified more than once in the forward action"},
		{"group stickiness duration", func(s *Stack) { rule(s).Actions[0] = Forward(web(s)).WithGroupStickiness(0) }, r0 + ".actions[0].forward.stickiness.durationSeconds", CodeValidationError,
			"1 validation error detected: Value '0' at 'forwardConfig.targetGroupStickinessConfig.durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"forward to unknown tg", func(s *Stack) { rule(s).Actions[0].Forward.TargetGroups[0].TargetGroup = "nope" }, r0 + ".actions[0].forward.targetGroups[0].targetGroup", CodeTargetGroupNotFound,
			"One or more target groups not found: 'nope'"},
		{"tg on two load balancers", func(s *Stack) { nlb(s).AddListener(ProtocolTCP, 81, Forward(web(s))) }, "loadBalancers[1].listeners[1].defaultActions[0].forward.targetGroups[0].targetGroup", CodeTargetGroupAssociationLimit,
			"The following target groups cannot be associated with more than one load balancer: web"},
		{"HTTP listener to TCP tg", func(s *Stack) { rule(s).Actions[0] = Forward(tcp(s)) }, r0 + ".actions[0].forward.targetGroups[0].targetGroup", CodeIncompatibleProtocols,
			"The protocol 'TCP' of target group 'tcp' is not compatible with the listener protocol 'HTTP'"},
		{"redirect status", func(s *Stack) {
			rule(s).Actions[0] = Redirect(RedirectConfig{Protocol: "HTTPS", StatusCode: "HTTP_307"})
		}, r0 + ".actions[0].redirect.statusCode", CodeValidationError,
			"1 validation error detected: Value 'HTTP_307' at 'redirectConfig.statusCode' failed to satisfy constraint: Member must satisfy enum value set: [HTTP_301, HTTP_302]"},
		{"redirect to itself", func(s *Stack) { rule(s).Actions[0] = Redirect(RedirectConfig{StatusCode: RedirectFound}) }, r0 + ".actions[0].redirect", CodeInvalidLoadBalancerAction,
			"The redirect must change at least one of protocol, host, port, path or query; otherwise it redirects to itself"},
		{"redirect path", func(s *Stack) { rule(s).Actions[0] = Redirect(RedirectConfig{Path: "x", StatusCode: RedirectFound}) }, r0 + ".actions[0].redirect.path", CodeValidationError,
			"The redirect path 'x' must start with '/'"},
		{"redirect port", func(s *Stack) { rule(s).Actions[0] = Redirect(RedirectConfig{Port: "0", StatusCode: RedirectFound}) }, r0 + ".actions[0].redirect.port", CodeValidationError,
			"The redirect port '0' must be a port number or '#{port}'"},
		{"fixed status 302", func(s *Stack) { rule(s).Actions[0] = FixedResponse(302, "", "") }, r0 + ".actions[0].fixedResponse.statusCode", CodeValidationError,
			`1 validation error detected: Value '302' at 'fixedResponseConfig.statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(2|4|5)\d\d$`},
		{"fixed content type", func(s *Stack) { rule(s).Actions[0] = FixedResponse(200, "image/png", "") }, r0 + ".actions[0].fixedResponse.contentType", CodeValidationError,
			"1 validation error detected: Value 'image/png' at 'fixedResponseConfig.contentType' failed to satisfy constraint: Member must satisfy enum value set: [text/plain, text/css, text/html, application/javascript, application/json]"},
		{"fixed body too long", func(s *Stack) { rule(s).Actions[0] = FixedResponse(200, "", strings.Repeat("b", 1025)) }, r0 + ".actions[0].fixedResponse.messageBody", CodeValidationError,
			"1 validation error detected: Value at 'fixedResponseConfig.messageBody' failed to satisfy constraint: Member must have length less than or equal to 1024"},
		{"oidc missing issuer", func(s *Stack) {
			http80(s).Protocol, http80(s).Certificates = ProtocolHTTPS, []string{"arn:c"}
			rule(s).Authenticate(AuthenticateOIDC(AuthenticateOIDCConfig{AuthorizationEndpoint: "https://a", TokenEndpoint: "https://t", UserInfoEndpoint: "https://u", ClientID: "c", ClientSecret: "s"}))
		}, r0 + ".actions[0].authenticateOIDC.issuer", CodeValidationError,
			"1 validation error detected: Value null at 'authenticateOidcConfig.issuer' failed to satisfy constraint: Member must not be null"},

		// Target groups.
		{"tg without protocol", func(s *Stack) { web(s).Protocol = "" }, tg0 + ".protocol", CodeValidationError,
			"A protocol must be specified for target groups with target type 'ip'"},
		{"tg port 0", func(s *Stack) { web(s).Port = 0 }, tg0 + ".port", CodeValidationError,
			"A port must be specified for target groups with target type 'ip'"},
		{"tg without vpc", func(s *Stack) { web(s).VPCID = "" }, tg0 + ".vpcId", CodeValidationError,
			"A VPC ID must be specified for target groups with target type 'ip'"},
		{"lambda with port", func(s *Stack) {
			l := s.AddTargetGroup(NewTargetGroup("fn", "", 80, TargetTypeLambda))
			http80(s).AddRule(20, Forward(l), PathPattern("/fn"))
		}, "targetGroups[3]", CodeValidationError, "The protocol, protocol version, port and VPC ID cannot be specified for target groups with target type 'lambda'"},
		{"alb target type needs TCP", func(s *Stack) {
			tcp(s).TargetType = TargetTypeALB
			tcp(s).Protocol = ProtocolUDP
			nlb(s).Listeners[0].Protocol = ProtocolUDP
		}, tg2 + ".protocol", CodeValidationError,
			"Target groups with target type 'alb' must use the protocol 'TCP', not 'UDP'"},
		{"protocol version on TCP", func(s *Stack) { tcp(s).ProtocolVersion = ProtocolVersionHTTP2 }, tg2 + ".protocolVersion", CodeValidationError,
			"A protocol version can be specified only for target groups with the protocol HTTP or HTTPS, not 'TCP'"},
		{"ipv6 on instance tg", func(s *Stack) { s.TargetGroups[1].IPAddressType = IPAddressTypeIPv6 }, "targetGroups[1].ipAddressType", CodeValidationError,
			"The IP address type 'ipv6' is supported only for target groups with target type 'ip', not 'instance'"},
		{"ip target not an ip", func(s *Stack) { web(s).Targets[0].ID = "i-123" }, tg0 + ".targets[0].id", CodeValidationError,
			"The target ID 'i-123' is not a valid IP address"},
		{"instance target not an instance", func(s *Stack) { s.TargetGroups[1].Targets[0].ID = "10.0.0.1" }, "targetGroups[1].targets[0].id", CodeValidationError,
			"The target ID '10.0.0.1' is not a valid instance ID"},
		{"target port", func(s *Stack) { web(s).Targets[0].Port = 65536 }, tg0 + ".targets[0].port", CodeValidationError,
			"1 validation error detected: Value '65536' at 'targets.member.port' failed to satisfy constraint: Member must have value less than or equal to 65535"},
		{"too many targets", func(s *Stack) {
			for i := 0; i < 1001; i++ {
				web(s).Targets = append(web(s).Targets, Target{ID: "10.0.0.1", Port: i%60000 + 1})
			}
		}, tg0 + ".targets", CodeTooManyTargets, "You've reached the limit on the number of targets per target group: [1000]"},

		// Health checks.
		{"interval 4", func(s *Stack) { web(s).HealthCheck.IntervalSeconds = 4 }, tg0 + ".healthCheck.intervalSeconds", CodeValidationError,
			"1 validation error detected: Value '4' at 'healthCheckIntervalSeconds' failed to satisfy constraint: Member must have value greater than or equal to 5"},
		{"interval 301", func(s *Stack) { web(s).HealthCheck.IntervalSeconds = 301 }, tg0 + ".healthCheck.intervalSeconds", CodeValidationError,
			"1 validation error detected: Value '301' at 'healthCheckIntervalSeconds' failed to satisfy constraint: Member must have value less than or equal to 300"},
		{"timeout 1", func(s *Stack) { web(s).HealthCheck.TimeoutSeconds = 1 }, tg0 + ".healthCheck.timeoutSeconds", CodeValidationError,
			"1 validation error detected: Value '1' at 'healthCheckTimeoutSeconds' failed to satisfy constraint: Member must have value greater than or equal to 2"},
		{"healthy threshold 11", func(s *Stack) { web(s).HealthCheck.HealthyThreshold = 11 }, tg0 + ".healthCheck.healthyThreshold", CodeValidationError,
			"1 validation error detected: Value '11' at 'healthyThresholdCount' failed to satisfy constraint: Member must have value less than or equal to 10"},
		{"unhealthy threshold 1", func(s *Stack) { web(s).HealthCheck.UnhealthyThreshold = 1 }, tg0 + ".healthCheck.unhealthyThreshold", CodeValidationError,
			"1 validation error detected: Value '1' at 'unhealthyThresholdCount' failed to satisfy constraint: Member must have value greater than or equal to 2"},
		{"timeout not below interval", func(s *Stack) { web(s).HealthCheck.IntervalSeconds, web(s).HealthCheck.TimeoutSeconds = 10, 10 }, tg0 + ".healthCheck.timeoutSeconds", CodeValidationError,
			"Health check timeout '10' must be smaller than the interval '10'"},
		{"default timeout vs small interval", func(s *Stack) { web(s).HealthCheck.IntervalSeconds = 5 }, tg0 + ".healthCheck.timeoutSeconds", CodeValidationError,
			"Health check timeout '5' must be smaller than the interval '5'"},
		{"TCP check on ALB tg", func(s *Stack) { web(s).HealthCheck.Protocol = ProtocolTCP }, tg0 + ".healthCheck.protocol", CodeValidationError,
			"Health check protocol 'TCP' must be one of 'HTTPS, HTTP'"},
		{"UDP check on NLB tg", func(s *Stack) { tcp(s).HealthCheck.Protocol = ProtocolUDP }, tg2 + ".healthCheck.protocol", CodeValidationError,
			"Health check protocol 'UDP' must be one of 'HTTPS, HTTP, TCP'"},
		{"health check port", func(s *Stack) { web(s).HealthCheck.Port = "http" }, tg0 + ".healthCheck.port", CodeValidationError,
			"Health check port 'http' must be 'traffic-port' or a port number between 1 and 65535"},
		{"path on TCP check", func(s *Stack) { tcp(s).HealthCheck.Path = "/health" }, tg2 + ".healthCheck.path", CodeValidationError,
			"A health check path cannot be specified for health checks with the protocol 'TCP'"},
		{"path without slash", func(s *Stack) { web(s).HealthCheck.Path = "health" }, tg0 + ".healthCheck.path", CodeValidationError,
			"Health check path 'health' must begin with '/' and be at most 1024 characters long"},
		{"matcher on ALB 5xx", func(s *Stack) { web(s).HealthCheck.Matcher.HTTPCode = "200-500" }, tg0 + ".healthCheck.matcher.httpCode", CodeValidationError,
			"Health check matcher HTTP code '200-500' must be a value, a list or a range of values between 200 and 499"},
		{"matcher on TCP check", func(s *Stack) { tcp(s).HealthCheck.Matcher.HTTPCode = "200" }, tg2 + ".healthCheck.matcher", CodeValidationError,
			"A matcher cannot be specified for health checks with the protocol 'TCP'"},
		{"grpc code without GRPC", func(s *Stack) { web(s).HealthCheck.Matcher.GRPCCode = "0" }, tg0 + ".healthCheck.matcher.grpcCode", CodeValidationError,
			"A gRPC code can be specified only for target groups with the protocol version 'GRPC'"},

		// Target group attributes.
		{"deregistration delay range", func(s *Stack) { web(s).Attributes.DeregistrationDelaySeconds = Int(3601) }, tg0 + ".attributes.deregistrationDelaySeconds", CodeValidationError,
			"The value of 'deregistration_delay.timeout_seconds' must be between 0 and 3600, not '3601'"},
		{"slow start range", func(s *Stack) { web(s).Attributes.SlowStartSeconds = 10 }, tg0 + ".attributes.slowStartSeconds", CodeValidationError,
			"The value of 'slow_start.duration_seconds' must be between 30 and 900, not '10'"},
		{"slow start with weighted_random", func(s *Stack) {
			web(s).Attributes.SlowStartSeconds, web(s).Attributes.Algorithm = 30, AlgorithmWeightedRandom
		}, tg0 + ".attributes.slowStartSeconds", CodeInvalidConfigurationRequest, "Slow start duration cannot be enabled with the 'weighted_random' load balancing algorithm"},
		{"algorithm", func(s *Stack) { web(s).Attributes.Algorithm = "random" }, tg0 + ".attributes.algorithm", CodeValidationError,
			"The value of 'load_balancing.algorithm.type' must be one of 'round_robin, least_outstanding_requests, weighted_random', not 'random'"},
		{"lb_cookie on TCP", func(s *Stack) { tcp(s).Attributes.Stickiness = Stickiness{Enabled: true, Type: StickinessLBCookie} }, tg2 + ".attributes.stickiness.type", CodeInvalidConfigurationRequest,
			"Stickiness type 'lb_cookie' is not supported for target groups with the TCP protocol"},
		{"source_ip on HTTP", func(s *Stack) { web(s).Attributes.Stickiness = Stickiness{Enabled: true, Type: StickinessSourceIP} }, tg0 + ".attributes.stickiness.type", CodeInvalidConfigurationRequest,
			"Stickiness type 'source_ip' is not supported for target groups with the HTTP protocol"},
		{"cookie duration", func(s *Stack) { web(s).Attributes.Stickiness.LBCookieDurationSeconds = 604801 }, tg0 + ".attributes.stickiness.lbCookieDurationSeconds", CodeValidationError,
			"The value of 'stickiness.lb_cookie.duration_seconds' must be between 1 and 604800, not '604801'"},
		{"app cookie without name", func(s *Stack) { web(s).Attributes.Stickiness = Stickiness{Enabled: true, Type: StickinessAppCookie} }, tg0 + ".attributes.stickiness.appCookieName", CodeValidationError,
			"The value of 'stickiness.app_cookie.cookie_name' cannot be empty when stickiness type is 'app_cookie'"},
		{"app cookie AWSALB prefix", func(s *Stack) {
			web(s).Attributes.Stickiness = Stickiness{Enabled: true, Type: StickinessAppCookie, AppCookieName: "AWSALBX"}
		}, tg0 + ".attributes.stickiness.appCookieName", CodeValidationError,
			"The app cookie name 'AWSALBX' cannot start with the reserved prefix 'AWSALB'"},
		{"proxy protocol on HTTP tg", func(s *Stack) { web(s).Attributes.ProxyProtocolV2 = true }, tg0 + ".attributes.proxyProtocolV2", CodeInvalidConfigurationRequest,
			"Target group attribute key 'proxy_protocol_v2.enabled' is not supported on target groups with the protocol 'HTTP'"},
		{"slow start on TCP tg", func(s *Stack) { tcp(s).Attributes.SlowStartSeconds = 60 }, tg2 + ".attributes.slowStartSeconds", CodeInvalidConfigurationRequest,
			"Target group attribute key 'slow_start.duration_seconds' is not supported on target groups with the protocol 'TCP'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validStack()
			tt.mutate(s)
			before, _ := Marshal(s)
			err := s.Validate()
			after, _ := Marshal(s)
			if string(before) != string(after) {
				t.Error("Validate modified the stack")
			}
			errs := AsErrors(err)
			for _, e := range errs {
				if e.Path == tt.path && e.Code == tt.code && e.Message == tt.msg {
					return
				}
			}
			t.Errorf("want %s: %s: %s\ngot:", tt.path, tt.code, tt.msg)
			for _, e := range errs {
				t.Errorf("  %s: %s: %s", e.Path, e.Code, e.Message)
			}
		})
	}
}

func TestValidateReportsAllProblems(t *testing.T) {
	s := validStack()
	s.LoadBalancers[0].Name = "bad_name"
	s.LoadBalancers[0].Listeners[0].Rules[0].Priority = 0
	s.TargetGroups[0].HealthCheck.IntervalSeconds = 1
	errs := AsErrors(s.Validate())
	if len(errs) != 3 {
		t.Fatalf("got %d errors, want 3: %v", len(errs), errs)
	}
	var e *Error
	if !errors.As(s.Validate(), &e) || e.Code != CodeValidationError {
		t.Errorf("errors.As(*Error) = %v", e)
	}
	if errs.First() != errs[0] || !strings.Contains(errs.Error(), "; ") {
		t.Errorf("Errors.Error() = %q", errs.Error())
	}
}

func TestValidateNames(t *testing.T) {
	for _, tt := range []struct {
		name   string
		lb, tg bool // valid as LB name, as TG name
	}{
		{"a", true, true},
		{strings.Repeat("a", 32), true, true},
		{"my-lb-1", true, true},
		{"internal-x", false, true},
		{"Internal-x", false, true},
		{"a--b", true, true},
		{"", false, false},
		{"-a", false, false},
		{"a.b", false, false},
	} {
		if got := ValidateLoadBalancerName(tt.name) == nil; got != tt.lb {
			t.Errorf("ValidateLoadBalancerName(%q) valid = %v, want %v", tt.name, got, tt.lb)
		}
		if got := ValidateTargetGroupName(tt.name) == nil; got != tt.tg {
			t.Errorf("ValidateTargetGroupName(%q) valid = %v, want %v", tt.name, got, tt.tg)
		}
	}
}

func TestTargetGroupAttributeKeys(t *testing.T) {
	alb := NewTargetGroup("web", ProtocolHTTP, 80, TargetTypeIP)
	nlb := NewTargetGroup("tcp", ProtocolTCP, 80, TargetTypeIP)
	has := func(keys []string, k string) bool { return slices.Contains(keys, k) }
	if k := "stickiness.app_cookie.cookie_name"; !has(alb.AttributeKeys(), k) || has(nlb.AttributeKeys(), k) {
		t.Errorf("%s: in ALB keys %v, in NLB keys %v; want only ALB", k, has(alb.AttributeKeys(), k), has(nlb.AttributeKeys(), k))
	}
	if k := "proxy_protocol_v2.enabled"; has(alb.AttributeKeys(), k) || !has(nlb.AttributeKeys(), k) {
		t.Errorf("%s: want only in NLB keys", k)
	}
	// Every key AttributeList gives is among AttributeKeys.
	alb.Defaults()
	for _, a := range alb.AttributeList() {
		if !has(alb.AttributeKeys(), a.Key) {
			t.Errorf("AttributeList key %s missing from AttributeKeys", a.Key)
		}
	}
}

// NLB TCP health checks may have a timeout equal to the interval (the AWS
// Load Balancer Controller's Service defaults are 10 s and 10 s); only
// HTTP and HTTPS checks need it smaller.
func TestTCPHealthCheckTimeoutMayEqualInterval(t *testing.T) {
	tg := NewTargetGroup("tcp-equal", ProtocolTCP, 80, TargetTypeIP)
	tg.VPCID = "vpc-1"
	tg.HealthCheck.IntervalSeconds, tg.HealthCheck.TimeoutSeconds = 10, 10
	if err := ValidateHealthCheck(tg); err != nil {
		t.Errorf("TCP check 10/10: %v", err)
	}
	tg.HealthCheck.Protocol = ProtocolHTTP
	if err := ValidateHealthCheck(tg); err == nil {
		t.Error("HTTP check 10/10 accepted")
	}
}
