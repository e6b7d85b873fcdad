package kube

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/lbkit/lbkit/elb"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// NLBClass is the loadBalancerClass ALBC handles.
const NLBClass = "service.k8s.aws/nlb"

// services translates LoadBalancer Services that ALBC would manage: type
// annotation "external" (or the deprecated "nlb-ip"), or loadBalancerClass
// service.k8s.aws/nlb. Others (in-tree "nlb", classic ELB) are left alone.
func (t *translator) services() {
	for _, svc := range t.objs.Services {
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || svc.DeletionTimestamp != nil {
			continue
		}
		lbType := svc.Annotations[ServicePrefix+"type"]
		class := svc.Spec.LoadBalancerClass != nil && *svc.Spec.LoadBalancerClass == NLBClass
		if !class && lbType != "external" && lbType != "nlb-ip" {
			continue
		}
		id := "service/" + svc.Namespace + "/" + svc.Name
		before := len(t.errs)
		a := newAnn("service", svc.Namespace, svc.Name, ServicePrefix, svc.Annotations, &t.errs)
		s := t.nlb(svc, a, lbType)
		a.unused(t.res)
		if len(t.errs) == before {
			t.res.Stacks[id] = s
		}
	}
}

func (t *translator) nlb(svc *corev1.Service, a *annotations, lbType string) *elb.Stack {
	a.str("type")
	defTT := "instance"
	if lbType == "nlb-ip" {
		defTT = "ip"
	}
	tt := elb.TargetType(a.enum("nlb-target-type", defTT, "instance", "ip"))
	s := &elb.Stack{}
	id := svc.Namespace + "/" + svc.Name
	name, ok := a.str("name")
	if !ok {
		name = "k8s-" + sanitize(svc.Namespace, 8) + "-" + sanitize(svc.Name, 8) + "-" + shortHash("service", id)
	} else if err := elb.ValidateLoadBalancerName(name); err != nil {
		t.errs = append(t.errs, field.Invalid(a.path("name"), name, err.Error()))
	}
	lb := s.AddLoadBalancer(elb.NewNetworkLoadBalancer(name))
	scheme := "internal"
	if v, ok := a.str("internal"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			t.errs = append(t.errs, field.Invalid(a.path("internal"), v, "must be true or false"))
		} else if !b {
			scheme = "internet-facing"
		}
	}
	lb.Scheme = elb.Scheme(a.enum("scheme", scheme, "internal", "internet-facing"))
	lb.IPAddressType = elb.IPAddressType(a.enum("ip-address-type", "ipv4", "ipv4", "dualstack"))
	subnets := a.list("subnets")
	eips := a.list("eip-allocations")
	privs := a.list("private-ipv4-addresses")
	switch {
	case len(eips) > 0 || len(privs) > 0:
		for _, pair := range []struct {
			k string
			v []string
		}{{"eip-allocations", eips}, {"private-ipv4-addresses", privs}} {
			if len(pair.v) > 0 && len(pair.v) != len(subnets) {
				t.errs = append(t.errs, field.Invalid(a.path(pair.k), strings.Join(pair.v, ","), fmt.Sprintf("needs one entry per subnet (%d subnets)", len(subnets))))
			}
		}
		for i, sn := range subnets {
			m := elb.SubnetMapping{SubnetID: sn}
			if i < len(eips) {
				m.AllocationID = eips[i]
			}
			if i < len(privs) {
				m.PrivateIPv4Address = privs[i]
			}
			lb.SubnetMappings = append(lb.SubnetMappings, m)
		}
	case len(subnets) > 0:
		lb.Subnets = subnets
	default:
		lb.SubnetSelector = roleSelector(lb.Scheme)
	}
	lb.SecurityGroups = a.list("security-groups")
	lb.Tags = a.tags("additional-resource-tags")
	if kvs := a.kv("attributes"); len(kvs) > 0 {
		attrs, err := elb.ApplyLoadBalancerAttributes(elb.LoadBalancerTypeNetwork, lb.Attributes, kvs)
		if err != nil {
			t.errs = append(t.errs, field.Invalid(a.path("attributes"), a.m[ServicePrefix+"attributes"], err.Error()))
		}
		lb.Attributes = attrs
	}
	certs := a.list("ssl-cert")
	sslPorts := a.list("ssl-ports")
	policy, _ := a.str("ssl-negotiation-policy")
	if policy == "" {
		policy = elb.DefaultSSLPolicy
	}
	alpn := elb.ALPNPolicy(a.enum("alpn-policy", "", "", "HTTP1Only", "HTTP2Only", "HTTP2Optional", "HTTP2Preferred", "None"))
	backendTLS := a.enum("backend-protocol", "tcp", "tcp", "ssl") == "ssl"
	proxy := a.enum("proxy-protocol", "", "", "*") == "*"
	hc := t.nlbHealthCheck(a)
	tgAttrs := a.kv("target-group-attributes")

	isTLS := func(p corev1.ServicePort) bool {
		if len(certs) == 0 {
			return false
		}
		if len(sslPorts) == 0 {
			return true
		}
		for _, x := range sslPorts {
			if x == "*" || x == p.Name || x == strconv.Itoa(int(p.Port)) {
				return true
			}
		}
		return false
	}
	for i, sp := range svc.Spec.Ports {
		proto := elb.Protocol(sp.Protocol)
		if proto == "" {
			proto = elb.ProtocolTCP
		}
		if proto != elb.ProtocolTCP && proto != elb.ProtocolUDP {
			t.errs = append(t.errs, field.NotSupported(field.NewPath("service").Key(id).Child("spec", "ports").Index(i).Child("protocol"), sp.Protocol, []string{"TCP", "UDP"}))
			continue
		}
		tgProto := proto
		lproto := proto
		if proto == elb.ProtocolTCP && isTLS(sp) {
			lproto = elb.ProtocolTLS
			if backendTLS {
				tgProto = elb.ProtocolTLS
			}
		}
		ts := t.targets(svc, sp, tt)
		key := strings.Join([]string{id, strconv.Itoa(int(sp.Port)), string(tgProto), string(tt)}, "/")
		tg := elb.NewTargetGroup("k8s-"+sanitize(svc.Namespace, 8)+"-"+sanitize(svc.Name, 8)+"-"+shortHash(key), tgProto, tgPort(sp, tt, ts), tt)
		tg.VPCID = t.opts.VPCID
		tg.HealthCheck = hc
		if proto == elb.ProtocolUDP && hc.Protocol == elb.ProtocolTCP && hc.Port == elb.TrafficPort {
			t.errs = append(t.errs, field.Invalid(a.path("healthcheck-port"), elb.TrafficPort, fmt.Sprintf("port %d is UDP: a TCP health check needs an explicit TCP port", sp.Port)))
		}
		tg.Targets = ts
		if len(tgAttrs) > 0 {
			attrs, err := elb.ApplyTargetGroupAttributes(tg, tgAttrs)
			if err != nil {
				t.errs = append(t.errs, field.Invalid(a.path("target-group-attributes"), a.m[ServicePrefix+"target-group-attributes"], err.Error()))
			}
			tg.Attributes = attrs
		}
		if proxy {
			tg.Attributes.ProxyProtocolV2 = true
		}
		tg.Tags = elb.Tags{"service.k8s.aws/resource": id + ":" + strconv.Itoa(int(sp.Port))}
		s.AddTargetGroup(tg)
		l := lb.AddListener(lproto, int(sp.Port), elb.Forward(tg))
		if lproto == elb.ProtocolTLS {
			l.Certificates = certs
			l.SSLPolicy = policy
			l.ALPNPolicy = alpn
		}
	}
	sort.Slice(s.TargetGroups, func(i, j int) bool { return s.TargetGroups[i].Name < s.TargetGroups[j].Name })
	return s
}

// nlbHealthCheck reads the Service health check annotations with ALBC's
// NLB defaults: TCP on the traffic port, 3/3, 10 s timeout, 10 s interval;
// for HTTP(S) path "/" and success codes 200-399.
func (t *translator) nlbHealthCheck(a *annotations) elb.HealthCheck {
	hc := elb.HealthCheck{
		Protocol:           elb.Protocol(strings.ToUpper(a.enum("healthcheck-protocol", "tcp", "tcp", "TCP", "http", "HTTP", "https", "HTTPS"))),
		Port:               elb.TrafficPort,
		IntervalSeconds:    a.integer("healthcheck-interval", 10, 5, 300),
		TimeoutSeconds:     a.integer("healthcheck-timeout", 10, 2, 120),
		HealthyThreshold:   a.integer("healthcheck-healthy-threshold", 3, 2, 10),
		UnhealthyThreshold: a.integer("healthcheck-unhealthy-threshold", 3, 2, 10),
	}
	if v, ok := a.str("healthcheck-port"); ok && v != elb.TrafficPort {
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 65535 {
			t.errs = append(t.errs, field.Invalid(a.path("healthcheck-port"), v, "must be traffic-port or 1-65535"))
		} else {
			hc.Port = v
		}
	}
	path, pathSet := a.str("healthcheck-path")
	codes, codesSet := a.str("healthcheck-success-codes")
	if hc.Protocol == elb.ProtocolTCP {
		if pathSet {
			t.errs = append(t.errs, field.Invalid(a.path("healthcheck-path"), path, "only with healthcheck-protocol http or https"))
		}
		if codesSet {
			t.errs = append(t.errs, field.Invalid(a.path("healthcheck-success-codes"), codes, "only with healthcheck-protocol http or https"))
		}
		return hc
	}
	if !pathSet {
		path = "/"
	} else if !strings.HasPrefix(path, "/") {
		t.errs = append(t.errs, field.Invalid(a.path("healthcheck-path"), path, "must start with /"))
	}
	if !codesSet {
		codes = "200-399"
	}
	hc.Path, hc.Matcher.HTTPCode = path, codes
	return hc
}
