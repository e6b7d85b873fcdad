package kube

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/lbkit/lbkit/elb"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// exclusive are the Ingress annotations that every member of an
// IngressGroup must leave unset or set to the same value (ALBC's "E").
var exclusive = []string{
	"load-balancer-name", "ip-address-type", "scheme", "subnets", "security-groups",
	"manage-backend-security-group-rules", "customer-owned-ipv4-pool", "load-balancer-attributes",
	"wafv2-acl-arn", "wafv2-acl-name", "waf-acl-id", "web-acl-id", "shield-advanced-protection",
	"ssl-redirect", "inbound-cidrs", "security-group-prefix-lists", "ssl-policy",
	"mutual-authentication", "minimum-load-balancer-capacity", "ipam-ipv4-pool-id",
}

// UseAnnotation is the backend port name that sends a path to actions.<service>.
const UseAnnotation = "use-annotation"

func (t *translator) ingressClassMatches(ing *networkingv1.Ingress) bool {
	if ing.Spec.IngressClassName != nil {
		return *ing.Spec.IngressClassName == t.opts.IngressClass
	}
	return ing.Annotations["kubernetes.io/ingress.class"] == t.opts.IngressClass
}

type member struct {
	ing   *networkingv1.Ingress
	ann   *annotations
	order int
}

func (t *translator) ingresses() {
	groups := map[string][]*member{}
	bad := map[string]bool{} // groups with an error in a member's group.* annotations
	for _, ing := range t.objs.Ingresses {
		if !t.ingressClassMatches(ing) || ing.DeletionTimestamp != nil {
			continue
		}
		a := newAnn("ingress", ing.Namespace, ing.Name, IngressPrefix, ing.Annotations, &t.errs)
		id := "ingress/" + ing.Namespace + "/" + ing.Name
		if g, ok := a.str("group.name"); ok {
			if g == "" || len(g) > 63 {
				t.errs = append(t.errs, field.Invalid(a.path("group.name"), g, "must be 1-63 characters"))
				continue
			}
			id = "ingress-group/" + g
		}
		n := len(t.errs)
		m := &member{ing: ing, ann: a, order: a.integer("group.order", 0, -1000, 1000)}
		groups[id] = append(groups[id], m)
		if len(t.errs) > n {
			bad[id] = true
		}
	}
	ids := make([]string, 0, len(groups))
	for id := range groups {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		ms := groups[id]
		sort.SliceStable(ms, func(i, j int) bool {
			if ms[i].order != ms[j].order {
				return ms[i].order < ms[j].order
			}
			return ms[i].ing.Namespace+"/"+ms[i].ing.Name < ms[j].ing.Namespace+"/"+ms[j].ing.Name
		})
		before := len(t.errs)
		s := t.group(id, ms)
		for _, m := range ms {
			m.ann.unused(t.res)
		}
		if len(t.errs) == before && s != nil && !bad[id] {
			t.res.Stacks[id] = s
		}
	}
}

// group merges an IngressGroup's members (sorted by group.order, then
// namespace/name) into one ALB stack.
func (t *translator) group(id string, ms []*member) *elb.Stack {
	// Exclusive annotations: one value across the group.
	for _, k := range exclusive {
		var first *member
		for _, m := range ms {
			v, ok := m.ann.m[IngressPrefix+k]
			if !ok {
				continue
			}
			if first == nil {
				first = m
				continue
			}
			if fv := first.ann.m[IngressPrefix+k]; fv != v {
				t.errs = append(t.errs, field.Invalid(m.ann.path(k), v, fmt.Sprintf(
					"conflicts with %q on ingress %s/%s in the same IngressGroup", fv, first.ing.Namespace, first.ing.Name)))
			}
		}
	}
	lead := func(k string) *annotations { // the member that sets k, else the first
		for _, m := range ms {
			if _, ok := m.ann.m[IngressPrefix+k]; ok {
				return m.ann
			}
		}
		return ms[0].ann
	}
	for _, m := range ms {
		for _, k := range exclusive {
			m.ann.used[IngressPrefix+k] = m.ann.used[IngressPrefix+k] || modelledExclusive[k]
		}
	}

	s := &elb.Stack{}
	name, ok := lead("load-balancer-name").str("load-balancer-name")
	if !ok {
		if strings.HasPrefix(id, "ingress-group/") {
			g := strings.TrimPrefix(id, "ingress-group/")
			name = "k8s-" + sanitize(g, 17) + "-" + shortHash(id)
		} else {
			ing := ms[0].ing
			name = "k8s-" + sanitize(ing.Namespace, 8) + "-" + sanitize(ing.Name, 8) + "-" + shortHash(id)
		}
	} else if err := elb.ValidateLoadBalancerName(name); err != nil {
		t.errs = append(t.errs, field.Invalid(lead("load-balancer-name").path("load-balancer-name"), name, err.Error()))
	}
	lb := s.AddLoadBalancer(elb.NewApplicationLoadBalancer(name))
	lb.Scheme = elb.Scheme(lead("scheme").enum("scheme", "internal", "internal", "internet-facing"))
	lb.IPAddressType = elb.IPAddressType(lead("ip-address-type").enum("ip-address-type", "ipv4", "ipv4", "dualstack", "dualstack-without-public-ipv4"))
	if sn := lead("subnets").list("subnets"); len(sn) > 0 {
		lb.Subnets = sn
	} else {
		lb.SubnetSelector = roleSelector(lb.Scheme)
	}
	lb.SecurityGroups = lead("security-groups").list("security-groups")
	if kvs := lead("load-balancer-attributes").kv("load-balancer-attributes"); len(kvs) > 0 {
		attrs, err := elb.ApplyLoadBalancerAttributes(elb.LoadBalancerTypeApplication, lb.Attributes, kvs)
		if err != nil {
			a := lead("load-balancer-attributes")
			t.errs = append(t.errs, field.Invalid(a.path("load-balancer-attributes"), a.m[IngressPrefix+"load-balancer-attributes"], err.Error()))
		}
		lb.Attributes = attrs
	}
	for _, m := range ms { // tags merge
		for k, v := range m.ann.tags("tags") {
			if lb.Tags == nil {
				lb.Tags = elb.Tags{}
			}
			lb.Tags[k] = v
		}
	}
	sslPolicy, _ := lead("ssl-policy").str("ssl-policy")
	sslRedirect := 0
	if a := lead("ssl-redirect"); a.m[IngressPrefix+"ssl-redirect"] != "" {
		sslRedirect = a.integer("ssl-redirect", 0, 1, 65535)
	}

	// Listeners: the union of every member's listen-ports (Merge).
	type lkey struct {
		proto elb.Protocol
		port  int
	}
	listeners := map[lkey]*elb.Listener{}
	var certs []string
	memberPorts := make([][]lkey, len(ms))
	for i, m := range ms {
		c := m.ann.list("certificate-arn")
		certs = appendUnique(certs, c...)
		lps, err := ParseListenPorts(m.ann.m[IngressPrefix+"listen-ports"])
		m.ann.used[IngressPrefix+"listen-ports"] = true
		if err != nil {
			t.errs = append(t.errs, field.Invalid(m.ann.path("listen-ports"), m.ann.m[IngressPrefix+"listen-ports"], err.Error()))
			continue
		}
		if lps == nil {
			lps = []ListenPort{{Protocol: elb.ProtocolHTTP, Port: 80}}
			if len(c) > 0 {
				lps = []ListenPort{{Protocol: elb.ProtocolHTTPS, Port: 443}}
			}
		}
		for _, lp := range lps {
			memberPorts[i] = append(memberPorts[i], lkey{lp.Protocol, lp.Port})
		}
	}
	for _, ps := range memberPorts {
		for _, k := range ps {
			if _, ok := listeners[k]; ok {
				continue
			}
			if old := lb.Listener(k.port); old != nil {
				t.errs = append(t.errs, field.Invalid(lead("listen-ports").path("listen-ports"), k.port, "port is used with both HTTP and HTTPS in the IngressGroup"))
				continue
			}
			def := elb.FixedResponse(404, elb.ContentTypeTextPlain, "")
			l := lb.AddListener(k.proto, k.port, def)
			if k.proto == elb.ProtocolHTTPS {
				l.Certificates = certs
				l.SSLPolicy = sslPolicy
				if sslPolicy == "" {
					l.SSLPolicy = elb.DefaultSSLPolicy
				}
			}
			listeners[k] = l
		}
	}
	if sslRedirect != 0 {
		for k, l := range listeners {
			if k.proto == elb.ProtocolHTTP {
				l.DefaultActions = []elb.Action{elb.Redirect(elb.RedirectConfig{Protocol: "HTTPS", Port: strconv.Itoa(sslRedirect), StatusCode: elb.RedirectPermanent})}
			}
		}
	}

	// Rules, in member order, then rule order, then path order.
	tgs := map[string]*elb.TargetGroup{}
	prio := map[lkey]int{}
	for i, m := range ms {
		ing := m.ing
		spec := field.NewPath("ingress").Key(ing.Namespace + "/" + ing.Name).Child("spec")
		if db := ing.Spec.DefaultBackend; db != nil {
			acts, ok := t.backendActions(m, db, spec.Child("defaultBackend"), tgs, s)
			if ok {
				for _, k := range memberPorts[i] {
					if l := listeners[k]; l != nil && !(sslRedirect != 0 && k.proto == elb.ProtocolHTTP) {
						l.DefaultActions = acts
					}
				}
			}
		}
		for ri, r := range ing.Spec.Rules {
			if r.HTTP == nil {
				continue
			}
			for pi, p := range r.HTTP.Paths {
				pp := spec.Child("rules").Index(ri).Child("http", "paths").Index(pi)
				var conds []elb.Condition
				if r.Host != "" {
					conds = append(conds, elb.HostHeader(r.Host))
				}
				if pc, err := pathCondition(p); err != nil {
					t.errs = append(t.errs, field.Invalid(pp.Child("path"), p.Path, err.Error()))
					continue
				} else if pc != nil {
					conds = append(conds, *pc)
				}
				b := p.Backend
				acts, ok := t.backendActions(m, &b, pp.Child("backend"), tgs, s)
				if !ok {
					continue
				}
				if b.Service != nil {
					key := "conditions." + b.Service.Name
					if v, has := m.ann.str(key); has {
						extra, err := ParseConditions(v)
						if err != nil {
							t.errs = append(t.errs, field.Invalid(m.ann.path(key), v, err.Error()))
							continue
						}
						conds = append(conds, extra...)
					}
				}
				if len(conds) == 0 {
					conds = []elb.Condition{elb.PathPattern("/*")}
				}
				for _, k := range memberPorts[i] {
					l := listeners[k]
					if l == nil {
						continue
					}
					if sslRedirect != 0 && k.proto == elb.ProtocolHTTP {
						continue // the redirect is the whole listener
					}
					prio[k]++
					l.Rules = append(l.Rules, &elb.Rule{Priority: prio[k], Conditions: conds, Actions: acts})
				}
			}
		}
	}
	sort.Slice(s.TargetGroups, func(i, j int) bool { return s.TargetGroups[i].Name < s.TargetGroups[j].Name })
	return s
}

// modelledExclusive are the exclusive keys group() consumes itself.
var modelledExclusive = map[string]bool{
	"load-balancer-name": true, "ip-address-type": true, "scheme": true, "subnets": true,
	"security-groups": true, "load-balancer-attributes": true, "ssl-redirect": true, "ssl-policy": true,
}

func roleSelector(s elb.Scheme) *elb.SubnetSelector {
	if s == elb.SchemeInternal {
		return &elb.SubnetSelector{Tags: elb.Tags{"kubernetes.io/role/internal-elb": "1"}}
	}
	return &elb.SubnetSelector{Tags: elb.Tags{"kubernetes.io/role/elb": "1"}}
}

func appendUnique(a []string, xs ...string) []string {
	for _, x := range xs {
		dup := false
		for _, y := range a {
			dup = dup || x == y
		}
		if !dup {
			a = append(a, x)
		}
	}
	return a
}

// pathCondition maps an Ingress path as ALBC does: Exact → the path;
// Prefix "/" → "/*", Prefix "/p" → "/p" and "/p/*"; ImplementationSpecific
// → the path as written (ALB wildcards allowed). No path: no condition.
func pathCondition(p networkingv1.HTTPIngressPath) (*elb.Condition, error) {
	if p.Path == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p.Path, "/") {
		return nil, fmt.Errorf("must start with /")
	}
	pt := networkingv1.PathTypeImplementationSpecific
	if p.PathType != nil {
		pt = *p.PathType
	}
	switch pt {
	case networkingv1.PathTypeExact:
		if strings.ContainsAny(p.Path, "*?") {
			return nil, fmt.Errorf("an Exact path may not contain * or ?")
		}
		c := elb.PathPattern(p.Path)
		return &c, nil
	case networkingv1.PathTypePrefix:
		if strings.ContainsAny(p.Path, "*?") {
			return nil, fmt.Errorf("a Prefix path may not contain * or ?")
		}
		if p.Path == "/" {
			c := elb.PathPattern("/*")
			return &c, nil
		}
		base := strings.TrimSuffix(p.Path, "/")
		c := elb.PathPattern(base, base+"/*")
		return &c, nil
	case networkingv1.PathTypeImplementationSpecific:
		c := elb.PathPattern(p.Path)
		return &c, nil
	}
	return nil, fmt.Errorf("unknown pathType %q", pt)
}

// backendActions returns the actions of one Ingress backend: forward to
// the Service port's target group, or actions.<service> for "use-annotation".
func (t *translator) backendActions(m *member, b *networkingv1.IngressBackend, p *field.Path, tgs map[string]*elb.TargetGroup, s *elb.Stack) ([]elb.Action, bool) {
	if b.Service == nil {
		t.errs = append(t.errs, field.Required(p.Child("service"), "resource backends are not supported"))
		return nil, false
	}
	if b.Service.Port.Name == UseAnnotation {
		key := "actions." + b.Service.Name
		v, ok := m.ann.str(key)
		if !ok {
			t.errs = append(t.errs, field.Required(m.ann.path(key), "backend port use-annotation needs this annotation"))
			return nil, false
		}
		a, err := ParseAction(v)
		if err != nil {
			t.errs = append(t.errs, field.Invalid(m.ann.path(key), v, err.Error()))
			return nil, false
		}
		act, ok := t.resolveAction(m, a, key, tgs, s)
		return []elb.Action{act}, ok
	}
	port := intstr.FromInt32(b.Service.Port.Number)
	if b.Service.Port.Name != "" {
		port = intstr.FromString(b.Service.Port.Name)
	}
	tg, ok := t.ingressTG(m, b.Service.Name, port, p.Child("service"), tgs, s)
	if !ok {
		return nil, false
	}
	return []elb.Action{elb.Forward(tg)}, true
}

func (t *translator) resolveAction(m *member, a *Action, key string, tgs map[string]*elb.TargetGroup, s *elb.Stack) (elb.Action, bool) {
	switch a.Type {
	case "redirect":
		return elb.Redirect(*a.RedirectConfig), true
	case "fixed-response":
		return elb.Action{Type: elb.ActionFixedResponse, FixedResponse: a.FixedResponseConfig}, true
	}
	fc := &elb.ForwardConfig{}
	if a.TargetGroupARN != "" {
		fc.TargetGroups = append(fc.TargetGroups, elb.TargetGroupTuple{TargetGroup: a.TargetGroupARN})
	}
	if a.ForwardConfig != nil {
		for _, tt := range a.ForwardConfig.TargetGroups {
			ref := tt.TargetGroupARN
			if ref == "" {
				tg, ok := t.ingressTG(m, tt.ServiceName, tt.ServicePort, m.ann.path(key), tgs, s)
				if !ok {
					return elb.Action{}, false
				}
				ref = tg.Name
			}
			fc.TargetGroups = append(fc.TargetGroups, elb.TargetGroupTuple{TargetGroup: ref, Weight: tt.Weight})
		}
		if st := a.ForwardConfig.TargetGroupStickinessConfig; st != nil {
			fc.Stickiness = &elb.GroupStickiness{Enabled: st.Enabled, DurationSeconds: st.DurationSeconds}
		}
	}
	return elb.Action{Type: elb.ActionForward, Forward: fc}, true
}

// ingressTG finds or creates the target group of a Service port. Target
// group annotations on the Service override the Ingress's.
func (t *translator) ingressTG(m *member, svcName string, port intstr.IntOrString, p *field.Path, tgs map[string]*elb.TargetGroup, s *elb.Stack) (*elb.TargetGroup, bool) {
	ns := m.ing.Namespace
	svc := t.service(ns, svcName)
	if svc == nil {
		t.errs = append(t.errs, field.NotFound(p.Child("name"), ns+"/"+svcName))
		return nil, false
	}
	sp, ok := servicePort(svc, port)
	if !ok {
		t.errs = append(t.errs, field.NotFound(p.Child("port"), port.String()))
		return nil, false
	}
	sa := newAnn("service", svc.Namespace, svc.Name, IngressPrefix, svc.Annotations, &t.errs)
	layers := []*annotations{m.ann, sa}
	pick := func(k, def string, allowed ...string) string {
		v := def
		for _, a := range layers {
			v = a.enum(k, v, allowed...)
		}
		return v
	}
	tt := elb.TargetType(pick("target-type", "instance", "instance", "ip"))
	proto := elb.Protocol(pick("backend-protocol", "HTTP", "HTTP", "HTTPS"))
	pv := elb.ProtocolVersion(pick("backend-protocol-version", "HTTP1", "HTTP1", "HTTP2", "GRPC"))
	if tt == elb.TargetTypeInstance && svc.Spec.Type != corev1.ServiceTypeNodePort && svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		t.errs = append(t.errs, field.Invalid(m.ann.path("target-type"), "instance", fmt.Sprintf("service %s/%s is of type %s; instance targets need NodePort or LoadBalancer", ns, svcName, svc.Spec.Type)))
		return nil, false
	}
	key := strings.Join([]string{ns, svcName, port.String(), string(tt), string(proto), string(pv)}, "/")
	if tg := tgs[key]; tg != nil {
		return tg, true
	}
	name := "k8s-" + sanitize(ns, 8) + "-" + sanitize(svcName, 8) + "-" + shortHash(key)
	ts := t.targets(svc, sp, tt)
	tg := elb.NewTargetGroup(name, proto, tgPort(sp, tt, ts), tt)
	tg.ProtocolVersion = pv
	tg.VPCID = t.opts.VPCID
	tg.HealthCheck = healthCheck(layers, pv == elb.ProtocolVersionGRPC)
	tg.Targets = ts
	for _, a := range layers {
		if kvs := a.kv("target-group-attributes"); len(kvs) > 0 {
			attrs, err := elb.ApplyTargetGroupAttributes(tg, kvs)
			if err != nil {
				t.errs = append(t.errs, field.Invalid(a.path("target-group-attributes"), a.m[IngressPrefix+"target-group-attributes"], err.Error()))
			}
			tg.Attributes = attrs
		}
	}
	tg.Tags = elb.Tags{"ingress.k8s.aws/resource": ns + "/" + svcName + ":" + port.String()}
	s.AddTargetGroup(tg)
	tgs[key] = tg
	return tg, true
}

// ListenPort is one entry of listen-ports.
type ListenPort struct {
	Protocol elb.Protocol
	Port     int
}

// ParseListenPorts parses listen-ports, `[{"HTTP":80},{"HTTPS":443}]`.
// An empty value returns nil, nil (the caller applies the default).
func ParseListenPorts(v string) ([]ListenPort, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var raw []map[string]int
	if err := unmarshalStrict(v, &raw); err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("no ports")
	}
	var out []ListenPort
	seen := map[int]bool{}
	for _, e := range raw {
		if len(e) != 1 {
			return nil, fmt.Errorf("each entry is one {\"PROTOCOL\": port}")
		}
		for p, n := range e {
			if p != "HTTP" && p != "HTTPS" {
				return nil, fmt.Errorf("protocol %q: must be HTTP or HTTPS", p)
			}
			if n < 1 || n > 65535 {
				return nil, fmt.Errorf("port %d: must be 1-65535", n)
			}
			if seen[n] {
				return nil, fmt.Errorf("port %d listed twice", n)
			}
			seen[n] = true
			out = append(out, ListenPort{elb.Protocol(p), n})
		}
	}
	return out, nil
}

func unmarshalStrict(v string, into any) error {
	d := json.NewDecoder(strings.NewReader(v))
	d.DisallowUnknownFields()
	if err := d.Decode(into); err != nil {
		return fmt.Errorf("invalid JSON: %v", err)
	}
	if d.More() {
		return fmt.Errorf("invalid JSON: trailing data")
	}
	return nil
}
