package elb

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestJSONRoundTrip(t *testing.T) {
	for _, defaults := range []bool{false, true} {
		s := validStack()
		s.LoadBalancers[0].Tags = Tags{"team": "web", "env": "prod"}
		s.LoadBalancers[0].Listeners[0].Rules[0].Conditions = append(s.LoadBalancers[0].Listeners[0].Rules[0].Conditions,
			QueryString(QueryStringKeyValue{Key: "v", Value: `a\*`}), HTTPHeader("X-A", "b"), SourceIP("10.0.0.0/8"))
		if defaults {
			s.Defaults()
		}
		b, err := Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Stack
		if err := Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&back, s) {
			t.Errorf("defaults=%v: decoded stack differs from the original", defaults)
		}
		b2, _ := Marshal(&back)
		if string(b) != string(b2) {
			t.Errorf("defaults=%v: re-encoding differs:\n%s\n%s", defaults, b, b2)
		}
	}
}

func TestUnmarshalStrict(t *testing.T) {
	var s Stack
	err := Unmarshal([]byte(`{"loadBalancers":[{"name":"a","schema":"internal"}]}`), &s)
	if err == nil || !strings.Contains(err.Error(), `unknown field "schema"`) {
		t.Errorf("misspelt field: err = %v", err)
	}
	if err := Unmarshal([]byte(`{} {}`), &s); !errors.Is(err, ErrTrailingData) {
		t.Errorf("trailing data: err = %v", err)
	}
	if err := Unmarshal([]byte(`{"targetGroups":[{"name":"a","port":"80"}]}`), &s); err == nil {
		t.Error("string port accepted")
	}
}

// TestHandWritten decodes the documented hand-written example in testdata
// and checks it validates.
func TestHandWritten(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "stack.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s Stack
	if err := Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(Lint(&s)) != 0 {
		t.Errorf("lint: %v", Lint(&s))
	}
}

// FuzzUnmarshal: any input either fails to decode, or decodes to a stack
// whose encoding is stable (encode → decode → encode gives the same bytes),
// and Defaults, Validate, Lint and NewRouter do not panic on it.
func FuzzUnmarshal(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "stack.json")); err == nil {
		f.Add(b)
	}
	b, _ := Marshal(validStack())
	f.Add(b)
	f.Add([]byte(`{"loadBalancers":[{"name":"a","listeners":[{"port":80,"defaultActions":[{"type":"fixed-response","fixedResponse":{"statusCode":"200"}}],"rules":[{"priority":1,"conditions":[{"field":"source-ip","values":["x"]}],"actions":[]}]}]}]}`))
	f.Add([]byte(`{"targetGroups":[{"name":"t","attributes":{"deregistrationDelaySeconds":0},"tags":{}}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Stack
		if err := Unmarshal(data, &s); err != nil {
			return
		}
		b1, err := Marshal(&s)
		if err != nil {
			t.Fatalf("decoded stack does not encode: %v", err)
		}
		var s2 Stack
		if err := Unmarshal(b1, &s2); err != nil {
			t.Fatalf("encoding does not decode: %v\n%s", err, b1)
		}
		b2, _ := Marshal(&s2)
		if string(b1) != string(b2) {
			t.Fatalf("encoding not stable:\n%s\n%s", b1, b2)
		}
		_ = s2.Validate()
		_ = Lint(&s2)
		for _, lb := range s2.LoadBalancers {
			if lb == nil {
				continue
			}
			for _, l := range lb.Listeners {
				if l == nil {
					continue
				}
				if rt, err := NewRouter(l); err == nil {
					rt.Route(&Request{Method: "GET", Host: "a.example.com", Path: "/", RawQuery: "a=%41"})
				}
			}
		}
		s2.Defaults()
	})
}
