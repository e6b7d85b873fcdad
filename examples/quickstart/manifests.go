package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/lbkit/lbkit/elb"
)

// This file reads the chapter's manifests and turns them into elb stacks
// the way the AWS Load Balancer Controller does, for the few annotations
// these manifests use. It stands in for elb/kube (in progress on its own
// branch), which covers every annotation; the quickstart switches to it
// when it lands.

// object is the part of a Kubernetes object the quickstart reads.
type object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		// Service
		Type  string `json:"type"`
		Ports []struct {
			Port       int    `json:"port"`
			TargetPort int    `json:"targetPort"`
			Protocol   string `json:"protocol"`
		} `json:"ports"`
		// Deployment
		Replicas int `json:"replicas"`
		// Ingress
		IngressClassName string `json:"ingressClassName"`
		Rules            []struct {
			Host string `json:"host"`
			HTTP struct {
				Paths []struct {
					Path     string `json:"path"`
					PathType string `json:"pathType"`
					Backend  struct {
						Service struct {
							Name string `json:"name"`
							Port struct {
								Number int `json:"number"`
							} `json:"port"`
						} `json:"service"`
					} `json:"backend"`
				} `json:"paths"`
			} `json:"http"`
		} `json:"rules"`
		// TargetGroupBinding
		ServiceRef struct {
			Name string `json:"name"`
			Port int    `json:"port"`
		} `json:"serviceRef"`
		TargetGroupARN string `json:"targetGroupARN"`
	} `json:"spec"`
}

// readManifests splits a multi-document YAML file into objects.
func readManifests(data []byte) ([]object, error) {
	var out []object
	for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var o object
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		out = append(out, o)
	}
	return out, nil
}

func find(objs []object, kind string) *object {
	for i := range objs {
		if objs[i].Kind == kind {
			return &objs[i]
		}
	}
	return nil
}

// lbcName is the AWS Load Balancer Controller's naming scheme:
// k8s-<namespace>-<name>-<hash>, each part cut to 8 characters.
func lbcName(ns, name, salt string) string {
	clean := func(s string) string {
		s = regexp.MustCompile(`[^a-zA-Z0-9]`).ReplaceAllString(s, "")
		if len(s) > 8 {
			s = s[:8]
		}
		return s
	}
	h := sha256.Sum256([]byte(ns + "/" + name + "/" + salt))
	return fmt.Sprintf("k8s-%s-%s-%s", clean(ns), clean(name), hex.EncodeToString(h[:])[:10])
}

// publicSubnets selects the subnets the controller picks for an
// internet-facing load balancer.
var publicSubnets = &elb.SubnetSelector{Tags: elb.Tags{elb.TagRoleELB: ""}}

// ingressStack translates an Ingress of class alb (scheme and target-type
// annotations; Prefix and Exact paths) into an ALB stack. Targets are the
// endpoints of the backend service.
func ingressStack(ing *object, vpc string, endpoints []elb.Target) (*elb.Stack, error) {
	a := ing.Metadata.Annotations
	if ing.Spec.IngressClassName != "alb" && a["kubernetes.io/ingress.class"] != "alb" {
		return nil, fmt.Errorf("ingress %s is not of class alb", ing.Metadata.Name)
	}
	s := &elb.Stack{}
	alb := s.AddLoadBalancer(elb.NewApplicationLoadBalancer(lbcName(ing.Metadata.Namespace, ing.Metadata.Name, "alb")))
	alb.Scheme = elb.Scheme(orDefault(a["alb.ingress.kubernetes.io/scheme"], "internal"))
	alb.SubnetSelector = publicSubnets
	alb.Tags = elb.Tags{"ingress.k8s.aws/stack": ing.Metadata.Namespace + "/" + ing.Metadata.Name, "elbv2.k8s.aws/cluster": "quickstart"}
	l := alb.AddListener(elb.ProtocolHTTP, 80, elb.FixedResponse(404, "", ""))
	prio := 1
	tgs := map[string]*elb.TargetGroup{}
	for _, r := range ing.Spec.Rules {
		for _, p := range r.HTTP.Paths {
			svc := p.Backend.Service
			key := fmt.Sprintf("%s:%d", svc.Name, svc.Port.Number)
			tg := tgs[key]
			if tg == nil {
				tt := elb.TargetType(orDefault(a["alb.ingress.kubernetes.io/target-type"], "instance"))
				tg = s.AddTargetGroup(elb.NewTargetGroup(lbcName(ing.Metadata.Namespace, svc.Name, key), elb.ProtocolHTTP, svc.Port.Number, tt))
				tg.VPCID = vpc
				// The controller's health check defaults for Ingress.
				tg.HealthCheck = elb.HealthCheck{IntervalSeconds: 15, TimeoutSeconds: 5, HealthyThreshold: 2, UnhealthyThreshold: 2, Path: "/", Matcher: elb.Matcher{HTTPCode: "200"}}
				tg.Targets = endpoints
				tgs[key] = tg
			}
			var cond elb.Condition
			switch p.PathType {
			case "Exact":
				cond = elb.PathPattern(p.Path)
			default: // Prefix, ImplementationSpecific
				if p.Path == "/" || p.Path == "" {
					cond = elb.PathPattern("/*")
				} else {
					cond = elb.PathPattern(strings.TrimSuffix(p.Path, "/"), strings.TrimSuffix(p.Path, "/")+"/*")
				}
			}
			conds := []elb.Condition{cond}
			if r.Host != "" {
				conds = append(conds, elb.HostHeader(r.Host))
			}
			l.AddRule(prio, elb.Forward(tg), conds...)
			prio++
		}
	}
	return s, nil
}

// serviceStack translates a LoadBalancer Service with the NLB annotations
// (type external, nlb-target-type, scheme) into an NLB stack.
func serviceStack(svc *object, vpc string, endpoints []elb.Target) (*elb.Stack, error) {
	a := svc.Metadata.Annotations
	if svc.Spec.Type != "LoadBalancer" || a["service.beta.kubernetes.io/aws-load-balancer-type"] != "external" {
		return nil, fmt.Errorf("service %s is not an external LoadBalancer service", svc.Metadata.Name)
	}
	s := &elb.Stack{}
	nlb := s.AddLoadBalancer(elb.NewNetworkLoadBalancer(lbcName(svc.Metadata.Namespace, svc.Metadata.Name, "nlb")))
	nlb.Scheme = elb.Scheme(orDefault(a["service.beta.kubernetes.io/aws-load-balancer-scheme"], "internal"))
	nlb.SubnetSelector = publicSubnets
	nlb.Tags = elb.Tags{"service.k8s.aws/stack": svc.Metadata.Namespace + "/" + svc.Metadata.Name, "elbv2.k8s.aws/cluster": "quickstart"}
	for _, p := range svc.Spec.Ports {
		tt := elb.TargetType(orDefault(a["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"], "instance"))
		tg := s.AddTargetGroup(elb.NewTargetGroup(lbcName(svc.Metadata.Namespace, svc.Metadata.Name, fmt.Sprint(p.Port)), elb.Protocol(orDefault(p.Protocol, "TCP")), p.TargetPort, tt))
		tg.VPCID = vpc
		// The controller's defaults for a Service (TCP to the traffic port every
		// 10 s, 3/3), with a 5 s timeout: elb.Validate wants it below the interval.
		tg.HealthCheck = elb.HealthCheck{Protocol: elb.ProtocolTCP, IntervalSeconds: 10, TimeoutSeconds: 5, HealthyThreshold: 3, UnhealthyThreshold: 3}
		tg.Targets = endpoints
		nlb.AddListener(elb.Protocol(orDefault(p.Protocol, "TCP")), p.Port, elb.Forward(tg))
	}
	return s, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
