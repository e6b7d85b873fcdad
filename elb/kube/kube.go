package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/kube/apis/elbv2/v1beta1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Annotation prefixes of the AWS Load Balancer Controller.
const (
	IngressPrefix = "alb.ingress.kubernetes.io/"
	ServicePrefix = "service.beta.kubernetes.io/aws-load-balancer-"
)

// Objects are the inputs of [Translate], as a controller lists them.
type Objects struct {
	Ingresses           []*networkingv1.Ingress
	Services            []*corev1.Service
	EndpointSlices      []*discoveryv1.EndpointSlice
	Nodes               []*corev1.Node
	TargetGroupBindings []*v1beta1.TargetGroupBinding
}

// EndpointSource lets a caller supply a Service port's targets instead of
// EndpointSlices and Nodes. ok=false falls back to the objects.
type EndpointSource interface {
	Targets(svc *corev1.Service, port corev1.ServicePort, t elb.TargetType) (targets []elb.Target, ok bool)
}

// Options configure [Translate].
type Options struct {
	// VPCID is written into every target group.
	VPCID string
	// IngressClass is the class handled; default "alb".
	IngressClass string
	// Endpoints, when set, is asked first for targets.
	Endpoints EndpointSource
}

// Unsupported is an annotation that was read but has no place in the elb
// model; the controller should surface it (event, status) to the user.
type Unsupported struct {
	Object string // kind/namespace/name
	Key    string
	Value  string
}

// Result is what [Translate] produced.
type Result struct {
	// Stacks by ID: "ingress-group/<name>" for an explicit IngressGroup,
	// "ingress/<ns>/<name>" for an implicit one, "service/<ns>/<name>".
	Stacks      map[string]*elb.Stack
	Unsupported []Unsupported
}

// IDs returns the stack IDs sorted.
func (r *Result) IDs() []string {
	ids := make([]string, 0, len(r.Stacks))
	for id := range r.Stacks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

type translator struct {
	objs Objects
	opts Options
	res  *Result
	errs field.ErrorList
}

// Translate builds one stack per IngressGroup and per LoadBalancer Service
// that the controller would manage. Errors are a field.ErrorList aggregate
// whose paths name the object and the annotation key; a group with an error
// produces no stack, other groups are still translated.
func Translate(objs Objects, opts Options) (*Result, error) {
	if opts.IngressClass == "" {
		opts.IngressClass = "alb"
	}
	t := &translator{objs: objs, opts: opts, res: &Result{Stacks: map[string]*elb.Stack{}}}
	t.ingresses()
	t.services()
	return t.res, t.errs.ToAggregate()
}

func annPath(kind, ns, name, key string) *field.Path {
	return field.NewPath(kind).Key(ns+"/"+name).Child("metadata", "annotations").Key(key)
}

// shortHash is ALBC-style: 10 hex characters of a SHA-256.
func shortHash(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "/")))
	return hex.EncodeToString(h[:])[:10]
}

// sanitize keeps what a load balancer or target group name may contain.
func sanitize(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
		if b.Len() == n {
			break
		}
	}
	return b.String()
}

// annotations reads one object's annotations of a prefix, recording every
// key that is consumed so the rest can be reported unsupported.
type annotations struct {
	kind, ns, name, prefix string
	m                      map[string]string
	used                   map[string]bool
	errs                   *field.ErrorList
}

func (a *annotations) path(k string) *field.Path { return annPath(a.kind, a.ns, a.name, a.prefix+k) }

func (a *annotations) str(k string) (string, bool) {
	a.used[a.prefix+k] = true
	v, ok := a.m[a.prefix+k]
	return strings.TrimSpace(v), ok
}

func (a *annotations) enum(k, def string, allowed ...string) string {
	v, ok := a.str(k)
	if !ok {
		return def
	}
	for _, x := range allowed {
		if v == x {
			return v
		}
	}
	*a.errs = append(*a.errs, field.NotSupported(a.path(k), v, allowed))
	return def
}

func (a *annotations) integer(k string, def, lo, hi int) int {
	v, ok := a.str(k)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		*a.errs = append(*a.errs, field.Invalid(a.path(k), v, fmt.Sprintf("must be an integer %d-%d", lo, hi)))
		return def
	}
	return n
}

func (a *annotations) list(k string) []string {
	v, ok := a.str(k)
	if !ok || v == "" {
		return nil
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// kv parses "k1=v1,k2=v2" (tags, attributes).
func (a *annotations) kv(k string) []elb.Attribute {
	var out []elb.Attribute
	for _, s := range a.list(k) {
		key, val, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(key) == "" {
			*a.errs = append(*a.errs, field.Invalid(a.path(k), s, "want key=value pairs separated by commas"))
			continue
		}
		out = append(out, elb.Attribute{Key: strings.TrimSpace(key), Value: strings.TrimSpace(val)})
	}
	return out
}

func (a *annotations) tags(k string) elb.Tags {
	kvs := a.kv(k)
	if len(kvs) == 0 {
		return nil
	}
	t := elb.Tags{}
	for _, x := range kvs {
		t[x.Key] = x.Value
	}
	return t
}

// unused reports every annotation of the prefix that was not consumed.
func (a *annotations) unused(res *Result) {
	var keys []string
	for k := range a.m {
		if strings.HasPrefix(k, a.prefix) && !a.used[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		res.Unsupported = append(res.Unsupported, Unsupported{Object: a.kind + "/" + a.ns + "/" + a.name, Key: k, Value: a.m[k]})
	}
}

func newAnn(kind, ns, name, prefix string, m map[string]string, errs *field.ErrorList) *annotations {
	return &annotations{kind: kind, ns: ns, name: name, prefix: prefix, m: m, used: map[string]bool{}, errs: errs}
}

// healthCheck reads the target group health check annotations shared by
// Ingress and Service (Service annotations win), with Ingress defaults:
// HTTP, traffic-port, "/", 15 s, 5 s, 2/2, 200 (gRPC: /AWS.ALB/healthcheck, 12).
func healthCheck(anns []*annotations, grpc bool) elb.HealthCheck {
	path, codes := "/", "200"
	if grpc {
		path, codes = "/AWS.ALB/healthcheck", "12"
	}
	hc := elb.HealthCheck{Protocol: elb.ProtocolHTTP, Port: elb.TrafficPort, Path: path, IntervalSeconds: 15, TimeoutSeconds: 5, HealthyThreshold: 2, UnhealthyThreshold: 2}
	for _, a := range anns {
		hc.Protocol = elb.Protocol(a.enum("healthcheck-protocol", string(hc.Protocol), "HTTP", "HTTPS"))
		if v, ok := a.str("healthcheck-port"); ok {
			if v != elb.TrafficPort {
				if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 65535 {
					*a.errs = append(*a.errs, field.Invalid(a.path("healthcheck-port"), v, "must be traffic-port or 1-65535"))
					v = hc.Port
				}
			}
			hc.Port = v
		}
		if v, ok := a.str("healthcheck-path"); ok {
			if !strings.HasPrefix(v, "/") {
				*a.errs = append(*a.errs, field.Invalid(a.path("healthcheck-path"), v, "must start with /"))
			} else {
				hc.Path = v
			}
		}
		hc.IntervalSeconds = a.integer("healthcheck-interval-seconds", hc.IntervalSeconds, 5, 300)
		hc.TimeoutSeconds = a.integer("healthcheck-timeout-seconds", hc.TimeoutSeconds, 2, 120)
		hc.HealthyThreshold = a.integer("healthy-threshold-count", hc.HealthyThreshold, 2, 10)
		hc.UnhealthyThreshold = a.integer("unhealthy-threshold-count", hc.UnhealthyThreshold, 2, 10)
		if v, ok := a.str("success-codes"); ok {
			codes = v
		}
	}
	if grpc {
		hc.Matcher.GRPCCode = codes
	} else {
		hc.Matcher.HTTPCode = codes
	}
	return hc
}

func (t *translator) service(ns, name string) *corev1.Service {
	for _, s := range t.objs.Services {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return nil
}

func servicePort(svc *corev1.Service, p intstr.IntOrString) (corev1.ServicePort, bool) {
	for _, sp := range svc.Spec.Ports {
		// A string that is a number names the port number, as in ALBC's
		// actions JSON ("servicePort": "80").
		if (p.Type == intstr.Int && sp.Port == p.IntVal) || (p.Type == intstr.String && (sp.Name == p.StrVal || strconv.Itoa(int(sp.Port)) == p.StrVal)) {
			return sp, true
		}
	}
	return corev1.ServicePort{}, false
}

// targets resolves a Service port's targets: ready endpoints' addresses on
// the endpoint port (ip), or every node's instance ID on the NodePort
// (instance). Sorted by ID and port.
func (t *translator) targets(svc *corev1.Service, sp corev1.ServicePort, tt elb.TargetType) []elb.Target {
	if t.opts.Endpoints != nil {
		if ts, ok := t.opts.Endpoints.Targets(svc, sp, tt); ok {
			return ts
		}
	}
	var out []elb.Target
	if tt == elb.TargetTypeInstance {
		for _, n := range t.objs.Nodes {
			if _, excl := n.Labels["node.kubernetes.io/exclude-from-external-load-balancers"]; excl {
				continue
			}
			id := n.Spec.ProviderID
			if i := strings.LastIndex(id, "/"); i >= 0 {
				id = id[i+1:]
			}
			if id != "" && sp.NodePort != 0 {
				out = append(out, elb.Target{ID: id, Port: int(sp.NodePort)})
			}
		}
	} else {
		for _, es := range t.objs.EndpointSlices {
			if es.Namespace != svc.Namespace || es.Labels[discoveryv1.LabelServiceName] != svc.Name {
				continue
			}
			port := 0
			for _, p := range es.Ports {
				if p.Port != nil && (p.Name == nil && sp.Name == "" || p.Name != nil && *p.Name == sp.Name) {
					port = int(*p.Port)
				}
			}
			if port == 0 {
				continue
			}
			for _, ep := range es.Endpoints {
				if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
					continue
				}
				for _, addr := range ep.Addresses {
					out = append(out, elb.Target{ID: addr, Port: port})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ID != out[j].ID {
			return out[i].ID < out[j].ID
		}
		return out[i].Port < out[j].Port
	})
	return out
}

// tgPort is the target group's port: the NodePort for instance targets,
// the numeric targetPort for ip targets (else the first target's port, else 1).
func tgPort(sp corev1.ServicePort, tt elb.TargetType, ts []elb.Target) int {
	if tt == elb.TargetTypeInstance {
		if sp.NodePort != 0 {
			return int(sp.NodePort)
		}
		return 1
	}
	if sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal != 0 {
		return int(sp.TargetPort.IntVal)
	}
	if sp.TargetPort.Type == intstr.String && sp.TargetPort.StrVal == "" {
		return int(sp.Port)
	}
	if len(ts) > 0 {
		return ts[0].Port
	}
	return 1
}
