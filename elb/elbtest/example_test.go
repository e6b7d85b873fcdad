package elbtest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/lbkit/lbkit/elb/elbtest"
)

// Provision an ALB with the unmodified SDK clients, then step the clock
// through the target group's health checks.
func Example() {
	clock := elbtest.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srv := elbtest.NewServer(elbtest.Options{Clock: clock, Seed: 1})
	defer srv.Close()
	ctx := context.Background()
	cfg := srv.Config()
	ec2c, elb := ec2.NewFromConfig(cfg), elbv2.NewFromConfig(cfg)

	subnets, _ := ec2c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	var ids []string
	for _, s := range subnets.Subnets {
		ids = append(ids, *s.SubnetId)
	}
	lb, _ := elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: ids})
	tg, _ := elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("api"), Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: lb.LoadBalancers[0].VpcId, TargetType: types.TargetTypeEnumIp})
	tgArn := tg.TargetGroups[0].TargetGroupArn
	_, _ = elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(80), DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: tgArn}}})
	_, _ = elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tgArn, Targets: []types.TargetDescription{{Id: aws.String("10.0.0.7")}}})

	for range 3 {
		h, _ := elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tgArn})
		th := h.TargetHealthDescriptions[0].TargetHealth
		if th.Reason == "" {
			fmt.Println(th.State) // healthy has no reason
		} else {
			fmt.Println(th.State, th.Reason)
		}
		clock.Advance(75 * time.Second) // 5 × 30 s healthy threshold after two steps
	}
	fmt.Println(len(srv.MutatingRequests()), "mutating calls")
	// Output:
	// initial Elb.RegistrationInProgress
	// initial Elb.InitialHealthChecking
	// healthy
	// 4 mutating calls
}

// Inject seeded throttling into one operation and read the outcome back
// from the request log.
func ExampleFaults() {
	srv := elbtest.NewServer(elbtest.Options{Seed: 42, Faults: &elbtest.Faults{Rules: []elbtest.FaultRule{
		{Operations: []string{"DescribeLoadBalancers"}, Code: "Throttling", Rate: 1},
	}}})
	defer srv.Close()
	cfg := srv.Config()
	cfg.RetryMaxAttempts = 1 // see the fault instead of the SDK's retries
	elb := elbv2.NewFromConfig(cfg)
	_, err := elb.DescribeLoadBalancers(context.Background(), &elbv2.DescribeLoadBalancersInput{})
	fmt.Println(err != nil)
	for _, r := range srv.Requests() {
		fmt.Println(r.Operation, r.Status, r.Code)
	}
	// Output:
	// true
	// DescribeLoadBalancers 400 Throttling
}
