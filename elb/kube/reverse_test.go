package kube_test

import (
	"reflect"
	"testing"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/kube"
)

// Annotations printed from a stack translate back to the same load
// balancer and target group settings.
func TestIngressAnnotationsRoundTrip(t *testing.T) {
	const p = kube.IngressPrefix
	in := map[string]string{
		p + "load-balancer-name":           "shop",
		p + "scheme":                       "internet-facing",
		p + "subnets":                      "subnet-aaaa1,subnet-bbbb2",
		p + "security-groups":              "sg-1",
		p + "tags":                         "env=prod,team=web",
		p + "listen-ports":                 `[{"HTTP":80},{"HTTPS":443}]`,
		p + "certificate-arn":              "arn:aws:acm:us-east-1:123456789012:certificate/abc",
		p + "ssl-policy":                   "ELBSecurityPolicy-TLS13-1-2-2021-06",
		p + "target-type":                  "ip",
		p + "backend-protocol":             "HTTPS",
		p + "healthcheck-path":             "/healthz",
		p + "healthcheck-interval-seconds": "10",
		p + "success-codes":                "200-299",
	}
	first, err := translateDocs(t, ingressYAML("rt", in), webService)
	if err != nil {
		t.Fatal(err)
	}
	lb, tg := first.Stack.LoadBalancers[0], first.Stack.TargetGroups[0]
	out, err := kube.IngressAnnotations(lb, tg)
	if err != nil {
		t.Fatal(err)
	}
	second, err := translateDocs(t, ingressYAML("rt", out), webService)
	if err != nil {
		t.Fatal(err)
	}
	lb2, tg2 := second.Stack.LoadBalancers[0], second.Stack.TargetGroups[0]
	if lb.Name != lb2.Name || lb.Scheme != lb2.Scheme || !reflect.DeepEqual(lb.Subnets, lb2.Subnets) || !reflect.DeepEqual(lb.Tags, lb2.Tags) ||
		len(lb2.Listeners) != 2 || !reflect.DeepEqual(lb.Listener(443).Certificates, lb2.Listener(443).Certificates) || lb.Listener(443).SSLPolicy != lb2.Listener(443).SSLPolicy {
		t.Errorf("load balancer changed:\n%+v\n%+v", lb, lb2)
	}
	if !reflect.DeepEqual(tg.HealthCheck, tg2.HealthCheck) || tg.TargetType != tg2.TargetType || tg.Protocol != tg2.Protocol {
		t.Errorf("target group changed:\n%+v\n%+v", tg, tg2)
	}
	if _, err := kube.IngressAnnotations(elb.NewNetworkLoadBalancer("n"), nil); err == nil {
		t.Error("an NLB printed as Ingress annotations")
	}
}
