package kube_test

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/kube"
)

func serviceYAML(ann map[string]string, ports string) string {
	keys := make([]string, 0, len(ann))
	for k := range ann {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Service\nmetadata:\n  name: nlb\n  namespace: ns\n  annotations:\n")
	fmt.Fprintf(&b, "    %s: %q\n", kube.ServicePrefix+"type", "external")
	for _, k := range keys {
		fmt.Fprintf(&b, "    %s: %q\n", k, ann[k])
	}
	if ports == "" {
		ports = "[{port: 80, targetPort: 8080, nodePort: 30080, protocol: TCP}]"
	}
	b.WriteString("spec:\n  type: LoadBalancer\n  ports: " + ports + "\n")
	return b.String()
}

func TestServiceAnnotations(t *testing.T) {
	const p = kube.ServicePrefix
	tests := []struct {
		name   string
		ann    map[string]string
		ports  string
		check  func(*testing.T, *elb.Stack)
		errKey string
	}{
		{name: "defaults", check: func(t *testing.T, s *elb.Stack) {
			lb, tg := s.LoadBalancers[0], s.TargetGroups[0]
			hc := tg.HealthCheck
			if lb.Type != elb.LoadBalancerTypeNetwork || lb.Scheme != elb.SchemeInternal || tg.TargetType != elb.TargetTypeInstance || tg.Port != 30080 {
				t.Errorf("%s %s, target %s:%d", lb.Type, lb.Scheme, tg.TargetType, tg.Port)
			}
			if hc.Protocol != elb.ProtocolTCP || hc.Port != elb.TrafficPort || hc.IntervalSeconds != 10 || hc.TimeoutSeconds != 10 || hc.HealthyThreshold != 3 || hc.UnhealthyThreshold != 3 {
				t.Errorf("health check %+v", hc)
			}
			if l := lb.Listeners[0]; l.Protocol != elb.ProtocolTCP || l.Port != 80 {
				t.Errorf("listener %s:%d", l.Protocol, l.Port)
			}
		}},
		{name: "ip targets, internet-facing", ann: map[string]string{p + "nlb-target-type": "ip", p + "scheme": "internet-facing"}, check: func(t *testing.T, s *elb.Stack) {
			if tg := s.TargetGroups[0]; tg.TargetType != elb.TargetTypeIP || tg.Port != 8080 {
				t.Errorf("target %s:%d", tg.TargetType, tg.Port)
			}
			if _, ok := s.LoadBalancers[0].SubnetSelector.Tags[elb.TagRoleELB]; !ok {
				t.Error("internet-facing NLB does not select kubernetes.io/role/elb subnets")
			}
		}},
		{name: "HTTP health check", ann: map[string]string{p + "healthcheck-protocol": "http", p + "healthcheck-path": "/ready", p + "healthcheck-port": "9000", p + "healthcheck-interval": "30", p + "healthcheck-timeout": "6", p + "healthcheck-healthy-threshold": "2", p + "healthcheck-unhealthy-threshold": "5"}, check: func(t *testing.T, s *elb.Stack) {
			hc := s.TargetGroups[0].HealthCheck
			if hc.Protocol != elb.ProtocolHTTP || hc.Path != "/ready" || hc.Port != "9000" || hc.IntervalSeconds != 30 || hc.TimeoutSeconds != 6 || hc.Matcher.HTTPCode != "200-399" || hc.UnhealthyThreshold != 5 {
				t.Errorf("health check %+v", hc)
			}
		}},
		{name: "proxy protocol", ann: map[string]string{p + "proxy-protocol": "*"}, check: func(t *testing.T, s *elb.Stack) {
			if !s.TargetGroups[0].Attributes.ProxyProtocolV2 {
				t.Error("proxy protocol v2 not enabled")
			}
		}},
		{name: "subnets and EIPs", ann: map[string]string{p + "subnets": "subnet-aaaa1,subnet-bbbb2", p + "eip-allocations": "eipalloc-1,eipalloc-2", p + "scheme": "internet-facing"}, check: func(t *testing.T, s *elb.Stack) {
			lb := s.LoadBalancers[0]
			if len(lb.SubnetMappings) != 2 || lb.SubnetMappings[1].AllocationID != "eipalloc-2" || lb.Subnets != nil {
				t.Errorf("mappings %+v subnets %v", lb.SubnetMappings, lb.Subnets)
			}
		}},
		{name: "EIPs without subnets", ann: map[string]string{p + "eip-allocations": "eipalloc-1"}, errKey: p + "eip-allocations"},
		{name: "attributes and tags", ann: map[string]string{p + "attributes": "load_balancing.cross_zone.enabled=true", p + "target-group-attributes": "deregistration_delay.timeout_seconds=10,preserve_client_ip.enabled=false", p + "additional-resource-tags": "team=net"}, check: func(t *testing.T, s *elb.Stack) {
			lb, tg := s.LoadBalancers[0], s.TargetGroups[0]
			if lb.Tags["team"] != "net" || tg.Tags["team"] != "net" || *tg.Attributes.DeregistrationDelaySeconds != 10 {
				t.Errorf("lb %+v tg %+v", lb.Attributes, tg.Attributes)
			}
		}},
		{name: "UDP and TCP ports", ann: map[string]string{p + "nlb-target-type": "ip", p + "healthcheck-port": "8081"}, ports: "[{name: dns, port: 53, targetPort: 5353, protocol: UDP}, {name: web, port: 80, targetPort: 8080, protocol: TCP}]", check: func(t *testing.T, s *elb.Stack) {
			lb := s.LoadBalancers[0]
			if len(lb.Listeners) != 2 || lb.Listeners[0].Protocol != elb.ProtocolUDP || lb.Listeners[0].Port != 53 || len(s.TargetGroups) != 2 || s.TargetGroups[0].Port != 5353 {
				t.Errorf("listeners %+v", lb.Listeners)
			}
		}},
		{name: "UDP checked on its own port", ann: map[string]string{p + "nlb-target-type": "ip"}, ports: "[{port: 53, targetPort: 53, protocol: UDP}]", errKey: p + "healthcheck-port"},
		{name: "bad scheme", ann: map[string]string{p + "scheme": "external"}, errKey: p + "scheme"},
		{name: "bad health-check protocol", ann: map[string]string{p + "healthcheck-protocol": "udp"}, errKey: p + "healthcheck-protocol"},
		{name: "bad threshold", ann: map[string]string{p + "healthcheck-healthy-threshold": "20"}, errKey: p + "healthcheck-healthy-threshold"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := translateDocs(t, serviceYAML(tc.ann, tc.ports))
			if tc.errKey != "" {
				var ae *kube.AnnotationError
				if !errors.As(err, &ae) || ae.Key != tc.errKey {
					t.Fatalf("Translate = %v, want an AnnotationError on %s", err, tc.errKey)
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

func TestServicesThatAreNotNLBs(t *testing.T) {
	legacy := strings.Replace(serviceYAML(nil, ""), `"external"`, `"nlb"`, 1) // the in-tree controller's
	tr, err := translateDocs(t, legacy, webService)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Stack.LoadBalancers) != 0 || len(tr.Skipped) != 1 || tr.Skipped[0].Object.Name != "nlb" {
		t.Errorf("load balancers %d, skipped %v", len(tr.Stack.LoadBalancers), tr.Skipped)
	}
}

const endpointSlice = `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: nlb-abc
  namespace: ns
  labels: {kubernetes.io/service-name: nlb}
addressType: IPv4
ports: [{name: "", port: 8080, protocol: TCP}]
endpoints:
- addresses: [10.0.1.10]
  conditions: {ready: true}
- addresses: [10.0.1.11]
  conditions: {ready: false}
- addresses: [10.0.1.12]
`

func TestEndpointSliceTargets(t *testing.T) {
	tr, err := translateDocs(t, serviceYAML(map[string]string{kube.ServicePrefix + "nlb-target-type": "ip"}, ""), endpointSlice)
	if err != nil {
		t.Fatal(err)
	}
	got := tr.Stack.TargetGroups[0].Targets
	want := []elb.Target{{ID: "10.0.1.10", Port: 8080}, {ID: "10.0.1.12", Port: 8080}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("targets %v, want the ready endpoints %v", got, want)
	}
}

func TestServiceUnsupportedAnnotations(t *testing.T) {
	doc := serviceYAML(map[string]string{
		kube.ServicePrefix + "ssl-cert":                          "arn:aws:acm:us-east-1:123456789012:certificate/abc",
		"service.beta.kubernetes.io/actions.TCP-80":              `{"type":"forward"}`,
		"service.beta.kubernetes.io/load-balancer-source-ranges": "10.0.0.0/8",
		kube.ServicePrefix + "healthcheck-path":                  "/ignored-for-tcp",
	}, "")
	tr, err := translateDocs(t, doc)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range tr.Unsupported {
		got = append(got, f.Key)
	}
	want := []string{"service.beta.kubernetes.io/actions.TCP-80", "service.beta.kubernetes.io/load-balancer-source-ranges", kube.ServicePrefix + "ssl-cert"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("unsupported %v, want %v", got, want)
	}
}
