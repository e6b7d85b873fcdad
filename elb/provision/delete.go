package provision

import (
	"context"

	"github.com/lbkit/lbkit/elb"
)

// Delete removes every resource of the stack (every resource tagged with
// Options.StackName): rules, listeners, load balancers, then target
// groups. Untagged resources and other stacks' are left alone. Running it
// again after a failure continues where it stopped.
func (p *Provisioner) Delete(ctx context.Context) (*Result, error) {
	return p.Apply(ctx, &elb.Stack{})
}

// Drift compares stack with AWS and reports the differences, changing
// nothing: an embedding controller runs it on a timer and calls Apply
// (or ApplyPlan with the returned plan) when it is not empty.
func (p *Provisioner) Drift(ctx context.Context, stack *elb.Stack) (*Plan, error) {
	return p.Plan(ctx, stack)
}
