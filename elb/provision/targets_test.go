package provision_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/elbtest"
	"github.com/lbkit/lbkit/elb/provision"
)

func tgARN(t *testing.T, e *env, name string) string {
	t.Helper()
	out, err := e.elb.DescribeTargetGroups(context.Background(), &elbv2.DescribeTargetGroupsInput{Names: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	return *out.TargetGroups[0].TargetGroupArn
}

func registered(t *testing.T, e *env, arn string) []string {
	t.Helper()
	out, err := e.elb.DescribeTargetHealth(context.Background(), &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range out.TargetHealthDescriptions {
		if d.TargetHealth.State != "draining" {
			ids = append(ids, *d.Target.Id)
		}
	}
	slices.Sort(ids)
	return ids
}

func targets(ids ...string) []elb.Target {
	var ts []elb.Target
	for _, id := range ids {
		ts = append(ts, elb.Target{ID: id})
	}
	return ts
}

func TestSyncTargetsBatches(t *testing.T) {
	e := newEnv(t, elbtest.Options{Seed: 5})
	p := e.provisioner(t, "shop", func(o *provision.Options) { o.TargetBatchSize = 3; o.IgnoreTargets = true })
	ctx := context.Background()
	if _, err := p.Apply(ctx, demoStack()); err != nil {
		t.Fatal(err)
	}
	arn := tgARN(t, e, "web")
	if got := registered(t, e, arn); len(got) != 0 {
		t.Fatalf("IgnoreTargets: Apply registered %v", got)
	}
	var ids []string
	for i := range 10 {
		ids = append(ids, fmt.Sprintf("10.9.0.%d", i+10))
	}
	steps := []struct {
		name                 string
		want                 []string
		reg, dereg, mutating int
	}{
		{"register 10 in batches of 3", ids, 10, 0, 4},
		{"idempotent", ids, 0, 0, 0},
		{"shrink to 4", ids[:4], 0, 6, 2},
		{"swap", append(slices.Clone(ids[:2]), "10.9.1.1"), 1, 2, 2},
	}
	for _, st := range steps {
		e.srv.ResetRequests()
		res, err := p.SyncTargets(ctx, nil, arn, targets(st.want...))
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if res.Registered != st.reg || res.Deregistered != st.dereg || len(e.srv.MutatingRequests()) != st.mutating {
			t.Fatalf("%s: %+v, %d mutating calls; want %d/%d/%d", st.name, res, len(e.srv.MutatingRequests()), st.reg, st.dereg, st.mutating)
		}
		want := slices.Clone(st.want)
		slices.Sort(want)
		if got := registered(t, e, arn); !slices.Equal(got, want) {
			t.Fatalf("%s: registered %v, want %v", st.name, got, want)
		}
	}
}

// Rollout registers the new targets, waits until they are healthy and
// only then deregisters the old ones; the clock of the endpoint moves a
// minute per waiter poll.
func TestRollout(t *testing.T) {
	clock := elbtest.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := newEnv(t, elbtest.Options{Seed: 6, Clock: clock})
	var msgs []string
	p := e.provisioner(t, "shop", func(o *provision.Options) {
		o.Progress = func(ev provision.Progress) {
			if ev.Phase == "wait" {
				msgs = append(msgs, ev.Message)
				clock.Advance(time.Minute)
			}
		}
	})
	ctx := context.Background()
	if _, err := p.Apply(ctx, demoStack()); err != nil {
		t.Fatal(err)
	}
	arn := tgARN(t, e, "web")
	clock.Advance(10 * time.Minute)
	e.srv.ResetRequests()
	ro := provision.RolloutOptions{MaxWait: time.Minute, MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
	res, err := p.Rollout(ctx, nil, arn, targets("10.0.0.3", "10.0.0.4"), ro)
	if err != nil {
		t.Fatal(err)
	}
	if res.Registered != 2 || res.Deregistered != 2 {
		t.Fatalf("rollout: %+v", res)
	}
	// Order: register, health polls until healthy, deregister.
	var ops []string
	for _, r := range e.srv.Requests() {
		if len(ops) == 0 || ops[len(ops)-1] != r.Operation {
			ops = append(ops, r.Operation)
		}
	}
	if want := []string{"DescribeTargetHealth", "RegisterTargets", "DescribeTargetHealth", "DeregisterTargets"}; !slices.Equal(ops, want) {
		t.Fatalf("calls %v, want %v", ops, want)
	}
	if len(msgs) < 2 || !strings.Contains(msgs[len(msgs)-1], "2/2 targets healthy") {
		t.Fatalf("progress: %q", msgs)
	}

	// New targets that never become healthy: the old ones stay.
	if err := e.srv.FailTarget("10.0.0.9", 0, ""); err != nil {
		t.Fatal(err)
	}
	ro.MaxWait = 200 * time.Millisecond
	if _, err := p.Rollout(ctx, nil, arn, targets("10.0.0.9"), ro); err == nil {
		t.Fatal("rollout to a failing target succeeded")
	}
	if got := registered(t, e, arn); !slices.Equal(got, []string{"10.0.0.3", "10.0.0.4", "10.0.0.9"}) {
		t.Fatalf("after a failed rollout: %v", got)
	}
}

func TestWaitActiveProgress(t *testing.T) {
	clock := elbtest.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := newEnv(t, elbtest.Options{Seed: 7, Clock: clock, ProvisioningDelay: 3 * time.Minute})
	var msgs []string
	p := e.provisioner(t, "shop", func(o *provision.Options) {
		o.Progress = func(ev provision.Progress) {
			if ev.Phase == "wait" {
				msgs = append(msgs, ev.Message)
				clock.Advance(time.Minute)
			}
		}
	})
	ctx := context.Background()
	if _, err := p.Apply(ctx, demoStack()); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitActive(ctx, demoStack(), time.Minute, func(o *elbv2.LoadBalancerAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 2*time.Millisecond
	}); err != nil {
		t.Fatal(err)
	}
	if len(msgs) < 2 || !strings.Contains(msgs[0], "demo:provisioning") || !strings.Contains(msgs[len(msgs)-1], "demo:active") {
		t.Fatalf("progress: %q", msgs)
	}
}
