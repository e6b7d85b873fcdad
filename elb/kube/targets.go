package kube

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/lbkit/lbkit/elb"
)

// EndpointSource supplies the ready endpoints of a Service port, for
// callers that keep them elsewhere than in EndpointSlice objects (a
// controller's informer cache, a test).
type EndpointSource interface {
	// Endpoints returns the ready (address, port) pairs behind port sp of
	// the Service namespace/name.
	Endpoints(namespace, name string, sp corev1.ServicePort) []elb.Target
}

// targets are the targets of a Service port: for ip target groups the
// ready endpoints (from Options.Endpoints or the manifest's
// EndpointSlices); for instance target groups the suitable nodes of
// Options.Nodes (NodeTargets), narrowed by sel. Without
// Options.Nodes, instance targets are left to the caller.
func (t *translator) targets(ref ObjectRef, ns string, svc *corev1.Service, sp corev1.ServicePort, tt elb.TargetType, sel NodeSelection) []elb.Target {
	if svc == nil {
		return nil
	}
	switch tt {
	case elb.TargetTypeIP:
		if t.opts.Endpoints != nil {
			return t.opts.Endpoints.Endpoints(ns, svc.Name, sp)
		}
		return SliceTargets(t.objs.EndpointSlices, svc, sp)
	case elb.TargetTypeInstance:
		if t.opts.Nodes == nil {
			return nil
		}
		nts, err := NodeTargets(t.opts.Nodes, svc, sp, NodeSelection{Labels: sel.Labels, Selector: sel.Selector, Slices: t.objs.EndpointSlices})
		if err != nil {
			t.errs = append(t.errs, fmt.Errorf("%s: Service %s/%s port %d: %w", ref, ns, svc.Name, sp.Port, err))
			return nil
		}
		out := make([]elb.Target, len(nts))
		for i, nt := range nts {
			out[i] = nt.Target
		}
		return out
	}
	return nil
}

// nodeSelection reads target-node-labels ("k1=v1,k2=v2") when nodes are
// given; otherwise the key stays unread and is reported as unsupported.
func (t *translator) nodeSelection(a *annotations) NodeSelection {
	if t.opts.Nodes == nil {
		return NodeSelection{}
	}
	ps := a.pairs("target-node-labels")
	if len(ps) == 0 {
		return NodeSelection{}
	}
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		m[p[0]] = p[1]
	}
	return NodeSelection{Labels: m}
}

// SliceTargets returns the ready endpoints of a Service port found in
// EndpointSlices (label kubernetes.io/service-name), matched by port name
// as kube-proxy does, each once, in slice order.
func SliceTargets(slices []*discoveryv1.EndpointSlice, svc *corev1.Service, sp corev1.ServicePort) []elb.Target {
	var out []elb.Target
	seen := map[elb.Target]bool{}
	for _, es := range slices {
		if es.Namespace != svc.Namespace || es.Labels[discoveryv1.LabelServiceName] != svc.Name {
			continue
		}
		port := 0
		for _, p := range es.Ports {
			name := ""
			if p.Name != nil {
				name = *p.Name
			}
			if name == sp.Name && p.Port != nil {
				port = int(*p.Port)
			}
		}
		if port == 0 && sp.TargetPort.Type == intstr.Int {
			port = int(sp.TargetPort.IntVal)
		}
		if port == 0 {
			continue
		}
		for _, ep := range es.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, addr := range ep.Addresses {
				tg := elb.Target{ID: addr, Port: port}
				if !seen[tg] {
					seen[tg] = true
					out = append(out, tg)
				}
			}
		}
	}
	return out
}
