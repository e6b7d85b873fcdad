package elbyaml

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbkit/lbkit/elb"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const handWritten = `
loadBalancers:
  - name: web
    scheme: internet-facing
    subnetSelector:
      tags: {kubernetes.io/role/elb: "1"}
    listeners:
      - port: 80
        protocol: HTTP
        defaultActions:
          - type: fixed-response
            fixedResponse: {statusCode: "404", contentType: text/plain, messageBody: not found}
        rules:
          - priority: 10
            conditions:
              - field: path-pattern
                values: ["/*"]
            actions:
              - type: forward
                forward:
                  targetGroups: [{targetGroup: web}]
targetGroups:
  - name: web
    protocol: HTTP
    port: 80
    targetType: ip
    vpcId: vpc-1
    healthCheck: {intervalSeconds: 15}
    targets: [{id: 10.0.1.10}, {id: 10.0.2.10}]
`

func TestLeadingDocumentMarker(t *testing.T) {
	var s elb.Stack
	if err := Unmarshal([]byte("# spec\n---\n"+handWritten), &s); err != nil {
		t.Fatal(err)
	}
}

func TestRoundTrip(t *testing.T) {
	var s elb.Stack
	if err := Unmarshal([]byte(handWritten), &s); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := s.TargetGroups[0].HealthCheck.IntervalSeconds; got != 15 {
		t.Errorf("interval = %d", got)
	}
	for _, defaults := range []bool{false, true} {
		if defaults {
			s.Defaults()
		}
		y1, err := Marshal(&s)
		if err != nil {
			t.Fatal(err)
		}
		var back elb.Stack
		if err := Unmarshal(y1, &back); err != nil {
			t.Fatalf("%v\n%s", err, y1)
		}
		y2, _ := Marshal(&back)
		if string(y1) != string(y2) {
			t.Errorf("not stable:\n%s\n%s", y1, y2)
		}
		j1, _ := elb.Marshal(&s)
		j2, _ := elb.Marshal(&back)
		if string(j1) != string(j2) {
			t.Errorf("YAML round trip changed the stack:\n%s\n%s", j1, j2)
		}
	}
}

func TestUnmarshalErrors(t *testing.T) {
	for name, in := range map[string]string{
		"unknown field": "loadBalancers: [{name: a, shceme: internal}]",
		"duplicate key": "loadBalancers: [{name: a, name: b}]",
		"wrong type":    "targetGroups: [{name: a, port: eighty}]",
		"not a mapping": "- a\n- b\n",
		"bad yaml":      "loadBalancers: [",
	} {
		var s elb.Stack
		if err := Unmarshal([]byte(in), &s); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.Contains(err.Error(), "elb") {
			t.Errorf("%s: error %q has no package prefix", name, err)
		}
	}
}

// FuzzUnmarshal: bad YAML is an error, never a panic; accepted YAML
// re-encodes stably.
func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(handWritten))
	if b, err := os.ReadFile(filepath.Join("..", "testdata", "stack.json")); err == nil {
		f.Add(b) // JSON is YAML
	}
	f.Add([]byte("loadBalancers: [{name: a}]\n---\nx: 1"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s elb.Stack
		if err := Unmarshal(data, &s); err != nil {
			return
		}
		y1, err := Marshal(&s)
		if err != nil {
			t.Fatalf("decoded stack does not encode: %v", err)
		}
		var s2 elb.Stack
		if err := Unmarshal(y1, &s2); err != nil {
			t.Fatalf("encoding does not decode: %v\n%s", err, y1)
		}
		y2, _ := Marshal(&s2)
		if string(y1) != string(y2) {
			t.Fatalf("not stable:\n%s\n%s", y1, y2)
		}
	})
}

func ExampleUnmarshal() {
	var s elb.Stack
	err := Unmarshal([]byte(`
targetGroups:
  - {name: web, protocol: HTTP, port: 80, targetType: ip, vpcId: vpc-1}
`), &s)
	if err != nil {
		panic(err)
	}
	s.Defaults()
	out, _ := Marshal(s.TargetGroups[0].HealthCheck)
	os.Stdout.Write(out)
	// Output:
	// enabled: true
	// healthyThreshold: 5
	// intervalSeconds: 30
	// matcher:
	//   httpCode: "200"
	// path: /
	// port: traffic-port
	// protocol: HTTP
	// timeoutSeconds: 5
	// unhealthyThreshold: 2
}
