package elbtest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/lbkit/lbkit/elb/elbtest"
)

// stepClock advances by step every time it is read: each waiter poll
// moves simulated time on, with no sleeping.
type stepClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

func TestPaginators(t *testing.T) {
	e := newEnv(t, elbtest.Options{})
	lb := e.alb("web")
	var tgs []types.TargetGroup
	for i := range 7 {
		tgs = append(tgs, e.tg(fmt.Sprint("tg", i), types.ProtocolEnumHttp, 80))
	}
	l := e.listener(lb.LoadBalancerArn, types.ProtocolEnumHttp, 80, forward(tgs[0].TargetGroupArn))
	for i := range 5 {
		e.listener(lb.LoadBalancerArn, types.ProtocolEnumHttp, int32(81+i), forward(tgs[0].TargetGroupArn))
		if _, err := e.elb.CreateRule(e.ctx, &elbv2.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(int32(10 - i)), Conditions: pathRule(fmt.Sprint("/", i)), Actions: forward(tgs[i].TargetGroupArn)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		e.alb(fmt.Sprint("lb", i))
	}
	count := func(name string, pages, items int, wantPages, wantItems int) {
		t.Helper()
		if pages != wantPages || items != wantItems {
			t.Errorf("%s: %d pages, %d items; want %d, %d", name, pages, items, wantPages, wantItems)
		}
	}
	{
		p := elbv2.NewDescribeTargetGroupsPaginator(e.elb, &elbv2.DescribeTargetGroupsInput{PageSize: aws.Int32(3)})
		pages, items := 0, 0
		for p.HasMorePages() {
			out, err := p.NextPage(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			items += len(out.TargetGroups)
		}
		count("target groups", pages, items, 3, 7)
	}
	{
		p := elbv2.NewDescribeLoadBalancersPaginator(e.elb, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(2)})
		pages, items := 0, 0
		var names []string
		for p.HasMorePages() {
			out, err := p.NextPage(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			items += len(out.LoadBalancers)
			for _, lb := range out.LoadBalancers {
				names = append(names, *lb.LoadBalancerName)
			}
		}
		count("load balancers", pages, items, 3, 5)
		if strings.Join(names, ",") != "web,lb0,lb1,lb2,lb3" {
			t.Errorf("order = %v", names)
		}
	}
	{
		p := elbv2.NewDescribeListenersPaginator(e.elb, &elbv2.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn, PageSize: aws.Int32(4)})
		pages, items := 0, 0
		for p.HasMorePages() {
			out, err := p.NextPage(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			items += len(out.Listeners)
		}
		count("listeners", pages, items, 2, 6)
	}
	{
		p := elbv2.NewDescribeRulesPaginator(e.elb, &elbv2.DescribeRulesInput{ListenerArn: l.ListenerArn, PageSize: aws.Int32(5)})
		var prios []string
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, r := range out.Rules {
				prios = append(prios, *r.Priority)
			}
		}
		if got := strings.Join(prios, ","); got != "6,7,8,9,10,default" || pages != 2 {
			t.Errorf("rules: %d pages, priorities %s", pages, got)
		}
	}
	{
		p := elbv2.NewDescribeAccountLimitsPaginator(e.elb, &elbv2.DescribeAccountLimitsInput{PageSize: aws.Int32(5)})
		found := false
		for p.HasMorePages() {
			out, err := p.NextPage(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range out.Limits {
				found = found || *l.Name == "application-load-balancers" && *l.Max == "50"
			}
		}
		if !found {
			t.Error("account limits lack application-load-balancers=50")
		}
	}
	{
		https, err := e.elb.CreateListener(e.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443),
			Certificates: []types.Certificate{{CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/default")}}, DefaultActions: forward(tgs[0].TargetGroupArn)})
		if err != nil {
			t.Fatal(err)
		}
		if *https.Listeners[0].SslPolicy != "ELBSecurityPolicy-2016-08" {
			t.Errorf("default SSL policy = %s", *https.Listeners[0].SslPolicy)
		}
		var extra []types.Certificate
		for i := range 3 {
			extra = append(extra, types.Certificate{CertificateArn: aws.String(fmt.Sprint("arn:aws:acm:us-east-1:123456789012:certificate/", i))})
		}
		if _, err := e.elb.AddListenerCertificates(e.ctx, &elbv2.AddListenerCertificatesInput{ListenerArn: https.Listeners[0].ListenerArn, Certificates: extra}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.elb.RemoveListenerCertificates(e.ctx, &elbv2.RemoveListenerCertificatesInput{ListenerArn: https.Listeners[0].ListenerArn, Certificates: extra[:1]}); err != nil {
			t.Fatal(err)
		}
		p := elbv2.NewDescribeListenerCertificatesPaginator(e.elb, &elbv2.DescribeListenerCertificatesInput{ListenerArn: https.Listeners[0].ListenerArn, PageSize: aws.Int32(2)})
		var got []string
		for p.HasMorePages() {
			out, err := p.NextPage(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range out.Certificates {
				got = append(got, fmt.Sprintf("%s=%v", (*c.CertificateArn)[strings.LastIndex(*c.CertificateArn, "/")+1:], *c.IsDefault))
			}
		}
		if strings.Join(got, " ") != "default=true 1=false 2=false" {
			t.Errorf("listener certificates = %v", got)
		}
	}
	pol, err := e.elb.DescribeSSLPolicies(e.ctx, &elbv2.DescribeSSLPoliciesInput{Names: []string{"ELBSecurityPolicy-TLS13-1-2-2021-06"}})
	if err != nil || len(pol.SslPolicies) != 1 || len(pol.SslPolicies[0].Ciphers) == 0 {
		t.Errorf("DescribeSSLPolicies = %+v, %v", pol, err)
	}
}

// TestWaiters runs every ELBv2 waiter of the SDK to success, with the
// endpoint's clock moving on at each poll.
func TestWaiters(t *testing.T) {
	clock := &stepClock{t: t0, step: 10 * time.Second}
	e := newEnv(t, elbtest.Options{Clock: clock, ProvisioningDelay: 2 * time.Minute})
	fast := func(o *elbv2.LoadBalancerAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 2*time.Millisecond
	}
	if _, err := elbv2.NewLoadBalancerExistsWaiter(e.elb, func(o *elbv2.LoadBalancerExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 2*time.Millisecond
	}).
		WaitForOutput(e.ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"web"}}, 0); err == nil {
		t.Error("LoadBalancerExists with a zero max wait should fail")
	}
	lb := e.alb("web")
	in := &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{*lb.LoadBalancerArn}}
	if err := elbv2.NewLoadBalancerExistsWaiter(e.elb, func(o *elbv2.LoadBalancerExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 2*time.Millisecond
	}).Wait(e.ctx, in, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := elbv2.NewLoadBalancerAvailableWaiter(e.elb, fast).Wait(e.ctx, in, 10*time.Second); err != nil {
		t.Fatal(err)
	}

	tg := e.tg("api", types.ProtocolEnumHttp, 80)
	e.listener(lb.LoadBalancerArn, types.ProtocolEnumHttp, 80, forward(tg.TargetGroupArn))
	targets := []types.TargetDescription{{Id: aws.String("10.1.0.1")}, {Id: aws.String("10.1.0.2")}}
	if _, err := e.elb.RegisterTargets(e.ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: targets}); err != nil {
		t.Fatal(err)
	}
	hin := &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn, Targets: targets}
	if err := elbv2.NewTargetInServiceWaiter(e.elb, func(o *elbv2.TargetInServiceWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 2*time.Millisecond
	}).Wait(e.ctx, hin, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.DeregisterTargets(e.ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: targets}); err != nil {
		t.Fatal(err)
	}
	if err := elbv2.NewTargetDeregisteredWaiter(e.elb, func(o *elbv2.TargetDeregisteredWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 2*time.Millisecond
	}).Wait(e.ctx, hin, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.DeleteLoadBalancer(e.ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn}); err != nil {
		t.Fatal(err)
	}
	if err := elbv2.NewLoadBalancersDeletedWaiter(e.elb, func(o *elbv2.LoadBalancersDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 2*time.Millisecond
	}).Wait(e.ctx, in, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestIdempotentCreates(t *testing.T) {
	e := newEnv(t, elbtest.Options{})
	lb := e.alb("web")
	again := e.alb("web")
	if *again.LoadBalancerArn != *lb.LoadBalancerArn {
		t.Errorf("second identical create made a new load balancer")
	}
	tg := e.tg("api", types.ProtocolEnumHttp, 80)
	if tg2 := e.tg("api", types.ProtocolEnumHttp, 80); *tg2.TargetGroupArn != *tg.TargetGroupArn {
		t.Errorf("second identical target group create made a new one")
	}
	l := e.listener(lb.LoadBalancerArn, types.ProtocolEnumHttp, 80, forward(tg.TargetGroupArn))
	if l2 := e.listener(lb.LoadBalancerArn, types.ProtocolEnumHttp, 80, forward(tg.TargetGroupArn)); *l2.ListenerArn != *l.ListenerArn {
		t.Errorf("second identical listener create made a new one")
	}
	if n := len(e.srv.Snapshot().LoadBalancers); n != 1 {
		t.Errorf("%d load balancers", n)
	}
}

func TestRulePrioritySwapAndModify(t *testing.T) {
	e := newEnv(t, elbtest.Options{})
	lb := e.alb("web")
	tg := e.tg("api", types.ProtocolEnumHttp, 80)
	l := e.listener(lb.LoadBalancerArn, types.ProtocolEnumHttp, 80, forward(tg.TargetGroupArn))
	mk := func(p int32, path string) string {
		out, err := e.elb.CreateRule(e.ctx, &elbv2.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(p), Conditions: pathRule(path), Actions: forward(tg.TargetGroupArn)})
		if err != nil {
			t.Fatal(err)
		}
		return *out.Rules[0].RuleArn
	}
	a, b := mk(1, "/a"), mk(2, "/b")
	if _, err := e.elb.SetRulePriorities(e.ctx, &elbv2.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{{RuleArn: &a, Priority: aws.Int32(2)}, {RuleArn: &b, Priority: aws.Int32(1)}}}); err != nil {
		t.Fatalf("swap: %v", err)
	}
	out, err := e.elb.ModifyRule(e.ctx, &elbv2.ModifyRuleInput{RuleArn: &a, Conditions: []types.RuleCondition{
		{Field: aws.String("host-header"), Values: []string{"*.example.com"}},
		{Field: aws.String("http-header"), HttpHeaderConfig: &types.HttpHeaderConditionConfig{HttpHeaderName: aws.String("X-Env"), Values: []string{"prod"}}},
		{Field: aws.String("query-string"), QueryStringConfig: &types.QueryStringConditionConfig{Values: []types.QueryStringKeyValuePair{{Key: aws.String("v"), Value: aws.String("2")}}}},
		{Field: aws.String("source-ip"), SourceIpConfig: &types.SourceIpConditionConfig{Values: []string{"10.0.0.0/8"}}},
	}, Actions: []types.Action{{Type: types.ActionTypeEnumRedirect, RedirectConfig: &types.RedirectActionConfig{StatusCode: types.RedirectActionStatusCodeEnumHttp301, Protocol: aws.String("HTTPS"), Port: aws.String("443")}}}})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Rules[0]
	if *r.Priority != "2" || r.Conditions[0].HostHeaderConfig.Values[0] != "*.example.com" || *r.Actions[0].RedirectConfig.Path != "/#{path}" || *r.Conditions[2].QueryStringConfig.Values[0].Value != "2" {
		t.Errorf("modified rule = %+v", r)
	}
	// The group is no longer in use by rule a; still by the default rule.
	if _, err := e.elb.DeleteRule(e.ctx, &elbv2.DeleteRuleInput{RuleArn: &b}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.DeleteListener(e.ctx, &elbv2.DeleteListenerInput{ListenerArn: l.ListenerArn}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.DeleteTargetGroup(e.ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: tg.TargetGroupArn}); err != nil {
		t.Fatalf("delete unused group: %v", err)
	}
}

// TestOtherOperations covers what the lifecycle tests do not: the
// Set*/Modify* operations and tags across resource kinds.
func TestOtherOperations(t *testing.T) {
	e := newEnv(t, elbtest.Options{})
	lb := e.alb("web")
	tg := e.tg("api", types.ProtocolEnumHttp, 80)
	l := e.listener(lb.LoadBalancerArn, types.ProtocolEnumHttp, 80, forward(tg.TargetGroupArn))
	sg, err := e.ec2.CreateSecurityGroup(e.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("alb"), Description: aws.String("alb"), VpcId: aws.String(e.vpc)})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := e.elb.SetSecurityGroups(e.ctx, &elbv2.SetSecurityGroupsInput{LoadBalancerArn: lb.LoadBalancerArn, SecurityGroups: []string{*sg.GroupId}}); err != nil || out.SecurityGroupIds[0] != *sg.GroupId {
		t.Fatalf("SetSecurityGroups = %v, %v", out, err)
	}
	if out, err := e.elb.SetSubnets(e.ctx, &elbv2.SetSubnetsInput{LoadBalancerArn: lb.LoadBalancerArn, Subnets: e.subnets}); err != nil || len(out.AvailabilityZones) != 3 {
		t.Fatalf("SetSubnets = %v, %v", out, err)
	}
	if out, err := e.elb.SetIpAddressType(e.ctx, &elbv2.SetIpAddressTypeInput{LoadBalancerArn: lb.LoadBalancerArn, IpAddressType: types.IpAddressTypeDualstack}); err != nil || out.IpAddressType != types.IpAddressTypeDualstack {
		t.Fatalf("SetIpAddressType = %v, %v", out, err)
	}
	if out, err := e.elb.ModifyTargetGroupAttributes(e.ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn, Attributes: []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("0")}}}); err != nil || len(out.Attributes) < 5 {
		t.Fatalf("ModifyTargetGroupAttributes = %v, %v", out, err)
	}
	attrs, err := e.elb.DescribeTargetGroupAttributes(e.ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range attrs.Attributes {
		got[*a.Key] = *a.Value
	}
	if got["deregistration_delay.timeout_seconds"] != "0" || got["stickiness.type"] != "lb_cookie" || got["load_balancing.algorithm.type"] != "round_robin" {
		t.Errorf("tg attributes = %v", got)
	}
	if _, err := e.elb.ModifyTargetGroup(e.ctx, &elbv2.ModifyTargetGroupInput{TargetGroupArn: tg.TargetGroupArn, HealthCheckPath: aws.String("/healthz"), Matcher: &types.Matcher{HttpCode: aws.String("200-299")}}); err != nil {
		t.Fatal(err)
	}
	if out, err := e.elb.DescribeListenerAttributes(e.ctx, &elbv2.DescribeListenerAttributesInput{ListenerArn: l.ListenerArn}); err != nil || len(out.Attributes) == 0 {
		t.Fatalf("DescribeListenerAttributes = %v, %v", out, err)
	}
	if _, err := e.elb.ModifyListenerAttributes(e.ctx, &elbv2.ModifyListenerAttributesInput{ListenerArn: l.ListenerArn, Attributes: []types.ListenerAttribute{{Key: aws.String("routing.http.response.server.enabled"), Value: aws.String("false")}}}); err != nil {
		t.Fatal(err)
	}
	arns := []string{*lb.LoadBalancerArn, *tg.TargetGroupArn, *l.ListenerArn}
	if _, err := e.elb.AddTags(e.ctx, &elbv2.AddTagsInput{ResourceArns: arns, Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("me")}, {Key: aws.String("env"), Value: aws.String("test")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.RemoveTags(e.ctx, &elbv2.RemoveTagsInput{ResourceArns: arns[:1], TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := e.elb.DescribeTags(e.ctx, &elbv2.DescribeTagsInput{ResourceArns: arns})
	if err != nil {
		t.Fatal(err)
	}
	if n0, n1 := len(tags.TagDescriptions[0].Tags), len(tags.TagDescriptions[1].Tags); n0 != 1 || n1 != 2 {
		t.Errorf("tags: %d and %d", n0, n1)
	}
	// A modified listener port and protocol.
	ml, err := e.elb.ModifyListener(e.ctx, &elbv2.ModifyListenerInput{ListenerArn: l.ListenerArn, Port: aws.Int32(8080)})
	if err != nil || *ml.Listeners[0].Port != 8080 {
		t.Fatalf("ModifyListener = %v, %v", ml, err)
	}
}

func TestEC2(t *testing.T) {
	e := newEnv(t, elbtest.Options{})
	azs, err := e.ec2.DescribeAvailabilityZones(e.ctx, &ec2.DescribeAvailabilityZonesInput{})
	if err != nil || len(azs.AvailabilityZones) != 3 || *azs.AvailabilityZones[1].ZoneName != "us-east-1b" || *azs.AvailabilityZones[1].ZoneId != "use1-az2" {
		t.Fatalf("zones = %+v, %v", azs, err)
	}
	vpc, err := e.ec2.CreateVpc(e.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVpc, Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("main")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := *vpc.Vpc.VpcId
	var subnets []string
	for i, z := range []string{"a", "b"} {
		out, err := e.ec2.CreateSubnet(e.ctx, &ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String(fmt.Sprintf("10.0.%d.0/24", i)), AvailabilityZone: aws.String("us-east-1" + z),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSubnet, Tags: []ec2types.Tag{{Key: aws.String("kubernetes.io/role/elb"), Value: aws.String("1")}}}}})
		if err != nil {
			t.Fatal(err)
		}
		subnets = append(subnets, *out.Subnet.SubnetId)
	}
	_, err = e.ec2.CreateSubnet(e.ctx, &ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.0.0.128/25")})
	wantCode(t, err, "InvalidSubnet.Conflict")
	_, err = e.ec2.CreateSubnet(e.ctx, &ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("192.168.0.0/24")})
	wantCode(t, err, "InvalidSubnet.Range")
	filters := []struct {
		name   string
		filter []ec2types.Filter
		want   int
	}{
		{"tag", []ec2types.Filter{{Name: aws.String("tag:kubernetes.io/role/elb"), Values: []string{"1"}}}, 2},
		{"tag-key", []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{"kubernetes.io/*"}}}, 2},
		{"vpc-id", []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpcID}}}, 2},
		{"zone", []ec2types.Filter{{Name: aws.String("availability-zone"), Values: []string{"us-east-1a"}}}, 2},
		{"subnet-id", []ec2types.Filter{{Name: aws.String("subnet-id"), Values: subnets[1:]}}, 1},
		{"and", []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpcID}}, {Name: aws.String("availability-zone"), Values: []string{"us-east-1b"}}}, 1},
	}
	for _, f := range filters {
		out, err := e.ec2.DescribeSubnets(e.ctx, &ec2.DescribeSubnetsInput{Filters: f.filter})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Subnets) != f.want {
			t.Errorf("filter %s: %d subnets, want %d", f.name, len(out.Subnets), f.want)
		}
	}
	_, err = e.ec2.DescribeSubnets(e.ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = e.ec2.DescribeSubnets(e.ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-404"}})
	wantCode(t, err, "InvalidSubnetID.NotFound")
	p := ec2.NewDescribeSubnetsPaginator(e.ec2, &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(5)})
	n := 0
	for p.HasMorePages() {
		out, err := p.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.Subnets)
	}
	if n != 5 {
		t.Errorf("paginated subnets = %d, want 5", n)
	}
	sg, err := e.ec2.CreateSecurityGroup(e.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"), VpcId: &vpcID})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.ec2.CreateSecurityGroup(e.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"), VpcId: &vpcID})
	wantCode(t, err, "InvalidGroup.Duplicate")
	if _, err := e.ec2.CreateTags(e.ctx, &ec2.CreateTagsInput{Resources: []string{*sg.GroupId}, Tags: []ec2types.Tag{{Key: aws.String("team"), Value: aws.String("lb")}}}); err != nil {
		t.Fatal(err)
	}
	sgs, err := e.ec2.DescribeSecurityGroups(e.ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:team"), Values: []string{"lb"}}}})
	if err != nil || len(sgs.SecurityGroups) != 1 || *sgs.SecurityGroups[0].GroupName != "web" || *sgs.SecurityGroups[0].VpcId != vpcID {
		t.Fatalf("DescribeSecurityGroups = %+v, %v", sgs, err)
	}
	tags, err := e.ec2.DescribeTags(e.ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{{Name: aws.String("resource-id"), Values: []string{vpcID}}}})
	if err != nil || len(tags.Tags) != 1 || *tags.Tags[0].Key != "Name" || tags.Tags[0].ResourceType != ec2types.ResourceTypeVpc {
		t.Fatalf("DescribeTags = %+v, %v", tags, err)
	}
	if _, err := e.ec2.DeleteTags(e.ctx, &ec2.DeleteTagsInput{Resources: []string{vpcID}, Tags: []ec2types.Tag{{Key: aws.String("Name")}}}); err != nil {
		t.Fatal(err)
	}
	vpcs, err := e.ec2.DescribeVpcs(e.ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpcID}})
	if err != nil || len(vpcs.Vpcs[0].Tags) != 0 || *vpcs.Vpcs[0].CidrBlock != "10.0.0.0/16" {
		t.Fatalf("DescribeVpcs = %+v, %v", vpcs, err)
	}
	// An ALB in the new VPC holds its subnets and group.
	if _, err := e.elb.CreateLoadBalancer(e.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("vpc2"), Subnets: subnets, SecurityGroups: []string{*sg.GroupId}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.ec2.DeleteSubnet(e.ctx, &ec2.DeleteSubnetInput{SubnetId: &subnets[0]})
	wantCode(t, err, "DependencyViolation")
	_, err = e.ec2.DeleteSecurityGroup(e.ctx, &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId})
	wantCode(t, err, "DependencyViolation")
	_, err = e.ec2.DeleteVpc(e.ctx, &ec2.DeleteVpcInput{VpcId: &vpcID})
	wantCode(t, err, "DependencyViolation")
	_, err = e.ec2.DeleteVpc(e.ctx, &ec2.DeleteVpcInput{VpcId: aws.String("vpc-404")})
	wantCode(t, err, "InvalidVpcID.NotFound")
}

func TestFaultsAndRequestLog(t *testing.T) {
	run := func(seed uint64) []string {
		e := newEnv(t, elbtest.Options{Seed: seed, Faults: &elbtest.Faults{Rules: []elbtest.FaultRule{
			{Operations: []string{"DescribeLoadBalancers"}, Code: "Throttling", Rate: 0.5},
			{Operations: []string{"DescribeTargetGroups"}, Code: "ServiceUnavailable", Rate: 1},
		}}})
		var outcomes []string
		for range 20 {
			_, err := e.elb.DescribeLoadBalancers(e.ctx, &elbv2.DescribeLoadBalancersInput{})
			outcomes = append(outcomes, code(err))
		}
		_, err := e.elb.DescribeTargetGroups(e.ctx, &elbv2.DescribeTargetGroupsInput{})
		wantCode(t, err, "ServiceUnavailable")
		return outcomes
	}
	a, b := run(7), run(7)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed, different faults:\n%v\n%v", a, b)
	}
	if c := strings.Count(fmt.Sprint(a), "Throttling"); c == 0 || c == 20 {
		t.Errorf("%d of 20 throttled at rate 0.5", c)
	}

	// The SDK retries Throttling: with retries on, a throttled call
	// eventually succeeds and the log shows every attempt.
	e := newEnv(t, elbtest.Options{Seed: 1})
	e.srv.SetFaults(&elbtest.Faults{Rules: []elbtest.FaultRule{{Operations: []string{"CreateTargetGroup"}, Code: "Throttling", Rate: 0.8}}})
	cfg := e.srv.Config()
	// Retry quickly: the SDK's default backoff would make the test wait
	// seconds of real time.
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 20
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	}
	e.srv.ResetRequests()
	client := elbv2.NewFromConfig(cfg)
	if _, err := client.CreateTargetGroup(e.ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("x"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(e.vpc)}); err != nil {
		t.Fatal(err)
	}
	reqs := e.srv.Requests()
	if len(reqs) < 2 || reqs[0].Code != "Throttling" || reqs[len(reqs)-1].Code != "" || reqs[len(reqs)-1].Params.Get("Name") != "x" || !reqs[0].Mutating {
		t.Errorf("request log = %+v", reqs)
	}
	// "A no-op reconcile made zero mutating calls."
	e.srv.SetFaults(nil)
	e.srv.ResetRequests()
	if _, err := e.elb.DescribeTargetGroups(e.ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	if m := e.srv.MutatingRequests(); len(m) != 0 || len(e.srv.Requests()) != 1 {
		t.Errorf("mutating = %v", m)
	}
	// Latency is added, and ends with the client's context.
	e.srv.SetFaults(&elbtest.Faults{Rules: []elbtest.FaultRule{{Latency: 20 * time.Millisecond}}})
	start := time.Now()
	if _, err := e.elb.DescribeLoadBalancers(e.ctx, &elbv2.DescribeLoadBalancersInput{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("call took %v with 20ms injected latency", d)
	}
}

func TestStateFileRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	e := newEnv(t, elbtest.Options{StateFile: path, Seed: 3})
	lb := e.alb("web")
	tg := e.tg("api", types.ProtocolEnumHttp, 80)
	e.listener(lb.LoadBalancerArn, types.ProtocolEnumHttp, 80, forward(tg.TargetGroupArn))
	if _, err := e.elb.RegisterTargets(e.ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("10.0.0.1")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.AddTags(e.ctx, &elbv2.AddTagsInput{ResourceArns: []string{*lb.LoadBalancerArn}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	before := e.srv.Snapshot()
	e.srv.Close()

	e2 := newEnv(t, elbtest.Options{StateFile: path, Seed: 3})
	if !sameJSON(t, e2.srv.Snapshot(), before) {
		t.Fatal("restarted endpoint lost state")
	}
	out, err := e2.elb.DescribeTargetHealth(e2.ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
	if err != nil || len(out.TargetHealthDescriptions) != 1 {
		t.Fatalf("after restart: %+v, %v", out, err)
	}
	// New resources after a restart get fresh IDs.
	tg2 := e2.tg("api2", types.ProtocolEnumHttp, 80)
	if *tg2.TargetGroupArn == *tg.TargetGroupArn {
		t.Error("ID reused after restart")
	}
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := elbtest.New(elbtest.Options{StateFile: path}); err == nil {
		t.Error("a corrupt state file was accepted")
	}
}

// TestConcurrent hammers one endpoint from many goroutines; run with
// -race.
func TestConcurrent(t *testing.T) {
	e := newEnv(t, elbtest.Options{})
	lb := e.alb("web")
	tg := e.tg("api", types.ProtocolEnumHttp, 80)
	e.listener(lb.LoadBalancerArn, types.ProtocolEnumHttp, 80, forward(tg.TargetGroupArn))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				id := fmt.Sprintf("10.0.%d.%d", g, i)
				if _, err := e.elb.RegisterTargets(e.ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: []types.TargetDescription{{Id: &id}}}); err != nil {
					errs <- err
					return
				}
				if _, err := e.elb.DescribeTargetHealth(e.ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn}); err != nil {
					errs <- err
					return
				}
				if _, err := e.elb.CreateRule(e.ctx, &elbv2.CreateRuleInput{ListenerArn: e.listenerArn(lb.LoadBalancerArn), Priority: aws.Int32(int32(g*100 + i + 1)), Conditions: pathRule(fmt.Sprint("/", g, "/", i)), Actions: forward(tg.TargetGroupArn)}); err != nil && code(err) != "TooManyRules" {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	out, err := e.elb.DescribeTargetHealth(e.ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
	if err != nil || len(out.TargetHealthDescriptions) != 160 {
		t.Fatalf("%d targets, %v", len(out.TargetHealthDescriptions), err)
	}
}

func (e *env) listenerArn(lbArn *string) *string {
	out, err := e.elb.DescribeListeners(e.ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: lbArn})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.Listeners[0].ListenerArn
}

// recordingLive is a Live that keeps the last snapshot it was given.
type recordingLive struct {
	mu    sync.Mutex
	syncs int
	last  *elbtest.Snapshot
}

func (l *recordingLive) Sync(_ context.Context, s *elbtest.Snapshot) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.syncs++
	l.last = s
	return nil
}

// TestLiveSeam checks that a Live implementation sees every successful
// mutation (and only those) with the full state.
func TestLiveSeam(t *testing.T) {
	live := &recordingLive{}
	e := newEnv(t, elbtest.Options{Live: live})
	lb := e.alb("web")
	tg := e.tg("api", types.ProtocolEnumHttp, 80)
	e.listener(lb.LoadBalancerArn, types.ProtocolEnumHttp, 80, forward(tg.TargetGroupArn))
	_, err := e.elb.CreateRule(e.ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0/0"), Priority: aws.Int32(1), Conditions: pathRule("/"), Actions: forward(tg.TargetGroupArn)})
	wantCode(t, err, "ListenerNotFound")
	if _, err := e.elb.DescribeLoadBalancers(e.ctx, &elbv2.DescribeLoadBalancersInput{}); err != nil {
		t.Fatal(err)
	}
	live.mu.Lock()
	defer live.mu.Unlock()
	if live.syncs != 3 {
		t.Errorf("%d syncs, want 3 (one per successful mutation)", live.syncs)
	}
	if len(live.last.LoadBalancers) != 1 || len(live.last.Listeners) != 1 || len(live.last.Rules) != 1 || len(live.last.TargetGroups) != 1 {
		t.Errorf("last snapshot = %+v", live.last)
	}
}
