package kube

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/lbkit/lbkit/elb"
)

// NLBClass is the Service loadBalancerClass the AWS Load Balancer
// Controller serves.
const NLBClass = "service.k8s.aws/nlb"

// unsupportedService are ALBC's Service annotations outside lbkit's model
// (names after the aws-load-balancer- prefix).
var unsupportedService = map[string]string{
	"internal":                                 "deprecated: use aws-load-balancer-scheme",
	"security-group-prefix-lists":              "security group rules are not managed by lbkit",
	"private-ipv4-addresses":                   "fixed private addresses are not mapped yet",
	"ipv6-addresses":                           "fixed IPv6 addresses are not mapped yet",
	"manage-backend-security-group-rules":      "security group rules are not managed by lbkit",
	"inbound-sg-rules-on-private-link-traffic": "security group rules are not managed by lbkit",
	"disable-nlb-sg":                           "security groups of NLBs are not managed by lbkit",
	"enable-icmp-for-path-mtu-discovery":       "security group rules are not managed by lbkit",
	"enable-prefix-for-ipv6-source-nat":        "IPv6 source NAT is not modelled",
	"source-nat-ipv6-prefixes":                 "IPv6 source NAT is not modelled",
	"proxy-protocol-per-target-group":          "per-target-group proxy protocol is not mapped yet",
	"ssl-cert":                                 "TLS listeners from annotations are not mapped yet",
	"ssl-ports":                                "TLS listeners from annotations are not mapped yet",
	"ssl-negotiation-policy":                   "TLS listeners from annotations are not mapped yet",
	"alpn-policy":                              "TLS listeners from annotations are not mapped yet",
	"backend-protocol":                         "TLS to targets from annotations is not mapped yet",
	"listener-attributes":                      "listener attributes from annotations are not mapped yet",
	"enable-tcp-udp-listener":                  "TCP_UDP listeners from annotations are not mapped yet",
	"quic-enabled-ports":                       "QUIC is not modelled",
	"quic-enabled-containers":                  "QUIC is not modelled",
	"target-node-labels":                       "applies only when Options.Nodes supplies the nodes",
	"multi-cluster-target-group":               "multi-cluster target groups are not modelled",
	"minimum-load-balancer-capacity":           "capacity reservations are not modelled",
	"access-log-enabled":                       "deprecated: use aws-load-balancer-attributes",
	"access-log-s3-bucket-name":                "deprecated: use aws-load-balancer-attributes",
	"access-log-s3-bucket-prefix":              "deprecated: use aws-load-balancer-attributes",
	"cross-zone-load-balancing-enabled":        "deprecated: use aws-load-balancer-attributes",
}

func serviceRef(s *corev1.Service) ObjectRef { return ObjectRef{"v1", "Service", s.Namespace, s.Name} }

// isNLBService reports whether ALBC would provision an NLB for the Service.
func isNLBService(s *corev1.Service) bool {
	if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return false
	}
	if s.Spec.LoadBalancerClass != nil {
		return *s.Spec.LoadBalancerClass == NLBClass
	}
	t := s.Annotations[ServicePrefix+"type"]
	return t == "external" || t == "nlb-ip"
}

// service translates a LoadBalancer Service into an NLB with one listener
// and target group per port.
func (t *translator) service(svc *corev1.Service) {
	ref := serviceRef(svc)
	if !isNLBService(svc) {
		if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			t.skip(ref, "not an AWS Load Balancer Controller NLB (aws-load-balancer-type is not external, and loadBalancerClass is not "+NLBClass+")")
		}
		return
	}
	a := newAnnotations(ref, ServicePrefix, svc.Annotations, &t.errs)
	a.get("type")
	defTarget := string(elb.TargetTypeInstance)
	if svc.Annotations[ServicePrefix+"type"] == "nlb-ip" {
		defTarget = string(elb.TargetTypeIP)
	}
	targetType := elb.TargetType(a.oneOf("nlb-target-type", defTarget, string(elb.TargetTypeInstance), string(elb.TargetTypeIP)))

	name := a.str("name", generatedName(t.opts.ClusterName, svc.Namespace, svc.Name, "service:"+svc.Namespace+"/"+svc.Name))
	if err := elb.ValidateLoadBalancerName(name); err != nil {
		a.fail("name", name, "%v", err)
	}
	lb := elb.NewNetworkLoadBalancer(name)
	lb.Scheme = elb.Scheme(a.oneOf("scheme", string(elb.SchemeInternal), string(elb.SchemeInternal), string(elb.SchemeInternetFacing)))
	lb.IPAddressType = elb.IPAddressType(a.oneOf("ip-address-type", "ipv4", "ipv4", "dualstack"))
	t.subnets(lb, a)
	if eips := a.list("eip-allocations"); len(eips) > 0 {
		if len(lb.Subnets) != len(eips) {
			a.fail("eip-allocations", svc.Annotations[ServicePrefix+"eip-allocations"], "needs explicit aws-load-balancer-subnets, one allocation per subnet (%d subnets)", len(lb.Subnets))
		} else {
			for i, s := range lb.Subnets {
				lb.SubnetMappings = append(lb.SubnetMappings, elb.SubnetMapping{SubnetID: s, AllocationID: eips[i]})
			}
			lb.Subnets = nil
		}
	}
	lb.SecurityGroups = a.list("security-groups")
	if attrs := a.attributes("attributes"); len(attrs) > 0 {
		at, err := elb.ApplyLoadBalancerAttributes(elb.LoadBalancerTypeNetwork, lb.Attributes, attrs)
		if err != nil {
			a.fail("attributes", svc.Annotations[ServicePrefix+"attributes"], "%v", err)
		}
		lb.Attributes = at
	}
	lb.Tags = a.tags("additional-resource-tags")
	// Two Service annotations of ALBC's lack the aws-load-balancer- prefix.
	for _, k := range sortedKeys(svc.Annotations) {
		switch {
		case k == "service.beta.kubernetes.io/load-balancer-source-ranges":
			t.unsupported = append(t.unsupported, Finding{Object: ref, Key: k, Reason: "security group rules are not managed by lbkit"})
		case strings.HasPrefix(k, "service.beta.kubernetes.io/actions."):
			t.unsupported = append(t.unsupported, Finding{Object: ref, Key: k, Reason: "NLB listener actions from annotations are not mapped yet"})
		}
	}

	proxyPorts := map[string]bool{}
	for _, p := range a.list("proxy-protocol") {
		proxyPorts[p] = true
	}
	// ALBC's documentation writes these in lower case ("http").
	hcProto := strings.ToUpper(a.str("healthcheck-protocol", "TCP"))
	if hcProto != "TCP" && hcProto != "HTTP" && hcProto != "HTTPS" {
		a.fail("healthcheck-protocol", svc.Annotations[ServicePrefix+"healthcheck-protocol"], "must be one of TCP, HTTP, HTTPS (any case)")
		hcProto = "TCP"
	}
	hc := elb.HealthCheck{
		Protocol:           elb.Protocol(hcProto),
		Port:               healthPort(a, "healthcheck-port"),
		IntervalSeconds:    a.integer("healthcheck-interval", 10, 5, 300),
		TimeoutSeconds:     a.integer("healthcheck-timeout", 10, 2, 120),
		HealthyThreshold:   a.integer("healthcheck-healthy-threshold", 3, 2, 10),
		UnhealthyThreshold: a.integer("healthcheck-unhealthy-threshold", 3, 2, 10),
	}
	if hc.Protocol != elb.ProtocolTCP {
		hc.Path = a.str("healthcheck-path", "/")
		hc.Matcher.HTTPCode = a.str("healthcheck-success-codes", "200-399")
	} else {
		a.get("healthcheck-path")
		a.get("healthcheck-success-codes")
	}
	tgAttrs := a.attributes("target-group-attributes")
	nodeSel := t.nodeSelection(a)

	t.stack.AddLoadBalancer(lb)
	for _, sp := range svc.Spec.Ports {
		proto := elb.Protocol(sp.Protocol)
		if proto == "" {
			proto = elb.ProtocolTCP
		}
		if proto != elb.ProtocolTCP && proto != elb.ProtocolUDP {
			t.errs = append(t.errs, fmt.Errorf("%s: port %d: protocol %s is not TCP or UDP", ref, sp.Port, sp.Protocol))
			continue
		}
		port, err := targetPort(sp, targetType)
		if err != nil {
			t.errs = append(t.errs, fmt.Errorf("%s: port %d: %w", ref, sp.Port, err))
			continue
		}
		key := fmt.Sprintf("service:%s/%s:%d/%s", svc.Namespace, svc.Name, sp.Port, proto)
		tg := elb.NewTargetGroup(generatedName(t.opts.ClusterName, svc.Namespace, svc.Name, key), proto, port, targetType)
		tg.VPCID = t.opts.VPCID
		tg.HealthCheck = hc
		if proto == elb.ProtocolUDP && hc.Protocol == elb.ProtocolTCP && hc.Port == elb.TrafficPort {
			// A UDP port cannot be checked over TCP on itself.
			t.errs = append(t.errs, &AnnotationError{Object: ref, Key: ServicePrefix + "healthcheck-port", Value: hc.Port, Reason: fmt.Sprintf("UDP port %d needs a health-check port of its own (TCP on a UDP traffic port)", sp.Port)})
		}
		if len(tgAttrs) > 0 {
			at, err := elb.ApplyTargetGroupAttributes(tg, tgAttrs)
			if err != nil {
				a.fail("target-group-attributes", svc.Annotations[ServicePrefix+"target-group-attributes"], "%v", err)
			}
			tg.Attributes = at
		}
		if proxyPorts["*"] || proxyPorts[fmt.Sprint(sp.Port)] {
			tg.Attributes.ProxyProtocolV2 = true
		}
		tg.Tags = lb.Tags
		tg.Targets = t.targets(ref, svc.Namespace, svc, sp, targetType, nodeSel)
		t.stack.AddTargetGroup(tg)
		lb.AddListener(proto, int(sp.Port), elb.Forward(tg))
	}
	t.unsupported = append(t.unsupported, a.unused(unsupportedService)...)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
