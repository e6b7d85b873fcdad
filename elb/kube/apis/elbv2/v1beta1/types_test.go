package v1beta1

import (
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

func full() *TargetGroupBinding {
	ip := TargetTypeIP
	proto := NetworkingProtocol("TCP")
	port := intstr.FromInt32(80)
	fam := IPAddressTypeIPv4
	gen := int64(3)
	return &TargetGroupBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "b", Labels: map[string]string{"a": "b"}},
		Spec: TargetGroupBindingSpec{
			TargetGroupARN: "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/tg/0123abcd",
			TargetType:     &ip, ServiceRef: ServiceReference{Name: "svc", Port: intstr.FromInt32(80)},
			Networking: &TargetGroupBindingNetworking{Ingress: []NetworkingIngressRule{{
				From:  []NetworkingPeer{{IPBlock: &IPBlock{CIDR: "10.0.0.0/8"}}, {SecurityGroup: &SecurityGroup{GroupID: "sg-1"}}},
				Ports: []NetworkingPort{{Protocol: &proto, Port: &port}},
			}}},
			NodeSelector:  &metav1.LabelSelector{MatchLabels: map[string]string{"pool": "a"}},
			IPAddressType: &fam,
		},
		Status: TargetGroupBindingStatus{ObservedGeneration: &gen, Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue}}},
	}
}

// TestDeepCopy: the generated copy is equal and shares no memory.
func TestDeepCopy(t *testing.T) {
	a := full()
	b := a.DeepCopy()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("copy differs")
	}
	*b.Spec.TargetType = TargetTypeInstance
	b.Spec.Networking.Ingress[0].From[0].IPBlock.CIDR = "0.0.0.0/0"
	b.Spec.NodeSelector.MatchLabels["pool"] = "b"
	*b.Status.ObservedGeneration = 4
	b.Labels["a"] = "c"
	if !reflect.DeepEqual(a, full()) {
		t.Error("changing the copy changed the original")
	}
	if _, ok := a.DeepCopyObject().(*TargetGroupBinding); !ok {
		t.Error("DeepCopyObject type")
	}
	l := &TargetGroupBindingList{Items: []TargetGroupBinding{*a}}
	if !reflect.DeepEqual(l.DeepCopy(), l) {
		t.Error("list copy differs")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*TargetGroupBinding)
		want string // a field path in the error, "" for valid
	}{
		{"valid", func(*TargetGroupBinding) {}, ""},
		{"chapter short account", func(b *TargetGroupBinding) {
			b.Spec.TargetGroupARN = "arn:aws:elasticloadbalancing:eu-central-1:112233:targetgroup/existing-target-group/234"
		}, ""},
		{"name only", func(b *TargetGroupBinding) { b.Spec.TargetGroupARN, b.Spec.TargetGroupName = "", "tg" }, ""},
		{"no target group", func(b *TargetGroupBinding) { b.Spec.TargetGroupARN = "" }, "spec.targetGroupARN"},
		{"bad arn", func(b *TargetGroupBinding) { b.Spec.TargetGroupARN = "arn:aws:s3:::bucket" }, "spec.targetGroupARN"},
		{"bad type", func(b *TargetGroupBinding) { tt := TargetType("pod"); b.Spec.TargetType = &tt }, "spec.targetType"},
		{"bad family", func(b *TargetGroupBinding) { f := TargetGroupIPAddressType("v6"); b.Spec.IPAddressType = &f }, "spec.ipAddressType"},
		{"no service", func(b *TargetGroupBinding) { b.Spec.ServiceRef.Name = "" }, "spec.serviceRef.name"},
		{"bad port", func(b *TargetGroupBinding) { b.Spec.ServiceRef.Port = intstr.FromInt32(0) }, "spec.serviceRef.port"},
		{"peer both", func(b *TargetGroupBinding) {
			b.Spec.Networking.Ingress[0].From[0].SecurityGroup = &SecurityGroup{GroupID: "sg"}
		}, "spec.networking.ingress[0].from[0]"},
	}
	for _, tc := range tests {
		b := full()
		tc.mod(b)
		errs := b.Validate()
		if tc.want == "" {
			if len(errs) != 0 {
				t.Errorf("%s: %v", tc.name, errs)
			}
			continue
		}
		if len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), tc.want) {
			t.Errorf("%s: %v, want %s", tc.name, errs, tc.want)
		}
	}
}

func TestYAMLFieldNames(t *testing.T) {
	j, err := yaml.Marshal(full().Spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"targetGroupARN:", "serviceRef:", "ipBlock:", "groupID:", "nodeSelector:", "ipAddressType:"} {
		if !strings.Contains(string(j), k) {
			t.Errorf("%s missing from\n%s", k, j)
		}
	}
}
