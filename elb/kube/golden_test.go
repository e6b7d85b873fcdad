package kube

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbkit/lbkit/elb"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.txt")

func readObjects(t *testing.T, files ...string) Objects {
	t.Helper()
	var all Objects
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		o, err := ReadManifests(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		all.Ingresses = append(all.Ingresses, o.Ingresses...)
		all.Services = append(all.Services, o.Services...)
		all.EndpointSlices = append(all.EndpointSlices, o.EndpointSlices...)
		all.Nodes = append(all.Nodes, o.Nodes...)
		all.TargetGroupBindings = append(all.TargetGroupBindings, o.TargetGroupBindings...)
	}
	return all
}

// render is the golden form: txtar-like sections, one per stack, then the
// target sets, unsupported annotations and errors.
func render(t *testing.T, objs Objects, opts Options) string {
	t.Helper()
	var b strings.Builder
	res, err := Translate(objs, opts)
	for _, id := range res.IDs() {
		s := res.Stacks[id]
		j, jerr := json.MarshalIndent(s, "", "  ")
		if jerr != nil {
			t.Fatal(jerr)
		}
		fmt.Fprintf(&b, "-- stack %s --\n%s\n", id, j)
		// What elb.Validate says once AWS's defaults are filled in. ALBC's
		// NLB health check defaults (timeout 10 s = interval 10 s) are
		// accepted by AWS but rejected by elb's HTTP-only rule applied to TCP
		// health checks; the golden file records it rather than hiding it.
		d := cloneStack(t, s)
		d.Defaults()
		if verr := d.Validate(); verr != nil {
			fmt.Fprintf(&b, "-- elb.Validate %s --\n%v\n", id, verr)
		}
	}
	sets, berr := BindingTargets(objs, opts)
	for _, ts := range sets {
		j, _ := json.MarshalIndent(ts, "", "  ")
		fmt.Fprintf(&b, "-- targets %s --\n%s\n", ts.Binding, j)
	}
	for _, u := range res.Unsupported {
		fmt.Fprintf(&b, "-- unsupported --\n%s %s=%q\n", u.Object, u.Key, u.Value)
	}
	for _, e := range []error{err, berr} {
		if e != nil {
			fmt.Fprintf(&b, "-- errors --\n%v\n", e)
		}
	}
	return b.String()
}

func cloneStack(t *testing.T, s *elb.Stack) *elb.Stack {
	t.Helper()
	j, err := elb.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var c elb.Stack
	if err := elb.Unmarshal(j, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".txt")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestChapterGolden reads the reference chapter's manifests unchanged, with
// the endpoints and nodes a cluster would add, and checks what ALBC would
// build from them.
func TestChapterGolden(t *testing.T) {
	for _, name := range []string{"2048_full", "nlb-service", "targetgroupbinding"} {
		t.Run(name, func(t *testing.T) {
			files := []string{filepath.Join("testdata", "chapter", name+".yaml"), filepath.Join("testdata", "cluster.yaml")}
			if name == "targetgroupbinding" {
				files = append(files, filepath.Join("testdata", "chapter", "nlb-service.yaml"))
			}
			objs := readObjects(t, files...)
			got := render(t, objs, Options{VPCID: "vpc-0example"})
			if name == "targetgroupbinding" {
				// What the binder does next: take the existing target
				// group's type (ip, as the chapter's NLB target group is).
				for _, b := range objs.TargetGroupBindings {
					if err := InferTargetType(b, elb.TargetTypeIP); err != nil {
						t.Fatal(err)
					}
				}
				sets, err := BindingTargets(objs, Options{})
				if err != nil {
					t.Fatal(err)
				}
				j, _ := json.MarshalIndent(sets, "", "  ")
				got += fmt.Sprintf("-- targets after inferring targetType ip --\n%s\n", j)
			}
			checkGolden(t, name, got)
		})
	}
}
