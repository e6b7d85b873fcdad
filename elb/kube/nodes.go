package kube

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/lbkit/lbkit/elb"
)

// Node labels and taints that decide whether a node can carry NodePort
// traffic, as the AWS Load Balancer Controller reads them
// (pkg/backend/endpoint_utils.go and pkg/k8s/node_utils.go).
const (
	LabelExcludeFromLB      = "node.kubernetes.io/exclude-from-external-load-balancers"
	labelAlphaExcludeLB     = "alpha.service-controller.kubernetes.io/exclude-balancer"
	labelNodeRoleMaster     = "node-role.kubernetes.io/master"
	labelEKSComputeType     = "eks.amazonaws.com/compute-type"
	labelZone               = "topology.kubernetes.io/zone"
	labelZoneBeta           = "failure-domain.beta.kubernetes.io/zone"
	taintClusterAutoscaler  = "ToBeDeletedByClusterAutoscaler"
	taintKarpenterDisrupted = "karpenter.sh/disrupted"
)

// NodeTarget is one node behind an instance target group: the EC2
// instance ID and NodePort to register, and where the node is.
type NodeTarget struct {
	// Target is the instance ID and the Service port's NodePort.
	// Target.AvailabilityZone stays empty: RegisterTargets rejects it for
	// instance targets.
	elb.Target
	// Node is the Node's name.
	Node string
	// Zone is the node's topology.kubernetes.io/zone label (or the
	// deprecated failure-domain.beta.kubernetes.io/zone, or the zone in
	// spec.providerID), for zone-aware callers; empty when unknown.
	Zone string
}

// NodeSelection narrows the nodes of NodeTargets beyond the controller's
// defaults.
type NodeSelection struct {
	// Labels the nodes must all carry with these values: the
	// target-node-labels annotation, or a TargetGroupBinding's
	// spec.nodeSelector.matchLabels.
	Labels map[string]string
	// Selector, when set, must select the nodes too: a
	// TargetGroupBinding's spec.nodeSelector with its matchExpressions.
	Selector labels.Selector
	// Slices are the EndpointSlices consulted for a Service with
	// externalTrafficPolicy Local: only nodes named (nodeName) by a ready
	// endpoint of the Service are kept.
	Slices []*discoveryv1.EndpointSlice
}

// NodeError is a node that qualifies as a target but whose EC2 instance
// cannot be named, so that no target group silently misses it.
type NodeError struct {
	Node       string
	ProviderID string
	Reason     string
}

func (e *NodeError) Error() string {
	return fmt.Sprintf("kube: node %s: spec.providerID %q: %s", e.Node, e.ProviderID, e.Reason)
}

// NodeTargets returns the instance targets of a Service port: every
// suitable node's EC2 instance on the port's NodePort, in node order, each
// instance once.
//
// A node is suitable as the AWS Load Balancer Controller decides:
//   - its Ready condition is True (Unknown and False are left out; ALBC's
//     opt-in fail-open for Unknown is not modelled);
//   - it has none of the labels node.kubernetes.io/exclude-from-external-load-balancers,
//     alpha.service-controller.kubernetes.io/exclude-balancer,
//     node-role.kubernetes.io/master (any value), and is not
//     eks.amazonaws.com/compute-type=fargate;
//   - it is not being drained for removal: no ToBeDeletedByClusterAutoscaler
//     taint, no karpenter.sh/disrupted:NoSchedule taint.
//
// Like ALBC, cordoned nodes (spec.unschedulable) stay targets: kube-proxy
// on them still forwards, and draining them from the load balancer is the
// autoscaler taints' job. A metadata.deletionTimestamp is not consulted
// either (ALBC does not; the node leaves the list once deleted).
//
// sel.Labels must all match, and sel.Selector select the node. For a Service with externalTrafficPolicy
// Local only nodes running a ready endpoint of the Service are kept (by
// the endpoints' nodeName in sel.Slices). This is lbkit's choice: ALBC
// registers every node and lets the health check on healthCheckNodePort
// fail the others, which costs a failed target per empty node.
//
// The instance ID is the last segment of spec.providerID
// (aws:///us-east-1a/i-0abc…); a suitable node without an AWS
// providerID is a *NodeError naming it, as ALBC fails the whole set.
func NodeTargets(nodes []*corev1.Node, svc *corev1.Service, sp corev1.ServicePort, sel NodeSelection) ([]NodeTarget, error) {
	if sp.NodePort == 0 {
		return nil, fmt.Errorf("kube: Service port %d has no NodePort (instance targets need type NodePort or LoadBalancer)", sp.Port)
	}
	var local map[string]bool
	if svc != nil && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
		local = endpointNodes(sel.Slices, svc)
	}
	out := make([]NodeTarget, 0, len(nodes))
	seen := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		if n == nil || !nodeSuitable(n) || !hasLabels(n.Labels, sel.Labels) ||
			(sel.Selector != nil && !sel.Selector.Matches(labels.Set(n.Labels))) {
			continue
		}
		if local != nil && !local[n.Name] {
			continue
		}
		id, zone, err := instanceID(n)
		if err != nil {
			return nil, err
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		if z := n.Labels[labelZone]; z != "" {
			zone = z
		} else if z := n.Labels[labelZoneBeta]; z != "" {
			zone = z
		}
		out = append(out, NodeTarget{Target: elb.Target{ID: id, Port: int(sp.NodePort)}, Node: n.Name, Zone: zone})
	}
	return out, nil
}

// nodeSuitable applies ALBC's default node selector, its taint checks and
// the Ready condition.
func nodeSuitable(n *corev1.Node) bool {
	for _, l := range [...]string{LabelExcludeFromLB, labelAlphaExcludeLB, labelNodeRoleMaster} {
		if _, ok := n.Labels[l]; ok {
			return false
		}
	}
	if n.Labels[labelEKSComputeType] == "fargate" {
		return false
	}
	for _, t := range n.Spec.Taints {
		if t.Key == taintClusterAutoscaler || (t.Key == taintKarpenterDisrupted && t.Effect == corev1.TaintEffectNoSchedule) {
			return false
		}
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// endpointNodes are the nodes that run a ready endpoint of svc. An unset
// ready condition counts as ready, as the EndpointSlice API says.
func endpointNodes(slices []*discoveryv1.EndpointSlice, svc *corev1.Service) map[string]bool {
	out := map[string]bool{}
	for _, es := range slices {
		if es.Namespace != svc.Namespace || es.Labels[discoveryv1.LabelServiceName] != svc.Name {
			continue
		}
		for _, ep := range es.Endpoints {
			if ep.NodeName == nil || (ep.Conditions.Ready != nil && !*ep.Conditions.Ready) {
				continue
			}
			out[*ep.NodeName] = true
		}
	}
	return out
}

// instanceID reads an AWS providerID: aws:///ZONE/i-ID (the zone may be
// empty, as in aws:////i-ID). The ID is i- and 8 or 17 hex digits.
func instanceID(n *corev1.Node) (id, zone string, err error) {
	p := n.Spec.ProviderID
	fail := func(why string) (string, string, error) {
		return "", "", &NodeError{Node: n.Name, ProviderID: p, Reason: why}
	}
	if p == "" {
		return fail("empty: the node's EC2 instance is unknown (is the AWS cloud provider running?)")
	}
	rest, ok := strings.CutPrefix(p, "aws://")
	if !ok {
		return fail("not an AWS provider ID (aws:///ZONE/i-…)")
	}
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return fail("no instance ID after aws://")
	}
	id = rest[i+1:]
	if !isInstanceID(id) {
		return fail(fmt.Sprintf("%q is not an EC2 instance ID (i- and 8 or 17 hex digits)", id))
	}
	zone = strings.Trim(rest[:i], "/")
	if strings.Contains(zone, "/") {
		return fail("more than a zone between aws:// and the instance ID")
	}
	return id, zone, nil
}

func isInstanceID(s string) bool {
	h, ok := strings.CutPrefix(s, "i-")
	if !ok || (len(h) != 8 && len(h) != 17) {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
