package kube_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/kube"
)

// node builds a Ready node in us-east-1a whose instance ID is i- and the
// 17-hex-digit form of n; opts adjust it.
func node(name string, n int, opts ...func(*corev1.Node)) *corev1.Node {
	nd := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"topology.kubernetes.io/zone": "us-east-1a"}},
		Spec:       corev1.NodeSpec{ProviderID: fmt.Sprintf("aws:///us-east-1a/i-%017x", n)},
		Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse}, {Type: corev1.NodeReady, Status: corev1.ConditionTrue}}},
	}
	for _, o := range opts {
		o(nd)
	}
	return nd
}

func label(k, v string) func(*corev1.Node) {
	return func(n *corev1.Node) { n.Labels[k] = v }
}

func taint(k string, e corev1.TaintEffect) func(*corev1.Node) {
	return func(n *corev1.Node) { n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: k, Effect: e}) }
}

func ready(s corev1.ConditionStatus) func(*corev1.Node) {
	return func(n *corev1.Node) { n.Status.Conditions[1].Status = s }
}

func providerID(p string) func(*corev1.Node) {
	return func(n *corev1.Node) { n.Spec.ProviderID = p }
}

func mustSelector(s string) labels.Selector {
	sel, err := labels.Parse(s)
	if err != nil {
		panic(err)
	}
	return sel
}

func iid(n int) string { return fmt.Sprintf("i-%017x", n) }

func localSlice(svc string, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: svc + "-x", Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		Endpoints:  eps,
	}
}

func ep(nodeName string, isReady *bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{Addresses: []string{"10.0.0.1"}, NodeName: &nodeName, Conditions: discoveryv1.EndpointConditions{Ready: isReady}}
}

func TestNodeTargets(t *testing.T) {
	yes, no := true, false
	cluster := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}}
	local := cluster.DeepCopy()
	local.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	sp := corev1.ServicePort{Port: 80, NodePort: 30080}
	tests := []struct {
		name  string
		nodes []*corev1.Node
		svc   *corev1.Service
		sel   kube.NodeSelection
		want  []string // node names, in order
	}{
		{name: "ready nodes, in order", nodes: []*corev1.Node{node("b", 2), node("a", 1)}, want: []string{"b", "a"}},
		{name: "not ready, unknown, or no Ready condition", nodes: []*corev1.Node{
			node("a", 1, ready(corev1.ConditionFalse)), node("b", 2, ready(corev1.ConditionUnknown)),
			node("c", 3, func(n *corev1.Node) { n.Status.Conditions = nil }), node("d", 4)}, want: []string{"d"}},
		{name: "exclusion labels, any value", nodes: []*corev1.Node{
			node("a", 1, label("node.kubernetes.io/exclude-from-external-load-balancers", "")),
			node("b", 2, label("node.kubernetes.io/exclude-from-external-load-balancers", "false")),
			node("c", 3, label("alpha.service-controller.kubernetes.io/exclude-balancer", "true")),
			node("d", 4, label("node-role.kubernetes.io/master", "")),
			node("e", 5, label("eks.amazonaws.com/compute-type", "fargate")),
			node("f", 6, label("eks.amazonaws.com/compute-type", "ec2")),
			node("g", 7, label("node-role.kubernetes.io/control-plane", ""))}, want: []string{"f", "g"}},
		{name: "being removed by an autoscaler", nodes: []*corev1.Node{
			node("a", 1, taint("ToBeDeletedByClusterAutoscaler", corev1.TaintEffectNoSchedule)),
			node("b", 2, taint("karpenter.sh/disrupted", corev1.TaintEffectNoSchedule)),
			node("c", 3, taint("karpenter.sh/disrupted", corev1.TaintEffectPreferNoSchedule)),
			node("d", 4, taint("node.kubernetes.io/unschedulable", corev1.TaintEffectNoSchedule))}, want: []string{"c", "d"}},
		{name: "cordoned and deleting nodes stay, as in ALBC", nodes: []*corev1.Node{
			node("a", 1, func(n *corev1.Node) { n.Spec.Unschedulable = true }),
			node("b", 2, func(n *corev1.Node) { now := metav1.Now(); n.DeletionTimestamp = &now })}, want: []string{"a", "b"}},
		{name: "target-node-labels: all must match", nodes: []*corev1.Node{
			node("a", 1, label("pool", "edge"), label("tier", "1")), node("b", 2, label("pool", "edge")), node("c", 3, label("pool", "core"), label("tier", "1"))},
			sel: kube.NodeSelection{Labels: map[string]string{"pool": "edge", "tier": "1"}}, want: []string{"a"}},
		{name: "selector with expressions", nodes: []*corev1.Node{
			node("a", 1, label("pool", "edge")), node("b", 2, label("pool", "core")), node("c", 3)},
			sel: kube.NodeSelection{Selector: mustSelector("pool in (edge, gpu)")}, want: []string{"a"}},
		{name: "same instance twice counts once", nodes: []*corev1.Node{node("a", 1), node("a-again", 1)}, want: []string{"a"}},
		{name: "excluded node's bad providerID is no error", nodes: []*corev1.Node{node("a", 1, ready(corev1.ConditionFalse), providerID("kind://docker/x")), node("b", 2)}, want: []string{"b"}},
		{name: "nil nodes skipped", nodes: []*corev1.Node{nil, node("a", 1)}, want: []string{"a"}},
		{name: "Local: only nodes with a ready endpoint", svc: local,
			nodes: []*corev1.Node{node("a", 1), node("b", 2), node("c", 3), node("d", 4)},
			sel: kube.NodeSelection{Slices: []*discoveryv1.EndpointSlice{
				localSlice("web", ep("a", &yes), ep("b", &no), ep("c", nil)),
				localSlice("other", ep("d", &yes))}},
			want: []string{"a", "c"}},
		{name: "Local without endpoints: none", svc: local, nodes: []*corev1.Node{node("a", 1)}, want: nil},
		{name: "Cluster policy ignores endpoints", svc: cluster, nodes: []*corev1.Node{node("a", 1), node("b", 2)},
			sel: kube.NodeSelection{Slices: []*discoveryv1.EndpointSlice{localSlice("web", ep("a", &yes))}}, want: []string{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kube.NodeTargets(tc.nodes, tc.svc, sp, tc.sel)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, nt := range got {
				names = append(names, nt.Node)
				if nt.Port != 30080 || nt.AvailabilityZone != "" || !strings.HasPrefix(nt.ID, "i-") {
					t.Errorf("%s: target %+v: want an instance ID on NodePort 30080, no availability zone", nt.Node, nt.Target)
				}
			}
			if !reflect.DeepEqual(names, tc.want) {
				t.Errorf("nodes %v, want %v", names, tc.want)
			}
		})
	}
}

func TestNodeTargetsProviderID(t *testing.T) {
	sp := corev1.ServicePort{Port: 80, NodePort: 30080}
	tests := []struct {
		providerID string
		id, zone   string // zone from the providerID (the node has no zone label)
		bad        string // substring of the error
	}{
		{providerID: "aws:///us-east-1a/i-0123456789abcdef0", id: "i-0123456789abcdef0", zone: "us-east-1a"},
		{providerID: "aws:///eu-west-1b/i-0123abcd", id: "i-0123abcd", zone: "eu-west-1b"},
		{providerID: "aws:////i-0123456789abcdef0", id: "i-0123456789abcdef0"},
		{providerID: "", bad: "empty"},
		{providerID: "gce://project/zone/vm-1", bad: "not an AWS provider ID"},
		{providerID: "aws://", bad: "no instance ID"},
		{providerID: "aws:///us-east-1a/", bad: "not an EC2 instance ID"},
		{providerID: "aws:///us-east-1a/i-XYZ", bad: "not an EC2 instance ID"},
		{providerID: "aws:///us-east-1a/i-0123456789ABCDEF0", bad: "not an EC2 instance ID"},
		{providerID: "aws:///us-east-1a/fargate-ip-10-0-0-1", bad: "not an EC2 instance ID"},
		{providerID: "aws:///a/b/i-0123456789abcdef0", bad: "more than a zone"},
	}
	for _, tc := range tests {
		t.Run(tc.providerID, func(t *testing.T) {
			n := node("ip-10-0-0-1", 1, providerID(tc.providerID), func(n *corev1.Node) { n.Labels = nil })
			got, err := kube.NodeTargets([]*corev1.Node{n}, nil, sp, kube.NodeSelection{})
			if tc.bad != "" {
				var ne *kube.NodeError
				if !errors.As(err, &ne) || ne.Node != "ip-10-0-0-1" || ne.ProviderID != tc.providerID || !strings.Contains(err.Error(), tc.bad) || !strings.Contains(err.Error(), "ip-10-0-0-1") {
					t.Fatalf("err %v, want a *NodeError naming the node and saying %q", err, tc.bad)
				}
				if got != nil {
					t.Errorf("targets %v with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := []kube.NodeTarget{{Target: elb.Target{ID: tc.id, Port: 30080}, Node: "ip-10-0-0-1", Zone: tc.zone}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestNodeTargetsZoneLabel(t *testing.T) {
	sp := corev1.ServicePort{Port: 80, NodePort: 30080}
	nodes := []*corev1.Node{
		node("a", 1, label("topology.kubernetes.io/zone", "us-east-1c")),
		node("b", 2, func(n *corev1.Node) {
			n.Labels = map[string]string{"failure-domain.beta.kubernetes.io/zone": "us-east-1d"}
		}),
	}
	got, err := kube.NodeTargets(nodes, nil, sp, kube.NodeSelection{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Zone != "us-east-1c" || got[1].Zone != "us-east-1d" {
		t.Errorf("zones %+v, want the labels' us-east-1c and us-east-1d", got)
	}
	if _, err := kube.NodeTargets(nodes, nil, corev1.ServicePort{Port: 80}, kube.NodeSelection{}); err == nil {
		t.Error("a port without a NodePort gave no error")
	}
}

// Translate with Options.Nodes fills instance target groups, honours
// target-node-labels, and reports a bad providerID by node.
func TestTranslateNodes(t *testing.T) {
	const p = kube.ServicePrefix
	nodes := []*corev1.Node{node("a", 1, label("pool", "edge")), node("b", 2), node("c", 3, label("node.kubernetes.io/exclude-from-external-load-balancers", "true"))}
	tests := []struct {
		name       string
		ann        map[string]string
		nodes      []*corev1.Node
		want       []elb.Target
		unsupports bool // target-node-labels reported as unsupported
		err        string
	}{
		{name: "no nodes: no targets", ann: map[string]string{p + "target-node-labels": "pool=edge"}, unsupports: true},
		{name: "all suitable nodes", nodes: nodes, want: []elb.Target{{ID: iid(1), Port: 30080}, {ID: iid(2), Port: 30080}}},
		{name: "target-node-labels", nodes: nodes, ann: map[string]string{p + "target-node-labels": "pool=edge"}, want: []elb.Target{{ID: iid(1), Port: 30080}}},
		{name: "bad target-node-labels", nodes: nodes, ann: map[string]string{p + "target-node-labels": "pool"}, err: p + "target-node-labels"},
		{name: "bad providerID", nodes: []*corev1.Node{node("ip-10-1-2-3", 1, providerID("aws:///us-east-1a/bogus"))}, err: "node ip-10-1-2-3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := kube.Decode([]byte(serviceYAML(tc.ann, "")))
			if err != nil {
				t.Fatal(err)
			}
			tr, err := kube.Translate(objs, kube.Options{VPCID: "vpc-1", Nodes: tc.nodes})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one naming %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tr.Stack.TargetGroups[0].Targets; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("targets %v, want %v", got, tc.want)
			}
			found := false
			for _, f := range tr.Unsupported {
				found = found || f.Key == p+"target-node-labels"
			}
			if found != tc.unsupports {
				t.Errorf("target-node-labels unsupported = %v, want %v (%v)", found, tc.unsupports, tr.Unsupported)
			}
		})
	}
}

// BenchmarkNodeTargets: 1,000 nodes, a tenth excluded by label, taint or
// readiness, for a Cluster and a Local Service (endpoints on every other
// node).
func BenchmarkNodeTargets(b *testing.B) {
	var nodes []*corev1.Node
	yes := true
	var eps []discoveryv1.Endpoint
	wantCluster, wantLocal := 0, 0
	for i := range 1000 {
		n := node(fmt.Sprintf("ip-10-0-%d-%d", i/256, i%256), i+1)
		switch i % 30 {
		case 0:
			n.Labels["node.kubernetes.io/exclude-from-external-load-balancers"] = "true"
		case 10:
			n.Spec.Taints = []corev1.Taint{{Key: "ToBeDeletedByClusterAutoscaler", Effect: corev1.TaintEffectNoSchedule}}
		case 20:
			n.Status.Conditions[1].Status = corev1.ConditionFalse
		}
		nodes = append(nodes, n)
		if i%2 == 0 {
			eps = append(eps, ep(n.Name, &yes))
		}
		if i%10 != 0 {
			wantCluster++
			if i%2 == 0 {
				wantLocal++
			}
		}
	}
	sp := corev1.ServicePort{Port: 80, NodePort: 30080}
	cluster := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}}
	local := cluster.DeepCopy()
	local.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	sel := kube.NodeSelection{Slices: []*discoveryv1.EndpointSlice{localSlice("web", eps...)}}
	for _, bc := range []struct {
		name string
		svc  *corev1.Service
		want int
	}{{"cluster", cluster, wantCluster}, {"local", local, wantLocal}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				got, err := kube.NodeTargets(nodes, bc.svc, sp, sel)
				if err != nil || len(got) != bc.want {
					b.Fatalf("%d targets, %v; want %d", len(got), err, bc.want)
				}
			}
		})
	}
}

// An Ingress's instance target groups get the nodes too; target-node-labels
// on the Ingress selects them, and two selections are two target groups.
func TestTranslateIngressNodes(t *testing.T) {
	const p = kube.IngressPrefix
	nodes := []*corev1.Node{node("a", 1, label("pool", "edge")), node("b", 2)}
	objs, err := kube.Decode([]byte(strings.Join([]string{
		ingressYAML("all", map[string]string{p + "group.name": "g"}),
		ingressYAML("edge", map[string]string{p + "group.name": "g", p + "target-node-labels": "pool=edge"}),
		webService}, "\n---\n")))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := kube.Translate(objs, kube.Options{VPCID: "vpc-1", Nodes: nodes})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]elb.Target
	for _, tg := range tr.Stack.TargetGroups {
		got = append(got, tg.Targets)
	}
	want := [][]elb.Target{{{ID: iid(1), Port: 30080}, {ID: iid(2), Port: 30080}}, {{ID: iid(1), Port: 30080}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("target groups' targets %v, want %v", got, want)
	}
}

// An instance TargetGroupBinding gets the nodes its spec.nodeSelector
// selects, on top of the default exclusions.
func TestTranslateBindingNodes(t *testing.T) {
	nodes := []*corev1.Node{node("a", 1, label("pool", "edge")), node("b", 2, label("pool", "core")),
		node("c", 3, label("pool", "edge"), label("node.kubernetes.io/exclude-from-external-load-balancers", ""))}
	tgb := `apiVersion: elbv2.k8s.aws/v1beta1
kind: TargetGroupBinding
metadata: {name: web, namespace: ns}
spec:
  targetGroupARN: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef
  targetType: instance
  serviceRef: {name: web, port: 80}
  nodeSelector:
    matchExpressions: [{key: pool, operator: In, values: [edge]}]
`
	objs, err := kube.Decode([]byte(tgb + "---\n" + webService))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := kube.Translate(objs, kube.Options{Nodes: nodes})
	if err != nil {
		t.Fatal(err)
	}
	want := []elb.Target{{ID: iid(1), Port: 30080}}
	if len(tr.Bindings) != 1 || !reflect.DeepEqual(tr.Bindings[0].Targets, want) {
		t.Errorf("bindings %+v, want targets %v", tr.Bindings, want)
	}
}
