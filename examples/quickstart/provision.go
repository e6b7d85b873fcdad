package main

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/provision"
)

// The quickstart provisions each stack with elb/provision through the real
// AWS SDK (subnet discovery by tag, ownership tags, retries) and looks up
// what was created with plain describes.

type clients struct {
	cfg aws.Config
	elb *elbv2.Client
	ec2 *ec2.Client
}

// provisioned is one applied stack: its provisioner (for Delete) and the
// resources it created, by name.
type provisioned struct {
	prov          *provision.Provisioner
	LoadBalancers map[string]types.LoadBalancer
	TargetGroups  map[string]string // name → ARN
}

// apply provisions stack s under stackName, prints the plan's operations,
// waits for its load balancers to be active, and looks their ARNs up.
func (c clients) apply(ctx context.Context, stackName string, s *elb.Stack, vpc string, poll, maxWait time.Duration, say func(string, ...any)) (*provisioned, error) {
	last := ""
	prov, err := provision.NewFromConfig(c.cfg, stackName, func(o *provision.Options) {
		o.VPCID = vpc
		o.Progress = func(ev provision.Progress) {
			switch {
			case ev.Phase == "apply" && ev.Op != nil:
				say("  %s", strings.TrimSpace(ev.Message))
			case ev.Phase == "wait" && ev.Message != last:
				say("  %s", strings.TrimSpace(ev.Message))
				last = ev.Message
			}
		}
	})
	if err != nil {
		return nil, err
	}
	p := &provisioned{prov: prov, LoadBalancers: map[string]types.LoadBalancer{}, TargetGroups: map[string]string{}}
	plan, err := prov.Plan(ctx, s)
	if err != nil {
		return p, err
	}
	say("elb/provision plan for stack %q: %d operations", stackName, len(plan.Ops))
	if _, err := prov.ApplyPlan(ctx, plan); err != nil {
		return p, err
	}
	for _, tg := range s.TargetGroups {
		out, err := c.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{tg.Name}})
		if err != nil {
			return p, err
		}
		p.TargetGroups[tg.Name] = aws.ToString(out.TargetGroups[0].TargetGroupArn)
	}
	for _, l := range s.LoadBalancers {
		out, err := c.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{l.Name}})
		if err != nil {
			return p, err
		}
		lb := out.LoadBalancers[0]
		p.LoadBalancers[l.Name] = lb
		var zones []string
		for _, az := range lb.AvailabilityZones {
			zones = append(zones, aws.ToString(az.SubnetId)+" ("+aws.ToString(az.ZoneName)+")")
		}
		say("  %s is in subnets found by tag %s: %s", l.Name, elb.TagRoleELB, strings.Join(zones, ", "))
	}
	err = prov.WaitActive(ctx, s, maxWait, func(o *elbv2.LoadBalancerAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = poll, 4*poll
	})
	return p, err
}

// remove deletes every resource of the stack (elb/provision's Delete
// only touches resources carrying the stack's ownership tags).
func (c clients) remove(ctx context.Context, p *provisioned) error {
	if p == nil || p.prov == nil {
		return nil
	}
	_, err := p.prov.Delete(ctx)
	return err
}
