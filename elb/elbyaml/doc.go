// Package elbyaml reads and writes the elb model as YAML.
//
// The YAML form is the JSON form of package elb (the same field names, the
// same strictness) written as YAML, so a stack can be kept in a file next
// to Kubernetes manifests and edited by hand. Decoding converts YAML to
// JSON (rejecting duplicate keys) and decodes that with elb.Unmarshal,
// which rejects unknown fields; encoding goes the other way. Both directions
// round-trip: encoding a decoded stack gives the same bytes every time.
//
// It is a separate package so that elb itself imports only the standard
// library: this one adds sigs.k8s.io/yaml (and go.yaml.in/yaml/v2), which a
// user who only validates specs or evaluates rules does not pay for.
//
// # Typical usage
//
//	var s elb.Stack
//	if err := elbyaml.Unmarshal(data, &s); err != nil { … }
//	out, err := elbyaml.Marshal(&s)
//
// It does not apply defaults or validate: call Stack.Defaults and
// Stack.Validate.
package elbyaml
