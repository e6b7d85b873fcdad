package elbtest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/lbkit/lbkit/elb/elbtest"
)

// TestErrors drives every error code the endpoint returns through the
// SDK, each against a fresh endpoint with one ALB, one NLB, target groups
// and listeners set up, and checks that a failed call changed nothing.
func TestErrors(t *testing.T) {
	type fixture struct {
		*env
		alb, nlb         types.LoadBalancer
		tgHTTP, tgTCP    types.TargetGroup
		listener, tcpL   types.Listener
		rule, defaultArn string
	}
	setup := func(t *testing.T, q elbtest.Quotas) *fixture {
		e := newEnv(t, elbtest.Options{Quotas: q})
		f := &fixture{env: e, alb: e.alb("web"), nlb: e.nlb("tcp")}
		f.tgHTTP = e.tg("http", types.ProtocolEnumHttp, 80)
		f.tgTCP = e.tg("tcp", types.ProtocolEnumTcp, 80)
		f.listener = e.listener(f.alb.LoadBalancerArn, types.ProtocolEnumHttp, 80, forward(f.tgHTTP.TargetGroupArn))
		f.tcpL = e.listener(f.nlb.LoadBalancerArn, types.ProtocolEnumTcp, 80, forward(f.tgTCP.TargetGroupArn))
		r, err := e.elb.CreateRule(e.ctx, &elbv2.CreateRuleInput{ListenerArn: f.listener.ListenerArn, Priority: aws.Int32(5), Conditions: pathRule("/a"), Actions: forward(f.tgHTTP.TargetGroupArn)})
		if err != nil {
			t.Fatal(err)
		}
		f.rule = *r.Rules[0].RuleArn
		rules, err := e.elb.DescribeRules(e.ctx, &elbv2.DescribeRulesInput{ListenerArn: f.listener.ListenerArn})
		if err != nil {
			t.Fatal(err)
		}
		f.defaultArn = *rules.Rules[len(rules.Rules)-1].RuleArn
		return f
	}
	ctxCerts := []types.Certificate{{CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/abc")}}
	tests := []struct {
		name   string
		quotas elbtest.Quotas
		call   func(f *fixture) error
		code   string
		msg    string // substring of the message, if set
	}{
		{name: "lb name too long", code: "ValidationError", msg: "cannot be longer than '32' characters", call: func(f *fixture) error {
			_, err := f.elb.CreateLoadBalancer(f.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(strings.Repeat("a", 33)), Subnets: f.subnets[:2]})
			return err
		}},
		{name: "lb name internal-", code: "ValidationError", call: func(f *fixture) error {
			_, err := f.elb.CreateLoadBalancer(f.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("internal-x"), Subnets: f.subnets[:2]})
			return err
		}},
		{name: "alb one zone", code: "ValidationError", msg: "At least two subnets in two different Availability Zones must be specified", call: func(f *fixture) error {
			_, err := f.elb.CreateLoadBalancer(f.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("one"), Subnets: f.subnets[:1]})
			return err
		}},
		{name: "duplicate lb name", code: "DuplicateLoadBalancerName", msg: "A load balancer with the same name 'web' exists, but with different settings", call: func(f *fixture) error {
			_, err := f.elb.CreateLoadBalancer(f.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: f.subnets[1:3]})
			return err
		}},
		{name: "unknown subnet", code: "SubnetNotFound", call: func(f *fixture) error {
			_, err := f.elb.CreateLoadBalancer(f.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("x"), Subnets: []string{"subnet-0000", f.subnets[0]}})
			return err
		}},
		{name: "unknown security group", code: "InvalidSecurityGroup", call: func(f *fixture) error {
			_, err := f.elb.CreateLoadBalancer(f.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("x"), Subnets: f.subnets[:2], SecurityGroups: []string{"sg-0000"}})
			return err
		}},
		{name: "too many lbs", quotas: elbtest.Quotas{LoadBalancers: 1}, code: "TooManyLoadBalancers", call: func(f *fixture) error {
			_, err := f.elb.CreateLoadBalancer(f.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("x"), Subnets: f.subnets[:2]})
			return err
		}},
		{name: "too many tags", code: "TooManyTags", call: func(f *fixture) error {
			var tags []types.Tag
			for i := range 51 {
				tags = append(tags, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
			}
			_, err := f.elb.AddTags(f.ctx, &elbv2.AddTagsInput{ResourceArns: []string{*f.alb.LoadBalancerArn}, Tags: tags})
			return err
		}},
		{name: "duplicate tag keys", code: "DuplicateTagKeys", call: func(f *fixture) error {
			_, err := f.elb.AddTags(f.ctx, &elbv2.AddTagsInput{ResourceArns: []string{*f.alb.LoadBalancerArn}, Tags: []types.Tag{{Key: aws.String("a")}, {Key: aws.String("a")}}})
			return err
		}},
		{name: "deletion protection", code: "OperationNotPermitted", call: func(f *fixture) error {
			if _, err := f.elb.ModifyLoadBalancerAttributes(f.ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: f.alb.LoadBalancerArn, Attributes: []types.LoadBalancerAttribute{{Key: aws.String("deletion_protection.enabled"), Value: aws.String("true")}}}); err != nil {
				return err
			}
			_, err := f.elb.DeleteLoadBalancer(f.ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: f.alb.LoadBalancerArn})
			return err
		}},
		{name: "unknown lb attribute", code: "ValidationError", call: func(f *fixture) error {
			_, err := f.elb.ModifyLoadBalancerAttributes(f.ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: f.alb.LoadBalancerArn, Attributes: []types.LoadBalancerAttribute{{Key: aws.String("nope"), Value: aws.String("1")}}})
			return err
		}},
		{name: "idle timeout out of range", code: "ValidationError", call: func(f *fixture) error {
			_, err := f.elb.ModifyLoadBalancerAttributes(f.ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: f.alb.LoadBalancerArn, Attributes: []types.LoadBalancerAttribute{{Key: aws.String("idle_timeout.timeout_seconds"), Value: aws.String("5000")}}})
			return err
		}},
		{name: "slow start out of range", code: "ValidationError", call: func(f *fixture) error {
			_, err := f.elb.ModifyTargetGroupAttributes(f.ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: f.tgHTTP.TargetGroupArn, Attributes: []types.TargetGroupAttribute{{Key: aws.String("slow_start.duration_seconds"), Value: aws.String("10")}}})
			return err
		}},
		{name: "same zone twice", code: "InvalidConfigurationRequest", msg: "multiple subnets in the same Availability Zone", call: func(f *fixture) error {
			out, err := f.ec2CreateSubnetInZone(f.srv.Region() + "a")
			if err != nil {
				return err
			}
			_, err = f.elb.SetSubnets(f.ctx, &elbv2.SetSubnetsInput{LoadBalancerArn: f.alb.LoadBalancerArn, Subnets: []string{f.subnets[0], out}})
			return err
		}},
		{name: "set subnets one zone", code: "ValidationError", msg: "At least two subnets", call: func(f *fixture) error {
			_, err := f.elb.SetSubnets(f.ctx, &elbv2.SetSubnetsInput{LoadBalancerArn: f.alb.LoadBalancerArn, Subnets: f.subnets[:1]})
			return err
		}},
		{name: "nlb without security groups", code: "InvalidConfigurationRequest", call: func(f *fixture) error {
			_, err := f.elb.SetSecurityGroups(f.ctx, &elbv2.SetSecurityGroupsInput{LoadBalancerArn: f.nlb.LoadBalancerArn, SecurityGroups: []string{}})
			return err
		}},
		{name: "lb not found", code: "LoadBalancerNotFound", call: func(f *fixture) error {
			_, err := f.elb.DescribeLoadBalancerAttributes(f.ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: aws.String(strings.Replace(*f.alb.LoadBalancerArn, "/web/", "/gone/", 1))})
			return err
		}},
		{name: "duplicate tg name", code: "DuplicateTargetGroupName", msg: "A target group with the same name 'http' exists, but with different settings", call: func(f *fixture) error {
			_, err := f.elb.CreateTargetGroup(f.ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("http"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(81), VpcId: aws.String(f.vpc)})
			return err
		}},
		{name: "hc timeout not below interval", code: "ValidationError", msg: "Health check timeout '10' must be smaller than the interval '10'", call: func(f *fixture) error {
			_, err := f.elb.CreateTargetGroup(f.ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("x"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(f.vpc), HealthCheckIntervalSeconds: aws.Int32(10), HealthCheckTimeoutSeconds: aws.Int32(10)})
			return err
		}},
		{name: "hc interval range", code: "ValidationError", msg: "failed to satisfy constraint", call: func(f *fixture) error {
			_, err := f.elb.ModifyTargetGroup(f.ctx, &elbv2.ModifyTargetGroupInput{TargetGroupArn: f.tgHTTP.TargetGroupArn, HealthCheckIntervalSeconds: aws.Int32(301)})
			return err
		}},
		{name: "too many target groups", quotas: elbtest.Quotas{TargetGroups: 2}, code: "TooManyTargetGroups", call: func(f *fixture) error {
			_, err := f.elb.CreateTargetGroup(f.ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("x"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(f.vpc)})
			return err
		}},
		{name: "tg in use", code: "ResourceInUse", msg: "is currently in use by a listener or a rule", call: func(f *fixture) error {
			_, err := f.elb.DeleteTargetGroup(f.ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: f.tgHTTP.TargetGroupArn})
			return err
		}},
		{name: "tg not found", code: "TargetGroupNotFound", call: func(f *fixture) error {
			_, err := f.elb.DescribeTargetHealth(f.ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(*f.tgHTTP.TargetGroupArn + "0")})
			return err
		}},
		{name: "invalid target", code: "InvalidTarget", call: func(f *fixture) error {
			_, err := f.elb.RegisterTargets(f.ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: f.tgHTTP.TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("not-an-ip")}}})
			return err
		}},
		{name: "too many targets", quotas: elbtest.Quotas{TargetsPerTargetGroup: 1}, code: "TooManyTargets", call: func(f *fixture) error {
			_, err := f.elb.RegisterTargets(f.ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: f.tgHTTP.TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("10.0.0.1")}, {Id: aws.String("10.0.0.2")}}})
			return err
		}},
		{name: "bad tg attribute", code: "InvalidConfigurationRequest", call: func(f *fixture) error {
			_, err := f.elb.ModifyTargetGroupAttributes(f.ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: f.tgHTTP.TargetGroupArn, Attributes: []types.TargetGroupAttribute{{Key: aws.String("nope"), Value: aws.String("1")}}})
			return err
		}},
		{name: "duplicate listener", code: "DuplicateListener", msg: "A listener already exists on this port for this load balancer", call: func(f *fixture) error {
			_, err := f.elb.CreateListener(f.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: f.alb.LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("404")}}}})
			return err
		}},
		{name: "modify listener to used port", code: "ValidationError", msg: "Listener port '80' is already in use", call: func(f *fixture) error {
			l := f.listener1(81)
			_, err := f.elb.ModifyListener(f.ctx, &elbv2.ModifyListenerInput{ListenerArn: l.ListenerArn, Port: aws.Int32(80)})
			return err
		}},
		{name: "too many listeners", quotas: elbtest.Quotas{ListenersPerLoadBalancer: 1}, code: "TooManyListeners", call: func(f *fixture) error {
			f.listener1(81)
			return nil
		}},
		{name: "listener protocol for the lb type", code: "ValidationError", msg: "Listener protocol 'TCP' must be one of 'HTTPS, HTTP'", call: func(f *fixture) error {
			_, err := f.elb.CreateListener(f.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: f.alb.LoadBalancerArn, Protocol: types.ProtocolEnumTcp, Port: aws.Int32(81), DefaultActions: forward(f.tgHTTP.TargetGroupArn)})
			return err
		}},
		{name: "incompatible protocols", code: "IncompatibleProtocols", call: func(f *fixture) error {
			_, err := f.elb.CreateListener(f.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: f.alb.LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(81), DefaultActions: forward(f.tgTCP.TargetGroupArn)})
			return err
		}},
		{name: "target group on a second lb", code: "TargetGroupAssociationLimit", msg: "cannot be associated with more than one load balancer", call: func(f *fixture) error {
			lb2 := f.env.alb("web2")
			_, err := f.elb.CreateListener(f.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb2.LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), DefaultActions: forward(f.tgHTTP.TargetGroupArn)})
			return err
		}},
		{name: "too many unique target groups", quotas: elbtest.Quotas{TargetGroupsPerLoadBalancer: 1}, code: "TooManyUniqueTargetGroupsPerLoadBalancer", call: func(f *fixture) error {
			tg2 := f.tg("http2", types.ProtocolEnumHttp, 80)
			_, err := f.elb.CreateRule(f.ctx, &elbv2.CreateRuleInput{ListenerArn: f.listener.ListenerArn, Priority: aws.Int32(6), Conditions: pathRule("/b"), Actions: forward(tg2.TargetGroupArn)})
			return err
		}},
		{name: "https without certificate", code: "ValidationError", call: func(f *fixture) error {
			_, err := f.elb.CreateListener(f.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: f.alb.LoadBalancerArn, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443), DefaultActions: forward(f.tgHTTP.TargetGroupArn)})
			return err
		}},
		{name: "certificate not found", code: "CertificateNotFound", call: func(f *fixture) error {
			_, err := f.elb.CreateListener(f.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: f.alb.LoadBalancerArn, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443), Certificates: []types.Certificate{{CertificateArn: aws.String("bogus")}}, DefaultActions: forward(f.tgHTTP.TargetGroupArn)})
			return err
		}},
		{name: "ssl policy not found", code: "SSLPolicyNotFound", call: func(f *fixture) error {
			_, err := f.elb.CreateListener(f.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: f.alb.LoadBalancerArn, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443), SslPolicy: aws.String("nope"), Certificates: ctxCerts, DefaultActions: forward(f.tgHTTP.TargetGroupArn)})
			return err
		}},
		{name: "too many certificates", quotas: elbtest.Quotas{CertificatesPerLoadBalancer: 1}, code: "TooManyCertificates", call: func(f *fixture) error {
			l, err := f.elb.CreateListener(f.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: f.alb.LoadBalancerArn, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443), Certificates: ctxCerts, DefaultActions: forward(f.tgHTTP.TargetGroupArn)})
			if err != nil {
				return err
			}
			_, err = f.elb.AddListenerCertificates(f.ctx, &elbv2.AddListenerCertificatesInput{ListenerArn: l.Listeners[0].ListenerArn, Certificates: []types.Certificate{{CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/other")}}})
			return err
		}},
		{name: "redirect on nlb", code: "InvalidLoadBalancerAction", call: func(f *fixture) error {
			_, err := f.elb.ModifyListener(f.ctx, &elbv2.ModifyListenerInput{ListenerArn: f.tcpL.ListenerArn, DefaultActions: []types.Action{{Type: types.ActionTypeEnumRedirect, RedirectConfig: &types.RedirectActionConfig{StatusCode: types.RedirectActionStatusCodeEnumHttp301}}}})
			return err
		}},
		{name: "too many actions", code: "TooManyActions", call: func(f *fixture) error {
			var actions []types.Action
			for i := range 6 {
				actions = append(actions, types.Action{Type: types.ActionTypeEnumForward, Order: aws.Int32(int32(i + 1)), TargetGroupArn: f.tgHTTP.TargetGroupArn})
			}
			_, err := f.elb.ModifyListener(f.ctx, &elbv2.ModifyListenerInput{ListenerArn: f.listener.ListenerArn, DefaultActions: actions})
			return err
		}},
		{name: "empty default actions", code: "ValidationError", call: func(f *fixture) error {
			_, err := f.elb.CreateListener(f.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: f.alb.LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(81), DefaultActions: []types.Action{}})
			return err
		}},
		{name: "listener not found", code: "ListenerNotFound", call: func(f *fixture) error {
			_, err := f.elb.DeleteListener(f.ctx, &elbv2.DeleteListenerInput{ListenerArn: aws.String(*f.listener.ListenerArn + "0")})
			return err
		}},
		{name: "priority in use", code: "PriorityInUse", msg: "Priority '5' is currently in use", call: func(f *fixture) error {
			_, err := f.elb.CreateRule(f.ctx, &elbv2.CreateRuleInput{ListenerArn: f.listener.ListenerArn, Priority: aws.Int32(5), Conditions: pathRule("/b"), Actions: forward(f.tgHTTP.TargetGroupArn)})
			return err
		}},
		{name: "priority out of range", code: "ValidationError", msg: "Member must have value less than or equal to 50000", call: func(f *fixture) error {
			_, err := f.elb.CreateRule(f.ctx, &elbv2.CreateRuleInput{ListenerArn: f.listener.ListenerArn, Priority: aws.Int32(50001), Conditions: pathRule("/b"), Actions: forward(f.tgHTTP.TargetGroupArn)})
			return err
		}},
		{name: "empty conditions", code: "ValidationError", call: func(f *fixture) error {
			_, err := f.elb.CreateRule(f.ctx, &elbv2.CreateRuleInput{ListenerArn: f.listener.ListenerArn, Priority: aws.Int32(7), Conditions: []types.RuleCondition{}, Actions: forward(f.tgHTTP.TargetGroupArn)})
			return err
		}},
		{name: "too many rules", quotas: elbtest.Quotas{RulesPerLoadBalancer: 1}, code: "TooManyRules", call: func(f *fixture) error {
			_, err := f.elb.CreateRule(f.ctx, &elbv2.CreateRuleInput{ListenerArn: f.listener.ListenerArn, Priority: aws.Int32(7), Conditions: pathRule("/b"), Actions: forward(f.tgHTTP.TargetGroupArn)})
			return err
		}},
		{name: "rule on an nlb listener", code: "UnsupportedProtocol", call: func(f *fixture) error {
			_, err := f.elb.CreateRule(f.ctx, &elbv2.CreateRuleInput{ListenerArn: f.tcpL.ListenerArn, Priority: aws.Int32(1), Conditions: pathRule("/b"), Actions: forward(f.tgTCP.TargetGroupArn)})
			return err
		}},
		{name: "modify default rule", code: "OperationNotPermitted", msg: "cannot be modified", call: func(f *fixture) error {
			_, err := f.elb.ModifyRule(f.ctx, &elbv2.ModifyRuleInput{RuleArn: &f.defaultArn, Conditions: pathRule("/x")})
			return err
		}},
		{name: "delete default rule", code: "OperationNotPermitted", msg: "cannot be deleted", call: func(f *fixture) error {
			_, err := f.elb.DeleteRule(f.ctx, &elbv2.DeleteRuleInput{RuleArn: &f.defaultArn})
			return err
		}},
		{name: "rule not found", code: "RuleNotFound", call: func(f *fixture) error {
			_, err := f.elb.DeleteRule(f.ctx, &elbv2.DeleteRuleInput{RuleArn: aws.String(f.rule + "0")})
			return err
		}},
		{name: "set priorities conflict", code: "PriorityInUse", call: func(f *fixture) error {
			r2, err := f.elb.CreateRule(f.ctx, &elbv2.CreateRuleInput{ListenerArn: f.listener.ListenerArn, Priority: aws.Int32(6), Conditions: pathRule("/b"), Actions: forward(f.tgHTTP.TargetGroupArn)})
			if err != nil {
				return err
			}
			_, err = f.elb.SetRulePriorities(f.ctx, &elbv2.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{{RuleArn: r2.Rules[0].RuleArn, Priority: aws.Int32(5)}}})
			return err
		}},
		{name: "page size", code: "ValidationError", call: func(f *fixture) error {
			_, err := f.elb.DescribeLoadBalancers(f.ctx, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(401)})
			return err
		}},
		{name: "bad marker", code: "ValidationError", call: func(f *fixture) error {
			_, err := f.elb.DescribeTargetGroups(f.ctx, &elbv2.DescribeTargetGroupsInput{Marker: aws.String("garbage")})
			return err
		}},
		{name: "more than 20 arns", code: "ValidationError", call: func(f *fixture) error {
			arns := make([]string, 21)
			for i := range arns {
				arns[i] = *f.alb.LoadBalancerArn
			}
			_, err := f.elb.DescribeTags(f.ctx, &elbv2.DescribeTagsInput{ResourceArns: arns})
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t, tc.quotas)
			before := f.srv.Snapshot()
			err := tc.call(f)
			if tc.name == "too many listeners" {
				return // asserted inside listener1
			}
			wantCode(t, err, tc.code)
			if tc.msg != "" && !strings.Contains(message(err), tc.msg) {
				t.Errorf("message = %q, want it to contain %q", message(err), tc.msg)
			}
			if tc.name == "deletion protection" || tc.name == "same zone twice" || tc.name == "set priorities conflict" || tc.name == "too many certificates" || tc.name == "modify listener to used port" || tc.name == "target group on a second lb" || tc.name == "too many unique target groups" {
				return // their setup steps change state on purpose
			}
			if after := f.srv.Snapshot(); !sameJSON(t, after, before) {
				t.Errorf("a failed call changed the state")
			}
		})
	}
}

// listener1 creates an HTTP listener on port on the fixture's ALB with a
// fixed response; with a quota of one listener it asserts TooManyListeners.
func (e *env) listener1(port int32) types.Listener {
	out, err := e.elb.CreateListener(e.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: e.lbArn(), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(port),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}}})
	if code(err) == "TooManyListeners" {
		return types.Listener{}
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return out.Listeners[0]
}

func (e *env) lbArn() *string {
	out, err := e.elb.DescribeLoadBalancers(e.ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"web"}})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.LoadBalancers[0].LoadBalancerArn
}

// TestTypedErrors checks that modeled codes come back as the SDK's typed
// exceptions, so callers can use errors.As.
func TestTypedErrors(t *testing.T) {
	e := newEnv(t, elbtest.Options{})
	lb := e.alb("web")
	_, err := e.elb.CreateLoadBalancer(e.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: e.subnets[1:3]})
	var dup *types.DuplicateLoadBalancerNameException
	if !errors.As(err, &dup) {
		t.Errorf("err = %T %v, want *types.DuplicateLoadBalancerNameException", err, err)
	}
	_, err = e.elb.DescribeLoadBalancers(e.ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{*lb.LoadBalancerArn + "0"}})
	var nf *types.LoadBalancerNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("err = %T %v, want *types.LoadBalancerNotFoundException", err, err)
	}
}

// TestRawRequests sends what the SDK never sends: unknown actions,
// missing parameters, oversized bodies.
func TestRawRequests(t *testing.T) {
	srv := elbtest.NewServer(elbtest.Options{MaxBodyBytes: 4096})
	defer srv.Close()
	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"unknown action", "Action=Frobnicate&Version=2015-12-01", 400, "InvalidAction"},
		{"no action", "Version=2015-12-01", 400, "MissingParameter"},
		{"no version", "Action=DescribeLoadBalancers", 400, "MissingParameter"},
		{"missing required", "Action=DeleteLoadBalancer&Version=2015-12-01", 400, "ValidationError"},
		{"malformed number", "Action=DescribeLoadBalancers&Version=2015-12-01&PageSize=abc", 400, "ValidationError"},
		{"bad form", "Action=%zz", 400, "InvalidHttpRequest"},
		{"too large", "Action=DescribeLoadBalancers&Version=2015-12-01&x=" + strings.Repeat("a", 5000), 413, "RequestEntityTooLarge"},
		{"ec2 unknown action", "Action=RunInstances&Version=2016-11-15", 400, "InvalidAction"},
		{"ok", "Action=DescribeLoadBalancers&Version=2015-12-01", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := srv.Client().Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(b), "<Code>"+tc.code+"</Code>") && tc.code != "" {
				t.Errorf("status %d body %s; want %d %s", resp.StatusCode, b, tc.status, tc.code)
			}
			if resp.Header.Get("X-Amzn-Requestid") == "" {
				t.Error("no request ID header")
			}
		})
	}
	resp, err := srv.Client().Get(srv.URL + "/?" + url.Values{"Action": {"DescribeAccountLimits"}, "Version": {"2015-12-01"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET status = %d", resp.StatusCode)
	}
}

func sameJSON(t *testing.T, a, b any) bool {
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}
