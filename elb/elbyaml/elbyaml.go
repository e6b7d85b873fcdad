package elbyaml

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/lbkit/lbkit/elb"
	"sigs.k8s.io/yaml"
)

// Marshal encodes v (a *elb.Stack or any elb model type) as YAML. Keys are
// in alphabetical order; equal values give identical bytes.
func Marshal(v any) ([]byte, error) {
	j, err := elb.Marshal(v)
	if err != nil {
		return nil, err
	}
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		return nil, fmt.Errorf("elbyaml: encode: %w", err)
	}
	return y, nil
}

// Unmarshal decodes YAML into v (a pointer to an elb model type). Unknown
// fields, duplicate keys and trailing documents are errors. On error v may
// be partly filled, so decode into a fresh value.
func Unmarshal(data []byte, v any) error {
	if multipleDocuments(data) {
		return ErrMultipleDocuments
	}
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return fmt.Errorf("elbyaml: decode: %w", err)
	}
	return elb.Unmarshal(j, v)
}

// ErrMultipleDocuments is returned by Unmarshal for input with more than
// one YAML document: the parser would silently read only the first.
var ErrMultipleDocuments = errors.New("elbyaml: more than one YAML document")

// multipleDocuments reports whether a "---" document marker follows
// content (a marker before any content only opens the first document).
func multipleDocuments(data []byte) bool {
	content := false
	for _, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimRight(line, " \t\r")
		if bytes.HasPrefix(line, []byte("---")) && (len(line) == 3 || line[3] == ' ' || line[3] == '\t') {
			if content {
				return true
			}
			content = len(bytes.TrimSpace(line[3:])) > 0
			continue
		}
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			content = true
		}
	}
	return false
}
