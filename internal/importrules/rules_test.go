package importrules

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestTree checks the real module against the table.
func TestTree(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-json", Module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []Package
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p Package
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list returned no packages")
	}
	for _, v := range Check(pkgs, Rules()) {
		t.Errorf("forbidden import: %s", v)
	}
}

// TestCheck proves the check fails on each kind of forbidden edge.
func TestCheck(t *testing.T) {
	m := func(rel string) string { return Module + "/" + rel }
	tests := []struct {
		name string
		pkg  Package
		want []string // substrings of the violations, in order
	}{
		{
			name: "leaf imports leaf",
			pkg:  Package{ImportPath: m("balancer"), Imports: []string{m("healthcheck"), "sync"}},
			want: []string{"balancer imports " + m("healthcheck") + ": balancer may import only internal/... (it is a leaf)"},
		},
		{
			name: "lb imports elb",
			pkg:  Package{ImportPath: m("lb"), Imports: []string{m("balancer"), m("elb")}},
			want: []string{"lb imports " + m("elb")},
		},
		{
			name: "elb pulls the AWS SDK indirectly",
			pkg:  Package{ImportPath: m("elb"), Imports: []string{m("internal/x")}, Deps: []string{"github.com/aws/aws-sdk-go-v2/aws", "strings"}},
			want: []string{"must not depend on github.com/aws/*"},
		},
		{
			name: "proxyproto pulls prometheus",
			pkg:  Package{ImportPath: m("proxyproto"), Deps: []string{"github.com/prometheus/client_golang/prometheus"}},
			want: []string{"proxyproto must not depend on github.com/prometheus/*"},
		},
		{
			name: "unknown package",
			pkg:  Package{ImportPath: m("newthing")},
			want: []string{"not in the import rules table"},
		},
		{
			name: "provision imports kube",
			pkg:  Package{ImportPath: m("elb/provision"), Imports: []string{m("elb/kube")}},
			want: []string{"elb/provision may import only elb and internal/..."},
		},
		{
			name: "allowed edges",
			pkg: Package{ImportPath: m("elb/local"), Imports: []string{m("elb"), m("lb"), m("balancer"), m("internal/testenv"), "net/http"},
				Deps: []string{"github.com/prometheus/client_golang/prometheus"}},
		},
		{
			name: "examples may import anything",
			pkg:  Package{ImportPath: m("examples/quickstart"), Imports: []string{m("elb/kube"), m("lb/dsr")}},
		},
		{
			name: "outside the module is ignored",
			pkg:  Package{ImportPath: "github.com/other/mod", Imports: []string{m("elb")}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check([]Package{tt.pkg}, Rules())
			if len(got) != len(tt.want) {
				t.Fatalf("Check() = %v, want %d violations %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i].String(), w) {
					t.Errorf("violation %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}
