package kube_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/kube"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func translateFile(t *testing.T, name string) *kube.Translation {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := kube.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := kube.Translate(objs, kube.Options{ClusterName: "lbkit", VPCID: "vpc-1"})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// golden compares got with testdata/NAME.golden (or rewrites it with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, got)
	}
}

// The reference chapter's manifests, read unchanged, give what its README
// describes.
func TestChapterManifests(t *testing.T) {
	for _, name := range []string{"2048_full.yaml", "nlb-service.yaml", "targetgroupbinding.yaml"} {
		t.Run(name, func(t *testing.T) {
			tr := translateFile(t, name)
			s := tr.Stack
			s.Defaults()
			if len(s.LoadBalancers) > 0 {
				// The stack is valid but for subnets that discovery fills.
				for _, lb := range s.LoadBalancers {
					if lb.SubnetSelector == nil {
						t.Errorf("%s: no subnet selector", lb.Name)
					}
				}
			}
			if err := s.Validate(); err != nil {
				t.Errorf("the stack does not validate: %v", err)
			}
			js, err := elb.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(name, ".yaml")+".stack", js)
		})
	}

	t.Run("2048 is an internet-facing ALB, HTTP:80, / to an ip target group on port 80, checked every 15 s", func(t *testing.T) {
		s := translateFile(t, "2048_full.yaml").Stack
		if len(s.LoadBalancers) != 1 || len(s.TargetGroups) != 1 {
			t.Fatalf("%d load balancers, %d target groups; want 1, 1", len(s.LoadBalancers), len(s.TargetGroups))
		}
		lb, tg := s.LoadBalancers[0], s.TargetGroups[0]
		if lb.Type != elb.LoadBalancerTypeApplication || lb.Scheme != elb.SchemeInternetFacing || lb.SubnetSelector.Tags[elb.TagRoleELB] != "" {
			t.Errorf("load balancer %s %s, selector %v", lb.Type, lb.Scheme, lb.SubnetSelector)
		}
		if _, ok := lb.SubnetSelector.Tags[elb.TagRoleELB]; !ok {
			t.Errorf("subnets not selected by %s", elb.TagRoleELB)
		}
		if len(lb.Listeners) != 1 || lb.Listeners[0].Protocol != elb.ProtocolHTTP || lb.Listeners[0].Port != 80 {
			t.Fatalf("listeners %+v", lb.Listeners)
		}
		rules := lb.Listeners[0].Rules
		if len(rules) != 1 || rules[0].Conditions[0].Values[0] != "/*" || rules[0].Actions[0].Forward.TargetGroups[0].TargetGroup != tg.Name {
			t.Errorf("rules %+v", rules)
		}
		if tg.TargetType != elb.TargetTypeIP || tg.Port != 80 || tg.Protocol != elb.ProtocolHTTP || tg.HealthCheck.IntervalSeconds != 15 {
			t.Errorf("target group %s %s:%d interval %d", tg.TargetType, tg.Protocol, tg.Port, tg.HealthCheck.IntervalSeconds)
		}
	})
	t.Run("the NLB is internet-facing, TCP:80, ip target group, TCP check on the traffic port", func(t *testing.T) {
		s := translateFile(t, "nlb-service.yaml").Stack
		lb, tg := s.LoadBalancers[0], s.TargetGroups[0]
		if lb.Type != elb.LoadBalancerTypeNetwork || lb.Scheme != elb.SchemeInternetFacing || lb.Listeners[0].Protocol != elb.ProtocolTCP || lb.Listeners[0].Port != 80 {
			t.Errorf("load balancer %+v", lb)
		}
		if tg.TargetType != elb.TargetTypeIP || tg.Port != 80 || tg.HealthCheck.Protocol != elb.ProtocolTCP || tg.HealthCheck.Port != elb.TrafficPort {
			t.Errorf("target group %+v", tg)
		}
	})
	t.Run("the binding names its target group by ARN and the Service port", func(t *testing.T) {
		tr := translateFile(t, "targetgroupbinding.yaml")
		if len(tr.Bindings) != 1 || tr.Bindings[0].TargetGroupARN != "arn:aws:elasticloadbalancing:eu-central-1:112233:targetgroup/existing-target-group/234" {
			t.Fatalf("bindings %+v", tr.Bindings)
		}
		if len(tr.Stack.LoadBalancers) != 0 {
			t.Errorf("a binding alone made load balancers: %+v", tr.Stack.LoadBalancers)
		}
	})
}

func TestDecodeSkipsOtherKinds(t *testing.T) {
	data, _ := os.ReadFile("testdata/2048_full.yaml")
	objs, err := kube.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range objs.Skipped {
		got = append(got, r.String())
	}
	if strings.Join(got, ";") != "Namespace game-2048;Deployment game-2048/deployment-2048" {
		t.Errorf("skipped %v", got)
	}
	if len(objs.Ingresses) != 1 || len(objs.Services) != 1 {
		t.Errorf("%d ingresses, %d services", len(objs.Ingresses), len(objs.Services))
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"no kind", "apiVersion: v1\nmetadata: {name: x}\n", "apiVersion and kind are required"},
		{"unknown field", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {portz: []}\n", "unknown field"},
		{"not yaml", "apiVersion: [\n", "document 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := kube.Decode([]byte(tc.doc))
			if !errors.Is(err, kube.ErrDecode) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decode = %v, want ErrDecode with %q", err, tc.want)
			}
		})
	}
}
