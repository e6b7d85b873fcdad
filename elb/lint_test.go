package elb

import (
	"fmt"
	"testing"
)

func TestLint(t *testing.T) {
	tg := func(s *Stack, name string) *TargetGroup {
		x := s.AddTargetGroup(NewTargetGroup(name, ProtocolHTTP, 80, TargetTypeIP))
		x.VPCID = "vpc-1"
		return x
	}
	tests := []struct {
		name  string
		build func(s *Stack, l *Listener, web *TargetGroup)
		want  []string // "code path"
	}{
		{"clean", func(s *Stack, l *Listener, web *TargetGroup) {
			l.AddRule(1, Forward(web), PathPattern("/a/*"))
			l.AddRule(2, Forward(web), PathPattern("/b/*"))
		}, nil},
		{"path prefix shadows longer prefix", func(s *Stack, l *Listener, web *TargetGroup) {
			l.AddRule(1, Forward(web), PathPattern("/api/*"))
			l.AddRule(2, Forward(web), PathPattern("/api/v1/*"))
		}, []string{"ShadowedRule loadBalancers[0].listeners[0].rules[1]"}},
		{"shadowing follows priority, not order", func(s *Stack, l *Listener, web *TargetGroup) {
			l.AddRule(2, Forward(web), PathPattern("/api/v1/*"))
			l.AddRule(1, Forward(web), PathPattern("/api/*"))
		}, []string{"ShadowedRule loadBalancers[0].listeners[0].rules[0]"}},
		{"fewer conditions shadow more", func(s *Stack, l *Listener, web *TargetGroup) {
			l.AddRule(1, Forward(web), HostHeader("*.example.com"))
			l.AddRule(2, Forward(web), HostHeader("API.example.com"), PathPattern("/x"))
		}, []string{"ShadowedRule loadBalancers[0].listeners[0].rules[1]"}},
		{"more conditions do not shadow fewer", func(s *Stack, l *Listener, web *TargetGroup) {
			l.AddRule(1, Forward(web), HostHeader("api.example.com"), PathPattern("/x"))
			l.AddRule(2, Forward(web), HostHeader("api.example.com"))
		}, nil},
		{"values must all be covered", func(s *Stack, l *Listener, web *TargetGroup) {
			l.AddRule(1, Forward(web), PathPattern("/a"))
			l.AddRule(2, Forward(web), PathPattern("/a", "/b"))
		}, nil},
		{"source ip containment", func(s *Stack, l *Listener, web *TargetGroup) {
			l.AddRule(1, Forward(web), SourceIP("10.0.0.0/8"))
			l.AddRule(2, Forward(web), SourceIP("10.1.0.0/16", "10.2.3.4/32"))
			l.AddRule(3, Forward(web), SourceIP("11.0.0.0/8"))
		}, []string{"ShadowedRule loadBalancers[0].listeners[0].rules[1]"}},
		{"methods subset", func(s *Stack, l *Listener, web *TargetGroup) {
			l.AddRule(1, Forward(web), HTTPRequestMethod("GET", "HEAD"))
			l.AddRule(2, Forward(web), HTTPRequestMethod("GET"))
		}, []string{"ShadowedRule loadBalancers[0].listeners[0].rules[1]"}},
		{"header names differ", func(s *Stack, l *Listener, web *TargetGroup) {
			l.AddRule(1, Forward(web), HTTPHeader("X-A", "*"))
			l.AddRule(2, Forward(web), HTTPHeader("X-B", "1"))
		}, nil},
		{"header name case-insensitive", func(s *Stack, l *Listener, web *TargetGroup) {
			l.AddRule(1, Forward(web), HTTPHeader("x-a", "*"))
			l.AddRule(2, Forward(web), HTTPHeader("X-A", "1"))
		}, []string{"ShadowedRule loadBalancers[0].listeners[0].rules[1]"}},
		{"query keyless covers keyed", func(s *Stack, l *Listener, web *TargetGroup) {
			l.AddRule(1, Forward(web), QueryString(QueryStringKeyValue{Value: "on"}))
			l.AddRule(2, Forward(web), QueryString(QueryStringKeyValue{Key: "debug", Value: "on"}))
		}, []string{"ShadowedRule loadBalancers[0].listeners[0].rules[1]"}},
		{"path * shadows a rule without a path condition", func(s *Stack, l *Listener, web *TargetGroup) {
			l.AddRule(1, Forward(web), PathPattern("*"))
			l.AddRule(2, Forward(web), HTTPRequestMethod("GET"))
		}, []string{"ShadowedRule loadBalancers[0].listeners[0].rules[1]"}},
		{"duplicate priority", func(s *Stack, l *Listener, web *TargetGroup) {
			l.AddRule(5, Forward(web), PathPattern("/a"))
			l.AddRule(5, Forward(web), PathPattern("/b"))
		}, []string{"DuplicatePriority loadBalancers[0].listeners[0].rules[1].priority"}},
		{"unused target group", func(s *Stack, l *Listener, web *TargetGroup) {
			tg(s, "spare")
		}, []string{"UnreachableTargetGroup targetGroups[1]"}},
		{"target group only behind a shadowed rule", func(s *Stack, l *Listener, web *TargetGroup) {
			old := tg(s, "old")
			l.AddRule(1, Forward(web), PathPattern("*"))
			l.AddRule(2, Forward(old), PathPattern("/old/*"))
		}, []string{"ShadowedRule loadBalancers[0].listeners[0].rules[1]", "UnreachableTargetGroup targetGroups[1]"}},
		{"weight zero", func(s *Stack, l *Listener, web *TargetGroup) {
			canary := tg(s, "canary")
			l.AddRule(1, WeightedForward(Weight(web, 1), Weight(canary, 0)), PathPattern("/"))
		}, []string{"UnreachableTargetGroup targetGroups[1]"}},
		{"target group quota headroom", func(s *Stack, l *Listener, web *TargetGroup) {
			for i := 1; i <= 80; i++ {
				l.AddRule(i, Forward(tg(s, fmt.Sprintf("tg%d", i))), PathPattern(fmt.Sprintf("/%d", i)))
			}
		}, []string{"QuotaHeadroom loadBalancers[0]", "QuotaHeadroom loadBalancers[0]"}},
		{"rule quota headroom", func(s *Stack, l *Listener, web *TargetGroup) {
			for i := 1; i <= 80; i++ {
				l.AddRule(i, Forward(web), PathPattern(fmt.Sprintf("/%d", i)))
			}
		}, []string{"QuotaHeadroom loadBalancers[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Stack{}
			web := tg(s, "web")
			lb := s.AddLoadBalancer(NewApplicationLoadBalancer("lb"))
			l := lb.AddListener(ProtocolHTTP, 80, Forward(web))
			tt.build(s, l, web)
			var got []string
			for _, f := range Lint(s) {
				got = append(got, f.Code+" "+f.Path)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Lint = %v\nwant   %v", got, tt.want)
			}
		})
	}
}
