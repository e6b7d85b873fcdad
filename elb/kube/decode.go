package kube

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Objects are the objects of a manifest that this package translates, in
// manifest order.
type Objects struct {
	Ingresses           []*networkingv1.Ingress
	Services            []*corev1.Service
	EndpointSlices      []*discoveryv1.EndpointSlice
	TargetGroupBindings []*TargetGroupBinding
	// Skipped are the other objects (Namespace, Deployment, …): valid
	// Kubernetes, nothing to do with load balancers.
	Skipped []ObjectRef
}

// ObjectRef names an object: "Kind namespace/name".
type ObjectRef struct {
	APIVersion, Kind, Namespace, Name string
}

func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// ErrDecode is wrapped by every error Decode returns.
var ErrDecode = errors.New("kube: cannot decode manifest")

// maxManifest bounds what Decode reads (a manifest is typed by people).
const maxManifest = 16 << 20

// Decode reads a multi-document YAML (or JSON) manifest. Documents of the
// kinds this package translates are decoded strictly (an unknown field is
// an error, as kubectl's validation makes it); other kinds are listed in
// Skipped. A document without apiVersion or kind is an error.
func Decode(manifest []byte) (*Objects, error) {
	if len(manifest) > maxManifest {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrDecode, len(manifest), maxManifest)
	}
	objs := &Objects{}
	r := utilyaml.NewYAMLReader(bufioReader(manifest))
	for doc := 1; ; doc++ {
		raw, err := r.Read()
		if err == io.EOF {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: document %d: %w", ErrDecode, doc, err)
		}
		if len(bytes.TrimSpace(stripComments(raw))) == 0 {
			continue
		}
		if err := objs.add(raw); err != nil {
			return nil, fmt.Errorf("%w: document %d: %w", ErrDecode, doc, err)
		}
	}
}

func (o *Objects) add(raw []byte) error {
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return err
	}
	var head struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        metav1.ObjectMeta `json:"metadata"`
	}
	if err := yaml.Unmarshal(js, &head); err != nil {
		return err
	}
	if head.APIVersion == "" || head.Kind == "" {
		return errors.New("apiVersion and kind are required")
	}
	ref := ObjectRef{head.APIVersion, head.Kind, head.Metadata.Namespace, head.Metadata.Name}
	strict := func(into any) error {
		if err := yaml.UnmarshalStrict(js, into); err != nil {
			return fmt.Errorf("%s: %w", ref, err)
		}
		return nil
	}
	switch head.APIVersion + " " + head.Kind {
	case "networking.k8s.io/v1 Ingress":
		in := &networkingv1.Ingress{}
		if err := strict(in); err != nil {
			return err
		}
		o.Ingresses = append(o.Ingresses, in)
	case "v1 Service":
		svc := &corev1.Service{}
		if err := strict(svc); err != nil {
			return err
		}
		o.Services = append(o.Services, svc)
	case "discovery.k8s.io/v1 EndpointSlice":
		es := &discoveryv1.EndpointSlice{}
		if err := strict(es); err != nil {
			return err
		}
		o.EndpointSlices = append(o.EndpointSlices, es)
	case GroupVersion + " TargetGroupBinding":
		tgb := &TargetGroupBinding{}
		if err := strict(tgb); err != nil {
			return err
		}
		o.TargetGroupBindings = append(o.TargetGroupBindings, tgb)
	default:
		o.Skipped = append(o.Skipped, ref)
	}
	return nil
}

// Service returns the Service namespace/name, or nil.
func (o *Objects) Service(namespace, name string) *corev1.Service {
	for _, s := range o.Services {
		if s.Namespace == namespace && s.Name == name {
			return s
		}
	}
	return nil
}

func stripComments(doc []byte) []byte {
	var out []byte
	for _, line := range strings.Split(string(doc), "\n") {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") || t == "---" {
			continue
		}
		out = append(out, line...)
	}
	return out
}
