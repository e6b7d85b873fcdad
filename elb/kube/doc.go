// Package kube turns Kubernetes objects annotated for the AWS Load Balancer
// Controller into [elb.Stack] values: Ingresses (alb.ingress.kubernetes.io/*)
// into ALBs, LoadBalancer Services (service.beta.kubernetes.io/aws-load-balancer-*)
// into NLBs, with the controller's defaults, and the targets of each target
// group from EndpointSlices (ip) or Nodes (instance).
//
// # Typical usage
//
//	res, err := kube.Translate(kube.Objects{Ingresses: ings, Services: svcs, EndpointSlices: eps}, kube.Options{VPCID: "vpc-1"})
//	// err is a field.ErrorList aggregate; each error's path names the
//	// object and annotation key: ingress[game-2048/ingress-2048].metadata.annotations[alb.ingress.kubernetes.io/scheme]
//	for id, s := range res.Stacks { ... } // one stack per IngressGroup or Service
//	for _, u := range res.Unsupported { ... } // annotations read but not modelled
//
// Objects in, stacks out: the package has no client-go dependency and does
// no I/O; a controller lists objects and hands them over.
//
// # What it does not do
//
// Annotations the elb model cannot express (WAF, Shield, security group
// management, frontend NLB, auth, transforms, …) are parsed by key and
// returned in [Result.Unsupported], never silently dropped. Certificate
// discovery by host, subnet discovery (a SubnetSelector by the
// kubernetes.io/role/elb tags is emitted instead) and the
// TargetGroupBinding binder against elb/provision are not implemented yet.
package kube
