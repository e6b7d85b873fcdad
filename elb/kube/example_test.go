package kube_test

import (
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lbkit/lbkit/elb/kube"
)

// The reference chapter's 2048 game: an Ingress of class alb becomes an
// internet-facing ALB forwarding / to an ip target group.
func Example() {
	manifest, err := os.ReadFile("testdata/2048_full.yaml")
	if err != nil {
		panic(err)
	}
	objs, err := kube.Decode(manifest)
	if err != nil {
		panic(err)
	}
	tr, err := kube.Translate(objs, kube.Options{VPCID: "vpc-1"})
	if err != nil {
		panic(err)
	}
	for _, lb := range tr.Stack.LoadBalancers {
		fmt.Println(lb.Type, lb.Scheme)
		for _, l := range lb.Listeners {
			for _, r := range l.Rules {
				tg := tr.Stack.TargetGroup(r.Actions[0].Forward.TargetGroups[0].TargetGroup)
				fmt.Printf("%s:%d %v -> %s target group on port %d, checked every %d s\n",
					l.Protocol, l.Port, r.Conditions[0].Values, tg.TargetType, tg.Port, tg.HealthCheck.IntervalSeconds)
			}
		}
	}
	for _, s := range tr.Skipped {
		fmt.Println("skipped:", s.Object)
	}
	// Output:
	// application internet-facing
	// HTTP:80 [/*] -> ip target group on port 80, checked every 15 s
	// skipped: Namespace game-2048
	// skipped: Deployment game-2048/deployment-2048
}

// Instance targets from the cluster's nodes: Ready nodes with an AWS
// providerID, minus those excluded from load balancers or being removed.
func ExampleNodeTargets() {
	readyNode := func(name, providerID, zone string) *corev1.Node {
		return &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"topology.kubernetes.io/zone": zone}},
			Spec:       corev1.NodeSpec{ProviderID: providerID},
			Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}},
		}
	}
	a := readyNode("ip-10-0-1-10", "aws:///us-east-1a/i-0123456789abcdef0", "us-east-1a")
	b := readyNode("ip-10-0-2-20", "aws:///us-east-1b/i-0fedcba9876543210", "us-east-1b")
	c := readyNode("ip-10-0-3-30", "aws:///us-east-1c/i-0aaaabbbbccccdddd", "us-east-1c")
	c.Labels[kube.LabelExcludeFromLB] = "true"
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}}
	port := corev1.ServicePort{Port: 80, NodePort: 30080}

	targets, err := kube.NodeTargets([]*corev1.Node{a, b, c}, svc, port, kube.NodeSelection{})
	if err != nil {
		panic(err)
	}
	for _, nt := range targets {
		fmt.Printf("%s:%d (%s in %s)\n", nt.ID, nt.Port, nt.Node, nt.Zone)
	}

	a.Spec.ProviderID = "kind://docker/kind/kind-worker"
	_, err = kube.NodeTargets([]*corev1.Node{a}, svc, port, kube.NodeSelection{})
	fmt.Println(err)
	// Output:
	// i-0123456789abcdef0:30080 (ip-10-0-1-10 in us-east-1a)
	// i-0fedcba9876543210:30080 (ip-10-0-2-20 in us-east-1b)
	// kube: node ip-10-0-1-10: spec.providerID "kind://docker/kind/kind-worker": not an AWS provider ID (aws:///ZONE/i-…)
}
