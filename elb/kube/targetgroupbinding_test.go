package kube_test

import (
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/lbkit/lbkit/elb/kube"
)

func TestTargetGroupBindingValidate(t *testing.T) {
	valid := func() *kube.TargetGroupBinding {
		return &kube.TargetGroupBinding{Spec: kube.TargetGroupBindingSpec{
			TargetGroupARN: "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/web/0123456789abcdef",
			ServiceRef:     kube.ServiceReference{Name: "web", Port: intstr.FromInt32(80)},
		}}
	}
	ptr := func(s string) *string { return &s }
	tt := func(s string) *kube.TargetType { v := kube.TargetType(s); return &v }
	tests := []struct {
		name   string
		change func(*kube.TargetGroupBinding)
		want   string // field path of the error; "" means valid
	}{
		{"valid", func(*kube.TargetGroupBinding) {}, ""},
		{"the chapter's short account ID", func(b *kube.TargetGroupBinding) {
			b.Spec.TargetGroupARN = "arn:aws:elasticloadbalancing:eu-central-1:112233:targetgroup/existing-target-group/234"
		}, ""},
		{"China partition", func(b *kube.TargetGroupBinding) {
			b.Spec.TargetGroupARN = "arn:aws-cn:elasticloadbalancing:cn-north-1:123456789012:targetgroup/web/abc"
		}, ""},
		{"by name", func(b *kube.TargetGroupBinding) { b.Spec.TargetGroupARN, b.Spec.TargetGroupName = "", "web" }, ""},
		{"neither", func(b *kube.TargetGroupBinding) { b.Spec.TargetGroupARN = "" }, "spec.targetGroupARN"},
		{"load balancer ARN", func(b *kube.TargetGroupBinding) {
			b.Spec.TargetGroupARN = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:loadbalancer/app/web/0123456789abcdef"
		}, "spec.targetGroupARN"},
		{"long name", func(b *kube.TargetGroupBinding) {
			b.Spec.TargetGroupARN, b.Spec.TargetGroupName = "", strings.Repeat("a", 33)
		}, "spec.targetGroupName"},
		{"target type", func(b *kube.TargetGroupBinding) { b.Spec.TargetType = tt("lambda") }, "spec.targetType"},
		{"no service", func(b *kube.TargetGroupBinding) { b.Spec.ServiceRef.Name = "" }, "spec.serviceRef.name"},
		{"port 0", func(b *kube.TargetGroupBinding) { b.Spec.ServiceRef.Port = intstr.FromInt32(0) }, "spec.serviceRef.port"},
		{"ip address type", func(b *kube.TargetGroupBinding) { b.Spec.IPAddressType = ptr("ipv5") }, "spec.ipAddressType"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := valid()
			tc.change(b)
			errs := b.Validate()
			if tc.want == "" {
				if len(errs) != 0 {
					t.Fatalf("Validate = %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Field != tc.want {
				t.Fatalf("Validate = %v, want one error on %s", errs, tc.want)
			}
		})
	}
}

func TestTargetGroupBindingDeepCopy(t *testing.T) {
	tt := kube.TargetTypeIP
	proto := "TCP"
	port := intstr.FromInt32(80)
	gen := int64(3)
	b := &kube.TargetGroupBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "b", Labels: map[string]string{"a": "1"}},
		Spec: kube.TargetGroupBindingSpec{
			TargetGroupName: "web", TargetType: &tt, ServiceRef: kube.ServiceReference{Name: "web", Port: port},
			Networking: &kube.TargetGroupBindingNetworking{Ingress: []kube.NetworkingIngressRule{{
				From:  []kube.NetworkingPeer{{IPBlock: &kube.IPBlock{CIDR: "10.0.0.0/8"}}, {SecurityGroup: &kube.SecurityGroup{GroupID: "sg-1"}}},
				Ports: []kube.NetworkingPort{{Protocol: &proto, Port: &port}},
			}}},
			NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "web"}},
		},
		Status: kube.TargetGroupBindingStatus{ObservedGeneration: &gen, Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue}}},
	}
	c := b.DeepCopyObject().(*kube.TargetGroupBinding)
	if !reflect.DeepEqual(b, c) {
		t.Fatalf("copy differs:\n%+v\n%+v", b, c)
	}
	// Changing the copy leaves the original alone, at every level.
	*c.Spec.TargetType = kube.TargetTypeInstance
	c.Spec.Networking.Ingress[0].From[0].IPBlock.CIDR = "0.0.0.0/0"
	*c.Spec.Networking.Ingress[0].Ports[0].Protocol = "UDP"
	c.Spec.NodeSelector.MatchLabels["role"] = "db"
	c.Labels["a"] = "2"
	*c.Status.ObservedGeneration = 4
	c.Status.Conditions[0].Status = metav1.ConditionFalse
	if *b.Spec.TargetType != kube.TargetTypeIP || b.Spec.Networking.Ingress[0].From[0].IPBlock.CIDR != "10.0.0.0/8" ||
		*b.Spec.Networking.Ingress[0].Ports[0].Protocol != "TCP" || b.Spec.NodeSelector.MatchLabels["role"] != "web" ||
		b.Labels["a"] != "1" || *b.Status.ObservedGeneration != 3 || b.Status.Conditions[0].Status != metav1.ConditionTrue {
		t.Errorf("the original changed with its copy: %+v", b)
	}
	if (*kube.TargetGroupBinding)(nil).DeepCopy() != nil {
		t.Error("DeepCopy of nil is not nil")
	}
}
