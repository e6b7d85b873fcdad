package provision

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"golang.org/x/sync/errgroup"

	"github.com/lbkit/lbkit/elb"
)

// Result is what Apply or Delete did.
type Result struct {
	// Plan is the plan that was applied.
	Plan *Plan
	// Applied counts the ops that completed.
	Applied int
}

// Apply plans stack against AWS and runs the plan: see ApplyPlan.
func (p *Provisioner) Apply(ctx context.Context, stack *elb.Stack) (*Result, error) {
	pl, err := p.Plan(ctx, stack)
	if err != nil {
		return nil, err
	}
	return p.ApplyPlan(ctx, pl)
}

// ApplyPlan runs a plan made by Plan: phase by phase in dependency order
// (target groups, targets, load balancers, listeners, rules; then the
// deletions in reverse), the ops of one phase concurrently, at most
// Options.Concurrency at once. A failed op stops the apply after its
// phase's running ops finish; everything done is done, and the next Apply
// continues from there (resources are found again by their tags, creates
// of AWS are idempotent). A plan is a snapshot: apply it soon after
// planning; if AWS changed meanwhile an op may fail, and Apply (which
// plans afresh) is the remedy.
func (p *Provisioner) ApplyPlan(ctx context.Context, pl *Plan) (*Result, error) {
	if pl == nil || pl.arns == nil {
		return nil, ErrPlan
	}
	res := &Result{Plan: pl}
	var done atomic.Int64
	total := len(pl.Ops)
	for i := 0; i < len(pl.Ops); {
		j := i
		for j < len(pl.Ops) && pl.Ops[j].phase == pl.Ops[i].phase {
			j++
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(p.opts.Concurrency)
		for k := i; k < j; k++ {
			op := &pl.Ops[k]
			g.Go(func() error {
				if err := p.applyOp(gctx, pl, op); err != nil {
					return fmt.Errorf("provision: %s %s %s: %w", op.Kind, op.Resource, op.ID, err)
				}
				n := done.Add(1)
				p.opts.Logger.Info("applied", "op", op.Kind, "resource", op.Resource, "id", op.ID)
				p.progress(Progress{Phase: "apply", Op: op, Message: fmt.Sprintf("%s %s %s", op.Kind, op.Resource, op.ID), Done: int(n), Total: total})
				return nil
			})
		}
		err := g.Wait()
		res.Applied = int(done.Load())
		if err != nil {
			return res, err
		}
		i = j
	}
	return res, nil
}

func (p *Provisioner) applyOp(ctx context.Context, pl *Plan, op *Op) error {
	c := p.opts.ELBV2
	switch op.Resource {
	case KindTargetGroup:
		switch op.Kind {
		case OpCreate, OpReplace:
			return p.createTG(ctx, pl, op)
		case OpUpdate, OpAdopt:
			return p.updateTG(ctx, op)
		case OpDelete:
			_, err := call(ctx, p, "DeleteTargetGroup", func(ctx context.Context) (*elbv2.DeleteTargetGroupOutput, error) {
				out, err := c.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(op.ARN)})
				if inUse(err) {
					// A deleted load balancer releases its target groups
					// a moment later: try again.
					return out, &retryLater{err}
				}
				return out, ignoreNotFound(err)
			})
			return err
		}
	case KindTargets:
		arn := op.ARN
		if arn == "" {
			arn = pl.arn(op.ID)
		}
		if op.Kind == OpRegister {
			_, err := p.registerTargets(ctx, c, arn, op.Targets)
			return err
		}
		_, err := p.deregisterTargets(ctx, c, arn, op.Targets)
		return err
	case KindLoadBalancer:
		switch op.Kind {
		case OpCreate, OpReplace:
			return p.createLB(ctx, pl, op)
		case OpUpdate, OpAdopt:
			return p.updateLB(ctx, op)
		case OpDelete:
			_, err := call(ctx, p, "DeleteLoadBalancer", func(ctx context.Context) (*elbv2.DeleteLoadBalancerOutput, error) {
				out, err := c.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(op.ARN)})
				return out, ignoreNotFound(err)
			})
			return err
		}
	case KindListener:
		switch op.Kind {
		case OpCreate:
			return p.createListener(ctx, pl, op)
		case OpUpdate, OpAdopt:
			return p.updateListener(ctx, pl, op)
		case OpDelete:
			_, err := call(ctx, p, "DeleteListener", func(ctx context.Context) (*elbv2.DeleteListenerOutput, error) {
				out, err := c.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: aws.String(op.ARN)})
				return out, ignoreNotFound(err)
			})
			return err
		}
	case KindRule:
		switch op.Kind {
		case OpCreate:
			out, err := call(ctx, p, "CreateRule", func(ctx context.Context) (*elbv2.CreateRuleOutput, error) {
				return c.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(pl.arn(op.parent)), Priority: aws.Int32(int32(op.r.Priority)),
					Conditions: toSDKConditions(op.r.Conditions), Actions: toSDKActions(op.r.Actions, pl.tgARN), Tags: toSDKTags(p.wantTags(op.r.Tags, op.ID))})
			})
			if err != nil {
				return err
			}
			if len(out.Rules) > 0 {
				pl.setARN(op.ID, aws.ToString(out.Rules[0].RuleArn))
			}
			return nil
		case OpUpdate, OpAdopt:
			if op.update["rule"] {
				if _, err := call(ctx, p, "ModifyRule", func(ctx context.Context) (*elbv2.ModifyRuleOutput, error) {
					return c.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(op.ARN), Conditions: toSDKConditions(op.r.Conditions), Actions: toSDKActions(op.r.Actions, pl.tgARN)})
				}); err != nil {
					return err
				}
			}
			return p.applyTags(ctx, op)
		case OpDelete:
			_, err := call(ctx, p, "DeleteRule", func(ctx context.Context) (*elbv2.DeleteRuleOutput, error) {
				out, err := c.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: aws.String(op.ARN)})
				return out, ignoreNotFound(err)
			})
			return err
		}
	}
	return fmt.Errorf("provision: unknown op %s %s", op.Kind, op.Resource)
}

func (p *Provisioner) createTG(ctx context.Context, pl *Plan, op *Op) error {
	tg := op.tg
	hc := tg.HealthCheck
	in := &elbv2.CreateTargetGroupInput{
		Name: aws.String(op.physName), Protocol: types.ProtocolEnum(tg.Protocol), Port: i32(tg.Port),
		TargetType: types.TargetTypeEnum(tg.TargetType), VpcId: strp(tg.VPCID), ProtocolVersion: strp(string(tg.ProtocolVersion)),
		HealthCheckEnabled: hc.Enabled, HealthCheckProtocol: types.ProtocolEnum(hc.Protocol), HealthCheckPort: strp(hc.Port),
		HealthCheckPath: strp(hc.Path), HealthCheckIntervalSeconds: i32(hc.IntervalSeconds), HealthCheckTimeoutSeconds: i32(hc.TimeoutSeconds),
		HealthyThresholdCount: i32(hc.HealthyThreshold), UnhealthyThresholdCount: i32(hc.UnhealthyThreshold), Matcher: healthCheckInput(hc),
		Tags: toSDKTags(p.wantTags(tg.Tags, op.ID)),
	}
	if tg.TargetType == elb.TargetTypeIP {
		in.IpAddressType = types.TargetGroupIpAddressTypeEnum(tg.IPAddressType)
	}
	if tg.TargetType == elb.TargetTypeLambda {
		in.Protocol, in.Port, in.VpcId, in.ProtocolVersion = "", nil, nil, nil
	}
	out, err := call(ctx, p, "CreateTargetGroup", func(ctx context.Context) (*elbv2.CreateTargetGroupOutput, error) {
		return p.opts.ELBV2.CreateTargetGroup(ctx, in)
	})
	if err != nil {
		return err
	}
	arn := aws.ToString(out.TargetGroups[0].TargetGroupArn)
	pl.setARN(op.ID, arn)
	// Attributes AWS does not take on create: set those that differ from
	// what a new group has.
	at := tgFromSDK(out.TargetGroups[0])
	at.Attributes = elb.TargetGroupAttributes{}
	at.Defaults()
	attrs := p.diffAttrs(tg.AttributeList(), attrsOf(at.AttributeList()))
	return p.modifyTGAttrs(ctx, arn, attrs)
}

func attrsOf(as []elb.Attribute) map[string]string {
	m := map[string]string{}
	for _, a := range as {
		m[a.Key] = a.Value
	}
	return m
}

func (p *Provisioner) modifyTGAttrs(ctx context.Context, arn string, attrs []elb.Attribute) error {
	if len(attrs) == 0 {
		return nil
	}
	var kv []types.TargetGroupAttribute
	for _, a := range attrs {
		kv = append(kv, types.TargetGroupAttribute{Key: aws.String(a.Key), Value: aws.String(a.Value)})
	}
	_, err := call(ctx, p, "ModifyTargetGroupAttributes", func(ctx context.Context) (*elbv2.ModifyTargetGroupAttributesOutput, error) {
		return p.opts.ELBV2.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn), Attributes: kv})
	})
	return err
}

func (p *Provisioner) updateTG(ctx context.Context, op *Op) error {
	if op.update["healthCheck"] {
		hc := op.tg.HealthCheck
		in := &elbv2.ModifyTargetGroupInput{TargetGroupArn: aws.String(op.ARN), HealthCheckEnabled: hc.Enabled,
			HealthCheckProtocol: types.ProtocolEnum(hc.Protocol), HealthCheckPort: strp(hc.Port), HealthCheckPath: strp(hc.Path),
			HealthCheckIntervalSeconds: i32(hc.IntervalSeconds), HealthCheckTimeoutSeconds: i32(hc.TimeoutSeconds),
			HealthyThresholdCount: i32(hc.HealthyThreshold), UnhealthyThresholdCount: i32(hc.UnhealthyThreshold), Matcher: healthCheckInput(hc)}
		if _, err := call(ctx, p, "ModifyTargetGroup", func(ctx context.Context) (*elbv2.ModifyTargetGroupOutput, error) {
			return p.opts.ELBV2.ModifyTargetGroup(ctx, in)
		}); err != nil {
			return err
		}
	}
	if err := p.modifyTGAttrs(ctx, op.ARN, op.attrs); err != nil {
		return err
	}
	return p.applyTags(ctx, op)
}

func (p *Provisioner) applyTags(ctx context.Context, op *Op) error {
	if len(op.addTags) > 0 {
		if _, err := call(ctx, p, "AddTags", func(ctx context.Context) (*elbv2.AddTagsOutput, error) {
			return p.opts.ELBV2.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{op.ARN}, Tags: toSDKTags(op.addTags)})
		}); err != nil {
			return err
		}
	}
	if len(op.rmTags) > 0 {
		if _, err := call(ctx, p, "RemoveTags", func(ctx context.Context) (*elbv2.RemoveTagsOutput, error) {
			return p.opts.ELBV2.RemoveTags(ctx, &elbv2.RemoveTagsInput{ResourceArns: []string{op.ARN}, TagKeys: op.rmTags})
		}); err != nil {
			return err
		}
	}
	return nil
}

func (p *Provisioner) createLB(ctx context.Context, pl *Plan, op *Op) error {
	lb := op.lb
	in := &elbv2.CreateLoadBalancerInput{Name: aws.String(op.physName), Type: types.LoadBalancerTypeEnum(lb.Type),
		Scheme: types.LoadBalancerSchemeEnum(lb.Scheme), IpAddressType: types.IpAddressType(lb.IPAddressType),
		Subnets: lb.Subnets, SecurityGroups: lb.SecurityGroups, Tags: toSDKTags(p.wantTags(lb.Tags, op.ID))}
	for _, m := range lb.SubnetMappings {
		in.SubnetMappings = append(in.SubnetMappings, types.SubnetMapping{SubnetId: aws.String(m.SubnetID), AllocationId: strp(m.AllocationID),
			PrivateIPv4Address: strp(m.PrivateIPv4Address), IPv6Address: strp(m.IPv6Address)})
	}
	out, err := call(ctx, p, "CreateLoadBalancer", func(ctx context.Context) (*elbv2.CreateLoadBalancerOutput, error) {
		return p.opts.ELBV2.CreateLoadBalancer(ctx, in)
	})
	if err != nil {
		return err
	}
	arn := aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
	pl.setARN(op.ID, arn)
	def := elb.LoadBalancer{Type: lb.Type}
	def.Defaults()
	return p.modifyLBAttrs(ctx, arn, p.diffAttrs(lb.Attributes.Attributes(lb.Type), attrsOf(def.Attributes.Attributes(lb.Type))))
}

func (p *Provisioner) modifyLBAttrs(ctx context.Context, arn string, attrs []elb.Attribute) error {
	if len(attrs) == 0 {
		return nil
	}
	var kv []types.LoadBalancerAttribute
	for _, a := range attrs {
		kv = append(kv, types.LoadBalancerAttribute{Key: aws.String(a.Key), Value: aws.String(a.Value)})
	}
	_, err := call(ctx, p, "ModifyLoadBalancerAttributes", func(ctx context.Context) (*elbv2.ModifyLoadBalancerAttributesOutput, error) {
		return p.opts.ELBV2.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(arn), Attributes: kv})
	})
	return err
}

func (p *Provisioner) updateLB(ctx context.Context, op *Op) error {
	c, lb, arn := p.opts.ELBV2, op.lb, aws.String(op.ARN)
	if op.update["subnets"] {
		in := &elbv2.SetSubnetsInput{LoadBalancerArn: arn, Subnets: lb.Subnets}
		if _, err := call(ctx, p, "SetSubnets", func(ctx context.Context) (*elbv2.SetSubnetsOutput, error) { return c.SetSubnets(ctx, in) }); err != nil {
			return err
		}
	}
	if op.update["securityGroups"] {
		in := &elbv2.SetSecurityGroupsInput{LoadBalancerArn: arn, SecurityGroups: lb.SecurityGroups}
		if _, err := call(ctx, p, "SetSecurityGroups", func(ctx context.Context) (*elbv2.SetSecurityGroupsOutput, error) { return c.SetSecurityGroups(ctx, in) }); err != nil {
			return err
		}
	}
	if op.update["ipAddressType"] {
		in := &elbv2.SetIpAddressTypeInput{LoadBalancerArn: arn, IpAddressType: types.IpAddressType(lb.IPAddressType)}
		if _, err := call(ctx, p, "SetIpAddressType", func(ctx context.Context) (*elbv2.SetIpAddressTypeOutput, error) { return c.SetIpAddressType(ctx, in) }); err != nil {
			return err
		}
	}
	if err := p.modifyLBAttrs(ctx, op.ARN, op.attrs); err != nil {
		return err
	}
	return p.applyTags(ctx, op)
}

func (p *Provisioner) listenerInput(l *elb.Listener) (certs []types.Certificate, alpn []string) {
	if len(l.Certificates) > 0 {
		certs = []types.Certificate{{CertificateArn: aws.String(l.Certificates[0])}}
	}
	if l.ALPNPolicy != "" && l.Protocol == elb.ProtocolTLS {
		alpn = []string{string(l.ALPNPolicy)}
	}
	return certs, alpn
}

func (p *Provisioner) createListener(ctx context.Context, pl *Plan, op *Op) error {
	l := op.l
	certs, alpn := p.listenerInput(l)
	in := &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(pl.arn(op.parent)), Port: aws.Int32(int32(l.Port)), Protocol: types.ProtocolEnum(l.Protocol),
		Certificates: certs, AlpnPolicy: alpn, SslPolicy: strp(l.SSLPolicy), DefaultActions: toSDKActions(l.DefaultActions, pl.tgARN),
		Tags: toSDKTags(p.wantTags(l.Tags, op.ID))}
	out, err := call(ctx, p, "CreateListener", func(ctx context.Context) (*elbv2.CreateListenerOutput, error) {
		return p.opts.ELBV2.CreateListener(ctx, in)
	})
	if err != nil {
		return err
	}
	arn := aws.ToString(out.Listeners[0].ListenerArn)
	pl.setARN(op.ID, arn)
	if l.Protocol == elb.ProtocolTCP && l.Attributes.TCPIdleTimeoutSeconds != elb.DefaultTCPIdleTimeoutSeconds {
		return p.modifyListenerAttrs(ctx, arn, l.Attributes.Attributes())
	}
	return nil
}

func (p *Provisioner) modifyListenerAttrs(ctx context.Context, arn string, attrs []elb.Attribute) error {
	if len(attrs) == 0 {
		return nil
	}
	var kv []types.ListenerAttribute
	for _, a := range attrs {
		kv = append(kv, types.ListenerAttribute{Key: aws.String(a.Key), Value: aws.String(a.Value)})
	}
	_, err := call(ctx, p, "ModifyListenerAttributes", func(ctx context.Context) (*elbv2.ModifyListenerAttributesOutput, error) {
		return p.opts.ELBV2.ModifyListenerAttributes(ctx, &elbv2.ModifyListenerAttributesInput{ListenerArn: aws.String(arn), Attributes: kv})
	})
	return err
}

func (p *Provisioner) updateListener(ctx context.Context, pl *Plan, op *Op) error {
	l := op.l
	if op.update["listener"] {
		certs, alpn := p.listenerInput(l)
		in := &elbv2.ModifyListenerInput{ListenerArn: aws.String(op.ARN), Port: aws.Int32(int32(l.Port)), Protocol: types.ProtocolEnum(l.Protocol),
			Certificates: certs, AlpnPolicy: alpn, SslPolicy: strp(l.SSLPolicy), DefaultActions: toSDKActions(l.DefaultActions, pl.tgARN)}
		if _, err := call(ctx, p, "ModifyListener", func(ctx context.Context) (*elbv2.ModifyListenerOutput, error) {
			return p.opts.ELBV2.ModifyListener(ctx, in)
		}); err != nil {
			return err
		}
	}
	if err := p.modifyListenerAttrs(ctx, op.ARN, op.attrs); err != nil {
		return err
	}
	return p.applyTags(ctx, op)
}

// retryLater marks an error the retry loop should treat as transient.
type retryLater struct{ error }

func (e *retryLater) Unwrap() error { return e.error }

func inUse(err error) bool {
	var e *types.ResourceInUseException
	return errors.As(err, &e)
}

// ignoreNotFound turns "already gone" into success, so that a re-run
// after a partial delete converges.
func ignoreNotFound(err error) error {
	var (
		lb *types.LoadBalancerNotFoundException
		tg *types.TargetGroupNotFoundException
		l  *types.ListenerNotFoundException
		r  *types.RuleNotFoundException
	)
	if errors.As(err, &lb) || errors.As(err, &tg) || errors.As(err, &l) || errors.As(err, &r) {
		return nil
	}
	return err
}
