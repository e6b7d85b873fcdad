package elbtest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/lbkit/lbkit/elb/elbtest"
)

func TestLoadBalancerLifecycle(t *testing.T) {
	e := newEnv(t, elbtest.Options{})
	lb := e.alb("web")
	if lb.State.Code != types.LoadBalancerStateEnumProvisioning {
		t.Errorf("create state = %s, want provisioning", lb.State.Code)
	}
	arn := *lb.LoadBalancerArn
	if !strings.HasPrefix(arn, "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/") {
		t.Errorf("ARN = %s", arn)
	}
	if !strings.HasPrefix(*lb.DNSName, "web-") || !strings.HasSuffix(*lb.DNSName, ".us-east-1.elb.amazonaws.com") {
		t.Errorf("DNS = %s", *lb.DNSName)
	}
	if lb.Type != types.LoadBalancerTypeEnumApplication || lb.Scheme != types.LoadBalancerSchemeEnumInternetFacing || lb.IpAddressType != types.IpAddressTypeIpv4 {
		t.Errorf("defaults: %s %s %s", lb.Type, lb.Scheme, lb.IpAddressType)
	}
	if len(lb.AvailabilityZones) != 2 || len(lb.SecurityGroups) != 1 || *lb.VpcId != e.vpc || lb.CreatedTime == nil || !lb.CreatedTime.Equal(t0) {
		t.Errorf("lb = %+v", lb)
	}
	out, err := e.elb.DescribeLoadBalancers(e.ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.LoadBalancers[0].State.Code; got != types.LoadBalancerStateEnumActive {
		t.Errorf("describe state = %s, want active", got)
	}
	attrs, err := e.elb.DescribeLoadBalancerAttributes(e.ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, a := range attrs.Attributes {
		m[*a.Key] = *a.Value
	}
	for k, v := range map[string]string{"idle_timeout.timeout_seconds": "60", "deletion_protection.enabled": "false", "load_balancing.cross_zone.enabled": "true", "routing.http2.enabled": "true"} {
		if m[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, m[k], v)
		}
	}
	// Internal NLB: net/ ARN, internal- DNS name.
	nout, err := e.elb.CreateLoadBalancer(e.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("tcp"), Type: types.LoadBalancerTypeEnumNetwork, Scheme: types.LoadBalancerSchemeEnumInternal, Subnets: e.subnets[:1]})
	if err != nil {
		t.Fatal(err)
	}
	n := nout.LoadBalancers[0]
	if !strings.Contains(*n.LoadBalancerArn, ":loadbalancer/net/tcp/") || !strings.HasPrefix(*n.DNSName, "internal-tcp-") || len(n.SecurityGroups) != 0 {
		t.Errorf("nlb = %s %s %v", *n.LoadBalancerArn, *n.DNSName, n.SecurityGroups)
	}
	if _, err := e.elb.DeleteLoadBalancer(e.ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: &arn}); err != nil {
		t.Fatal(err)
	}
	_, err = e.elb.DescribeLoadBalancers(e.ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
	wantCode(t, err, "LoadBalancerNotFound")
	// Deleting a missing load balancer succeeds, as in AWS.
	if _, err := e.elb.DeleteLoadBalancer(e.ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: &arn}); err != nil {
		t.Fatal(err)
	}
}

func TestListenerRulesAndHealth(t *testing.T) {
	e := newEnv(t, elbtest.Options{})
	lb := e.alb("web")
	tg := e.tg("api", types.ProtocolEnumHttp, 8080)
	if *tg.HealthCheckIntervalSeconds != 30 || *tg.HealthCheckTimeoutSeconds != 5 || *tg.HealthyThresholdCount != 5 || *tg.UnhealthyThresholdCount != 2 ||
		*tg.Matcher.HttpCode != "200" || *tg.HealthCheckPath != "/" || *tg.HealthCheckPort != "traffic-port" || *tg.ProtocolVersion != "HTTP1" {
		t.Errorf("tg defaults = %+v", tg)
	}
	if _, err := e.elb.RegisterTargets(e.ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("10.0.0.1")}, {Id: aws.String("10.0.0.2"), Port: aws.Int32(9090)}}}); err != nil {
		t.Fatal(err)
	}
	health := func() []string {
		t.Helper()
		out, err := e.elb.DescribeTargetHealth(e.ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, d := range out.TargetHealthDescriptions {
			s = append(s, *d.Target.Id+":"+string(d.TargetHealth.State)+":"+string(d.TargetHealth.Reason))
		}
		return s
	}
	if got := strings.Join(health(), " "); got != "10.0.0.1:unused:Target.NotInUse 10.0.0.2:unused:Target.NotInUse" {
		t.Errorf("before listener: %s", got)
	}
	l := e.listener(lb.LoadBalancerArn, types.ProtocolEnumHttp, 80, forward(tg.TargetGroupArn))
	if *l.DefaultActions[0].TargetGroupArn != *tg.TargetGroupArn || *l.DefaultActions[0].ForwardConfig.TargetGroups[0].Weight != 1 {
		t.Errorf("listener default action = %+v", l.DefaultActions[0])
	}
	if got := strings.Join(health(), " "); got != "10.0.0.1:initial:Elb.RegistrationInProgress 10.0.0.2:initial:Elb.RegistrationInProgress" {
		t.Errorf("after listener: %s", got)
	}
	e.clock.Advance(30 * time.Second)
	if got := health()[0]; got != "10.0.0.1:initial:Elb.InitialHealthChecking" {
		t.Errorf("after one interval: %s", got)
	}
	e.clock.Advance(120 * time.Second)
	if got := strings.Join(health(), " "); got != "10.0.0.1:healthy: 10.0.0.2:healthy:" {
		t.Errorf("after threshold: %s", got)
	}
	if err := e.srv.FailTarget("10.0.0.2", 0, elbtest.ReasonTimeout); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(30 * time.Second)
	if got := health()[1]; got != "10.0.0.2:healthy:" {
		t.Errorf("one interval after failing: %s", got)
	}
	e.clock.Advance(30 * time.Second)
	if got := health()[1]; got != "10.0.0.2:unhealthy:Target.Timeout" {
		t.Errorf("after the unhealthy threshold: %s", got)
	}
	// A rule, then the default-rule protections.
	rout, err := e.elb.CreateRule(e.ctx, &elbv2.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(10), Conditions: pathRule("/api/*"), Actions: forward(tg.TargetGroupArn)})
	if err != nil {
		t.Fatal(err)
	}
	rule := rout.Rules[0]
	if *rule.Priority != "10" || *rule.IsDefault || rule.Conditions[0].Values[0] != "/api/*" {
		t.Errorf("rule = %+v", rule)
	}
	rules, err := e.elb.DescribeRules(e.ctx, &elbv2.DescribeRulesInput{ListenerArn: l.ListenerArn})
	if err != nil {
		t.Fatal(err)
	}
	if len(rules.Rules) != 2 || *rules.Rules[1].Priority != "default" || !*rules.Rules[1].IsDefault {
		t.Fatalf("rules = %+v", rules.Rules)
	}
	_, err = e.elb.DeleteRule(e.ctx, &elbv2.DeleteRuleInput{RuleArn: rules.Rules[1].RuleArn})
	wantCode(t, err, "OperationNotPermitted")
	_, err = e.elb.DeleteTargetGroup(e.ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: tg.TargetGroupArn})
	wantCode(t, err, "ResourceInUse")
	// Deregister: draining for the delay, then gone.
	if _, err := e.elb.DeregisterTargets(e.ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("10.0.0.1")}}}); err != nil {
		t.Fatal(err)
	}
	if got := health()[0]; got != "10.0.0.1:draining:Target.DeregistrationInProgress" {
		t.Errorf("after deregister: %s", got)
	}
	e.clock.Advance(300 * time.Second)
	if got := strings.Join(health(), " "); got != "10.0.0.2:unhealthy:Target.Timeout" {
		t.Errorf("after delay: %s", got)
	}
	out, err := e.elb.DescribeTargetHealth(e.ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("10.0.0.1")}}})
	if err != nil {
		t.Fatal(err)
	}
	if d := out.TargetHealthDescriptions[0]; d.TargetHealth.State != types.TargetHealthStateEnumUnused || d.TargetHealth.Reason != types.TargetHealthReasonEnumNotRegistered || *d.Target.Port != 8080 {
		t.Errorf("explicit deregistered target = %+v %+v", d.Target, d.TargetHealth)
	}
}

// TestTargetGroupDefaults checks the defaults AWS fills in per protocol
// and target type (they come from package elb).
func TestTargetGroupDefaults(t *testing.T) {
	e := newEnv(t, elbtest.Options{})
	tests := []struct {
		name string
		in   elbv2.CreateTargetGroupInput
		want string // interval/timeout/healthy/unhealthy hcProtocol path matcher enabled
	}{
		{"alb http", elbv2.CreateTargetGroupInput{Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80)}, "30/5/5/2 HTTP / 200 true"},
		{"nlb tcp", elbv2.CreateTargetGroupInput{Protocol: types.ProtocolEnumTcp, Port: aws.Int32(80)}, "30/10/5/2 TCP  - true"},
		{"nlb http check", elbv2.CreateTargetGroupInput{Protocol: types.ProtocolEnumTcp, Port: aws.Int32(80), HealthCheckProtocol: types.ProtocolEnumHttp}, "30/6/5/2 HTTP / 200-399 true"},
		{"grpc", elbv2.CreateTargetGroupInput{Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443), ProtocolVersion: aws.String("GRPC")}, "30/5/5/2 HTTPS /AWS.ALB/healthcheck grpc:12 true"},
		{"lambda", elbv2.CreateTargetGroupInput{TargetType: types.TargetTypeEnumLambda}, "35/30/5/5  / 200 false"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Name = aws.String(fmt.Sprint("tg", i))
			if in.TargetType != types.TargetTypeEnumLambda {
				in.VpcId = aws.String(e.vpc)
			}
			out, err := e.elb.CreateTargetGroup(e.ctx, &in)
			if err != nil {
				t.Fatal(err)
			}
			tg := out.TargetGroups[0]
			m := "-"
			if tg.Matcher != nil && tg.Matcher.HttpCode != nil {
				m = *tg.Matcher.HttpCode
			} else if tg.Matcher != nil && tg.Matcher.GrpcCode != nil {
				m = "grpc:" + *tg.Matcher.GrpcCode
			}
			got := fmt.Sprintf("%d/%d/%d/%d %s %s %s %v", *tg.HealthCheckIntervalSeconds, *tg.HealthCheckTimeoutSeconds, *tg.HealthyThresholdCount, *tg.UnhealthyThresholdCount,
				tg.HealthCheckProtocol, aws.ToString(tg.HealthCheckPath), m, *tg.HealthCheckEnabled)
			if got != tc.want {
				t.Errorf("defaults = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestAuthenticateAction round-trips an authenticate-oidc action, whose
// AuthenticationRequestExtraParams is the API's one map (entry/key/value
// on the wire).
func TestAuthenticateAction(t *testing.T) {
	e := newEnv(t, elbtest.Options{})
	lb := e.alb("web")
	tg := e.tg("api", types.ProtocolEnumHttps, 443)
	l, err := e.elb.CreateListener(e.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443),
		Certificates: []types.Certificate{{CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/x")}}, DefaultActions: forward(tg.TargetGroupArn)})
	if err != nil {
		t.Fatal(err)
	}
	oidc := &types.AuthenticateOidcActionConfig{Issuer: aws.String("https://idp.example.com"), AuthorizationEndpoint: aws.String("https://idp.example.com/auth"),
		TokenEndpoint: aws.String("https://idp.example.com/token"), UserInfoEndpoint: aws.String("https://idp.example.com/userinfo"), ClientId: aws.String("id"), ClientSecret: aws.String("secret"),
		AuthenticationRequestExtraParams: map[string]string{"prompt": "login", "display": "page"}}
	out, err := e.elb.CreateRule(e.ctx, &elbv2.CreateRuleInput{ListenerArn: l.Listeners[0].ListenerArn, Priority: aws.Int32(1), Conditions: pathRule("/admin/*"),
		Actions: []types.Action{{Type: types.ActionTypeEnumAuthenticateOidc, Order: aws.Int32(1), AuthenticateOidcConfig: oidc}, {Type: types.ActionTypeEnumForward, Order: aws.Int32(2), TargetGroupArn: tg.TargetGroupArn}}})
	if err != nil {
		t.Fatal(err)
	}
	got := out.Rules[0].Actions[0].AuthenticateOidcConfig
	if got == nil || got.AuthenticationRequestExtraParams["prompt"] != "login" || got.AuthenticationRequestExtraParams["display"] != "page" || *got.Issuer != "https://idp.example.com" {
		t.Errorf("oidc config = %+v", got)
	}
	// On an HTTP listener the same action is refused.
	h := e.listener(lb.LoadBalancerArn, types.ProtocolEnumHttp, 80, forward(tg.TargetGroupArn))
	_, err = e.elb.CreateRule(e.ctx, &elbv2.CreateRuleInput{ListenerArn: h.ListenerArn, Priority: aws.Int32(1), Conditions: pathRule("/admin/*"),
		Actions: []types.Action{{Type: types.ActionTypeEnumAuthenticateOidc, Order: aws.Int32(1), AuthenticateOidcConfig: oidc}, {Type: types.ActionTypeEnumForward, Order: aws.Int32(2), TargetGroupArn: tg.TargetGroupArn}}})
	wantCode(t, err, "InvalidLoadBalancerAction")
}
