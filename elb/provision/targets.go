package provision

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"golang.org/x/sync/errgroup"

	"github.com/lbkit/lbkit/elb"
)

// targetKey identifies a target: ID and port (0 = the group's port).
type targetKey struct {
	id   string
	port int
}

// DiffTargets returns the targets of want that are not registered in
// actual (or are draining, so must be registered again) and the
// registered targets that are not in want. Order follows want and actual.
func DiffTargets(want []elb.Target, actual []TargetState) (register, deregister []elb.Target) {
	have := map[targetKey]bool{}
	for _, t := range actual {
		if t.State == string(types.TargetHealthStateEnumDraining) {
			continue
		}
		have[targetKey{t.ID, t.Port}] = true
	}
	wanted := map[targetKey]bool{}
	for _, t := range want {
		k := targetKey{t.ID, t.Port}
		wanted[k] = true
		// A target registered without a port is reported with the
		// group's port; match it either way.
		if !have[k] && !(t.Port == 0 && anyID(actual, t.ID)) {
			register = append(register, t)
		}
	}
	for _, t := range actual {
		if t.State == string(types.TargetHealthStateEnumDraining) {
			continue
		}
		if !wanted[targetKey{t.ID, t.Port}] && !wanted[targetKey{t.ID, 0}] {
			deregister = append(deregister, elb.Target{ID: t.ID, Port: t.Port, AvailabilityZone: t.AZ})
		}
	}
	return register, deregister
}

func anyID(ts []TargetState, id string) bool {
	for _, t := range ts {
		if t.ID == id && t.State != string(types.TargetHealthStateEnumDraining) {
			return true
		}
	}
	return false
}

// TargetsResult says what a target sync did.
type TargetsResult struct {
	Registered, Deregistered int
	Calls                    int
}

// SyncTargets makes the targets registered in the target group arn equal
// to want: it describes the group once, then registers and deregisters
// the difference in batches of Options.TargetBatchSize, with retries and
// rate limits. c is usually Options.ELBV2; an embedding binder may pass
// its own client. It is what elb/kube's TargetGroupBinding binder calls.
func (p *Provisioner) SyncTargets(ctx context.Context, c TargetsAPI, arn string, want []elb.Target) (TargetsResult, error) {
	return p.syncTargets(ctx, c, arn, want, nil)
}

// syncTargets describes group arn once, registers what want adds, runs
// between (if any) and then deregisters what want drops.
func (p *Provisioner) syncTargets(ctx context.Context, c TargetsAPI, arn string, want []elb.Target, between func(TargetsAPI) error) (TargetsResult, error) {
	if c == nil {
		c = p.opts.ELBV2
	}
	actual, err := p.describeTargets(ctx, c, arn)
	if err != nil {
		return TargetsResult{}, err
	}
	reg, dereg := DiffTargets(want, actual)
	res := TargetsResult{Calls: 1}
	n, err := p.registerTargets(ctx, c, arn, reg)
	res.Calls += n
	if err != nil {
		return res, err
	}
	res.Registered = len(reg)
	if between != nil {
		if err := between(c); err != nil {
			return res, err
		}
	}
	n, err = p.deregisterTargets(ctx, c, arn, dereg)
	res.Calls += n
	if err != nil {
		return res, err
	}
	res.Deregistered = len(dereg)
	return res, nil
}

func toDescriptions(ts []elb.Target) []types.TargetDescription {
	out := make([]types.TargetDescription, 0, len(ts))
	for _, t := range ts {
		out = append(out, types.TargetDescription{Id: aws.String(t.ID), Port: i32(t.Port), AvailabilityZone: strp(t.AvailabilityZone)})
	}
	return out
}

func (p *Provisioner) batches(ts []elb.Target) [][]elb.Target {
	var out [][]elb.Target
	for i := 0; i < len(ts); i += p.opts.TargetBatchSize {
		out = append(out, ts[i:min(i+p.opts.TargetBatchSize, len(ts))])
	}
	return out
}

func (p *Provisioner) registerTargets(ctx context.Context, c TargetsAPI, arn string, ts []elb.Target) (int, error) {
	bs := p.batches(ts)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.opts.Concurrency)
	for _, b := range bs {
		g.Go(func() error {
			_, err := call(gctx, p, "RegisterTargets", func(ctx context.Context) (*elbv2.RegisterTargetsOutput, error) {
				return c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(arn), Targets: toDescriptions(b)})
			})
			return err
		})
	}
	return len(bs), g.Wait()
}

func (p *Provisioner) deregisterTargets(ctx context.Context, c TargetsAPI, arn string, ts []elb.Target) (int, error) {
	bs := p.batches(ts)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.opts.Concurrency)
	for _, b := range bs {
		g.Go(func() error {
			_, err := call(gctx, p, "DeregisterTargets", func(ctx context.Context) (*elbv2.DeregisterTargetsOutput, error) {
				return c.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(arn), Targets: toDescriptions(b)})
			})
			return err
		})
	}
	return len(bs), g.Wait()
}

// RolloutOptions bound a Rollout.
type RolloutOptions struct {
	// MaxWait bounds the wait for the new targets to become healthy.
	MaxWait time.Duration
	// MinDelay and MaxDelay are the waiter's polling bounds; zero means
	// the SDK's (15 s, 120 s).
	MinDelay, MaxDelay time.Duration
}

// Rollout replaces the registered targets of group arn with want without
// dropping requests: it registers the new targets, waits (SDK waiter
// TargetInService) until every one of them is healthy, and only then
// deregisters the old ones, which drain for the group's deregistration
// delay. If the new targets do not become healthy within MaxWait the old
// ones stay registered and the error says so.
func (p *Provisioner) Rollout(ctx context.Context, c TargetsAPI, arn string, want []elb.Target, ro RolloutOptions) (TargetsResult, error) {
	return p.syncTargets(ctx, c, arn, want, func(c TargetsAPI) error {
		if len(want) == 0 {
			return nil
		}
		err := p.WaitTargetsHealthy(ctx, c, arn, want, ro.MaxWait, func(o *elbv2.TargetInServiceWaiterOptions) {
			if ro.MinDelay > 0 {
				o.MinDelay = ro.MinDelay
			}
			if ro.MaxDelay > 0 {
				o.MaxDelay = ro.MaxDelay
			}
		})
		if err != nil {
			return fmt.Errorf("provision: rollout: new targets not healthy, old targets kept: %w", err)
		}
		return nil
	})
}
