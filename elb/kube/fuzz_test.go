package kube

import (
	"encoding/json"
	"testing"
)

// The JSON annotations are user input a controller reads on every
// reconcile: they must never panic, and what they accept must survive a
// round trip through their own JSON form unchanged.

func FuzzParseAction(f *testing.F) {
	f.Add(`{"type":"redirect","redirectConfig":{"protocol":"HTTPS","port":"443","statusCode":"HTTP_301"}}`)
	f.Add(`{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"a","servicePort":"http","weight":1}]}}`)
	f.Add(`{"type":"fixed-response","fixedResponseConfig":{"statusCode":"404"}}`)
	f.Fuzz(func(t *testing.T, in string) {
		a, err := ParseAction(in)
		if err != nil {
			return
		}
		j, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseAction(string(j))
		if err != nil {
			t.Fatalf("accepted %q, rejected its own form %s: %v", in, j, err)
		}
		j2, _ := json.Marshal(b)
		if string(j) != string(j2) {
			t.Fatalf("round trip: %s != %s", j, j2)
		}
	})
}

func FuzzParseConditions(f *testing.F) {
	f.Add(`[{"field":"host-header","hostHeaderConfig":{"values":["a.example.com"]}}]`)
	f.Add(`[{"field":"source-ip","sourceIpConfig":{"values":["10.0.0.0/8"]}}]`)
	f.Add(`[{"field":"query-string","queryStringConfig":{"values":[{"key":"a","value":"b"}]}}]`)
	f.Fuzz(func(t *testing.T, in string) {
		cs, err := ParseConditions(in)
		if err != nil {
			return
		}
		for _, c := range cs {
			if len(c.Values) == 0 && len(c.QueryStrings) == 0 {
				t.Fatalf("accepted a condition without values: %+v", c)
			}
		}
	})
}

func FuzzParseListenPorts(f *testing.F) {
	f.Add(`[{"HTTP":80},{"HTTPS":443}]`)
	f.Add(`[{"HTTP":8080}]`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, in string) {
		ps, err := ParseListenPorts(in)
		if err != nil {
			return
		}
		seen := map[int]bool{}
		for _, p := range ps {
			if p.Port < 1 || p.Port > 65535 || seen[p.Port] || (p.Protocol != "HTTP" && p.Protocol != "HTTPS") {
				t.Fatalf("accepted %+v from %q", p, in)
			}
			seen[p.Port] = true
		}
	})
}
