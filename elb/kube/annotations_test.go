package kube

import (
	"strings"
	"testing"

	"github.com/lbkit/lbkit/elb"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func ptr[T any](v T) *T { return &v }

func svc(name string, typ corev1.ServiceType, ann map[string]string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Annotations: ann},
		Spec: corev1.ServiceSpec{Type: typ, Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), NodePort: 30080, Protocol: corev1.ProtocolTCP},
		}},
	}
}

func ingress(name string, ann map[string]string, paths ...networkingv1.HTTPIngressPath) *networkingv1.Ingress {
	if len(paths) == 0 {
		paths = []networkingv1.HTTPIngressPath{{Path: "/", PathType: ptr(networkingv1.PathTypePrefix),
			Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}}}
	}
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Annotations: ann},
		Spec: networkingv1.IngressSpec{IngressClassName: ptr("alb"), Rules: []networkingv1.IngressRule{
			{IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}},
		}},
	}
}

// TestIngressAnnotations: each annotation valid, defaulted and bad; a bad
// value's error names the annotation key.
func TestIngressAnnotations(t *testing.T) {
	p := IngressPrefix
	tests := []struct {
		name    string
		ann     map[string]string
		check   func(*testing.T, *elb.LoadBalancer, *elb.TargetGroup)
		wantErr string
	}{
		{"defaults", nil, func(t *testing.T, lb *elb.LoadBalancer, tg *elb.TargetGroup) {
			if lb.Scheme != elb.SchemeInternal || lb.IPAddressType != elb.IPAddressTypeIPv4 || tg.TargetType != elb.TargetTypeInstance || tg.Port != 30080 {
				t.Errorf("scheme %s, ip %s, target type %s port %d", lb.Scheme, lb.IPAddressType, tg.TargetType, tg.Port)
			}
			hc := tg.HealthCheck
			if hc.IntervalSeconds != 15 || hc.TimeoutSeconds != 5 || hc.HealthyThreshold != 2 || hc.UnhealthyThreshold != 2 || hc.Path != "/" || hc.Matcher.HTTPCode != "200" || hc.Port != elb.TrafficPort {
				t.Errorf("health check %+v", hc)
			}
			if lb.SubnetSelector == nil || lb.SubnetSelector.Tags["kubernetes.io/role/internal-elb"] != "1" {
				t.Errorf("subnet selector %+v", lb.SubnetSelector)
			}
			if len(lb.Listeners) != 1 || lb.Listeners[0].Port != 80 || lb.Listeners[0].Protocol != elb.ProtocolHTTP {
				t.Errorf("listeners %+v", lb.Listeners)
			}
		}, ""},
		{"scheme", map[string]string{p + "scheme": "internet-facing"}, func(t *testing.T, lb *elb.LoadBalancer, _ *elb.TargetGroup) {
			if lb.Scheme != elb.SchemeInternetFacing {
				t.Error(lb.Scheme)
			}
		}, ""},
		{"scheme bad", map[string]string{p + "scheme": "public"}, nil, p + "scheme"},
		{"target-type ip", map[string]string{p + "target-type": "ip"}, func(t *testing.T, _ *elb.LoadBalancer, tg *elb.TargetGroup) {
			if tg.TargetType != elb.TargetTypeIP || tg.Port != 8080 {
				t.Error(tg.TargetType, tg.Port)
			}
		}, ""},
		{"target-type bad", map[string]string{p + "target-type": "pod"}, nil, p + "target-type"},
		{"ip-address-type bad", map[string]string{p + "ip-address-type": "ipv6"}, nil, p + "ip-address-type"},
		{"subnets", map[string]string{p + "subnets": "subnet-a, subnet-b"}, func(t *testing.T, lb *elb.LoadBalancer, _ *elb.TargetGroup) {
			if strings.Join(lb.Subnets, ",") != "subnet-a,subnet-b" || lb.SubnetSelector != nil {
				t.Error(lb.Subnets)
			}
		}, ""},
		{"healthcheck", map[string]string{p + "healthcheck-path": "/healthz", p + "healthcheck-interval-seconds": "30", p + "success-codes": "200-299", p + "healthcheck-port": "8081"}, func(t *testing.T, _ *elb.LoadBalancer, tg *elb.TargetGroup) {
			hc := tg.HealthCheck
			if hc.Path != "/healthz" || hc.IntervalSeconds != 30 || hc.Matcher.HTTPCode != "200-299" || hc.Port != "8081" {
				t.Errorf("%+v", hc)
			}
		}, ""},
		{"healthcheck-interval bad", map[string]string{p + "healthcheck-interval-seconds": "fast"}, nil, p + "healthcheck-interval-seconds"},
		{"healthcheck-timeout range", map[string]string{p + "healthcheck-timeout-seconds": "1"}, nil, p + "healthcheck-timeout-seconds"},
		{"healthy-threshold range", map[string]string{p + "healthy-threshold-count": "11"}, nil, p + "healthy-threshold-count"},
		{"healthcheck-path bad", map[string]string{p + "healthcheck-path": "healthz"}, nil, p + "healthcheck-path"},
		{"healthcheck-port bad", map[string]string{p + "healthcheck-port": "0"}, nil, p + "healthcheck-port"},
		{"grpc", map[string]string{p + "backend-protocol-version": "GRPC"}, func(t *testing.T, _ *elb.LoadBalancer, tg *elb.TargetGroup) {
			if tg.HealthCheck.Path != "/AWS.ALB/healthcheck" || tg.HealthCheck.Matcher.GRPCCode != "12" {
				t.Errorf("%+v", tg.HealthCheck)
			}
		}, ""},
		{"backend-protocol bad", map[string]string{p + "backend-protocol": "TCP"}, nil, p + "backend-protocol"},
		{"listen-ports", map[string]string{p + "listen-ports": `[{"HTTP":80},{"HTTPS":443}]`, p + "certificate-arn": "arn:aws:acm:eu-central-1:123456789012:certificate/x", p + "ssl-redirect": "443"}, func(t *testing.T, lb *elb.LoadBalancer, _ *elb.TargetGroup) {
			l80, l443 := lb.Listener(80), lb.Listener(443)
			if l80 == nil || l443 == nil || l443.SSLPolicy != elb.DefaultSSLPolicy || len(l443.Certificates) != 1 || len(l443.Rules) != 1 {
				t.Fatalf("%+v %+v", l80, l443)
			}
			if l80.DefaultActions[0].Type != elb.ActionRedirect || len(l80.Rules) != 0 {
				t.Errorf("ssl-redirect: %+v", l80)
			}
		}, ""},
		{"certificate default port", map[string]string{p + "certificate-arn": "arn:aws:acm:eu-central-1:123456789012:certificate/x"}, func(t *testing.T, lb *elb.LoadBalancer, _ *elb.TargetGroup) {
			if len(lb.Listeners) != 1 || lb.Listeners[0].Port != 443 {
				t.Errorf("%+v", lb.Listeners)
			}
		}, ""},
		{"listen-ports bad", map[string]string{p + "listen-ports": `[{"TCP":80}]`}, nil, p + "listen-ports"},
		{"ssl-redirect bad", map[string]string{p + "ssl-redirect": "x"}, nil, p + "ssl-redirect"},
		{"tags", map[string]string{p + "tags": "team=a,env=dev"}, func(t *testing.T, lb *elb.LoadBalancer, _ *elb.TargetGroup) {
			if lb.Tags["team"] != "a" || lb.Tags["env"] != "dev" {
				t.Error(lb.Tags)
			}
		}, ""},
		{"tags bad", map[string]string{p + "tags": "team"}, nil, p + "tags"},
		{"load-balancer-name", map[string]string{p + "load-balancer-name": "my-alb"}, func(t *testing.T, lb *elb.LoadBalancer, _ *elb.TargetGroup) {
			if lb.Name != "my-alb" {
				t.Error(lb.Name)
			}
		}, ""},
		{"load-balancer-name bad", map[string]string{p + "load-balancer-name": "internal-x"}, nil, p + "load-balancer-name"},
		{"target-group-attributes", map[string]string{p + "target-group-attributes": "deregistration_delay.timeout_seconds=30"}, func(t *testing.T, _ *elb.LoadBalancer, tg *elb.TargetGroup) {
			if d := tg.Attributes.DeregistrationDelaySeconds; d == nil || *d != 30 {
				t.Error(d)
			}
		}, ""},
		{"target-group-attributes bad", map[string]string{p + "target-group-attributes": "nope=1"}, nil, p + "target-group-attributes"},
		{"load-balancer-attributes bad", map[string]string{p + "load-balancer-attributes": "no.such.attribute=1"}, nil, p + "load-balancer-attributes"},
		{"group.order bad", map[string]string{p + "group.order": "1001"}, nil, p + "group.order"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs := Objects{Ingresses: []*networkingv1.Ingress{ingress("ing", tc.ann)}, Services: []*corev1.Service{svc("web", corev1.ServiceTypeNodePort, nil)}}
			res, err := Translate(objs, Options{VPCID: "vpc-1"})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), "["+tc.wantErr+"]") || !strings.Contains(err.Error(), "ingress[ns/ing]") {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				if len(res.Stacks) != 0 {
					t.Errorf("a group with an error produced a stack")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := res.Stacks["ingress/ns/ing"]
			if s == nil || len(s.LoadBalancers) != 1 || len(s.TargetGroups) != 1 {
				t.Fatalf("stacks %+v", res.Stacks)
			}
			tc.check(t, s.LoadBalancers[0], s.TargetGroups[0])
			c := cloneStack(t, s)
			c.Defaults()
			if err := c.Validate(); err != nil {
				t.Errorf("validate: %v", err)
			}
		})
	}
}

// TestUnsupportedReported: annotations outside the model are listed by key.
func TestUnsupportedReported(t *testing.T) {
	ann := map[string]string{
		IngressPrefix + "wafv2-acl-arn":   "arn:aws:wafv2:x",
		IngressPrefix + "auth-type":       "cognito",
		IngressPrefix + "scheme":          "internal",
		IngressPrefix + "transforms.web":  "[]",
		IngressPrefix + "made-up-setting": "1",
		"unrelated.example.com/x":         "y",
	}
	res, err := Translate(Objects{Ingresses: []*networkingv1.Ingress{ingress("ing", ann)}, Services: []*corev1.Service{svc("web", corev1.ServiceTypeNodePort, nil)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, u := range res.Unsupported {
		keys = append(keys, strings.TrimPrefix(u.Key, IngressPrefix))
	}
	if got, want := strings.Join(keys, ","), "auth-type,made-up-setting,transforms.web,wafv2-acl-arn"; got != want {
		t.Errorf("unsupported %s, want %s", got, want)
	}
}

func TestPaths(t *testing.T) {
	tests := []struct {
		path string
		typ  networkingv1.PathType
		want string
		bad  bool
	}{
		{"/", networkingv1.PathTypePrefix, "/*", false},
		{"/api", networkingv1.PathTypePrefix, "/api,/api/*", false},
		{"/api/", networkingv1.PathTypePrefix, "/api,/api/*", false},
		{"/api", networkingv1.PathTypeExact, "/api", false},
		{"/api/*.png", networkingv1.PathTypeImplementationSpecific, "/api/*.png", false},
		{"/a*", networkingv1.PathTypePrefix, "", true},
		{"/a?", networkingv1.PathTypeExact, "", true},
		{"api", networkingv1.PathTypeExact, "", true},
	}
	for _, tc := range tests {
		c, err := pathCondition(networkingv1.HTTPIngressPath{Path: tc.path, PathType: &tc.typ})
		if tc.bad {
			if err == nil {
				t.Errorf("%s %s: no error", tc.typ, tc.path)
			}
			continue
		}
		if err != nil || strings.Join(c.Values, ",") != tc.want {
			t.Errorf("%s %s: %v %v, want %s", tc.typ, tc.path, c, err, tc.want)
		}
	}
}

func TestServiceAnnotations(t *testing.T) {
	p := ServicePrefix
	base := map[string]string{p + "type": "external"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[p+kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		ann     map[string]string
		check   func(*testing.T, *elb.LoadBalancer, *elb.TargetGroup)
		wantErr string
	}{
		{"defaults", with(), func(t *testing.T, lb *elb.LoadBalancer, tg *elb.TargetGroup) {
			hc := tg.HealthCheck
			if lb.Scheme != elb.SchemeInternal || tg.TargetType != elb.TargetTypeInstance || tg.Port != 30080 || hc.Protocol != elb.ProtocolTCP || hc.IntervalSeconds != 10 || hc.TimeoutSeconds != 10 || hc.HealthyThreshold != 3 {
				t.Errorf("%+v %+v", lb, tg)
			}
		}, ""},
		{"http health check", with("healthcheck-protocol", "http"), func(t *testing.T, _ *elb.LoadBalancer, tg *elb.TargetGroup) {
			if tg.HealthCheck.Path != "/" || tg.HealthCheck.Matcher.HTTPCode != "200-399" {
				t.Errorf("%+v", tg.HealthCheck)
			}
		}, ""},
		{"path with tcp", with("healthcheck-path", "/x"), nil, p + "healthcheck-path"},
		{"tls", with("ssl-cert", "arn:aws:acm:eu-central-1:123456789012:certificate/x", "ssl-ports", "http", "alpn-policy", "HTTP2Preferred"), func(t *testing.T, lb *elb.LoadBalancer, _ *elb.TargetGroup) {
			if l := lb.Listeners[0]; l.Protocol != elb.ProtocolTLS || l.ALPNPolicy != elb.ALPNHTTP2Preferred {
				t.Errorf("%+v", l)
			}
		}, ""},
		{"proxy-protocol", with("proxy-protocol", "*"), func(t *testing.T, _ *elb.LoadBalancer, tg *elb.TargetGroup) {
			if !tg.Attributes.ProxyProtocolV2 {
				t.Error("proxy protocol off")
			}
		}, ""},
		{"proxy-protocol bad", with("proxy-protocol", "v2"), nil, p + "proxy-protocol"},
		{"eip count", with("subnets", "subnet-a,subnet-b", "eip-allocations", "eipalloc-1"), nil, p + "eip-allocations"},
		{"internal deprecated", with("internal", "false"), func(t *testing.T, lb *elb.LoadBalancer, _ *elb.TargetGroup) {
			if lb.Scheme != elb.SchemeInternetFacing {
				t.Error(lb.Scheme)
			}
		}, ""},
		{"nlb-target-type bad", with("nlb-target-type", "pod"), nil, p + "nlb-target-type"},
		{"interval bad", with("healthcheck-interval", "1"), nil, p + "healthcheck-interval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Translate(Objects{Services: []*corev1.Service{svc("web", corev1.ServiceTypeLoadBalancer, tc.ann)}}, Options{VPCID: "vpc-1"})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), "service[ns/web].metadata.annotations["+tc.wantErr+"]") {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := res.Stacks["service/ns/web"]
			if s == nil {
				t.Fatal(res.Stacks)
			}
			tc.check(t, s.LoadBalancers[0], s.TargetGroups[0])
		})
	}
}
