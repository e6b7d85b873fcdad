package kube

import (
	"errors"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/lbkit/lbkit/elb"
)

// Options tune Translate.
type Options struct {
	// ClusterName goes into the hash of generated names, as ALBC's
	// cluster name does, so two clusters' objects get different names.
	ClusterName string
	// VPCID is set on every target group (AWS requires it for ip and
	// instance targets).
	VPCID string
	// Endpoints, when set, supplies the targets of a Service port instead
	// of the manifest's EndpointSlices.
	Endpoints EndpointSource
	// Nodes, when set, are the cluster's nodes: instance target groups
	// get the suitable ones as targets (see NodeTargets), honouring
	// target-node-labels and externalTrafficPolicy Local. A suitable node
	// without an AWS providerID is then a translation error. For Local
	// Services the endpoints' nodes come from the manifest's
	// EndpointSlices, not from Endpoints (which carries no node names):
	// without slices such a Service gets no instance targets.
	Nodes []*corev1.Node
}

// Translation is what a set of objects asks for.
type Translation struct {
	// Stack holds one ALB per IngressGroup, one NLB per LoadBalancer
	// Service, and their target groups (defaults not yet applied: call
	// Stack.Defaults, as elb/provision does).
	Stack *elb.Stack
	// Bindings are the TargetGroupBindings with the targets each should
	// have registered.
	Bindings []Binding
	// Unsupported lists annotations outside lbkit's model, by key.
	Unsupported []Finding
	// Skipped lists objects that ask for nothing (other ingress classes,
	// Services that are not AWS load balancers, other kinds).
	Skipped []Finding
}

// ConflictError is two Ingresses of one IngressGroup that give an
// Exclusive annotation different values.
type ConflictError struct {
	Key                     string
	First, Second           ObjectRef
	FirstValue, SecondValue string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("IngressGroup conflict on %s: %s sets %q, %s sets %q", e.Key, e.First, e.FirstValue, e.Second, e.SecondValue)
}

// ErrTranslate is wrapped by Translate's error, which joins every problem
// found (errors.As finds each *AnnotationError and *ConflictError).
var ErrTranslate = errors.New("kube: cannot translate")

type translator struct {
	objs        *Objects
	opts        Options
	stack       *elb.Stack
	tgs         map[string]*elb.TargetGroup
	errs        []error
	unsupported []Finding
	skipped     []Finding
}

func (t *translator) skip(ref ObjectRef, why string) {
	t.skipped = append(t.skipped, Finding{Object: ref, Reason: why})
}

// Translate turns objects into a stack: every alb Ingress (merged by
// IngressGroup), every LoadBalancer Service of type external, and every
// TargetGroupBinding. It reports every bad annotation at once; on error
// the Translation is nil.
func Translate(objs *Objects, opts Options) (*Translation, error) {
	t := &translator{objs: objs, opts: opts, stack: &elb.Stack{}, tgs: map[string]*elb.TargetGroup{}}
	groups := t.ingressGroups()
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.ingressGroup(k, groups[k])
	}
	for _, svc := range objs.Services {
		t.service(svc)
	}
	var bindings []Binding
	for _, tgb := range objs.TargetGroupBindings {
		if b, ok := t.binding(tgb); ok {
			bindings = append(bindings, b)
		}
	}
	for _, ref := range objs.Skipped {
		t.skip(ref, "kind not translated")
	}
	if len(t.errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrTranslate, errors.Join(t.errs...))
	}
	return &Translation{Stack: t.stack, Bindings: bindings, Unsupported: t.unsupported, Skipped: t.skipped}, nil
}

// subnets sets explicit subnets (IDs, or names — tagged Name — which the
// model cannot resolve and so reports), or a selector by role tag.
func (t *translator) subnets(lb *elb.LoadBalancer, a *annotations) {
	if ids := a.list("subnets"); len(ids) > 0 {
		for _, id := range ids {
			if len(id) < 8 || id[:7] != "subnet-" {
				a.fail("subnets", a.all[a.prefix+"subnets"], "%q is not a subnet ID (subnet-…); subnet names are not resolved", id)
				return
			}
		}
		lb.Subnets = ids
		return
	}
	role := elb.TagRoleInternalELB
	if lb.Scheme == elb.SchemeInternetFacing {
		role = elb.TagRoleELB
	}
	// ALBC accepts the tag with value "1" or empty; provision matches the key.
	lb.SubnetSelector = &elb.SubnetSelector{Tags: elb.Tags{role: ""}}
}
