// Package importrules enforces the dependency direction of DESIGN.md: which
// packages of this module may import which others, and which heavy external
// modules the leaf packages must never pull in, even indirectly.
//
// The table below is the one place the rules live. Its test runs
// `go list -deps -json ./...` and fails, naming the edge, on any import the
// table does not allow — and on any package the table does not list, so a new
// package has to take its place in the layering on purpose.
package importrules

import (
	"fmt"

	"sort"
	"strings"
)

// Module is this module's path.
const Module = "github.com/lbkit/lbkit"

// Rule says what one package (or a family of packages, with a trailing
// "/...") may import from this module, and which external module prefixes it
// must not depend on at all.
type Rule struct {
	// MayImport lists module-relative packages this one may import
	// directly. internal/... is always allowed (helpers, not API); "*" allows
	// every package of the module.
	MayImport []string
	// Forbidden lists import-path prefixes this package must not depend on,
	// directly or through any dependency.
	Forbidden []string
}

// heavy are the dependencies that someone importing only a leaf package must
// never pay for.
var heavy = []string{
	"github.com/aws/",
	"k8s.io/",
	"sigs.k8s.io/",
	"github.com/prometheus/",
	"google.golang.org/grpc",
}

// leafHealthcheck is heavy minus gRPC: the gRPC health checker uses
// grpc-go's own health client, as the healthcheck issue asks.
var leafHealthcheck = []string{
	"github.com/aws/",
	"k8s.io/",
	"sigs.k8s.io/",
	"github.com/prometheus/",
}

// elbYAML is heavy minus sigs.k8s.io/yaml, for elb/elbyaml.
var elbYAML = []string{
	"github.com/aws/",
	"k8s.io/",
	"sigs.k8s.io/structured-merge-diff",
	"sigs.k8s.io/json",
	"github.com/prometheus/",
	"google.golang.org/grpc",
}

// dataPlane are the pure data-plane leaves that lb composes.
var dataPlane = []string{"balancer", "healthcheck", "proxyproto"}

// Rules is the table of DESIGN.md ("may import" column), keyed by
// module-relative package path.
func Rules() map[string]Rule {
	return map[string]Rule{
		"balancer":              {Forbidden: heavy},
		"balancer/balancertest": {MayImport: []string{"balancer"}, Forbidden: heavy},
		"healthcheck":           {Forbidden: leafHealthcheck},
		"proxyproto":            {Forbidden: heavy},
		"elb":                   {Forbidden: heavy},
		// elb/elbyaml is elb's YAML form; it is apart from elb so that elb
		// stays stdlib-only. It may use sigs.k8s.io/yaml (small: it adds
		// only go.yaml.in/yaml/v2) but nothing else heavy.
		"elb/elbyaml": {MayImport: []string{"elb"}, Forbidden: elbYAML},

		"lb":        {MayImport: dataPlane, Forbidden: []string{"github.com/aws/", "k8s.io/", "sigs.k8s.io/"}},
		"lb/lbtest": {MayImport: append([]string{"lb"}, dataPlane...)},
		// lb/dsr is the Linux direct-server-return forwarder, kept apart
		// from lb because it needs raw sockets and golang.org/x/sys.
		"lb/dsr": {MayImport: dataPlane, Forbidden: []string{"github.com/aws/", "k8s.io/", "sigs.k8s.io/"}},

		"elb/provision": {MayImport: []string{"elb"}},
		// elb/local configures lb, whose API speaks balancer, healthcheck
		// and proxyproto types.
		"elb/local":   {MayImport: append([]string{"elb", "lb"}, dataPlane...)},
		"elb/kube":    {MayImport: []string{"elb", "elb/provision"}},
		"elb/elbtest": {MayImport: []string{"elb", "elb/local"}},

		"bench/...":    {MayImport: []string{"*"}},
		"examples/...": {MayImport: []string{"*"}},
		"internal/...": {MayImport: []string{"*"}},
	}
}

// Package is the part of `go list -json` output the check reads.
type Package struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// Violation is one import the rules do not allow.
type Violation struct {
	From, To string // import paths
	Reason   string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s imports %s: %s", v.From, v.To, v.Reason)
}

// Check returns every violation of rules in pkgs, sorted. Packages outside
// the module are ignored.
func Check(pkgs []Package, rules map[string]Rule) []Violation {
	var out []Violation
	for _, p := range pkgs {
		rel, ok := relative(p.ImportPath)
		if !ok {
			continue
		}
		rule, ok := lookup(rules, rel)
		if !ok {
			out = append(out, Violation{From: p.ImportPath, Reason: "package is not in the import rules table (internal/importrules/rules.go); add it with its place in DESIGN.md's layering"})
			continue
		}
		for _, imp := range p.Imports {
			to, inModule := relative(imp)
			if !inModule || to == rel || allowed(rule, to) {
				continue
			}
			out = append(out, Violation{From: p.ImportPath, To: imp, Reason: fmt.Sprintf("%s may import only %s", rel, describe(rule))})
		}
		for _, dep := range p.Deps {
			for _, f := range rule.Forbidden {
				if strings.HasPrefix(dep, f) {
					out = append(out, Violation{From: p.ImportPath, To: dep, Reason: fmt.Sprintf("%s must not depend on %s* (directly or indirectly)", rel, f)})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func relative(importPath string) (string, bool) {
	if importPath == Module {
		return ".", true
	}
	rel, ok := strings.CutPrefix(importPath, Module+"/")
	return rel, ok
}

// lookup finds the rule for rel: an exact entry, else the longest
// "prefix/..." entry that covers it.
func lookup(rules map[string]Rule, rel string) (Rule, bool) {
	if r, ok := rules[rel]; ok {
		return r, true
	}
	best, found := "", false
	for key := range rules {
		prefix, ok := strings.CutSuffix(key, "/...")
		if ok && (rel == prefix || strings.HasPrefix(rel, prefix+"/")) && len(key) > len(best) {
			best, found = key, true
		}
	}
	return rules[best], found
}

func allowed(r Rule, to string) bool {
	if to == "internal" || strings.HasPrefix(to, "internal/") {
		return true
	}
	for _, a := range r.MayImport {
		if a == "*" || a == to {
			return true
		}
		if prefix, ok := strings.CutSuffix(a, "/..."); ok && (to == prefix || strings.HasPrefix(to, prefix+"/")) {
			return true
		}
	}
	return false
}

func describe(r Rule) string {
	if len(r.MayImport) == 0 {
		return "internal/... (it is a leaf)"
	}
	list := append([]string(nil), r.MayImport...)
	sort.Strings(list)
	return strings.Join(list, ", ") + " and internal/..."
}
