// +k8s:deepcopy-gen=package
// +groupName=elbv2.k8s.aws

// Package v1beta1 holds the TargetGroupBinding custom resource of the AWS
// Load Balancer Controller (group elbv2.k8s.aws, version v1beta1), with the
// controller's field names, so that lbkit reads the same manifests.
//
// # Typical usage
//
//	var b v1beta1.TargetGroupBinding
//	_ = yaml.UnmarshalStrict(manifest, &b)
//	if errs := b.Validate(); len(errs) > 0 { ... } // field paths: spec.targetGroupARN
//
// It does not register the type with a runtime.Scheme or talk to an API
// server: lbkit has no client-go dependency.
package v1beta1
