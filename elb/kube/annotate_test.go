package kube_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/kube"
)

// roundTrip translates a manifest, turns the result back into annotations,
// puts them on the object in place of its own and translates again: the
// stack must come out the same.
func roundTrip(t *testing.T, file string, extra map[string]string, ingress bool) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	decode := func() *kube.Objects {
		objs, err := kube.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		return objs
	}
	opts := kube.Options{ClusterName: "lbkit", VPCID: "vpc-1"}
	objs := decode()
	target := func(o *kube.Objects) map[string]string {
		if ingress {
			if o.Ingresses[0].Annotations == nil {
				o.Ingresses[0].Annotations = map[string]string{}
			}
			return o.Ingresses[0].Annotations
		}
		for _, s := range o.Services {
			if s.Spec.Type == "LoadBalancer" {
				return s.Annotations
			}
		}
		t.Fatal("no LoadBalancer Service")
		return nil
	}
	maps.Copy(target(objs), extra)
	first, err := kube.Translate(objs, opts)
	if err != nil {
		t.Fatal(err)
	}
	lb := first.Stack.LoadBalancers[0]
	tg := first.Stack.TargetGroups[0]
	var ann map[string]string
	if ingress {
		ann, err = kube.IngressAnnotations(lb, tg)
	} else {
		ann, err = kube.ServiceAnnotations(lb, tg)
	}
	if err != nil {
		t.Fatal(err)
	}
	objs2 := decode()
	a := target(objs2)
	clear(a)
	maps.Copy(a, ann)
	second, err := kube.Translate(objs2, opts)
	if err != nil {
		t.Fatalf("%v\nannotations: %v", err, ann)
	}
	j1, _ := json.MarshalIndent(first.Stack, "", " ")
	j2, _ := json.MarshalIndent(second.Stack, "", " ")
	if string(j1) != string(j2) {
		t.Errorf("round trip changed the stack\nannotations %v\n--- first\n%s\n--- second\n%s", ann, j1, j2)
	}
}

func TestIngressAnnotationsRoundTripRich(t *testing.T) {
	const p = kube.IngressPrefix
	t.Run("chapter", func(t *testing.T) { roundTrip(t, "2048_full.yaml", nil, true) })
	t.Run("rich", func(t *testing.T) {
		roundTrip(t, "2048_full.yaml", map[string]string{
			p + "listen-ports":                 `[{"HTTP":80},{"HTTPS":443}]`,
			p + "certificate-arn":              "arn:aws:acm:eu-central-1:123456789012:certificate/abc",
			p + "ssl-policy":                   "ELBSecurityPolicy-TLS13-1-2-2021-06",
			p + "ssl-redirect":                 "443",
			p + "subnets":                      "subnet-a,subnet-b",
			p + "security-groups":              "sg-1",
			p + "ip-address-type":              "dualstack",
			p + "tags":                         "team=games,env=dev",
			p + "backend-protocol-version":     "HTTP2",
			p + "healthcheck-path":             "/healthz",
			p + "healthcheck-interval-seconds": "30",
			p + "healthcheck-timeout-seconds":  "6",
			p + "healthy-threshold-count":      "3",
			p + "unhealthy-threshold-count":    "4",
			p + "success-codes":                "200-299",
			p + "healthcheck-port":             "8081",
		}, true)
	})
}

func TestServiceAnnotationsRoundTrip(t *testing.T) {
	const p = kube.ServicePrefix
	t.Run("chapter", func(t *testing.T) { roundTrip(t, "nlb-service.yaml", nil, false) })
	t.Run("rich", func(t *testing.T) {
		roundTrip(t, "nlb-service.yaml", map[string]string{
			p + "subnets":                         "subnet-a,subnet-b",
			p + "eip-allocations":                 "eipalloc-1,eipalloc-2",
			p + "additional-resource-tags":        "team=games",
			p + "healthcheck-protocol":            "HTTP",
			p + "healthcheck-path":                "/healthz",
			p + "healthcheck-success-codes":       "200",
			p + "healthcheck-interval":            "30",
			p + "healthcheck-timeout":             "6",
			p + "healthcheck-healthy-threshold":   "2",
			p + "healthcheck-unhealthy-threshold": "2",
			p + "healthcheck-port":                "8081",
			p + "proxy-protocol":                  "*",
		}, false)
	})
}

func TestServiceAnnotationsNotExpressed(t *testing.T) {
	nlb := elb.NewNetworkLoadBalancer("x")
	nlb.SubnetSelector = &elb.SubnetSelector{Tags: elb.Tags{"tier": "web"}}
	if _, err := kube.ServiceAnnotations(nlb, nil); err == nil || !strings.Contains(err.Error(), "subnetSelector") {
		t.Errorf("selector: %v", err)
	}
	if _, err := kube.ServiceAnnotations(elb.NewApplicationLoadBalancer("x"), nil); err == nil {
		t.Error("an ALB as a Service: no error")
	}
}

// FuzzAnnotationsRoundTrip: whatever annotations Translate accepts, the
// annotations IngressAnnotations gives back for its result rebuild the same
// stack (or say what they cannot express).
func FuzzAnnotationsRoundTrip(f *testing.F) {
	f.Add("internet-facing", `[{"HTTP":80},{"HTTPS":443}]`, "arn:aws:acm:eu-central-1:123456789012:certificate/a", "30", "200-299", "a=b,c=d")
	f.Add("internal", `[{"HTTP":8080}]`, "", "15", "200", "")
	f.Add("", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, scheme, ports, cert, interval, codes, tags string) {
		const p = kube.IngressPrefix
		in := map[string]string{}
		for k, v := range map[string]string{"scheme": scheme, "listen-ports": ports, "certificate-arn": cert,
			"healthcheck-interval-seconds": interval, "success-codes": codes, "tags": tags} {
			if v != "" {
				in[p+k] = v
			}
		}
		data, err := os.ReadFile(filepath.Join("testdata", "2048_full.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		translate := func(ann map[string]string) (*kube.Translation, error) {
			objs, err := kube.Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			maps.Copy(objs.Ingresses[0].Annotations, ann)
			return kube.Translate(objs, kube.Options{VPCID: "vpc-1"})
		}
		first, err := translate(in)
		if err != nil {
			return
		}
		ann, err := kube.IngressAnnotations(first.Stack.LoadBalancers[0], first.Stack.TargetGroups[0])
		if err != nil {
			return
		}
		objs, _ := kube.Decode(data)
		clear(objs.Ingresses[0].Annotations)
		maps.Copy(objs.Ingresses[0].Annotations, ann)
		second, err := kube.Translate(objs, kube.Options{VPCID: "vpc-1"})
		if err != nil {
			t.Fatalf("%v from %v (input %v)", err, ann, in)
		}
		j1, _ := json.Marshal(first.Stack)
		j2, _ := json.Marshal(second.Stack)
		if string(j1) != string(j2) {
			t.Fatalf("round trip changed the stack: input %v, annotations %v\n%s\n%s", in, ann, j1, j2)
		}
	})
}
