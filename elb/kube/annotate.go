package kube

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/lbkit/lbkit/elb"
)

// IngressAnnotations is the reverse of Translate for one ALB and the
// target group its Ingress paths forward to: the alb.ingress.kubernetes.io/*
// annotations that make ALBC (and Translate) build them again. Values equal
// to ALBC's defaults are left out. Rules are not annotations (they are the
// Ingress's spec), and what annotations cannot say (attributes of either
// resource, subnet mappings, listener-specific certificates) is returned in
// notExpressed, so nothing is lost silently.
func IngressAnnotations(lb *elb.LoadBalancer, tg *elb.TargetGroup) (ann map[string]string, notExpressed []string) {
	a := map[string]string{}
	set := func(k, v string) { a[IngressPrefix+k] = v }
	if lb.Type != "" && lb.Type != elb.LoadBalancerTypeApplication {
		return nil, []string{"type " + string(lb.Type) + ": an Ingress makes ALBs"}
	}
	set("load-balancer-name", lb.Name)
	if lb.Scheme != "" && lb.Scheme != elb.SchemeInternal {
		set("scheme", string(lb.Scheme))
	}
	if lb.IPAddressType != "" && lb.IPAddressType != elb.IPAddressTypeIPv4 {
		set("ip-address-type", string(lb.IPAddressType))
	}
	switch {
	case len(lb.Subnets) > 0:
		set("subnets", strings.Join(lb.Subnets, ","))
	case len(lb.SubnetMappings) > 0:
		notExpressed = append(notExpressed, "subnetMappings")
	case lb.SubnetSelector != nil && !isRoleSelector(lb.SubnetSelector, lb.Scheme):
		notExpressed = append(notExpressed, "subnetSelector (only the kubernetes.io/role tags are implied)")
	}
	if len(lb.SecurityGroups) > 0 {
		set("security-groups", strings.Join(lb.SecurityGroups, ","))
	}
	if len(lb.Tags) > 0 {
		set("tags", joinTags(lb.Tags))
	}
	if lb.Attributes != (elb.LoadBalancerAttributes{}) {
		notExpressed = append(notExpressed, "load balancer attributes")
	}
	var ports []map[string]int
	var certs []string
	policy := ""
	redirect := 0
	for _, l := range lb.Listeners {
		ports = append(ports, map[string]int{string(l.Protocol): l.Port})
		if l.Protocol == elb.ProtocolHTTPS {
			if certs != nil && strings.Join(certs, ",") != strings.Join(l.Certificates, ",") {
				notExpressed = append(notExpressed, fmt.Sprintf("listener %d: certificates differ between HTTPS listeners", l.Port))
			}
			certs = l.Certificates
			if policy != "" && l.SSLPolicy != policy {
				notExpressed = append(notExpressed, fmt.Sprintf("listener %d: SSL policies differ between HTTPS listeners", l.Port))
			}
			policy = l.SSLPolicy
		}
		if l.Protocol == elb.ProtocolHTTP && len(l.DefaultActions) == 1 && l.DefaultActions[0].Redirect != nil && l.DefaultActions[0].Redirect.Protocol == "HTTPS" {
			redirect, _ = strconv.Atoi(l.DefaultActions[0].Redirect.Port)
		}
	}
	defaultPorts := len(lb.Listeners) == 1 && (lb.Listeners[0].Protocol == elb.ProtocolHTTP && lb.Listeners[0].Port == 80 && len(certs) == 0 ||
		lb.Listeners[0].Protocol == elb.ProtocolHTTPS && lb.Listeners[0].Port == 443)
	if !defaultPorts && len(ports) > 0 {
		j, _ := json.Marshal(ports)
		set("listen-ports", string(j))
	}
	if len(certs) > 0 {
		set("certificate-arn", strings.Join(certs, ","))
	}
	if policy != "" && policy != elb.DefaultSSLPolicy {
		set("ssl-policy", policy)
	}
	if redirect != 0 {
		set("ssl-redirect", strconv.Itoa(redirect))
	}
	if tg != nil {
		notExpressed = append(notExpressed, ingressTGAnnotations(set, tg)...)
	}
	return a, notExpressed
}

func ingressTGAnnotations(set func(k, v string), tg *elb.TargetGroup) (notExpressed []string) {
	if tg.TargetType != "" && tg.TargetType != elb.TargetTypeInstance {
		set("target-type", string(tg.TargetType))
	}
	if tg.Protocol != "" && tg.Protocol != elb.ProtocolHTTP {
		set("backend-protocol", string(tg.Protocol))
	}
	grpc := tg.ProtocolVersion == elb.ProtocolVersionGRPC
	if tg.ProtocolVersion != "" && tg.ProtocolVersion != elb.ProtocolVersionHTTP1 {
		set("backend-protocol-version", string(tg.ProtocolVersion))
	}
	hc := tg.HealthCheck
	proto := tg.Protocol
	if proto == "" {
		proto = elb.ProtocolHTTP
	}
	if hc.Protocol != "" && hc.Protocol != proto {
		set("healthcheck-protocol", string(hc.Protocol))
	}
	if hc.Port != "" && hc.Port != elb.TrafficPort {
		set("healthcheck-port", hc.Port)
	}
	path, codes := "/", "200"
	if grpc {
		path, codes = "/AWS.ALB/healthcheck", "12"
	}
	if hc.Path != "" && hc.Path != path {
		set("healthcheck-path", hc.Path)
	}
	setInt := func(k string, v, def int) {
		if v != 0 && v != def {
			set(k, strconv.Itoa(v))
		}
	}
	setInt("healthcheck-interval-seconds", hc.IntervalSeconds, 15)
	setInt("healthcheck-timeout-seconds", hc.TimeoutSeconds, 5)
	setInt("healthy-threshold-count", hc.HealthyThreshold, 2)
	setInt("unhealthy-threshold-count", hc.UnhealthyThreshold, 2)
	got := hc.Matcher.HTTPCode
	if grpc {
		got = hc.Matcher.GRPCCode
	}
	if got != "" && got != codes {
		set("success-codes", got)
	}
	if tg.Attributes != (elb.TargetGroupAttributes{}) {
		notExpressed = append(notExpressed, "target group attributes")
	}
	return notExpressed
}

// ServiceAnnotations is the reverse of Translate for one NLB whose
// listeners each forward to one target group (as a LoadBalancer Service's
// do): the service.beta.kubernetes.io/aws-load-balancer-* annotations, with
// ALBC's defaults left out. tg is any of its target groups (they share
// the Service's settings).
func ServiceAnnotations(lb *elb.LoadBalancer, tg *elb.TargetGroup) (ann map[string]string, notExpressed []string) {
	a := map[string]string{}
	set := func(k, v string) { a[ServicePrefix+k] = v }
	if lb.Type != elb.LoadBalancerTypeNetwork {
		return nil, []string{"type " + string(lb.Type) + ": a Service makes NLBs"}
	}
	set("type", "external")
	set("name", lb.Name)
	if lb.Scheme != "" && lb.Scheme != elb.SchemeInternal {
		set("scheme", string(lb.Scheme))
	}
	if lb.IPAddressType != "" && lb.IPAddressType != elb.IPAddressTypeIPv4 {
		set("ip-address-type", string(lb.IPAddressType))
	}
	switch {
	case len(lb.Subnets) > 0:
		set("subnets", strings.Join(lb.Subnets, ","))
	case len(lb.SubnetMappings) > 0:
		var sn, eips []string
		for _, m := range lb.SubnetMappings {
			sn = append(sn, m.SubnetID)
			if m.AllocationID != "" {
				eips = append(eips, m.AllocationID)
			}
			if m.PrivateIPv4Address != "" || m.IPv6Address != "" {
				notExpressed = append(notExpressed, "subnetMappings: fixed addresses")
			}
		}
		set("subnets", strings.Join(sn, ","))
		if len(eips) > 0 {
			set("eip-allocations", strings.Join(eips, ","))
		}
	case lb.SubnetSelector != nil && !isRoleSelector(lb.SubnetSelector, lb.Scheme):
		notExpressed = append(notExpressed, "subnetSelector (only the kubernetes.io/role tags are implied)")
	}
	if len(lb.SecurityGroups) > 0 {
		set("security-groups", strings.Join(lb.SecurityGroups, ","))
	}
	if len(lb.Tags) > 0 {
		set("additional-resource-tags", joinTags(lb.Tags))
	}
	if lb.Attributes != (elb.LoadBalancerAttributes{}) {
		notExpressed = append(notExpressed, "load balancer attributes")
	}
	var tlsPorts []string
	for _, l := range lb.Listeners {
		if l.Protocol == elb.ProtocolTLS {
			tlsPorts = append(tlsPorts, strconv.Itoa(l.Port))
			set("ssl-cert", strings.Join(l.Certificates, ","))
			if l.SSLPolicy != "" && l.SSLPolicy != elb.DefaultSSLPolicy {
				set("ssl-negotiation-policy", l.SSLPolicy)
			}
			if l.ALPNPolicy != "" {
				set("alpn-policy", string(l.ALPNPolicy))
			}
		}
	}
	if len(tlsPorts) > 0 && len(tlsPorts) != len(lb.Listeners) {
		set("ssl-ports", strings.Join(tlsPorts, ","))
	}
	if tg == nil {
		return a, notExpressed
	}
	if tg.TargetType != "" && tg.TargetType != elb.TargetTypeInstance {
		set("nlb-target-type", string(tg.TargetType))
	}
	if tg.Protocol == elb.ProtocolTLS {
		set("backend-protocol", "ssl")
	}
	if tg.Attributes.ProxyProtocolV2 {
		set("proxy-protocol", "*")
	}
	hc := tg.HealthCheck
	if hc.Protocol != "" && hc.Protocol != elb.ProtocolTCP {
		set("healthcheck-protocol", string(hc.Protocol))
		if hc.Path != "" && hc.Path != "/" {
			set("healthcheck-path", hc.Path)
		}
		if hc.Matcher.HTTPCode != "" && hc.Matcher.HTTPCode != "200-399" {
			set("healthcheck-success-codes", hc.Matcher.HTTPCode)
		}
	}
	if hc.Port != "" && hc.Port != elb.TrafficPort {
		set("healthcheck-port", hc.Port)
	}
	setInt := func(k string, v, def int) {
		if v != 0 && v != def {
			set(k, strconv.Itoa(v))
		}
	}
	setInt("healthcheck-interval", hc.IntervalSeconds, 10)
	setInt("healthcheck-timeout", hc.TimeoutSeconds, 10)
	setInt("healthcheck-healthy-threshold", hc.HealthyThreshold, 3)
	setInt("healthcheck-unhealthy-threshold", hc.UnhealthyThreshold, 3)
	attrs := tg.Attributes
	attrs.ProxyProtocolV2 = false
	if attrs != (elb.TargetGroupAttributes{}) {
		notExpressed = append(notExpressed, "target group attributes")
	}
	return a, notExpressed
}

func isRoleSelector(s *elb.SubnetSelector, scheme elb.Scheme) bool {
	want := "kubernetes.io/role/elb"
	if scheme == "" || scheme == elb.SchemeInternal {
		want = "kubernetes.io/role/internal-elb"
	}
	v, ok := s.Tags[want]
	return len(s.Tags) == 1 && ok && (v == "" || v == "1")
}

func joinTags(t elb.Tags) string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + t[k]
	}
	return strings.Join(keys, ",")
}
