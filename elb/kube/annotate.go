package kube

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lbkit/lbkit/elb"
)

// ServiceAnnotations is the reverse of Translate for one NLB whose
// listeners each forward to one target group (as a LoadBalancer Service's
// do): the service.beta.kubernetes.io/aws-load-balancer-* annotations, with
// ALBC's defaults left out. tg is any of its target groups (they share
// the Service's settings). What annotations cannot say (attributes, fixed
// addresses, a subnet selector other than the role tag) is an error, with
// the annotations that could be made.
func ServiceAnnotations(lb *elb.LoadBalancer, tg *elb.TargetGroup) (map[string]string, error) {
	ann, notExpressed := serviceAnnotations(lb, tg)
	if len(notExpressed) > 0 {
		return ann, fmt.Errorf("kube: load balancer %s: not expressible as Service annotations: %s", lb.Name, strings.Join(notExpressed, "; "))
	}
	return ann, nil
}

func serviceAnnotations(lb *elb.LoadBalancer, tg *elb.TargetGroup) (ann map[string]string, notExpressed []string) {
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
