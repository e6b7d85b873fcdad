package main

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/kube"
)

// This file reads the chapter's manifests with elb/kube, as the AWS Load
// Balancer Controller would, with the quickstart's backends standing in for
// the pods' endpoints.

// readFile decodes one of the embedded manifests.
func readFile(name string) (*kube.Objects, error) {
	b, err := manifests.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return kube.Decode(b)
}

// podEndpoints gives every Service port the same endpoints: the local
// backends that play the Deployment's pods.
type podEndpoints []elb.Target

func (p podEndpoints) Endpoints(string, string, corev1.ServicePort) []elb.Target { return p }

// translate turns objects into a stack (and bindings), printing the
// annotations lbkit does not model.
func translate(p *printer, objs *kube.Objects, vpc string, endpoints []elb.Target) (*kube.Translation, error) {
	tr, err := kube.Translate(objs, kube.Options{ClusterName: "quickstart", VPCID: vpc, Endpoints: podEndpoints(endpoints)})
	if err != nil {
		return nil, err
	}
	for _, f := range tr.Unsupported {
		p.say("not applied: %s", f)
	}
	if tr.Stack != nil {
		tr.Stack.Defaults()
		if len(tr.Stack.LoadBalancers) > 0 {
			if err := tr.Stack.Validate(); err != nil {
				return nil, fmt.Errorf("translated stack: %w", err)
			}
		}
	}
	return tr, nil
}
