package kube

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/lbkit/lbkit/elb"
)

// Annotation prefixes of the AWS Load Balancer Controller.
const (
	IngressPrefix = "alb.ingress.kubernetes.io/"
	ServicePrefix = "service.beta.kubernetes.io/aws-load-balancer-"
)

// AnnotationError is a bad annotation value. Key is the full annotation
// key, Object the object that carries it.
type AnnotationError struct {
	Object ObjectRef
	Key    string
	Value  string
	Reason string
}

func (e *AnnotationError) Error() string {
	return fmt.Sprintf("%s: annotation %s=%q: %s", e.Object, e.Key, e.Value, e.Reason)
}

// Finding is an annotation that is valid for the AWS Load Balancer
// Controller but outside lbkit's model: it is reported, not applied.
type Finding struct {
	Object ObjectRef
	Key    string
	Reason string
}

func (f Finding) String() string { return fmt.Sprintf("%s: %s: %s", f.Object, f.Key, f.Reason) }

// annotations reads one object's annotations under a prefix, recording
// errors and which keys were used.
type annotations struct {
	obj    ObjectRef
	prefix string
	all    map[string]string
	used   map[string]bool
	errs   *[]error
}

func newAnnotations(obj ObjectRef, prefix string, all map[string]string, errs *[]error) *annotations {
	return &annotations{obj: obj, prefix: prefix, all: all, used: map[string]bool{}, errs: errs}
}

func (a *annotations) fail(name, value, format string, args ...any) {
	*a.errs = append(*a.errs, &AnnotationError{Object: a.obj, Key: a.prefix + name, Value: value, Reason: fmt.Sprintf(format, args...)})
}

// get returns the value of prefix+name and whether it is set.
func (a *annotations) get(name string) (string, bool) {
	a.used[name] = true
	v, ok := a.all[a.prefix+name]
	return strings.TrimSpace(v), ok
}

func (a *annotations) str(name, def string) string {
	if v, ok := a.get(name); ok {
		return v
	}
	return def
}

func (a *annotations) oneOf(name, def string, allowed ...string) string {
	v := a.str(name, def)
	for _, x := range allowed {
		if v == x {
			return v
		}
	}
	a.fail(name, v, "must be one of %s", strings.Join(allowed, ", "))
	return def
}

func (a *annotations) integer(name string, def, min, max int) int {
	v, ok := a.get(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		a.fail(name, v, "must be an integer from %d to %d", min, max)
		return def
	}
	return n
}

// list reads a comma-separated list; empty items are an error.
func (a *annotations) list(name string) []string {
	v, ok := a.get(name)
	if !ok {
		return nil
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			a.fail(name, v, "empty item in a comma-separated list")
			return nil
		}
		out = append(out, s)
	}
	return out
}

// pairs reads "k1=v1,k2=v2" (tags, attributes) in key order.
func (a *annotations) pairs(name string) [][2]string {
	items := a.list(name)
	var out [][2]string
	seen := map[string]bool{}
	for _, it := range items {
		k, v, ok := strings.Cut(it, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			a.fail(name, a.all[a.prefix+name], "item %q is not key=value", it)
			return nil
		}
		if seen[k] {
			a.fail(name, a.all[a.prefix+name], "key %q appears twice", k)
			return nil
		}
		seen[k] = true
		out = append(out, [2]string{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

func (a *annotations) tags(name string) elb.Tags {
	ps := a.pairs(name)
	if len(ps) == 0 {
		return nil
	}
	t := elb.Tags{}
	for _, p := range ps {
		t[p[0]] = p[1]
	}
	return t
}

func (a *annotations) attributes(name string) []elb.Attribute {
	var out []elb.Attribute
	for _, p := range a.pairs(name) {
		out = append(out, elb.Attribute{Key: p[0], Value: p[1]})
	}
	return out
}

// jsonValue decodes a JSON annotation strictly into v.
func (a *annotations) jsonValue(name string, v any) bool {
	raw, ok := a.get(name)
	if !ok {
		return false
	}
	if err := decodeStrictJSON(raw, v); err != nil {
		a.fail(name, raw, "invalid JSON: %v", err)
		return false
	}
	return true
}

func decodeStrictJSON(raw string, v any) error {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

// unused reports the keys under the prefix that were never read, as
// unsupported (known to ALBC, not modelled) or unknown.
func (a *annotations) unused(known map[string]string) []Finding {
	var out []Finding
	for k := range a.all {
		name, ok := strings.CutPrefix(k, a.prefix)
		if !ok || a.used[name] || a.usedFamily(name) {
			continue
		}
		reason, isKnown := known[familyOf(name)]
		if !isKnown {
			reason = "unknown annotation: not one of the AWS Load Balancer Controller's"
		}
		out = append(out, Finding{Object: a.obj, Key: k, Reason: reason})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// usedFamily reports whether name belongs to a family of keys read as a
// whole (actions.NAME, conditions.NAME).
func (a *annotations) usedFamily(name string) bool {
	f := familyOf(name)
	return f != name && a.used[f+"*"]
}

func familyOf(name string) string {
	for _, p := range []string{"actions.", "conditions.", "transforms.", "listener-attributes.", "target-control-port."} {
		if strings.HasPrefix(name, p) {
			return strings.TrimSuffix(p, ".")
		}
	}
	return name
}

// isCertificateARN reports whether s names a certificate a listener can
// use: an ACM certificate or an IAM server certificate, in the aws, aws-cn
// or aws-us-gov partition. Catching a typo here beats AWS's
// CertificateNotFound after the load balancer exists.
func isCertificateARN(s string) bool {
	f := strings.SplitN(s, ":", 6)
	if len(f) != 6 || f[0] != "arn" || !isDigits(f[4], 12) {
		return false
	}
	switch f[1] {
	case "aws", "aws-cn", "aws-us-gov":
	default:
		return false
	}
	switch f[2] {
	case "acm":
		id, ok := strings.CutPrefix(f[5], "certificate/")
		return ok && isRegion(f[3]) && id != "" && strings.Trim(id, "0123456789abcdefABCDEF-") == ""
	case "iam":
		name, ok := strings.CutPrefix(f[5], "server-certificate/")
		return ok && f[3] == "" && name != "" && !strings.HasSuffix(name, "/") && strings.TrimSpace(name) == name
	}
	return false
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isRegion accepts region names such as us-east-1, cn-north-1,
// us-gov-west-1: lower-case words, then a number, joined by dashes.
func isRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 {
		return false
	}
	last := parts[len(parts)-1]
	if last == "" || strings.Trim(last, "0123456789") != "" {
		return false
	}
	for _, p := range parts[:len(parts)-1] {
		if p == "" || strings.Trim(p, "abcdefghijklmnopqrstuvwxyz") != "" {
			return false
		}
	}
	return true
}
