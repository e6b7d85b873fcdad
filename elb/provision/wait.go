package provision

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/lbkit/lbkit/elb"
)

// WaitActive waits, through the SDK's LoadBalancerAvailable waiter, until
// every load balancer of stack is active (provisioning → active), for at
// most maxWait. Each poll is reported to Options.Progress (Phase "wait").
func (p *Provisioner) WaitActive(ctx context.Context, stack *elb.Stack, maxWait time.Duration, optFns ...func(*elbv2.LoadBalancerAvailableWaiterOptions)) error {
	var names []string
	for _, lb := range stack.LoadBalancers {
		names = append(names, lb.Name)
	}
	if len(names) == 0 {
		return nil
	}
	attempt := 0
	w := elbv2.NewLoadBalancerAvailableWaiter(p.opts.ELBV2, func(o *elbv2.LoadBalancerAvailableWaiterOptions) {
		for _, f := range optFns {
			f(o)
		}
		next := o.Retryable
		o.Retryable = func(ctx context.Context, in *elbv2.DescribeLoadBalancersInput, out *elbv2.DescribeLoadBalancersOutput, err error) (bool, error) {
			attempt++
			msg := ""
			if out != nil {
				for _, lb := range out.LoadBalancers {
					if lb.State != nil {
						msg += fmt.Sprintf("%s:%s ", aws.ToString(lb.LoadBalancerName), lb.State.Code)
					}
				}
			}
			if err != nil && Retryable(err) {
				p.progress(Progress{Phase: "wait", Message: "retrying: " + err.Error(), Done: attempt})
				return true, nil
			}
			p.progress(Progress{Phase: "wait", Message: "load balancers " + msg, Done: attempt})
			return next(ctx, in, out, err)
		}
	})
	if err := w.Wait(ctx, &elbv2.DescribeLoadBalancersInput{Names: names}, maxWait); err != nil {
		return fmt.Errorf("provision: waiting for %v to be active: %w", names, err)
	}
	return nil
}

// WaitTargetsHealthy waits, through the SDK's TargetInService waiter,
// until every target of want in group arn is healthy, for at most
// maxWait. Each poll is reported to Options.Progress.
func (p *Provisioner) WaitTargetsHealthy(ctx context.Context, c elbv2.DescribeTargetHealthAPIClient, arn string, want []elb.Target, maxWait time.Duration, optFns ...func(*elbv2.TargetInServiceWaiterOptions)) error {
	if c == nil {
		c = p.opts.ELBV2
	}
	attempt := 0
	w := elbv2.NewTargetInServiceWaiter(c, func(o *elbv2.TargetInServiceWaiterOptions) {
		for _, f := range optFns {
			f(o)
		}
		next := o.Retryable
		o.Retryable = func(ctx context.Context, in *elbv2.DescribeTargetHealthInput, out *elbv2.DescribeTargetHealthOutput, err error) (bool, error) {
			attempt++
			if err != nil && Retryable(err) {
				p.progress(Progress{Phase: "wait", Message: "retrying: " + err.Error(), Done: attempt})
				return true, nil
			}
			if out != nil {
				healthy := 0
				for _, d := range out.TargetHealthDescriptions {
					if d.TargetHealth != nil && d.TargetHealth.State == "healthy" {
						healthy++
					}
				}
				p.progress(Progress{Phase: "wait", Message: fmt.Sprintf("%s: %d/%d targets healthy", arn, healthy, len(out.TargetHealthDescriptions)), Done: healthy, Total: len(out.TargetHealthDescriptions)})
			}
			return next(ctx, in, out, err)
		}
	})
	in := &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn), Targets: toDescriptions(want)}
	if err := w.Wait(ctx, in, maxWait); err != nil {
		return fmt.Errorf("provision: waiting for targets of %s to be healthy: %w", arn, err)
	}
	return nil
}
