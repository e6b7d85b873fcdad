package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/lbkit/lbkit/elb"
)

// IngressClass is the class the AWS Load Balancer Controller serves.
const IngressClass = "alb"

// exclusiveIngress are the Ingress annotations that every member of an
// IngressGroup must leave unset or set to the same value (ALBC's
// "Exclusive" annotations that lbkit models).
var exclusiveIngress = []string{
	"load-balancer-name", "ip-address-type", "scheme", "subnets",
	"security-groups", "load-balancer-attributes", "ssl-redirect", "ssl-policy",
}

// unsupportedIngress are ALBC's Ingress annotations outside lbkit's model.
var unsupportedIngress = map[string]string{
	"manage-backend-security-group-rules":                "security group rules are not managed by lbkit",
	"customer-owned-ipv4-pool":                           "customer-owned IP pools (Outposts) are not modelled",
	"wafv2-acl-arn":                                      "WAF is not modelled",
	"wafv2-acl-name":                                     "WAF is not modelled",
	"waf-acl-id":                                         "WAF Classic is not modelled",
	"web-acl-id":                                         "WAF Classic is not modelled",
	"shield-advanced-protection":                         "Shield Advanced is not modelled",
	"inbound-cidrs":                                      "security group rules are not managed by lbkit",
	"security-group-prefix-lists":                        "security group rules are not managed by lbkit",
	"mutual-authentication":                              "mutual TLS (trust stores) is not modelled",
	"listener-attributes":                                "listener attributes from annotations are not mapped yet",
	"minimum-load-balancer-capacity":                     "capacity reservations are not modelled",
	"ipam-ipv4-pool-id":                                  "IPAM pools are not modelled",
	"jwt-validation":                                     "JWT validation is not modelled",
	"create-acm-cert":                                    "ACM certificate creation is not modelled",
	"acm-pca-arn":                                        "ACM certificate creation is not modelled",
	"enable-frontend-nlb":                                "frontend NLBs are not modelled",
	"frontend-nlb-scheme":                                "frontend NLBs are not modelled",
	"frontend-nlb-subnets":                               "frontend NLBs are not modelled",
	"frontend-nlb-security-groups":                       "frontend NLBs are not modelled",
	"frontend-nlb-listener-port-mapping":                 "frontend NLBs are not modelled",
	"frontend-nlb-healthcheck-port":                      "frontend NLBs are not modelled",
	"frontend-nlb-healthcheck-protocol":                  "frontend NLBs are not modelled",
	"frontend-nlb-healthcheck-path":                      "frontend NLBs are not modelled",
	"frontend-nlb-tags":                                  "frontend NLBs are not modelled",
	"frontend-nlb-eip-allocations":                       "frontend NLBs are not modelled",
	"frontend-nlb-attributes":                            "frontend NLBs are not modelled",
	"target-node-labels":                                 "applies only when Options.Nodes supplies the nodes",
	"multi-cluster-target-group":                         "multi-cluster target groups are not modelled",
	"target-control-port":                                "target control ports are not modelled",
	"auth-type":                                          "authentication from annotations (Cognito/OIDC) is not mapped",
	"auth-idp-cognito":                                   "authentication from annotations (Cognito/OIDC) is not mapped",
	"auth-idp-oidc":                                      "authentication from annotations (Cognito/OIDC) is not mapped",
	"auth-on-unauthenticated-request":                    "authentication from annotations (Cognito/OIDC) is not mapped",
	"auth-scope":                                         "authentication from annotations (Cognito/OIDC) is not mapped",
	"auth-session-cookie":                                "authentication from annotations (Cognito/OIDC) is not mapped",
	"auth-session-timeout":                               "authentication from annotations (Cognito/OIDC) is not mapped",
	"transforms":                                         "rule transforms are not modelled",
	"use-regex-path-match":                               "regex path matching is not modelled",
	"dry-run-plan":                                       "written by the controller; ignored",
	"frontend-nlb-healthcheck-interval-seconds":          "frontend NLBs are not modelled",
	"frontend-nlb-healthcheck-timeout-seconds":           "frontend NLBs are not modelled",
	"frontend-nlb-healthcheck-healthy-threshold-count":   "frontend NLBs are not modelled",
	"frontend-nlb-healthcheck-unhealthy-threshold-count": "frontend NLBs are not modelled",
	"frontend-nlb-healthcheck-success-codes":             "frontend NLBs are not modelled",
}

// targetGroupKeys are the target-group annotations, read per backend with
// the Service's own annotations taking precedence.
var targetGroupKeys = []string{
	"target-type", "backend-protocol", "backend-protocol-version", "healthcheck-protocol", "healthcheck-port",
	"healthcheck-path", "healthcheck-interval-seconds", "healthcheck-timeout-seconds", "healthy-threshold-count",
	"unhealthy-threshold-count", "success-codes", "target-group-attributes",
}

// ingressMember is one Ingress of a group with its annotations.
type ingressMember struct {
	ing   *networkingv1.Ingress
	ref   ObjectRef
	ann   *annotations
	order int
}

func ingressRef(in *networkingv1.Ingress) ObjectRef {
	return ObjectRef{"networking.k8s.io/v1", "Ingress", in.Namespace, in.Name}
}

// isALBIngress reports whether the Ingress is of class alb.
func isALBIngress(in *networkingv1.Ingress) bool {
	if in.Spec.IngressClassName != nil {
		return *in.Spec.IngressClassName == IngressClass
	}
	return in.Annotations["kubernetes.io/ingress.class"] == IngressClass
}

// ingressGroups groups the alb Ingresses by group.name (an Ingress without
// one is a group of its own), members in group.order then namespace/name.
func (t *translator) ingressGroups() map[string][]*ingressMember {
	groups := map[string][]*ingressMember{}
	for _, in := range t.objs.Ingresses {
		ref := ingressRef(in)
		if !isALBIngress(in) {
			t.skip(ref, "ingress class is not alb")
			continue
		}
		a := newAnnotations(ref, IngressPrefix, in.Annotations, &t.errs)
		m := &ingressMember{ing: in, ref: ref, ann: a, order: a.integer("group.order", 0, -1000, 1000)}
		key := "implicit:" + in.Namespace + "/" + in.Name
		if g, ok := a.get("group.name"); ok {
			if !validGroupName(g) {
				a.fail("group.name", g, "must be 1-63 lowercase alphanumerics, '-' or '.', starting and ending alphanumeric")
				continue
			}
			key = "explicit:" + g
		}
		groups[key] = append(groups[key], m)
	}
	for _, ms := range groups {
		sort.SliceStable(ms, func(i, j int) bool {
			if ms[i].order != ms[j].order {
				return ms[i].order < ms[j].order
			}
			return ms[i].ref.String() < ms[j].ref.String()
		})
	}
	return groups
}

func validGroupName(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i, c := range s {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || i == len(s)-1 || c != '-' && c != '.') {
			return false
		}
	}
	return true
}

// ingressGroup translates one IngressGroup into an ALB.
func (t *translator) ingressGroup(key string, ms []*ingressMember) {
	// Exclusive annotations must agree.
	exclusive := map[string]*ingressMember{}
	for _, m := range ms {
		for _, k := range exclusiveIngress {
			v, ok := m.ing.Annotations[IngressPrefix+k]
			if !ok {
				continue
			}
			if first, seen := exclusive[k]; seen && first.ing.Annotations[IngressPrefix+k] != v {
				t.errs = append(t.errs, &ConflictError{Key: IngressPrefix + k, First: first.ref, Second: m.ref,
					FirstValue: first.ing.Annotations[IngressPrefix+k], SecondValue: v})
				continue
			}
			if _, seen := exclusive[k]; !seen {
				exclusive[k] = m
			}
		}
	}
	// The first member that sets an exclusive annotation provides it.
	lead := func(k string) *annotations {
		if m, ok := exclusive[k]; ok {
			return m.ann
		}
		return ms[0].ann
	}

	name := lead("load-balancer-name").str("load-balancer-name", "")
	if name == "" {
		if g, explicit := strings.CutPrefix(key, "explicit:"); explicit {
			name = generatedName(t.opts.ClusterName, g, "", key)
		} else {
			name = generatedName(t.opts.ClusterName, ms[0].ing.Namespace, ms[0].ing.Name, key)
		}
	} else if err := elb.ValidateLoadBalancerName(name); err != nil {
		lead("load-balancer-name").fail("load-balancer-name", name, "%v", err)
	}
	lb := elb.NewApplicationLoadBalancer(name)
	lb.Scheme = elb.Scheme(lead("scheme").oneOf("scheme", string(elb.SchemeInternal), string(elb.SchemeInternal), string(elb.SchemeInternetFacing)))
	lb.IPAddressType = elb.IPAddressType(lead("ip-address-type").oneOf("ip-address-type", "ipv4", "ipv4", "dualstack", "dualstack-without-public-ipv4"))
	t.subnets(lb, lead("subnets"))
	lb.SecurityGroups = lead("security-groups").list("security-groups")
	if attrs := lead("load-balancer-attributes").attributes("load-balancer-attributes"); len(attrs) > 0 {
		a, err := elb.ApplyLoadBalancerAttributes(elb.LoadBalancerTypeApplication, lb.Attributes, attrs)
		if err != nil {
			lead("load-balancer-attributes").fail("load-balancer-attributes", ms[0].ing.Annotations[IngressPrefix+"load-balancer-attributes"], "%v", err)
		}
		lb.Attributes = a
	}
	sslPolicy := lead("ssl-policy").str("ssl-policy", elb.DefaultSSLPolicy)
	sslRedirect := lead("ssl-redirect").integer("ssl-redirect", 0, 1, 65535)
	for _, m := range ms {
		for k, v := range m.ann.tags("tags") { // Merge annotation
			if lb.Tags == nil {
				lb.Tags = elb.Tags{}
			}
			lb.Tags[k] = v
		}
	}
	t.stack.AddLoadBalancer(lb)

	// Listeners: each member's rules go on the ports it lists.
	listeners := map[int]*elb.Listener{}
	nextPriority := map[int]int{}
	for _, m := range ms {
		certs := m.ann.list("certificate-arn")
		for _, c := range certs {
			if !isCertificateARN(c) {
				m.ann.fail("certificate-arn", m.ing.Annotations[IngressPrefix+"certificate-arn"], "%q is not an ACM certificate ARN (arn:PARTITION:acm:REGION:ACCOUNT:certificate/ID) or IAM server certificate ARN (arn:PARTITION:iam::ACCOUNT:server-certificate/NAME); partition aws, aws-cn or aws-us-gov", c)
				certs = nil
				break
			}
		}
		ports := []listenPort{{elb.ProtocolHTTP, 80}}
		if len(certs) > 0 {
			ports = []listenPort{{elb.ProtocolHTTPS, 443}}
		}
		if raw, ok := m.ann.get("listen-ports"); ok {
			lp, err := parseListenPorts(raw)
			if err != nil {
				m.ann.fail("listen-ports", raw, "%v", err)
				continue
			}
			ports = lp
		}
		rules := t.ingressRules(m)
		for _, p := range ports {
			l := listeners[p.Port]
			if l == nil {
				l = lb.AddListener(p.Protocol, p.Port, elb.FixedResponse(404, elb.ContentTypeTextPlain, ""))
				listeners[p.Port] = l
				nextPriority[p.Port] = 1
				if p.Protocol == elb.ProtocolHTTPS {
					l.SSLPolicy = sslPolicy
				}
			} else if l.Protocol != p.Protocol {
				m.ann.fail("listen-ports", m.ing.Annotations[IngressPrefix+"listen-ports"], "port %d is %s in another Ingress of the group", p.Port, l.Protocol)
				continue
			}
			if p.Protocol == elb.ProtocolHTTPS {
				for _, c := range certs {
					if !contains(l.Certificates, c) {
						l.Certificates = append(l.Certificates, c)
					}
				}
			}
			if sslRedirect != 0 && p.Protocol == elb.ProtocolHTTP {
				// ALBC: every HTTP listener redirects to HTTPS, rules and all.
				l.DefaultActions = []elb.Action{elb.Redirect(elb.RedirectConfig{Protocol: "HTTPS", Port: fmt.Sprint(sslRedirect), StatusCode: elb.RedirectPermanent})}
				continue
			}
			if def := t.defaultBackend(m); def != nil {
				l.DefaultActions = []elb.Action{*def}
			}
			for _, r := range rules {
				l.AddRule(nextPriority[p.Port], r.action, r.conditions...)
				nextPriority[p.Port]++
			}
		}
	}
	for _, m := range ms {
		for _, k := range targetGroupKeys { // read per backend, in ingressTargetGroup
			m.ann.used[k] = true
		}
		t.unsupported = append(t.unsupported, m.ann.unused(unsupportedIngress)...)
	}
}

type ingressRule struct {
	conditions []elb.Condition
	action     elb.Action
}

// ingressRules maps the Ingress's rules and paths, in order, to ALB rules.
func (t *translator) ingressRules(m *ingressMember) []ingressRule {
	var out []ingressRule
	for ri, rule := range m.ing.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		for pi, p := range rule.HTTP.Paths {
			var conds []elb.Condition
			if rule.Host != "" {
				conds = append(conds, elb.HostHeader(rule.Host))
			}
			if pats, err := pathPatterns(p); err != nil {
				t.errs = append(t.errs, fmt.Errorf("%s: spec.rules[%d].http.paths[%d]: %w", m.ref, ri, pi, err))
				continue
			} else if len(pats) > 0 {
				conds = append(conds, elb.PathPattern(pats...))
			}
			act, extra, ok := t.backendAction(m, p.Backend)
			if !ok {
				continue
			}
			out = append(out, ingressRule{conditions: append(conds, extra...), action: act})
		}
	}
	return out
}

// pathPatterns maps an Ingress path to ALB path patterns as ALBC does.
func pathPatterns(p networkingv1.HTTPIngressPath) ([]string, error) {
	pt := networkingv1.PathTypeImplementationSpecific
	if p.PathType != nil {
		pt = *p.PathType
	}
	switch pt {
	case networkingv1.PathTypeExact:
		if !strings.HasPrefix(p.Path, "/") || strings.ContainsAny(p.Path, "*?") {
			return nil, fmt.Errorf("exact path %q must start with / and hold no wildcard", p.Path)
		}
		return []string{p.Path}, nil
	case networkingv1.PathTypePrefix:
		if !strings.HasPrefix(p.Path, "/") || strings.ContainsAny(p.Path, "*?") {
			return nil, fmt.Errorf("prefix path %q must start with / and hold no wildcard", p.Path)
		}
		if p.Path == "/" {
			return []string{"/*"}, nil
		}
		trimmed := strings.TrimSuffix(p.Path, "/")
		return []string{trimmed, trimmed + "/*"}, nil
	case networkingv1.PathTypeImplementationSpecific:
		if p.Path == "" {
			return nil, nil
		}
		return []string{p.Path}, nil
	}
	return nil, fmt.Errorf("pathType %q is not Exact, Prefix or ImplementationSpecific", pt)
}

// backendAction is the action of a path's backend: a forward to the
// Service's target group, or the actions.NAME annotation when the port
// name is "use-annotation" (with conditions.NAME).
func (t *translator) backendAction(m *ingressMember, b networkingv1.IngressBackend) (elb.Action, []elb.Condition, bool) {
	if b.Service == nil {
		t.errs = append(t.errs, fmt.Errorf("%s: a backend without a service (resource backends are not supported)", m.ref))
		return elb.Action{}, nil, false
	}
	if b.Service.Port.Name == "use-annotation" {
		m.ann.used["actions*"] = true
		m.ann.used["conditions*"] = true
		var aj actionJSON
		if !m.ann.jsonValue("actions."+b.Service.Name, &aj) {
			if _, ok := m.ing.Annotations[IngressPrefix+"actions."+b.Service.Name]; !ok {
				t.errs = append(t.errs, &AnnotationError{Object: m.ref, Key: IngressPrefix + "actions." + b.Service.Name, Reason: "missing: the backend's port is use-annotation"})
			}
			return elb.Action{}, nil, false
		}
		act, err := aj.toAction(func(svc string, port intstr.IntOrString) (*elb.TargetGroup, error) {
			return t.ingressTargetGroup(m, svc, port)
		})
		if err != nil {
			m.ann.fail("actions."+b.Service.Name, m.ing.Annotations[IngressPrefix+"actions."+b.Service.Name], "%v", err)
			return elb.Action{}, nil, false
		}
		var conds []elb.Condition
		var cj []conditionJSON
		if m.ann.jsonValue("conditions."+b.Service.Name, &cj) {
			for _, c := range cj {
				cond, err := c.toCondition()
				if err != nil {
					m.ann.fail("conditions."+b.Service.Name, m.ing.Annotations[IngressPrefix+"conditions."+b.Service.Name], "%v", err)
					return elb.Action{}, nil, false
				}
				conds = append(conds, cond)
			}
		}
		return act, conds, true
	}
	port := intstr.FromInt32(b.Service.Port.Number)
	if b.Service.Port.Name != "" {
		port = intstr.FromString(b.Service.Port.Name)
	}
	tg, err := t.ingressTargetGroup(m, b.Service.Name, port)
	if err != nil {
		t.errs = append(t.errs, err)
		return elb.Action{}, nil, false
	}
	return elb.Forward(tg), nil, true
}

func (t *translator) defaultBackend(m *ingressMember) *elb.Action {
	if m.ing.Spec.DefaultBackend == nil {
		return nil
	}
	act, _, ok := t.backendAction(m, *m.ing.Spec.DefaultBackend)
	if !ok {
		return nil
	}
	return &act
}

// ingressTargetGroup returns (creating once) the target group for a
// Service port behind an Ingress. Target-group annotations on the Service
// override the Ingress's, as ALBC does.
func (t *translator) ingressTargetGroup(m *ingressMember, svcName string, port intstr.IntOrString) (*elb.TargetGroup, error) {
	ns := m.ing.Namespace
	svc := t.objs.Service(ns, svcName)
	sp, err := servicePort(svc, port)
	if err != nil {
		return nil, fmt.Errorf("%s: backend %s:%s: %w", m.ref, svcName, port.String(), err)
	}
	// Merge annotations: Service over Ingress.
	merged := map[string]string{}
	for k, v := range m.ing.Annotations {
		merged[k] = v
	}
	if svc != nil {
		for k, v := range svc.Annotations {
			if strings.HasPrefix(k, IngressPrefix) {
				merged[k] = v
			}
		}
	}
	a := newAnnotations(m.ref, IngressPrefix, merged, &t.errs)
	targetType := elb.TargetType(a.oneOf("target-type", string(elb.TargetTypeInstance), string(elb.TargetTypeInstance), string(elb.TargetTypeIP)))
	proto := elb.Protocol(a.oneOf("backend-protocol", "HTTP", "HTTP", "HTTPS"))
	version := elb.ProtocolVersion(a.oneOf("backend-protocol-version", "HTTP1", "HTTP1", "HTTP2", "GRPC"))

	tgPort, err := targetPort(sp, targetType)
	if err != nil {
		return nil, fmt.Errorf("%s: backend %s:%s: %w", m.ref, svcName, port.String(), err)
	}
	nodeSel := t.nodeSelection(a)
	key := fmt.Sprintf("%s/%s:%s %s %s %s", ns, svcName, port.String(), targetType, proto, version)
	if len(nodeSel.Labels) > 0 {
		// Different node selections are different target groups.
		key += " nodes:" + fmt.Sprint(nodeSel.Labels)
	}
	if tg, ok := t.tgs[key]; ok {
		return tg, nil
	}
	tg := elb.NewTargetGroup(generatedName(t.opts.ClusterName, ns, svcName, key), proto, tgPort, targetType)
	tg.ProtocolVersion = version
	tg.VPCID = t.opts.VPCID
	hcPath, codes := "/", "200"
	if version == elb.ProtocolVersionGRPC {
		hcPath, codes = "/AWS.ALB/healthcheck", "12"
	}
	tg.HealthCheck = elb.HealthCheck{
		Protocol:           elb.Protocol(a.oneOf("healthcheck-protocol", string(proto), "HTTP", "HTTPS")),
		Port:               healthPort(a, "healthcheck-port"),
		Path:               a.str("healthcheck-path", hcPath),
		IntervalSeconds:    a.integer("healthcheck-interval-seconds", 15, 5, 300),
		TimeoutSeconds:     a.integer("healthcheck-timeout-seconds", 5, 2, 120),
		HealthyThreshold:   a.integer("healthy-threshold-count", 2, 2, 10),
		UnhealthyThreshold: a.integer("unhealthy-threshold-count", 2, 2, 10),
	}
	successCodes := a.str("success-codes", codes)
	if strings.TrimSpace(successCodes) == "" {
		// An empty matcher would silently mean AWS's default, not the
		// value the user wrote.
		a.fail("success-codes", successCodes, "must not be empty")
		successCodes = codes
	}
	if version == elb.ProtocolVersionGRPC {
		tg.HealthCheck.Matcher.GRPCCode = successCodes
	} else {
		tg.HealthCheck.Matcher.HTTPCode = successCodes
	}
	if attrs := a.attributes("target-group-attributes"); len(attrs) > 0 {
		at, err := elb.ApplyTargetGroupAttributes(tg, attrs)
		if err != nil {
			a.fail("target-group-attributes", merged[IngressPrefix+"target-group-attributes"], "%v", err)
		}
		tg.Attributes = at
	}
	tg.Tags = a.tags("tags")
	tg.Targets = t.targets(m.ref, ns, svc, sp, targetType, nodeSel)
	t.tgs[key] = tg
	t.stack.AddTargetGroup(tg)
	return tg, nil
}

// healthPort reads a health-check port annotation: traffic-port or a number.
func healthPort(a *annotations, name string) string {
	v := a.str(name, elb.TrafficPort)
	if v == elb.TrafficPort {
		return v
	}
	var n int
	if _, err := fmt.Sscanf(v, "%d", &n); err != nil || fmt.Sprint(n) != v || n < 1 || n > 65535 {
		a.fail(name, v, "must be traffic-port or a port number 1-65535")
		return elb.TrafficPort
	}
	return v
}

// servicePort finds the Service's port by number or name. Without the
// Service in the manifest a numeric port stands for itself.
func servicePort(svc *corev1.Service, port intstr.IntOrString) (corev1.ServicePort, error) {
	port = intstr.Parse(port.String()) // "80" in an annotation is port 80
	if svc == nil {
		if port.Type == intstr.Int {
			return corev1.ServicePort{Port: port.IntVal, TargetPort: port, Protocol: corev1.ProtocolTCP}, nil
		}
		return corev1.ServicePort{}, errors.New("the Service is not in the manifest, so a named port cannot be resolved")
	}
	for _, p := range svc.Spec.Ports {
		if port.Type == intstr.Int && p.Port == port.IntVal || port.Type == intstr.String && p.Name == port.StrVal {
			return p, nil
		}
	}
	return corev1.ServicePort{}, fmt.Errorf("Service %s/%s has no port %s", svc.Namespace, svc.Name, port.String())
}

// targetPort is the target group's port: the pod port for ip targets (the
// Service port when the target port is named), the NodePort for instance
// targets.
func targetPort(sp corev1.ServicePort, tt elb.TargetType) (int, error) {
	if tt == elb.TargetTypeInstance {
		if sp.NodePort == 0 {
			return 0, errors.New("instance targets need a NodePort (Service type NodePort or LoadBalancer, with nodePort set)")
		}
		return int(sp.NodePort), nil
	}
	if sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal != 0 {
		return int(sp.TargetPort.IntVal), nil
	}
	return int(sp.Port), nil
}

// generatedName is ALBC's style of name, k8s-<a>-<b>-<hash>, at most 32
// characters, stable for the same inputs.
func generatedName(cluster, a, b, key string) string {
	sum := sha256.Sum256([]byte(cluster + "\x00" + key))
	clean := func(s string) string {
		var out []byte
		for _, c := range []byte(strings.ToLower(s)) {
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
				out = append(out, c)
			}
		}
		if len(out) > 8 {
			out = out[:8]
		}
		return string(out)
	}
	parts := []string{"k8s", clean(a)}
	if b != "" {
		parts = append(parts, clean(b))
	}
	parts = append(parts, hex.EncodeToString(sum[:])[:10])
	return strings.Join(parts, "-")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
