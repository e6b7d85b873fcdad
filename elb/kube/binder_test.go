package kube_test

import (
	"context"
	"errors"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lbkit/lbkit/elb/elbtest"
	"github.com/lbkit/lbkit/elb/kube"
	"github.com/lbkit/lbkit/elb/provision"
)

// The binder keeps an existing target group equal to the Service's ready
// endpoints, through elb/provision and the real SDK against elb/elbtest.
func TestBinder(t *testing.T) {
	srv := elbtest.NewServer(elbtest.Options{})
	t.Cleanup(srv.Close)
	cfg := srv.Config()
	ctx := context.Background()
	client := elbv2.NewFromConfig(cfg)
	vo, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil || len(vo.Vpcs) == 0 {
		t.Fatalf("DescribeVpcs: %v", err)
	}
	vpcs := *vo.Vpcs[0].VpcId
	out, err := client.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("existing"), Protocol: types.ProtocolEnumTcp,
		Port: aws.Int32(80), TargetType: types.TargetTypeEnumIp, VpcId: aws.String(vpcs)})
	if err != nil {
		t.Fatal(err)
	}
	arn := *out.TargetGroups[0].TargetGroupArn
	prov, err := provision.NewFromConfig(cfg, "binder")
	if err != nil {
		t.Fatal(err)
	}

	// The chapter's binding, with the Service and its endpoints.
	tr, err := translateDocs(t, chapterBinding, serviceYAML(map[string]string{kube.ServicePrefix + "nlb-target-type": "ip"}, ""),
		endpointSlice)
	if err != nil {
		t.Fatal(err)
	}
	b := tr.Bindings[0]
	bd := &kube.Binder{Provisioner: prov}
	registered := func() []string {
		h, err := client.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range h.TargetHealthDescriptions {
			if d.TargetHealth.State != types.TargetHealthStateEnumDraining {
				ids = append(ids, *d.Target.Id)
			}
		}
		sort.Strings(ids)
		return ids
	}
	// The chapter's ARN is an example (account 112233): bind to the real one.
	res, err := bd.Bind(ctx, b, arn)
	if err != nil {
		t.Fatal(err)
	}
	if got := registered(); len(got) != 2 || got[0] != "10.0.1.10" || res.Registered != 2 {
		t.Fatalf("registered %v (%+v), want the two ready endpoints", got, res)
	}
	if c := b.Source.Status.Conditions; len(c) != 1 || c[0].Type != kube.ConditionReady || c[0].Status != metav1.ConditionTrue {
		t.Errorf("status %+v", b.Source.Status)
	}

	// One endpoint goes away: it is deregistered, the other stays.
	b.Targets = b.Targets[:1]
	if res, err = bd.Bind(ctx, b, arn); err != nil || res.Deregistered != 1 || res.Registered != 0 {
		t.Fatalf("second bind: %+v, %v", res, err)
	}
	if got := registered(); len(got) != 1 || got[0] != "10.0.1.10" {
		t.Errorf("registered %v after one endpoint left", got)
	}
	// Nothing changed: no mutating call.
	srv.ResetRequests()
	if _, err := bd.Bind(ctx, b, arn); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.MutatingRequests()); n != 0 {
		t.Errorf("a no-op bind made %d mutating calls", n)
	}

	// A binding by name needs the caller to resolve it.
	_, err = bd.Bind(ctx, kube.Binding{TargetGroupName: "existing"}, "")
	if !errors.Is(err, kube.ErrNoTargetGroupARN) {
		t.Errorf("Bind by name = %v", err)
	}
	// A target group that does not exist: the condition turns False.
	bad := b
	if _, err := bd.Bind(ctx, bad, arn+"0"); err == nil {
		t.Fatal("Bind to a missing target group succeeded")
	}
	if c := b.Source.Status.Conditions[0]; c.Status != metav1.ConditionFalse || c.Reason != "SyncFailed" {
		t.Errorf("condition after a failure: %+v", c)
	}
}

const chapterBinding = `apiVersion: elbv2.k8s.aws/v1beta1
kind: TargetGroupBinding
metadata:
  name: existing-nlb
  namespace: ns
spec:
  serviceRef:
    name: nlb
    port: 80
  targetGroupARN: arn:aws:elasticloadbalancing:eu-central-1:112233:targetgroup/existing-target-group/234
`
