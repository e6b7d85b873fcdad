package kube

import (
	"fmt"
	"strings"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/kube/apis/elbv2/v1beta1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TargetSet is the targets that should be registered in one existing
// target group, from a TargetGroupBinding.
type TargetSet struct {
	// Binding is namespace/name of the TargetGroupBinding.
	Binding string
	// TargetGroupARN or TargetGroupName (the ARN wins when both are set).
	TargetGroupARN  string
	TargetGroupName string
	TargetType      elb.TargetType
	Targets         []elb.Target
}

// BindingTargets resolves each TargetGroupBinding to the target set of its
// Service port. A binding without spec.targetType is an error here: ALBC's
// webhook infers it from the target group, which needs AWS — the binder
// (with provision) fills it in before calling.
func BindingTargets(objs Objects, opts Options) ([]TargetSet, error) {
	t := &translator{objs: objs, opts: opts, res: &Result{}}
	var out []TargetSet
	for _, b := range objs.TargetGroupBindings {
		errs := b.Validate()
		id := b.Namespace + "/" + b.Name
		root := field.NewPath("targetGroupBinding").Key(id)
		for _, e := range errs {
			e.Field = root.String() + "." + e.Field
		}
		t.errs = append(t.errs, errs...)
		if len(errs) > 0 {
			continue
		}
		if b.Spec.TargetType == nil {
			t.errs = append(t.errs, field.Required(root.Child("spec", "targetType"), "inferred from the target group by ALBC's webhook; set it or let the binder infer it"))
			continue
		}
		svc := t.service(b.Namespace, b.Spec.ServiceRef.Name)
		if svc == nil {
			t.errs = append(t.errs, field.NotFound(root.Child("spec", "serviceRef", "name"), b.Namespace+"/"+b.Spec.ServiceRef.Name))
			continue
		}
		sp, ok := servicePort(svc, b.Spec.ServiceRef.Port)
		if !ok {
			t.errs = append(t.errs, field.NotFound(root.Child("spec", "serviceRef", "port"), b.Spec.ServiceRef.Port.String()))
			continue
		}
		tt := elb.TargetType(*b.Spec.TargetType)
		if tt == elb.TargetTypeInstance && sp.NodePort == 0 {
			t.errs = append(t.errs, field.Invalid(root.Child("spec", "targetType"), "instance", fmt.Sprintf("service %s has no NodePort for port %s", svc.Name, b.Spec.ServiceRef.Port.String())))
			continue
		}
		out = append(out, TargetSet{
			Binding: id, TargetGroupARN: b.Spec.TargetGroupARN, TargetGroupName: b.Spec.TargetGroupName,
			TargetType: tt, Targets: t.targets(svc, sp, tt),
		})
	}
	return out, t.errs.ToAggregate()
}

// InferTargetType is the webhook's rule for a binding without
// spec.targetType, given the target group's type: the binding takes it.
func InferTargetType(b *v1beta1.TargetGroupBinding, tg elb.TargetType) error {
	if b.Spec.TargetType != nil {
		return nil
	}
	switch tg {
	case elb.TargetTypeIP, elb.TargetTypeInstance:
		v := v1beta1.TargetType(tg)
		b.Spec.TargetType = &v
		return nil
	}
	return field.Invalid(field.NewPath("spec", "targetType"), string(tg), "target group type "+strings.ToLower(string(tg))+" cannot be bound")
}
