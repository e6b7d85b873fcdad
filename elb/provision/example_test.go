package provision_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/elbtest"
	"github.com/lbkit/lbkit/elb/provision"
)

// Plan and apply the chapter's ALB against a local ELBv2 endpoint, then
// show that a second plan is empty.
func Example() {
	srv := elbtest.NewServer(elbtest.Options{Seed: 1})
	defer srv.Close()
	ctx := context.Background()

	// Mark the default subnets for internet-facing load balancers.
	ec2c := ec2.NewFromConfig(srv.Config())
	sn, _ := ec2c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	var ids []string
	for _, s := range sn.Subnets {
		ids = append(ids, *s.SubnetId)
	}
	_, _ = ec2c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: []ec2types.Tag{{Key: aws.String(elb.TagRoleELB), Value: aws.String("1")}}})

	s := &elb.Stack{}
	web := s.AddTargetGroup(elb.NewTargetGroup("web", elb.ProtocolHTTP, 8080, elb.TargetTypeIP))
	web.Targets = []elb.Target{{ID: "10.0.0.1"}, {ID: "10.0.0.2"}}
	alb := s.AddLoadBalancer(elb.NewApplicationLoadBalancer("demo"))
	l := alb.AddListener(elb.ProtocolHTTP, 80, elb.FixedResponse(404, elb.ContentTypeTextPlain, "no route"))
	l.AddRule(10, elb.Forward(web), elb.PathPattern("/*"))

	p, err := provision.NewFromConfig(srv.Config(), "chapter")
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := p.Plan(ctx, s)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, op := range plan.Ops {
		fmt.Println(op.Kind, op.Resource, op.ID)
	}
	if _, err := p.ApplyPlan(ctx, plan); err != nil {
		fmt.Println(err)
		return
	}
	if err := p.WaitActive(ctx, s, time.Minute, func(o *elbv2.LoadBalancerAvailableWaiterOptions) { o.MinDelay = 10 * time.Millisecond }); err != nil {
		fmt.Println(err)
		return
	}
	again, _ := p.Plan(ctx, s)
	fmt.Print(again)
	// Output:
	// create TargetGroup tg/web
	// register Targets tg/web
	// create LoadBalancer lb/demo
	// create Listener listener/demo/80
	// create Rule rule/demo/80/10
	// stack chapter: no changes
}
