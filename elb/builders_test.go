package elb

import "testing"

func TestForwardPick(t *testing.T) {
	a := &TargetGroup{Name: "a"}
	b := &TargetGroup{Name: "b"}
	f := WeightedForward(Weight(a, 3), Weight(b, 1)).Forward
	counts := map[string]int{}
	for n := uint64(0); n < 400; n++ {
		tg, ok := f.Pick(n)
		if !ok {
			t.Fatal("Pick failed")
		}
		counts[tg]++
	}
	if counts["a"] != 300 || counts["b"] != 100 {
		t.Errorf("counts %v, want a:300 b:100", counts)
	}
	if _, ok := WeightedForward(Weight(a, 0)).Forward.Pick(7); ok {
		t.Error("all-zero weights picked a target group")
	}
	if tg, ok := Forward(a).Forward.Pick(12345); !ok || tg != "a" {
		t.Errorf("single forward picked %q", tg)
	}
	if n := testing.AllocsPerRun(100, func() { f.Pick(3) }); n != 0 {
		t.Errorf("Pick allocates %v", n)
	}
}

func TestBuilders(t *testing.T) {
	s := &Stack{}
	tg := s.AddTargetGroup(NewTargetGroup("web", ProtocolHTTP, 80, TargetTypeIP)).AddTargets("10.0.0.1")
	lb := s.AddLoadBalancer(NewApplicationLoadBalancer("lb"))
	l := lb.AddListener(ProtocolHTTP, 80, Forward(tg))
	r := l.AddRule(1, Forward(tg).WithGroupStickiness(60), PathPattern("/"))
	if s.TargetGroup("web") != tg || s.LoadBalancer("lb") != lb || lb.Listener(80) != l || lb.Listener(81) != nil {
		t.Error("lookups")
	}
	if st := r.Actions[0].Forward.Stickiness; st == nil || !st.Enabled || st.DurationSeconds != 60 {
		t.Errorf("group stickiness %+v", st)
	}
	if l.DefaultActions[0].Forward.Stickiness != nil {
		t.Error("WithGroupStickiness modified the action it was called on")
	}
	tg.ARN = "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/web/73e2d6bc24d8a067"
	if s.TargetGroup(tg.ARN) != tg {
		t.Error("lookup by ARN")
	}
}
