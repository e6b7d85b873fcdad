package kube_test

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/kube"
)

// ingressYAML is an alb Ingress ns/NAME with annotations, forwarding / to
// Service web:80 (declared, with a NodePort, so instance targets work).
func ingressYAML(name string, ann map[string]string) string {
	keys := make([]string, 0, len(ann))
	for k := range ann {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: %s\n  namespace: ns\n  annotations:\n", name)
	for _, k := range keys {
		fmt.Fprintf(&b, "    %s: %q\n", k, ann[k])
	}
	b.WriteString(`spec:
  ingressClassName: alb
  rules:
  - http:
      paths:
      - path: /` + name + `
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
`)
	return b.String()
}

const webService = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns}
spec:
  type: NodePort
  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]
`

func translateDocs(t *testing.T, docs ...string) (*kube.Translation, error) {
	t.Helper()
	objs, err := kube.Decode([]byte(strings.Join(docs, "\n---\n")))
	if err != nil {
		t.Fatal(err)
	}
	return kube.Translate(objs, kube.Options{VPCID: "vpc-1"})
}

func TestIngressAnnotations(t *testing.T) {
	const p = kube.IngressPrefix
	tests := []struct {
		name  string
		ann   map[string]string
		check func(*testing.T, *elb.Stack)
		// errKey, when set, is the annotation key the error must name.
		errKey string
	}{
		{name: "defaults", ann: nil, check: func(t *testing.T, s *elb.Stack) {
			lb, tg := s.LoadBalancers[0], s.TargetGroups[0]
			hc := tg.HealthCheck
			if lb.Scheme != elb.SchemeInternal || tg.TargetType != elb.TargetTypeInstance || tg.Port != 30080 ||
				hc.IntervalSeconds != 15 || hc.TimeoutSeconds != 5 || hc.HealthyThreshold != 2 || hc.UnhealthyThreshold != 2 ||
				hc.Path != "/" || hc.Matcher.HTTPCode != "200" || hc.Port != elb.TrafficPort {
				t.Errorf("defaults: scheme %s, target %s:%d, health %+v", lb.Scheme, tg.TargetType, tg.Port, hc)
			}
			if _, ok := lb.SubnetSelector.Tags[elb.TagRoleInternalELB]; !ok {
				t.Errorf("internal ALB selects subnets by %v", lb.SubnetSelector)
			}
			if l := lb.Listeners[0]; l.Protocol != elb.ProtocolHTTP || l.Port != 80 {
				t.Errorf("listener %s:%d", l.Protocol, l.Port)
			}
			if got := lb.Listeners[0].Rules[0].Conditions[0].Values; strings.Join(got, " ") != "/defaults /defaults/*" {
				t.Errorf("Prefix path patterns %v", got)
			}
		}},
		{name: "ip targets", ann: map[string]string{p + "target-type": "ip"}, check: func(t *testing.T, s *elb.Stack) {
			if tg := s.TargetGroups[0]; tg.TargetType != elb.TargetTypeIP || tg.Port != 8080 {
				t.Errorf("ip target group on %d, want the target port 8080", tg.Port)
			}
		}},
		{name: "bad target type", ann: map[string]string{p + "target-type": "lambda"}, errKey: p + "target-type"},
		{name: "scheme", ann: map[string]string{p + "scheme": "internet-facing"}, check: func(t *testing.T, s *elb.Stack) {
			if _, ok := s.LoadBalancers[0].SubnetSelector.Tags[elb.TagRoleELB]; !ok {
				t.Error("internet-facing ALB does not select kubernetes.io/role/elb subnets")
			}
		}},
		{name: "bad scheme", ann: map[string]string{p + "scheme": "public"}, errKey: p + "scheme"},
		{name: "name", ann: map[string]string{p + "load-balancer-name": "my-alb"}, check: func(t *testing.T, s *elb.Stack) {
			if s.LoadBalancers[0].Name != "my-alb" {
				t.Error(s.LoadBalancers[0].Name)
			}
		}},
		{name: "bad name", ann: map[string]string{p + "load-balancer-name": "internal-x"}, errKey: p + "load-balancer-name"},
		{name: "subnets", ann: map[string]string{p + "subnets": "subnet-aaa111, subnet-bbb222"}, check: func(t *testing.T, s *elb.Stack) {
			if lb := s.LoadBalancers[0]; strings.Join(lb.Subnets, ",") != "subnet-aaa111,subnet-bbb222" || lb.SubnetSelector != nil {
				t.Errorf("subnets %v selector %v", lb.Subnets, lb.SubnetSelector)
			}
		}},
		{name: "subnet names are not resolved", ann: map[string]string{p + "subnets": "public-a,public-b"}, errKey: p + "subnets"},
		{name: "security groups", ann: map[string]string{p + "security-groups": "sg-1,sg-2"}, check: func(t *testing.T, s *elb.Stack) {
			if len(s.LoadBalancers[0].SecurityGroups) != 2 {
				t.Error(s.LoadBalancers[0].SecurityGroups)
			}
		}},
		{name: "listen ports and certificates", ann: map[string]string{p + "listen-ports": `[{"HTTP":80},{"HTTPS":443}]`, p + "certificate-arn": "arn:aws:acm:us-east-1:123456789012:certificate/abc", p + "ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}, check: func(t *testing.T, s *elb.Stack) {
			l := s.LoadBalancers[0].Listener(443)
			if l == nil || l.Protocol != elb.ProtocolHTTPS || len(l.Certificates) != 1 || l.SSLPolicy != "ELBSecurityPolicy-TLS13-1-2-2021-06" || len(l.Rules) != 1 {
				t.Errorf("HTTPS listener %+v", l)
			}
		}},
		{name: "certificates alone listen on HTTPS:443", ann: map[string]string{p + "certificate-arn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"}, check: func(t *testing.T, s *elb.Stack) {
			if l := s.LoadBalancers[0].Listeners; len(l) != 1 || l[0].Port != 443 || l[0].SSLPolicy != "ELBSecurityPolicy-2016-08" {
				t.Errorf("listeners %+v", l)
			}
		}},
		{name: "bad listen ports", ann: map[string]string{p + "listen-ports": `[{"FTP":21}]`}, errKey: p + "listen-ports"},
		{name: "listen ports not JSON", ann: map[string]string{p + "listen-ports": `HTTP:80`}, errKey: p + "listen-ports"},
		{name: "ssl redirect", ann: map[string]string{p + "listen-ports": `[{"HTTP":80},{"HTTPS":443}]`, p + "certificate-arn": "arn:aws:acm:us-east-1:123456789012:certificate/abc", p + "ssl-redirect": "443"}, check: func(t *testing.T, s *elb.Stack) {
			l := s.LoadBalancers[0].Listener(80)
			if r := l.DefaultActions[0].Redirect; r == nil || r.Protocol != "HTTPS" || r.Port != "443" || r.StatusCode != elb.RedirectPermanent || len(l.Rules) != 0 {
				t.Errorf("HTTP listener %+v", l)
			}
		}},
		{name: "health check", ann: map[string]string{p + "healthcheck-path": "/healthz", p + "healthcheck-interval-seconds": "10", p + "healthcheck-timeout-seconds": "3", p + "healthy-threshold-count": "3", p + "unhealthy-threshold-count": "4", p + "success-codes": "200-299", p + "healthcheck-port": "8081", p + "healthcheck-protocol": "HTTPS"}, check: func(t *testing.T, s *elb.Stack) {
			hc := s.TargetGroups[0].HealthCheck
			if hc.Path != "/healthz" || hc.IntervalSeconds != 10 || hc.TimeoutSeconds != 3 || hc.HealthyThreshold != 3 || hc.UnhealthyThreshold != 4 || hc.Matcher.HTTPCode != "200-299" || hc.Port != "8081" || hc.Protocol != elb.ProtocolHTTPS {
				t.Errorf("health check %+v", hc)
			}
		}},
		{name: "bad interval", ann: map[string]string{p + "healthcheck-interval-seconds": "1"}, errKey: p + "healthcheck-interval-seconds"},
		{name: "bad health port", ann: map[string]string{p + "healthcheck-port": "http"}, errKey: p + "healthcheck-port"},
		{name: "gRPC", ann: map[string]string{p + "backend-protocol-version": "GRPC"}, check: func(t *testing.T, s *elb.Stack) {
			tg := s.TargetGroups[0]
			if tg.ProtocolVersion != elb.ProtocolVersionGRPC || tg.HealthCheck.Path != "/AWS.ALB/healthcheck" || tg.HealthCheck.Matcher.GRPCCode != "12" {
				t.Errorf("gRPC target group %+v", tg)
			}
		}},
		{name: "backend protocol", ann: map[string]string{p + "backend-protocol": "HTTPS"}, check: func(t *testing.T, s *elb.Stack) {
			if tg := s.TargetGroups[0]; tg.Protocol != elb.ProtocolHTTPS || tg.HealthCheck.Protocol != elb.ProtocolHTTPS {
				t.Errorf("protocol %s, health %s", tg.Protocol, tg.HealthCheck.Protocol)
			}
		}},
		{name: "bad backend protocol", ann: map[string]string{p + "backend-protocol": "TCP"}, errKey: p + "backend-protocol"},
		{name: "attributes", ann: map[string]string{p + "load-balancer-attributes": "idle_timeout.timeout_seconds=120,routing.http2.enabled=false", p + "target-group-attributes": "deregistration_delay.timeout_seconds=30,stickiness.enabled=true,stickiness.type=lb_cookie"}, check: func(t *testing.T, s *elb.Stack) {
			lb, tg := s.LoadBalancers[0], s.TargetGroups[0]
			if lb.Attributes.IdleTimeoutSeconds != 120 || tg.Attributes.DeregistrationDelaySeconds == nil || *tg.Attributes.DeregistrationDelaySeconds != 30 || !tg.Attributes.Stickiness.Enabled {
				t.Errorf("attributes %+v / %+v", lb.Attributes, tg.Attributes)
			}
		}},
		{name: "bad lb attribute", ann: map[string]string{p + "load-balancer-attributes": "idle_timeout.timeout_seconds=soon"}, errKey: p + "load-balancer-attributes"},
		{name: "bad tg attribute", ann: map[string]string{p + "target-group-attributes": "no.such.key=1"}, errKey: p + "target-group-attributes"},
		{name: "attributes not key=value", ann: map[string]string{p + "target-group-attributes": "stickiness.enabled"}, errKey: p + "target-group-attributes"},
		{name: "tags", ann: map[string]string{p + "tags": "env=prod,team=web"}, check: func(t *testing.T, s *elb.Stack) {
			if s.LoadBalancers[0].Tags["team"] != "web" || s.TargetGroups[0].Tags["env"] != "prod" {
				t.Errorf("tags %v %v", s.LoadBalancers[0].Tags, s.TargetGroups[0].Tags)
			}
		}},
		{name: "ip address type", ann: map[string]string{p + "ip-address-type": "dualstack"}, check: func(t *testing.T, s *elb.Stack) {
			if s.LoadBalancers[0].IPAddressType != "dualstack" {
				t.Error(s.LoadBalancers[0].IPAddressType)
			}
		}},
		{name: "bad group order", ann: map[string]string{p + "group.order": "5000"}, errKey: p + "group.order"},
		{name: "bad group name", ann: map[string]string{p + "group.name": "Bad_Name"}, errKey: p + "group.name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := translateDocs(t, ingressYAML(strings.ReplaceAll(tc.name, " ", "-"), tc.ann), webService)
			if tc.errKey != "" {
				var ae *kube.AnnotationError
				if !errors.As(err, &ae) || ae.Key != tc.errKey {
					t.Fatalf("Translate = %v, want an AnnotationError on %s", err, tc.errKey)
				}
				if !errors.Is(err, kube.ErrTranslate) {
					t.Errorf("error does not wrap ErrTranslate: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, tr.Stack)
		})
	}
}

func TestUnsupportedAnnotationsAreReported(t *testing.T) {
	const p = kube.IngressPrefix
	tr, err := translateDocs(t, ingressYAML("x", map[string]string{
		p + "wafv2-acl-arn":     "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/1",
		p + "auth-type":         "oidc",
		p + "no-such-thing":     "1",
		"example.com/unrelated": "kept out",
	}), webService)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range tr.Unsupported {
		got = append(got, f.Key)
	}
	want := []string{p + "auth-type", p + "no-such-thing", p + "wafv2-acl-arn"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("unsupported %v, want %v", got, want)
	}
}

func TestIngressGroup(t *testing.T) {
	const p = kube.IngressPrefix
	a := ingressYAML("a", map[string]string{p + "group.name": "shop", p + "group.order": "2", p + "scheme": "internet-facing", p + "tags": "a=1"})
	b := ingressYAML("b", map[string]string{p + "group.name": "shop", p + "group.order": "1", p + "tags": "b=2"})
	tr, err := translateDocs(t, a, b, webService)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Stack.LoadBalancers) != 1 {
		t.Fatalf("%d load balancers for one group", len(tr.Stack.LoadBalancers))
	}
	lb := tr.Stack.LoadBalancers[0]
	rules := lb.Listeners[0].Rules
	// group.order 1 (b) comes first.
	if len(rules) != 2 || rules[0].Conditions[0].Values[0] != "/b" || rules[0].Priority != 1 || rules[1].Conditions[0].Values[0] != "/a" {
		t.Errorf("rules in the wrong order: %+v", rules)
	}
	if lb.Scheme != elb.SchemeInternetFacing || lb.Tags["a"] != "1" || lb.Tags["b"] != "2" {
		t.Errorf("scheme %s tags %v", lb.Scheme, lb.Tags)
	}
	if len(tr.Stack.TargetGroups) != 1 {
		t.Errorf("the shared backend made %d target groups", len(tr.Stack.TargetGroups))
	}

	// Exclusive annotations must agree.
	c := ingressYAML("c", map[string]string{p + "group.name": "shop", p + "scheme": "internal"})
	_, err = translateDocs(t, a, c, webService)
	var ce *kube.ConflictError
	if !errors.As(err, &ce) || ce.Key != p+"scheme" || ce.First.Name != "c" || ce.Second.Name != "a" {
		t.Fatalf("Translate = %v, want a ConflictError on scheme naming c (group.order 0) then a", err)
	}
}

func TestActionsAndConditions(t *testing.T) {
	doc := `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: routes
  namespace: ns
  annotations:
    alb.ingress.kubernetes.io/actions.canary: >
      {"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"web","servicePort":"80","weight":90},{"targetGroupARN":"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other/0123456789abcdef","weight":10}],"targetGroupStickinessConfig":{"enabled":true,"durationSeconds":300}}}
    alb.ingress.kubernetes.io/conditions.canary: >
      [{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"X-Canary","values":["yes"]}},{"field":"query-string","queryStringConfig":{"values":[{"key":"v","value":"2"}]}}]
    alb.ingress.kubernetes.io/actions.gone: >
      {"type":"fixed-response","fixedResponseConfig":{"contentType":"text/plain","statusCode":"410","messageBody":"gone"}}
    alb.ingress.kubernetes.io/actions.moved: >
      {"type":"redirect","redirectConfig":{"host":"new.example.com","statusCode":"HTTP_302"}}
spec:
  ingressClassName: alb
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /api, pathType: Prefix, backend: {service: {name: canary, port: {name: use-annotation}}}}
      - {path: /old, pathType: Exact, backend: {service: {name: gone, port: {name: use-annotation}}}}
      - {path: /moved, pathType: ImplementationSpecific, backend: {service: {name: moved, port: {name: use-annotation}}}}
`
	tr, err := translateDocs(t, doc, webService)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Unsupported) != 0 {
		t.Errorf("unsupported: %v", tr.Unsupported)
	}
	rules := tr.Stack.LoadBalancers[0].Listeners[0].Rules
	if len(rules) != 3 {
		t.Fatalf("%d rules", len(rules))
	}
	fw := rules[0].Actions[0].Forward
	if len(fw.TargetGroups) != 2 || *fw.TargetGroups[0].Weight != 90 || fw.Stickiness == nil || fw.Stickiness.DurationSeconds != 300 {
		t.Errorf("weighted forward %+v", fw)
	}
	if n := len(rules[0].Conditions); n != 4 { // host, path, header, query
		t.Errorf("canary rule has %d conditions: %+v", n, rules[0].Conditions)
	}
	if fr := rules[1].Actions[0].FixedResponse; fr == nil || fr.StatusCode != "410" || rules[1].Conditions[1].Values[0] != "/old" {
		t.Errorf("fixed response rule %+v", rules[1])
	}
	if rd := rules[2].Actions[0].Redirect; rd == nil || rd.Host != "new.example.com" || rd.StatusCode != "HTTP_302" {
		t.Errorf("redirect rule %+v", rules[2])
	}
	s := tr.Stack
	s.Defaults()
	// Routing works on the result: a canary request with the header.
	router, err := elb.NewRouter(s.LoadBalancers[0].Listeners[0])
	if err != nil {
		t.Fatal(err)
	}
	m := router.Route(&elb.Request{Method: "GET", Host: "shop.example.com", Path: "/api/x", RawQuery: "v=2", Header: http.Header{"X-Canary": {"yes"}}})
	if m.Rule == nil || m.Rule.Priority != 1 {
		t.Errorf("canary request matched %+v", m)
	}
}

func TestBadActionAnnotations(t *testing.T) {
	for _, tc := range []struct{ name, action string }{
		{"unknown type", `{"type":"teleport"}`},
		{"unknown field", `{"type":"forward","tg":"x"}`},
		{"not JSON", `forward`},
		{"missing config", `{"type":"redirect"}`},
		{"unknown service port", `{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"web","servicePort":"9999"}]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := ingressYAML("x", map[string]string{kube.IngressPrefix + "actions.act": tc.action})
			doc = strings.Replace(doc, "name: web\n            port:\n              number: 80", "name: act\n            port:\n              name: use-annotation", 1)
			_, err := translateDocs(t, doc, webService)
			var ae *kube.AnnotationError
			if !errors.As(err, &ae) || ae.Key != kube.IngressPrefix+"actions.act" {
				t.Fatalf("Translate = %v, want an AnnotationError on actions.act", err)
			}
		})
	}
}

// certificate-arn takes ACM and IAM server certificate ARNs in the aws,
// aws-cn and aws-us-gov partitions; anything else is an AnnotationError
// that names the key and carries the value.
func TestCertificateARN(t *testing.T) {
	const key = kube.IngressPrefix + "certificate-arn"
	tests := []struct {
		value string
		ok    bool
	}{
		{"arn:aws:acm:us-east-1:123456789012:certificate/0e1b2c3d-4e5f-6789-abcd-ef0123456789", true},
		{"arn:aws-cn:acm:cn-north-1:123456789012:certificate/abc", true},
		{"arn:aws-us-gov:acm:us-gov-west-1:123456789012:certificate/abc", true},
		{"arn:aws:iam::123456789012:server-certificate/prod/web-2026", true},
		{"arn:aws:acm:us-east-1:123456789012:certificate/a, arn:aws:iam::123456789012:server-certificate/b", true},
		{"arn:aws:acm:us-east-1:123456789012:certificate/a,not-an-arn", false},
		{"0e1b2c3d-4e5f-6789-abcd-ef0123456789", false},
		{"arn:aws-iso:acm:us-iso-east-1:123456789012:certificate/abc", false},
		{"arn:aws:acm:us-east-1:12345678901:certificate/abc", false},
		{"arn:aws:acm:us-east-1:123456789012:certificate/", false},
		{"arn:aws:acm:us-east-1:123456789012:certificate/xyz", false},
		{"arn:aws:acm::123456789012:certificate/abc", false},
		{"arn:aws:acm:US-EAST-1:123456789012:certificate/abc", false},
		{"arn:aws:acm:us-east-1:123456789012:private-ca/abc", false},
		{"arn:aws:iam:us-east-1:123456789012:server-certificate/web", false},
		{"arn:aws:iam::123456789012:role/web", false},
		{"arn:aws:s3:::bucket", false},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			ann := map[string]string{key: tc.value}
			_, err := translateDocs(t, ingressYAML("certs", ann), webService)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ae *kube.AnnotationError
			if !errors.As(err, &ae) || ae.Key != key || ae.Value != tc.value || !errors.Is(err, kube.ErrTranslate) {
				t.Fatalf("Translate = %v, want an AnnotationError on %s with value %q", err, key, tc.value)
			}
			if !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "not an ACM certificate ARN") {
				t.Errorf("error %q does not name the key and say why", err)
			}
		})
	}
}
