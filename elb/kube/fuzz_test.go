package kube_test

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/lbkit/lbkit/elb/kube"
)

// FuzzIngressAnnotations feeds arbitrary values to the JSON annotations
// (actions.*, conditions.*, listen-ports): Translate either fails with an
// error or gives a stack whose rules are well formed — never a panic.
func FuzzIngressAnnotations(f *testing.F) {
	f.Add(`{"type":"fixed-response","fixedResponseConfig":{"statusCode":"404"}}`, `[{"field":"path-pattern","pathPatternConfig":{"values":["/x"]}}]`, `[{"HTTP":80}]`)
	f.Add(`{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"web","servicePort":80,"weight":1}]}}`, `[]`, `[{"HTTPS":443},{"HTTP":8080}]`)
	f.Add(`{"type":"redirect","redirectConfig":{"protocol":"HTTPS","statusCode":"HTTP_301"}}`, `[{"field":"source-ip","sourceIpConfig":{"values":["10.0.0.0/8"]}}]`, `[]`)
	f.Add(`null`, `null`, `null`)
	f.Fuzz(func(t *testing.T, action, conditions, ports string) {
		doc := ingressYAML("f", map[string]string{
			kube.IngressPrefix + "actions.act":    action,
			kube.IngressPrefix + "conditions.act": conditions,
			kube.IngressPrefix + "listen-ports":   ports,
		})
		doc = strings.Replace(doc, "name: web\n            port:\n              number: 80", "name: act\n            port:\n              name: use-annotation", 1)
		objs, err := kube.Decode([]byte(doc + "\n---\n" + webService))
		if err != nil {
			return // a value YAML cannot carry
		}
		tr, err := kube.Translate(objs, kube.Options{})
		if err != nil {
			return
		}
		for _, lb := range tr.Stack.LoadBalancers {
			for _, l := range lb.Listeners {
				for _, r := range l.Rules {
					if len(r.Actions) == 0 {
						t.Fatalf("rule %d without an action", r.Priority)
					}
				}
			}
		}
	})
}

// FuzzNodeProviderID: for any spec.providerID of a Ready node, NodeTargets
// either names the node in a *NodeError carrying the value, or gives one
// target whose instance ID ends the AWS providerID and whose zone is one
// path segment.
func FuzzNodeProviderID(f *testing.F) {
	for _, s := range []string{"aws:///us-east-1a/i-0123456789abcdef0", "aws:////i-0123abcd", "aws://", "", "kind://docker/kind/w", "aws:///a/b/i-0123abcd"} {
		f.Add(s)
	}
	sp := corev1.ServicePort{Port: 80, NodePort: 30080}
	f.Fuzz(func(t *testing.T, providerID string) {
		n := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "n1"},
			Spec:       corev1.NodeSpec{ProviderID: providerID},
			Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}},
		}
		got, err := kube.NodeTargets([]*corev1.Node{n}, nil, sp, kube.NodeSelection{})
		if err != nil {
			var ne *kube.NodeError
			if !errors.As(err, &ne) || ne.Node != "n1" || ne.ProviderID != providerID || got != nil {
				t.Fatalf("providerID %q: %v, %v: want a *NodeError for n1 and no targets", providerID, got, err)
			}
			return
		}
		if len(got) != 1 {
			t.Fatalf("providerID %q: %d targets", providerID, len(got))
		}
		id := got[0].ID
		if !strings.HasPrefix(providerID, "aws://") || !strings.HasSuffix(providerID, "/"+id) || !strings.HasPrefix(id, "i-") ||
			(len(id) != 10 && len(id) != 19) || strings.Contains(got[0].Zone, "/") || got[0].Port != 30080 {
			t.Fatalf("providerID %q gave %+v", providerID, got[0])
		}
	})
}
