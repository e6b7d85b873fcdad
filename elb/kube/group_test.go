package kube

import (
	"strings"
	"testing"

	"github.com/lbkit/lbkit/elb"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

func backend(svc string, port int32) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: port}}}
}

func TestIngressGroupMerge(t *testing.T) {
	g := IngressPrefix + "group.name"
	a := ingress("a", map[string]string{g: "shared", IngressPrefix + "group.order": "10", IngressPrefix + "scheme": "internet-facing", IngressPrefix + "tags": "team=a"},
		networkingv1.HTTPIngressPath{Path: "/a", PathType: ptr(networkingv1.PathTypePrefix), Backend: backend("web", 80)})
	b := ingress("b", map[string]string{g: "shared", IngressPrefix + "group.order": "-5", IngressPrefix + "tags": "env=dev",
		IngressPrefix + "listen-ports": `[{"HTTP":8080}]`},
		networkingv1.HTTPIngressPath{Path: "/b", PathType: ptr(networkingv1.PathTypeExact), Backend: backend("web", 80)})
	objs := Objects{Ingresses: []*networkingv1.Ingress{a, b}, Services: []*corev1.Service{svc("web", corev1.ServiceTypeNodePort, nil)}}
	res, err := Translate(objs, Options{VPCID: "vpc-1"})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Stacks["ingress-group/shared"]
	if s == nil || len(res.Stacks) != 1 {
		t.Fatalf("stacks %v", res.IDs())
	}
	lb := s.LoadBalancers[0]
	if lb.Scheme != elb.SchemeInternetFacing || lb.Tags["team"] != "a" || lb.Tags["env"] != "dev" || !strings.HasPrefix(lb.Name, "k8s-shared-") {
		t.Errorf("lb %+v", lb)
	}
	// b (order -5) listens on 8080 only, a (order 10) on the default 80.
	if l := lb.Listener(8080); l == nil || len(l.Rules) != 1 || l.Rules[0].Conditions[0].Values[0] != "/b" {
		t.Errorf("8080: %+v", l)
	}
	if l := lb.Listener(80); l == nil || len(l.Rules) != 1 || l.Rules[0].Conditions[0].Values[0] != "/a" {
		t.Errorf("80: %+v", l)
	}
	if len(s.TargetGroups) != 1 {
		t.Errorf("one Service port shared by both Ingresses is one target group, got %d", len(s.TargetGroups))
	}

	// Exclusive conflict: the error names the key and both Ingresses.
	b.Annotations[IngressPrefix+"scheme"] = "internal"
	res, err = Translate(objs, Options{})
	if err == nil || !strings.Contains(err.Error(), "ingress[ns/a].metadata.annotations["+IngressPrefix+"scheme]") || !strings.Contains(err.Error(), "ns/b") {
		t.Fatalf("conflict error %v", err)
	}
	if len(res.Stacks) != 0 {
		t.Error("conflicting group produced a stack")
	}
}

func TestGroupOrderRulePriority(t *testing.T) {
	g := IngressPrefix + "group.name"
	first := ingress("z-first", map[string]string{g: "g", IngressPrefix + "group.order": "1"},
		networkingv1.HTTPIngressPath{Path: "/x", PathType: ptr(networkingv1.PathTypeExact), Backend: backend("web", 80)})
	second := ingress("a-second", map[string]string{g: "g", IngressPrefix + "group.order": "2"},
		networkingv1.HTTPIngressPath{Path: "/y", PathType: ptr(networkingv1.PathTypeExact), Backend: backend("web", 80)})
	res, err := Translate(Objects{Ingresses: []*networkingv1.Ingress{second, first}, Services: []*corev1.Service{svc("web", corev1.ServiceTypeNodePort, nil)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rules := res.Stacks["ingress-group/g"].LoadBalancers[0].Listener(80).Rules
	if rules[0].Priority != 1 || rules[0].Conditions[0].Values[0] != "/x" || rules[1].Conditions[0].Values[0] != "/y" {
		t.Errorf("rules by group.order: %+v %+v", rules[0], rules[1])
	}
}

func TestActionsAndConditions(t *testing.T) {
	ann := map[string]string{
		IngressPrefix + "actions.blue-green":    `{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"web","servicePort":"80","weight":80},{"serviceName":"canary","servicePort":80,"weight":20}],"targetGroupStickinessConfig":{"enabled":true,"durationSeconds":200}}}`,
		IngressPrefix + "conditions.blue-green": `[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"X-Canary","values":["yes"]}},{"field":"source-ip","sourceIpConfig":{"values":["10.0.0.0/8"]}}]`,
		IngressPrefix + "actions.gone":          `{"type":"fixed-response","fixedResponseConfig":{"contentType":"text/plain","statusCode":"410","messageBody":"gone"}}`,
	}
	ing := ingress("ing", ann,
		networkingv1.HTTPIngressPath{Path: "/", PathType: ptr(networkingv1.PathTypePrefix), Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "blue-green", Port: networkingv1.ServiceBackendPort{Name: UseAnnotation}}}},
		networkingv1.HTTPIngressPath{Path: "/old", PathType: ptr(networkingv1.PathTypeExact), Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "gone", Port: networkingv1.ServiceBackendPort{Name: UseAnnotation}}}},
	)
	web := svc("web", corev1.ServiceTypeNodePort, nil)
	web.Spec.Ports[0].Name = ""
	objs := Objects{Ingresses: []*networkingv1.Ingress{ing}, Services: []*corev1.Service{web, svc("canary", corev1.ServiceTypeNodePort, nil)}}
	res, err := Translate(objs, Options{VPCID: "vpc-1"})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Stacks["ingress/ns/ing"]
	rules := s.LoadBalancers[0].Listener(80).Rules
	if len(rules) != 2 || len(s.TargetGroups) != 2 {
		t.Fatalf("rules %d, target groups %d", len(rules), len(s.TargetGroups))
	}
	f := rules[0].Actions[0].Forward
	if f == nil || len(f.TargetGroups) != 2 || *f.TargetGroups[0].Weight != 80 || f.Stickiness == nil || f.Stickiness.DurationSeconds != 200 {
		t.Errorf("forward %+v", f)
	}
	if len(rules[0].Conditions) != 3 || rules[0].Conditions[1].HTTPHeaderName != "X-Canary" {
		t.Errorf("conditions %+v", rules[0].Conditions)
	}
	if a := rules[1].Actions[0]; a.Type != elb.ActionFixedResponse || a.FixedResponse.StatusCode != "410" {
		t.Errorf("fixed response %+v", a)
	}
	c := cloneStack(t, s)
	c.Defaults()
	if err := c.Validate(); err != nil {
		t.Error(err)
	}

	// A bad action names its key; a missing one too.
	ann[IngressPrefix+"actions.gone"] = `{"type":"fixed-response"}`
	if _, err := Translate(objs, Options{}); err == nil || !strings.Contains(err.Error(), "["+IngressPrefix+"actions.gone]") {
		t.Errorf("bad action: %v", err)
	}
	delete(ann, IngressPrefix+"actions.gone")
	if _, err := Translate(objs, Options{}); err == nil || !strings.Contains(err.Error(), "["+IngressPrefix+"actions.gone]: Required") {
		t.Errorf("missing action: %v", err)
	}
}

func TestParseAction(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{`{"type":"redirect","redirectConfig":{"protocol":"HTTPS","port":"443","statusCode":"HTTP_301"}}`, true},
		{`{"type":"forward","targetGroupARN":"arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/x/0123"}`, true},
		{`{"type":"redirect","redirectConfig":{"statusCode":"HTTP_307"}}`, false},
		{`{"type":"forward"}`, false},
		{`{"type":"authenticate-oidc"}`, false},
		{`{"type":"fixed-response","fixedResponseConfig":{"statusCode":"600"}}`, false},
		{`{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"a","servicePort":80,"weight":1000}]}}`, false},
		{`{"type":"forward","unknown":1}`, false},
		{`{} {}`, false},
	}
	for _, tc := range tests {
		if _, err := ParseAction(tc.in); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.in, err)
		}
	}
}

func TestParseConditions(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{`[{"field":"host-header","hostHeaderConfig":{"values":["a.example.com"]}}]`, true},
		{`[{"field":"query-string","queryStringConfig":{"values":[{"key":"v","value":"2"}]}}]`, true},
		{`[{"field":"http-request-method","httpRequestMethodConfig":{"values":["GET"]}}]`, true},
		{`[{"field":"path-pattern","values":["/x"]}]`, true},
		{`[{"field":"host-header","pathPatternConfig":{"values":["/x"]}}]`, false},
		{`[{"field":"source-ip","sourceIpConfig":{"values":["10.0.0.1"]}}]`, false},
		{`[{"field":"http-header","httpHeaderConfig":{"values":["x"]}}]`, false},
		{`[{"field":"host-header","hostHeaderConfig":{"values":[]}}]`, false},
		{`{"field":"host-header"}`, false},
	}
	for _, tc := range tests {
		if _, err := ParseConditions(tc.in); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.in, err)
		}
	}
}
