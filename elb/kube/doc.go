// Package kube reads the Kubernetes objects that ask for AWS load balancers
// — an Ingress with alb.ingress.kubernetes.io/* annotations (an ALB), a
// Service of type LoadBalancer with service.beta.kubernetes.io/aws-load-balancer-*
// annotations (an NLB), a TargetGroupBinding (elbv2.k8s.aws/v1beta1) — as
// users already write them for the AWS Load Balancer Controller, and turns
// them into an [elb.Stack] and target registrations.
//
// Typical usage:
//
//	objs, err := kube.Decode(manifestYAML) // multi-document YAML or JSON
//	if err != nil { ... }
//	tr, err := kube.Translate(objs, kube.Options{ClusterName: "demo"})
//	if err != nil { ... } // every bad annotation, named by its key
//	for _, f := range tr.Unsupported { log.Print(f) } // annotations lbkit does not model
//	// tr.Stack: the ALBs, NLBs and target groups, ready for
//	// elb/provision (AWS, or elb/elbtest) or elb/local.
//
// Semantics follow the AWS Load Balancer Controller (ALBC): its defaults
// (scheme internal, target type instance, HTTP:80, health checks every 15 s
// for an Ingress; TCP on the traffic port every 10 s for a Service), its
// path mapping (Prefix /p → /p and /p/*), IngressGroups merged in
// group.order with Exclusive annotations that must agree, and subnets
// discovered by the kubernetes.io/role/elb or kubernetes.io/role/internal-elb
// tag when none are named. Annotations outside lbkit's model (WAF, Shield,
// Cognito/OIDC auth, frontend NLB, …) are reported in
// [Translation.Unsupported] by key, never silently ignored.
//
// Targets of ip target groups come from EndpointSlices (ready endpoints).
// Targets of instance target groups come from the cluster's nodes when
// [Options.Nodes] gives them ([NodeTargets]: Ready nodes not excluded from
// load balancers nor being removed by an autoscaler, on the NodePort, the
// EC2 instance ID read from spec.providerID; target-node-labels and
// externalTrafficPolicy Local narrow them); without nodes they are left
// to the caller. certificate-arn values must be ACM or IAM server
// certificate ARNs.
// [Binder] keeps a TargetGroupBinding's target group registered with a
// Service's ready endpoints through elb/provision.
//
// [IngressAnnotations] goes the other way: the annotations that express a
// stack's ALB and target group settings.
//
// The package uses k8s.io/api types and k8s.io/apimachinery; it does not
// import client-go: objects come in, stacks and targets go out.
package kube
