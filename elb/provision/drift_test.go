package provision_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/elbtest"
)

// A target group attribute the spec leaves at its default, changed out of
// band, is found by the next plan and reset by the next apply: the no-op
// path reads attributes in full for exactly this reason.
func TestTargetGroupAttributeDriftIsReset(t *testing.T) {
	e := newEnv(t, elbtest.Options{Seed: 3})
	p := e.provisioner(t, "drift")
	ctx := context.Background()
	stack := &elb.Stack{}
	stack.AddTargetGroup(elb.NewTargetGroup("web", elb.ProtocolHTTP, 8080, elb.TargetTypeIP))
	if _, err := p.Apply(ctx, stack); err != nil {
		t.Fatal(err)
	}
	tgs, err := e.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{})
	if err != nil || len(tgs.TargetGroups) != 1 {
		t.Fatalf("target groups: %v, %v", tgs, err)
	}
	arn := tgs.TargetGroups[0].TargetGroupArn
	const key = "deregistration_delay.timeout_seconds"
	get := func() string {
		out, err := e.elb.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: arn})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.Attributes {
			if aws.ToString(a.Key) == key {
				return aws.ToString(a.Value)
			}
		}
		return ""
	}
	before := get()
	if before == "" || before == "7" {
		t.Fatalf("%s = %q before the change; the test needs a default other than 7", key, before)
	}
	if _, err := e.elb.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{
		TargetGroupArn: arn, Attributes: []types.TargetGroupAttribute{{Key: aws.String(key), Value: aws.String("7")}},
	}); err != nil {
		t.Fatal(err)
	}
	pl, err := p.Plan(ctx, stack)
	if err != nil {
		t.Fatal(err)
	}
	if pl.Empty() {
		t.Fatal("plan missed the out-of-band attribute change")
	}
	if _, err := p.Apply(ctx, stack); err != nil {
		t.Fatal(err)
	}
	if got := get(); got != before {
		t.Fatalf("%s = %q after apply, want %q", key, got, before)
	}
}
