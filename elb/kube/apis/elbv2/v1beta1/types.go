package v1beta1

import (
	"regexp"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// GroupVersion is the API group and version of TargetGroupBinding.
const (
	Group   = "elbv2.k8s.aws"
	Version = "v1beta1"
	Kind    = "TargetGroupBinding"
)

// TargetType is how pods are registered: by pod IP or by node instance ID.
type TargetType string

// Target types.
const (
	TargetTypeInstance TargetType = "instance"
	TargetTypeIP       TargetType = "ip"
)

// TargetGroupIPAddressType is the target group's address family.
type TargetGroupIPAddressType string

// Address families.
const (
	IPAddressTypeIPv4 TargetGroupIPAddressType = "ipv4"
	IPAddressTypeIPv6 TargetGroupIPAddressType = "ipv6"
)

// ServiceReference names a Service port in the binding's namespace.
type ServiceReference struct {
	Name string             `json:"name"`
	Port intstr.IntOrString `json:"port"`
}

// IPBlock is a CIDR allowed to reach the targets.
type IPBlock struct {
	CIDR string `json:"cidr"`
}

// SecurityGroup is a security group allowed to reach the targets.
type SecurityGroup struct {
	GroupID string `json:"groupID"`
}

// NetworkingPeer is one source: an IP block or a security group.
type NetworkingPeer struct {
	IPBlock       *IPBlock       `json:"ipBlock,omitempty"`
	SecurityGroup *SecurityGroup `json:"securityGroup,omitempty"`
}

// NetworkingProtocol is TCP, UDP or "*".
type NetworkingProtocol string

// NetworkingPort is a port (nil: all) and protocol (nil: all).
type NetworkingPort struct {
	Protocol *NetworkingProtocol `json:"protocol,omitempty"`
	Port     *intstr.IntOrString `json:"port,omitempty"`
}

// NetworkingIngressRule allows From to reach Ports.
type NetworkingIngressRule struct {
	From  []NetworkingPeer `json:"from"`
	Ports []NetworkingPort `json:"ports"`
}

// TargetGroupBindingNetworking is the security group rules to manage.
type TargetGroupBindingNetworking struct {
	Ingress []NetworkingIngressRule `json:"ingress,omitempty"`
}

// TargetGroupBindingSpec is the desired binding.
type TargetGroupBindingSpec struct {
	// TargetGroupARN wins over TargetGroupName when both are set.
	TargetGroupARN  string `json:"targetGroupARN,omitempty"`
	TargetGroupName string `json:"targetGroupName,omitempty"`
	// TargetType is inferred from the target group when omitted.
	TargetType          *TargetType                   `json:"targetType,omitempty"`
	TargetGroupProtocol *string                       `json:"targetGroupProtocol,omitempty"`
	ServiceRef          ServiceReference              `json:"serviceRef"`
	Networking          *TargetGroupBindingNetworking `json:"networking,omitempty"`
	NodeSelector        *metav1.LabelSelector         `json:"nodeSelector,omitempty"`
	IPAddressType       *TargetGroupIPAddressType     `json:"ipAddressType,omitempty"`
	VpcID               string                        `json:"vpcID,omitempty"`
	// MultiClusterTargetGroup: deregister only targets this binding registered.
	MultiClusterTargetGroup bool   `json:"multiClusterTargetGroup,omitempty"`
	IamRoleArnToAssume      string `json:"iamRoleArnToAssume,omitempty"`
	AssumeRoleExternalId    string `json:"assumeRoleExternalId,omitempty"`
}

// TargetGroupBindingStatus is the observed state.
type TargetGroupBindingStatus struct {
	ObservedGeneration *int64             `json:"observedGeneration,omitempty"`
	Conditions         []metav1.Condition `json:"conditions,omitempty"`
}

// TargetGroupBinding binds a Service port to an existing target group.
//
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type TargetGroupBinding struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TargetGroupBindingSpec   `json:"spec,omitempty"`
	Status TargetGroupBindingStatus `json:"status,omitempty"`
}

// TargetGroupBindingList is a list of bindings.
//
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type TargetGroupBindingList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TargetGroupBinding `json:"items"`
}

// tgARN accepts any account ID of digits (the chapter's example has the
// six-digit "112233"; real accounts have twelve) in any partition.
var tgARN = regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]+:targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]+$`)

// Validate reports every problem with b's spec, each with its field path.
// An ARN is accepted with an account ID of any number of digits (AWS's are
// 12): the reference chapter's example uses "112233".
func (b *TargetGroupBinding) Validate() field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec")
	s := b.Spec
	switch {
	case s.TargetGroupARN == "" && s.TargetGroupName == "":
		errs = append(errs, field.Required(p.Child("targetGroupARN"), "targetGroupARN or targetGroupName is required"))
	case s.TargetGroupARN != "" && !tgARN.MatchString(s.TargetGroupARN):
		errs = append(errs, field.Invalid(p.Child("targetGroupARN"), s.TargetGroupARN, "not a target group ARN (arn:aws:elasticloadbalancing:<region>:<account digits>:targetgroup/<name>/<hex id>)"))
	}
	if s.TargetType != nil && *s.TargetType != TargetTypeIP && *s.TargetType != TargetTypeInstance {
		errs = append(errs, field.NotSupported(p.Child("targetType"), *s.TargetType, []string{"instance", "ip"}))
	}
	if s.IPAddressType != nil && *s.IPAddressType != IPAddressTypeIPv4 && *s.IPAddressType != IPAddressTypeIPv6 {
		errs = append(errs, field.NotSupported(p.Child("ipAddressType"), *s.IPAddressType, []string{"ipv4", "ipv6"}))
	}
	sr := p.Child("serviceRef")
	if s.ServiceRef.Name == "" {
		errs = append(errs, field.Required(sr.Child("name"), ""))
	}
	if s.ServiceRef.Port.Type == intstr.Int && (s.ServiceRef.Port.IntVal < 1 || s.ServiceRef.Port.IntVal > 65535) {
		errs = append(errs, field.Invalid(sr.Child("port"), s.ServiceRef.Port.IntVal, "must be 1-65535"))
	}
	if s.ServiceRef.Port.Type == intstr.String && s.ServiceRef.Port.StrVal == "" {
		errs = append(errs, field.Required(sr.Child("port"), ""))
	}
	if s.Networking != nil {
		for i, r := range s.Networking.Ingress {
			for j, f := range r.From {
				fp := p.Child("networking", "ingress").Index(i).Child("from").Index(j)
				if (f.IPBlock == nil) == (f.SecurityGroup == nil) {
					errs = append(errs, field.Invalid(fp, "", "exactly one of ipBlock and securityGroup"))
				}
			}
		}
	}
	return errs
}
