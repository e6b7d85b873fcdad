package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/provision"
)

// ConditionReady is the TargetGroupBinding status condition the Binder
// maintains: True when the target group's targets equal the Service's
// ready endpoints.
const ConditionReady = "Ready"

// Binder keeps the target group of a TargetGroupBinding registered with
// exactly the binding's targets, through elb/provision: one describe, then
// the difference registered and deregistered in batches, with retries and
// rate limits. Targets draining out count as absent, so a pod that comes
// back is registered again.
type Binder struct {
	// Provisioner makes the calls (its retries, rate limits and batch
	// size apply).
	Provisioner *provision.Provisioner
	// Client is the ELBv2 client; nil means the Provisioner's own.
	Client provision.TargetsAPI
	// Now stamps status conditions; nil means time.Now.
	Now func() time.Time
}

// ErrNoTargetGroupARN is returned for a binding that names its target
// group only by name: resolving the name is the caller's (one
// DescribeTargetGroups call).
var ErrNoTargetGroupARN = errors.New("kube: binding has no target group ARN")

// Bind syncs b's targets into its target group — arn when not empty (a
// caller that resolved a name, or maps an example ARN to a real one), else
// b.TargetGroupARN — and records the outcome as the Ready condition of
// b.Source's status.
func (bd *Binder) Bind(ctx context.Context, b Binding, arn string) (provision.TargetsResult, error) {
	if arn == "" {
		arn = b.TargetGroupARN
	}
	if arn == "" {
		return provision.TargetsResult{}, fmt.Errorf("%w: %s names target group %q", ErrNoTargetGroupARN, b.Object, b.TargetGroupName)
	}
	targets := b.Targets
	if targets == nil {
		targets = []elb.Target{}
	}
	res, err := bd.Provisioner.SyncTargets(ctx, bd.Client, arn, targets)
	if b.Source != nil {
		cond := metav1.Condition{Type: ConditionReady, Status: metav1.ConditionTrue, Reason: "TargetsSynced",
			Message: fmt.Sprintf("%d targets; registered %d, deregistered %d", len(targets), res.Registered, res.Deregistered)}
		if err != nil {
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, "SyncFailed", err.Error()
		}
		bd.setCondition(&b.Source.Status, cond, b.Source.Generation)
	}
	if err != nil {
		return res, fmt.Errorf("kube: binding %s: %w", b.Object, err)
	}
	return res, nil
}

// setCondition replaces the condition of the same type, keeping its
// transition time when the status did not change.
func (bd *Binder) setCondition(st *TargetGroupBindingStatus, c metav1.Condition, generation int64) {
	now := time.Now
	if bd.Now != nil {
		now = bd.Now
	}
	c.ObservedGeneration = generation
	c.LastTransitionTime = metav1.NewTime(now())
	for i := range st.Conditions {
		if st.Conditions[i].Type == c.Type {
			if st.Conditions[i].Status == c.Status {
				c.LastTransitionTime = st.Conditions[i].LastTransitionTime
			}
			st.Conditions[i] = c
			st.ObservedGeneration = &generation
			return
		}
	}
	st.Conditions = append(st.Conditions, c)
	st.ObservedGeneration = &generation
}
