package local_test

import (
	"strings"
	"testing"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/local"
)

func TestExplain(t *testing.T) {
	s := albStack(nil, nil)
	s.LoadBalancers[0].Listeners[0].AddRule(30, elb.Redirect(elb.RedirectConfig{Protocol: "HTTPS", Port: "443", StatusCode: elb.RedirectPermanent}), elb.HostHeader("old.example.com"))
	s.LoadBalancers[0].Listeners[0].AddRule(40, elb.Forward(s.TargetGroups[0]), elb.PathPattern("/api/v2/*")) // shadowed by rule 10
	tests := []struct {
		method, url string
		headers     []string
		rule        int // 0: default
		want        []string
	}{
		{"GET", "http://example.com/api/users", nil, 10, []string{"matched rule 10", "forward → api"}},
		{"GET", "http://example.com/tea", nil, 20, []string{"fixed-response 418"}},
		{"GET", "http://old.example.com/x", nil, 30, []string{"redirect HTTP_301 → HTTPS"}},
		{"GET", "http://example.com/", []string{"X-Test: 1"}, 0, []string{"default action", "forward → web"}},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			req, err := local.NewRequest(tc.method, tc.url, tc.headers...)
			if err != nil {
				t.Fatal(err)
			}
			e, err := local.Explain(s, "demo", 80, req)
			if err != nil {
				t.Fatal(err)
			}
			if got := 0; e.Rule != nil {
				got = e.Rule.Priority
				if got != tc.rule {
					t.Errorf("rule %d, want %d", got, tc.rule)
				}
			} else if tc.rule != 0 {
				t.Errorf("default, want rule %d", tc.rule)
			}
			out := e.String()
			for _, w := range append(tc.want, "ShadowedRule") {
				if !strings.Contains(out, w) {
					t.Errorf("explanation lacks %q:\n%s", w, out)
				}
			}
		})
	}
	errs := []struct {
		lb   string
		port int
	}{{"nope", 80}, {"demo", 81}}
	for _, tc := range errs {
		req, _ := local.NewRequest("GET", "http://x/")
		if _, err := local.Explain(s, tc.lb, tc.port, req); err == nil {
			t.Errorf("Explain(%s, %d) succeeded", tc.lb, tc.port)
		}
	}
	if _, err := local.NewRequest("GET", "/relative"); err == nil {
		t.Error("NewRequest accepted a URL without a host")
	}
	if _, err := local.NewRequest("GET", "http://x/", "bad header"); err == nil {
		t.Error("NewRequest accepted a malformed header")
	}
}
