package kube

import (
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
// EndpointSlices); instance targets need node IDs, which manifests do not
// carry, so they are left to the caller.
func (t *translator) targets(ns string, svc *corev1.Service, sp corev1.ServicePort, tt elb.TargetType) []elb.Target {
	if tt != elb.TargetTypeIP || svc == nil {
		return nil
	}
	if t.opts.Endpoints != nil {
		return t.opts.Endpoints.Endpoints(ns, svc.Name, sp)
	}
	return SliceTargets(t.objs.EndpointSlices, svc, sp)
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
