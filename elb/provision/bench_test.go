package provision_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/elbtest"
	"github.com/lbkit/lbkit/elb/provision"
)

// bigStack is 1 ALB, 3 listeners, 100 rules, 50 target groups and 5,000
// targets (100 per group). AWS allows 1,000 targets per ALB, so the rules
// forward to 10 of the groups; the other 40 hold their targets unattached.
func bigStack() *elb.Stack {
	s := &elb.Stack{}
	var tgs []*elb.TargetGroup
	for i := range 50 {
		tg := s.AddTargetGroup(elb.NewTargetGroup(fmt.Sprintf("tg%02d", i), elb.ProtocolHTTP, 8080, elb.TargetTypeIP))
		for j := range 100 {
			tg.Targets = append(tg.Targets, elb.Target{ID: fmt.Sprintf("10.%d.%d.%d", i, j/200, j%200+1)})
		}
		tgs = append(tgs, tg)
	}
	alb := s.AddLoadBalancer(elb.NewApplicationLoadBalancer("big"))
	for li := range 3 {
		l := alb.AddListener(elb.ProtocolHTTP, 80+li, elb.FixedResponse(404, elb.ContentTypeTextPlain, "no route"))
		n := 34
		if li == 2 {
			n = 32
		}
		for r := range n {
			l.AddRule(r+1, elb.Forward(tgs[(li*34+r)%10]), elb.PathPattern(fmt.Sprintf("/p%d/%d/*", li, r)))
		}
	}
	return s
}

func BenchmarkBigStack(b *testing.B) {
	b.ReportAllocs()
	e := newEnv(b, elbtest.Options{Seed: 9, RequestLogLimit: 1 << 20})
	p := e.provisioner(b, "big", func(o *provision.Options) { _ = o })
	ctx := context.Background()
	stack := bigStack()
	b.Run("converge", func(b *testing.B) {
		for range b.N {
			e.srv.ResetRequests()
			if _, err := p.Apply(ctx, stack); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(e.srv.Requests())), "calls/op")
			b.StopTimer()
			if _, err := p.Delete(ctx); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	})
	if _, err := p.Apply(ctx, stack); err != nil {
		b.Fatal(err)
	}
	b.Run("noop", func(b *testing.B) {
		for range b.N {
			e.srv.ResetRequests()
			if _, err := p.Apply(ctx, stack); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(e.srv.Requests())), "calls/op")
			if m := len(e.srv.MutatingRequests()); m != 0 {
				b.Fatalf("%d mutating calls", m)
			}
		}
	})
}

// The no-op reconcile of the big stack only describes: one page per list
// call (load balancers, target groups, listeners, rules per listener),
// tags 20 ARNs per call, and the per-group calls the API has no batch
// form of (attributes, target health).
func TestBigStackNoopCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("big stack")
	}
	e := newEnv(t, elbtest.Options{Seed: 9, RequestLogLimit: 1 << 20})
	p := e.provisioner(t, "big")
	ctx := context.Background()
	if _, err := p.Apply(ctx, bigStack()); err != nil {
		t.Fatal(err)
	}
	e.srv.ResetRequests()
	if _, err := p.Apply(ctx, bigStack()); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range e.srv.Requests() {
		if r.Mutating {
			t.Errorf("no-op reconcile called %s", r.Operation)
		}
		got[r.Operation]++
	}
	want := map[string]int{
		"DescribeLoadBalancers": 1, "DescribeTargetGroups": 1, "DescribeListeners": 1, "DescribeRules": 3,
		"DescribeLoadBalancerAttributes": 1, "DescribeTargetGroupAttributes": 50, "DescribeTargetHealth": 50,
		"DescribeTags":    3 + 1 + 5, // 50 TGs + 1 LB; 3 listeners; 100 rules
		"DescribeSubnets": 1, "DescribeVpcs": 1,
	}
	// Exact, both ways: every read here is one the plan needs (attributes
	// are compared in full so out-of-band changes are reset; every group
	// lists its targets), so fewer calls would mean a skipped read and
	// more would mean a new one nobody measured.
	for op, n := range want {
		if got[op] != n {
			t.Errorf("%s: %d calls, want %d", op, got[op], n)
		}
	}
	for op, n := range got {
		if _, ok := want[op]; !ok {
			t.Errorf("unexpected %s: %d calls", op, n)
		}
	}
}
