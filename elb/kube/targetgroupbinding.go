package kube

import (
	"fmt"
	"regexp"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/lbkit/lbkit/elb"
)

// GroupVersion is the TargetGroupBinding API of the AWS Load Balancer
// Controller.
const GroupVersion = "elbv2.k8s.aws/v1beta1"

// SchemeGroupVersion is GroupVersion for apimachinery schemes.
var SchemeGroupVersion = schema.GroupVersion{Group: "elbv2.k8s.aws", Version: "v1beta1"}

// +k8s:deepcopy-gen=true
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// TargetGroupBinding registers the endpoints of a Service in a target
// group that exists already (made outside Kubernetes). The fields are
// those of ALBC's CRD, so its manifests decode unchanged.
type TargetGroupBinding struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TargetGroupBindingSpec   `json:"spec,omitempty"`
	Status TargetGroupBindingStatus `json:"status,omitempty"`
}

// +k8s:deepcopy-gen=true

// TargetGroupBindingSpec is the desired binding.
type TargetGroupBindingSpec struct {
	// TargetGroupARN is the target group; it wins over TargetGroupName.
	TargetGroupARN string `json:"targetGroupARN,omitempty"`
	// TargetGroupName names the target group when no ARN is given.
	TargetGroupName string `json:"targetGroupName,omitempty"`
	// TargetType is ip or instance; nil means the target group's own.
	TargetType *TargetType `json:"targetType,omitempty"`
	// TargetGroupProtocol is the target group's protocol (informational).
	TargetGroupProtocol *string `json:"targetGroupProtocol,omitempty"`
	// ServiceRef is the Service whose endpoints are registered.
	ServiceRef ServiceReference `json:"serviceRef"`
	// Networking describes the traffic to allow to the targets (security
	// group rules; not applied by lbkit).
	Networking *TargetGroupBindingNetworking `json:"networking,omitempty"`
	// NodeSelector picks the nodes of instance targets.
	NodeSelector *metav1.LabelSelector `json:"nodeSelector,omitempty"`
	// IPAddressType is ipv4 or ipv6.
	IPAddressType *string `json:"ipAddressType,omitempty"`
	// VpcID is the target group's VPC.
	VpcID string `json:"vpcID,omitempty"`
	// MultiClusterTargetGroup shares the target group with other clusters.
	MultiClusterTargetGroup bool `json:"multiClusterTargetGroup,omitempty"`
	// IamRoleArnToAssume and AssumeRoleExternalID reach a target group in
	// another account (not used by lbkit's binder).
	IamRoleArnToAssume   string `json:"iamRoleArnToAssume,omitempty"`
	AssumeRoleExternalID string `json:"assumeRoleExternalId,omitempty"`
}

// TargetType is ip or instance.
type TargetType string

// Target types of a binding.
const (
	TargetTypeIP       TargetType = "ip"
	TargetTypeInstance TargetType = "instance"
)

// +k8s:deepcopy-gen=true

// ServiceReference is a Service port in the binding's namespace.
type ServiceReference struct {
	Name string             `json:"name"`
	Port intstr.IntOrString `json:"port"`
}

// +k8s:deepcopy-gen=true

// TargetGroupBindingNetworking is the traffic allowed to the targets.
type TargetGroupBindingNetworking struct {
	Ingress []NetworkingIngressRule `json:"ingress,omitempty"`
}

// +k8s:deepcopy-gen=true

// NetworkingIngressRule allows traffic from peers to ports.
type NetworkingIngressRule struct {
	From  []NetworkingPeer `json:"from"`
	Ports []NetworkingPort `json:"ports"`
}

// +k8s:deepcopy-gen=true

// NetworkingPeer is a CIDR block or a security group.
type NetworkingPeer struct {
	IPBlock       *IPBlock       `json:"ipBlock,omitempty"`
	SecurityGroup *SecurityGroup `json:"securityGroup,omitempty"`
}

// +k8s:deepcopy-gen=true

// IPBlock is a CIDR block.
type IPBlock struct {
	CIDR string `json:"cidr"`
}

// +k8s:deepcopy-gen=true

// SecurityGroup is a security group ID.
type SecurityGroup struct {
	GroupID string `json:"groupID"`
}

// +k8s:deepcopy-gen=true

// NetworkingPort is a protocol and port; nil means all.
type NetworkingPort struct {
	Protocol *string             `json:"protocol,omitempty"`
	Port     *intstr.IntOrString `json:"port,omitempty"`
}

// +k8s:deepcopy-gen=true

// TargetGroupBindingStatus is what the binder last did.
type TargetGroupBindingStatus struct {
	ObservedGeneration *int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready (targets equal the Service's ready endpoints).
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

var _ runtime.Object = (*TargetGroupBinding)(nil)

// targetGroupARN accepts ELBv2 target group ARNs in any partition. The
// account ID is 1-12 digits: AWS's are 12, but the reference chapter's
// example uses "112233", and a reader should not reject documentation
// examples; the target group ID is hexadecimal (AWS's are 16 digits).
var targetGroupARN = regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{1,12}:targetgroup/[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?/[0-9a-f]{1,16}$`)

// Validate checks the binding's spec, returning every problem with its
// field path.
func (b *TargetGroupBinding) Validate() field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	switch {
	case b.Spec.TargetGroupARN != "":
		if !targetGroupARN.MatchString(b.Spec.TargetGroupARN) {
			errs = append(errs, field.Invalid(spec.Child("targetGroupARN"), b.Spec.TargetGroupARN,
				"must be arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID (account 1-12 digits, ID hexadecimal)"))
		}
	case b.Spec.TargetGroupName != "":
		if len(b.Spec.TargetGroupName) > 32 {
			errs = append(errs, field.TooLong(spec.Child("targetGroupName"), b.Spec.TargetGroupName, 32))
		}
	default:
		errs = append(errs, field.Required(spec.Child("targetGroupARN"), "targetGroupARN or targetGroupName is required"))
	}
	if b.Spec.TargetType != nil && *b.Spec.TargetType != TargetTypeIP && *b.Spec.TargetType != TargetTypeInstance {
		errs = append(errs, field.NotSupported(spec.Child("targetType"), *b.Spec.TargetType, []string{string(TargetTypeIP), string(TargetTypeInstance)}))
	}
	ref := spec.Child("serviceRef")
	if b.Spec.ServiceRef.Name == "" {
		errs = append(errs, field.Required(ref.Child("name"), ""))
	}
	if p := b.Spec.ServiceRef.Port; p.Type == intstr.Int && (p.IntVal < 1 || p.IntVal > 65535) || p.Type == intstr.String && p.StrVal == "" {
		errs = append(errs, field.Invalid(ref.Child("port"), p.String(), "must be a port number 1-65535 or a port name"))
	}
	if t := b.Spec.IPAddressType; t != nil && *t != "ipv4" && *t != "ipv6" {
		errs = append(errs, field.NotSupported(spec.Child("ipAddressType"), *t, []string{"ipv4", "ipv6"}))
	}
	return errs
}

func tgbRef(b *TargetGroupBinding) ObjectRef {
	return ObjectRef{GroupVersion, "TargetGroupBinding", b.Namespace, b.Name}
}

// Binding is a TargetGroupBinding resolved against the manifest: the
// target group and the targets it should have.
type Binding struct {
	Object          ObjectRef
	TargetGroupARN  string // empty when the binding names the group
	TargetGroupName string
	// TargetType is the binding's, or empty for the target group's own.
	TargetType TargetType
	// Targets are the Service port's ready endpoints (ip targets), or
	// for an instance binding the suitable nodes of Options.Nodes that
	// spec.nodeSelector selects (none without Options.Nodes).
	Targets []elb.Target
	// Source is the binding itself, for status updates.
	Source *TargetGroupBinding
}

// binding resolves a TargetGroupBinding, recording validation errors.
func (t *translator) binding(b *TargetGroupBinding) (Binding, bool) {
	ref := tgbRef(b)
	if errs := b.Validate(); len(errs) > 0 {
		t.errs = append(t.errs, fmt.Errorf("%s: %w", ref, errs.ToAggregate()))
		return Binding{}, false
	}
	out := Binding{Object: ref, TargetGroupARN: b.Spec.TargetGroupARN, TargetGroupName: b.Spec.TargetGroupName, Source: b}
	if b.Spec.TargetType != nil {
		out.TargetType = *b.Spec.TargetType
	}
	svc := t.objs.Service(b.Namespace, b.Spec.ServiceRef.Name)
	if svc == nil {
		return out, true // endpoints unknown here: the binder's source supplies them
	}
	sp, err := servicePort(svc, b.Spec.ServiceRef.Port)
	if err != nil {
		t.errs = append(t.errs, fmt.Errorf("%s: spec.serviceRef: %w", ref, err))
		return Binding{}, false
	}
	if out.TargetType != TargetTypeInstance {
		out.Targets = t.targets(ref, b.Namespace, svc, sp, "ip", NodeSelection{})
		return out, true
	}
	sel := NodeSelection{}
	if b.Spec.NodeSelector != nil {
		s, err := metav1.LabelSelectorAsSelector(b.Spec.NodeSelector)
		if err != nil {
			t.errs = append(t.errs, fmt.Errorf("%s: spec.nodeSelector: %w", ref, err))
			return Binding{}, false
		}
		sel.Selector = s
	}
	out.Targets = t.targets(ref, b.Namespace, svc, sp, elb.TargetTypeInstance, sel)
	return out, true
}
