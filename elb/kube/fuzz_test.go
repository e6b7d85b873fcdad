package kube_test

import (
	"strings"
	"testing"

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
