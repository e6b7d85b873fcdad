package kube_test

import (
	"fmt"
	"os"

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
