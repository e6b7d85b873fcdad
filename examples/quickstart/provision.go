package main

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/lbkit/lbkit/elb"
)

// This file provisions an elb stack through the real AWS SDK: subnet
// discovery by tag, target groups and their targets, load balancers,
// listeners and rules, and deletion. It stands in for elb/provision (issue
// in progress: plans, updates, ownership tags, retries), which the
// quickstart will call when it lands.

type clients struct {
	elb *elbv2.Client
	ec2 *ec2.Client
}

// provisioned is what apply created, by name.
type provisioned struct {
	LoadBalancers map[string]types.LoadBalancer
	TargetGroups  map[string]string // name → ARN
}

// discoverSubnets returns one subnet per availability zone among the
// subnets of vpc whose tags include every tag of sel (an empty value
// matches any value), as the AWS Load Balancer Controller does.
func (c clients) discoverSubnets(ctx context.Context, vpc string, sel *elb.SubnetSelector) ([]string, error) {
	filters := []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}
	for k, v := range sel.Tags {
		if v == "" {
			filters = append(filters, ec2types.Filter{Name: aws.String("tag-key"), Values: []string{k}})
		} else {
			filters = append(filters, ec2types.Filter{Name: aws.String("tag:" + k), Values: []string{v}})
		}
	}
	out, err := c.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: filters})
	if err != nil {
		return nil, err
	}
	byAZ := map[string]string{}
	for _, s := range out.Subnets {
		az := aws.ToString(s.AvailabilityZone)
		if cur, ok := byAZ[az]; !ok || aws.ToString(s.SubnetId) < cur {
			byAZ[az] = aws.ToString(s.SubnetId)
		}
	}
	var ids []string
	for _, id := range byAZ {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if len(ids) == 0 {
		return nil, fmt.Errorf("no subnet of %s is tagged %v", vpc, sel.Tags)
	}
	return ids, nil
}

func sdkTags(t elb.Tags) []types.Tag {
	var out []types.Tag
	for k, v := range t {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	sort.Slice(out, func(i, j int) bool { return *out[i].Key < *out[j].Key })
	return out
}

func i32(n int) *int32 {
	if n == 0 {
		return nil
	}
	return aws.Int32(int32(n))
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// createTargetGroup creates tg and registers its targets.
func (c clients) createTargetGroup(ctx context.Context, tg *elb.TargetGroup) (string, error) {
	hc := tg.HealthCheck
	in := &elbv2.CreateTargetGroupInput{
		Name: aws.String(tg.Name), Protocol: types.ProtocolEnum(tg.Protocol), Port: i32(tg.Port),
		VpcId: aws.String(tg.VPCID), TargetType: types.TargetTypeEnum(tg.TargetType),
		HealthCheckProtocol: types.ProtocolEnum(hc.Protocol), HealthCheckPath: strp(hc.Path),
		HealthCheckIntervalSeconds: i32(hc.IntervalSeconds), HealthCheckTimeoutSeconds: i32(hc.TimeoutSeconds),
		HealthyThresholdCount: i32(hc.HealthyThreshold), UnhealthyThresholdCount: i32(hc.UnhealthyThreshold),
		Tags: sdkTags(tg.Tags),
	}
	if hc.Matcher.HTTPCode != "" {
		in.Matcher = &types.Matcher{HttpCode: aws.String(hc.Matcher.HTTPCode)}
	}
	out, err := c.elb.CreateTargetGroup(ctx, in)
	if err != nil {
		return "", fmt.Errorf("create target group %s: %w", tg.Name, err)
	}
	arn := aws.ToString(out.TargetGroups[0].TargetGroupArn)
	if len(tg.Targets) > 0 {
		if err := c.register(ctx, arn, tg.Targets); err != nil {
			return "", err
		}
	}
	return arn, nil
}

func (c clients) register(ctx context.Context, arn string, targets []elb.Target) error {
	var ts []types.TargetDescription
	for _, t := range targets {
		ts = append(ts, types.TargetDescription{Id: aws.String(t.ID), Port: i32(t.Port)})
	}
	if _, err := c.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(arn), Targets: ts}); err != nil {
		return fmt.Errorf("register targets: %w", err)
	}
	return nil
}

func sdkActions(as []elb.Action, tgARN map[string]string) []types.Action {
	var out []types.Action
	for _, a := range as {
		x := types.Action{Type: types.ActionTypeEnum(a.Type), Order: i32(a.Order)}
		switch {
		case a.Forward != nil:
			fc := &types.ForwardActionConfig{}
			for _, t := range a.Forward.TargetGroups {
				w := 1
				if t.Weight != nil {
					w = *t.Weight
				}
				fc.TargetGroups = append(fc.TargetGroups, types.TargetGroupTuple{TargetGroupArn: aws.String(tgARN[t.TargetGroup]), Weight: aws.Int32(int32(w))})
			}
			if len(fc.TargetGroups) == 1 {
				x.TargetGroupArn = fc.TargetGroups[0].TargetGroupArn
			} else {
				x.ForwardConfig = fc
			}
		case a.FixedResponse != nil:
			x.FixedResponseConfig = &types.FixedResponseActionConfig{StatusCode: aws.String(a.FixedResponse.StatusCode),
				ContentType: strp(a.FixedResponse.ContentType), MessageBody: strp(a.FixedResponse.MessageBody)}
		case a.Redirect != nil:
			r := a.Redirect
			x.RedirectConfig = &types.RedirectActionConfig{StatusCode: types.RedirectActionStatusCodeEnum(r.StatusCode),
				Protocol: strp(r.Protocol), Host: strp(r.Host), Port: strp(r.Port), Path: strp(r.Path), Query: strp(r.Query)}
		}
		out = append(out, x)
	}
	return out
}

func sdkConditions(cs []elb.Condition) []types.RuleCondition {
	var out []types.RuleCondition
	for _, c := range cs {
		x := types.RuleCondition{Field: aws.String(string(c.Field))}
		switch c.Field {
		case elb.FieldPathPattern:
			x.PathPatternConfig = &types.PathPatternConditionConfig{Values: c.Values}
		case elb.FieldHostHeader:
			x.HostHeaderConfig = &types.HostHeaderConditionConfig{Values: c.Values}
		default:
			x.Values = c.Values
		}
		out = append(out, x)
	}
	return out
}

// apply creates every resource of s. onCreate reports progress.
func (c clients) apply(ctx context.Context, s *elb.Stack, vpc string, say func(string, ...any)) (*provisioned, error) {
	p := &provisioned{LoadBalancers: map[string]types.LoadBalancer{}, TargetGroups: map[string]string{}}
	for _, tg := range s.TargetGroups {
		arn, err := c.createTargetGroup(ctx, tg)
		if err != nil {
			return p, err
		}
		p.TargetGroups[tg.Name] = arn
		say("created target group %s (%s:%d, target type %s), registered %d targets", tg.Name, tg.Protocol, tg.Port, tg.TargetType, len(tg.Targets))
	}
	for _, l := range s.LoadBalancers {
		subnets := l.Subnets
		if l.SubnetSelector != nil {
			var err error
			if subnets, err = c.discoverSubnets(ctx, vpc, l.SubnetSelector); err != nil {
				return p, err
			}
			if l.Type == elb.LoadBalancerTypeNetwork {
				subnets = subnets[:1] // one zone is enough for the demo's NLB
			}
			say("subnets discovered by tag %s: %v", elb.TagRoleELB, subnets)
		}
		out, err := c.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
			Name: aws.String(l.Name), Type: types.LoadBalancerTypeEnum(l.Type), Scheme: types.LoadBalancerSchemeEnum(l.Scheme),
			Subnets: subnets, Tags: sdkTags(l.Tags),
		})
		if err != nil {
			return p, fmt.Errorf("create load balancer %s: %w", l.Name, err)
		}
		lb := out.LoadBalancers[0]
		p.LoadBalancers[l.Name] = lb
		say("created %s load balancer %s (%s)", l.Type, l.Name, lb.State.Code)
		for _, ls := range l.Listeners {
			lo, err := c.elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn,
				Protocol: types.ProtocolEnum(ls.Protocol), Port: aws.Int32(int32(ls.Port)), DefaultActions: sdkActions(ls.DefaultActions, p.TargetGroups)})
			if err != nil {
				return p, fmt.Errorf("create listener %d: %w", ls.Port, err)
			}
			for _, r := range ls.Rules {
				if _, err := c.elb.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: lo.Listeners[0].ListenerArn, Priority: aws.Int32(int32(r.Priority)),
					Conditions: sdkConditions(r.Conditions), Actions: sdkActions(r.Actions, p.TargetGroups)}); err != nil {
					return p, fmt.Errorf("create rule %d: %w", r.Priority, err)
				}
			}
			say("  listener %s:%d with %d rule(s)", ls.Protocol, ls.Port, len(ls.Rules))
		}
	}
	return p, nil
}

// remove deletes what apply created: load balancers first (their listeners
// and rules go with them), then target groups.
func (c clients) remove(ctx context.Context, p *provisioned) error {
	for _, lb := range p.LoadBalancers {
		if _, err := c.elb.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn}); err != nil {
			return err
		}
	}
	for _, arn := range p.TargetGroups {
		if _, err := c.elb.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(arn)}); err != nil {
			return err
		}
	}
	return nil
}
