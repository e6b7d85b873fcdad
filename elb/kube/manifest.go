package kube

import (
	"bytes"
	"fmt"
	"regexp"

	"github.com/lbkit/lbkit/elb/kube/apis/elbv2/v1beta1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

// ReadManifests decodes a multi-document YAML stream (as kubectl apply
// reads it) into Objects. Kinds that play no part (Namespace, Deployment, …)
// are skipped; the kinds read are decoded strictly, so a misspelt field is
// an error naming the document.
func ReadManifests(data []byte) (Objects, error) {
	var objs Objects
	for i, doc := range docSep.Split(string(data), -1) {
		if len(bytes.TrimSpace([]byte(doc))) == 0 {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return Objects{}, fmt.Errorf("document %d: %w", i, err)
		}
		var into any
		switch tm.APIVersion + "/" + tm.Kind {
		case "networking.k8s.io/v1/Ingress":
			o := &networkingv1.Ingress{}
			objs.Ingresses, into = append(objs.Ingresses, o), o
		case "v1/Service":
			o := &corev1.Service{}
			objs.Services, into = append(objs.Services, o), o
		case "discovery.k8s.io/v1/EndpointSlice":
			o := &discoveryv1.EndpointSlice{}
			objs.EndpointSlices, into = append(objs.EndpointSlices, o), o
		case "v1/Node":
			o := &corev1.Node{}
			objs.Nodes, into = append(objs.Nodes, o), o
		case v1beta1.Group + "/" + v1beta1.Version + "/" + v1beta1.Kind:
			o := &v1beta1.TargetGroupBinding{}
			objs.TargetGroupBindings, into = append(objs.TargetGroupBindings, o), o
		default:
			continue
		}
		if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
			return Objects{}, fmt.Errorf("document %d (%s): %w", i, tm.Kind, err)
		}
	}
	return objs, nil
}
