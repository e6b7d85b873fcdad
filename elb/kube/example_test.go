package kube_test

import (
	"fmt"
	"os"
	"sort"

	"github.com/lbkit/lbkit/elb"
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

// The reverse direction: the annotations that make the AWS Load Balancer
// Controller build a given ALB and target group.
func ExampleIngressAnnotations() {
	web := elb.NewTargetGroup("web", elb.ProtocolHTTP, 8080, elb.TargetTypeIP)
	web.HealthCheck.Path = "/healthz"
	alb := elb.NewApplicationLoadBalancer("demo")
	alb.Scheme = elb.SchemeInternetFacing
	alb.AddListener(elb.ProtocolHTTP, 80, elb.Forward(web))

	ann, notExpressed := kube.IngressAnnotations(alb, web)
	keys := make([]string, 0, len(ann))
	for k := range ann {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%s: %s\n", k, ann[k])
	}
	fmt.Println("not expressed:", notExpressed)
	// Output:
	// alb.ingress.kubernetes.io/healthcheck-path: /healthz
	// alb.ingress.kubernetes.io/load-balancer-name: demo
	// alb.ingress.kubernetes.io/scheme: internet-facing
	// alb.ingress.kubernetes.io/target-type: ip
	// not expressed: []
}
