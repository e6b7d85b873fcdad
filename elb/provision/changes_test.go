package provision_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/elbtest"
	"github.com/lbkit/lbkit/elb/provision"
)

func TestFieldChanges(t *testing.T) {
	tests := []struct {
		name   string
		change func(s *elb.Stack)
		kind   provision.OpKind
		res    provision.ResourceKind
		field  string
	}{
		{"health check path", func(s *elb.Stack) { s.TargetGroup("web").HealthCheck.Path = "/healthz" }, provision.OpUpdate, provision.KindTargetGroup, "healthCheck"},
		{"tg attribute", func(s *elb.Stack) { s.TargetGroup("web").Attributes.DeregistrationDelaySeconds = elb.Int(5) }, provision.OpUpdate, provision.KindTargetGroup, "attributes.deregistration_delay.timeout_seconds"},
		{"tg tags", func(s *elb.Stack) { s.TargetGroup("web").Tags = elb.Tags{"team": "a"} }, provision.OpUpdate, provision.KindTargetGroup, "tags"},
		{"tg port", func(s *elb.Stack) { s.TargetGroup("web").Port = 8081 }, provision.OpReplace, provision.KindTargetGroup, "port"},
		{"lb attribute", func(s *elb.Stack) { s.LoadBalancer("demo").Attributes.IdleTimeoutSeconds = 120 }, provision.OpUpdate, provision.KindLoadBalancer, "attributes.idle_timeout.timeout_seconds"},
		{"lb scheme", func(s *elb.Stack) { s.LoadBalancer("demo").Scheme = elb.SchemeInternal }, provision.OpReplace, provision.KindLoadBalancer, "scheme"},
		{"listener default action", func(s *elb.Stack) {
			s.LoadBalancer("demo").Listeners[0].DefaultActions = []elb.Action{elb.FixedResponse(503, elb.ContentTypeTextPlain, "down")}
		}, provision.OpUpdate, provision.KindListener, "defaultActions"},
		{"rule condition", func(s *elb.Stack) {
			s.LoadBalancer("demo").Listeners[0].Rules[0].Conditions = []elb.Condition{elb.PathPattern("/v2/*")}
		}, provision.OpUpdate, provision.KindRule, "conditions"},
		{"rule action", func(s *elb.Stack) {
			s.LoadBalancer("demo").Listeners[0].Rules[0].Actions = []elb.Action{elb.Forward(s.TargetGroup("web"))}
		}, provision.OpUpdate, provision.KindRule, "actions"},
		{"rule removed", func(s *elb.Stack) {
			l := s.LoadBalancer("demo").Listeners[0]
			l.Rules = l.Rules[1:]
		}, provision.OpDelete, provision.KindRule, ""},
		{"listener added", func(s *elb.Stack) {
			s.LoadBalancer("demo").AddListener(elb.ProtocolHTTP, 8080, elb.FixedResponse(404, "", ""))
		}, provision.OpCreate, provision.KindListener, ""},
		{"target added", func(s *elb.Stack) {
			web := s.TargetGroup("web")
			web.Targets = append(web.Targets, elb.Target{ID: "10.0.0.3"})
		}, provision.OpRegister, provision.KindTargets, ""},
		{"target removed", func(s *elb.Stack) { s.TargetGroup("web").Targets = s.TargetGroup("web").Targets[:1] }, provision.OpDeregister, provision.KindTargets, ""},
		{"tg removed", func(s *elb.Stack) {
			s.TargetGroups = slices.DeleteFunc(s.TargetGroups, func(tg *elb.TargetGroup) bool { return tg.Name == "api" })
			s.LoadBalancer("demo").Listeners[0].Rules = s.LoadBalancer("demo").Listeners[0].Rules[1:]
		}, provision.OpDelete, provision.KindTargetGroup, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, elbtest.Options{Seed: 2})
			p := e.provisioner(t, "shop")
			ctx := context.Background()
			if _, err := p.Apply(ctx, demoStack()); err != nil {
				t.Fatal(err)
			}
			s := demoStack()
			tt.change(s)
			pl, err := p.Plan(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, op := range pl.Ops {
				if op.Kind == tt.kind && op.Resource == tt.res && (tt.field == "" || slices.Contains(op.Fields, tt.field)) {
					found = true
				}
			}
			if !found {
				t.Fatalf("want %s %s %s in\n%s", tt.kind, tt.res, tt.field, pl)
			}
			if _, err := p.ApplyPlan(ctx, pl); err != nil {
				t.Fatalf("apply: %v\n%s", err, pl)
			}
			pl, err = p.Plan(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			if !pl.Empty() {
				t.Fatalf("not converged after apply:\n%s", pl)
			}
		})
	}
}

func TestAttributeResetToDefault(t *testing.T) {
	e := newEnv(t, elbtest.Options{Seed: 3})
	p := e.provisioner(t, "shop")
	ctx := context.Background()
	s := demoStack()
	s.LoadBalancer("demo").Attributes.IdleTimeoutSeconds = 300
	if _, err := p.Apply(ctx, s); err != nil {
		t.Fatal(err)
	}
	pl, err := p.Plan(ctx, demoStack()) // key removed from the spec
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.Ops) != 1 || !slices.Contains(pl.Ops[0].Fields, "attributes.idle_timeout.timeout_seconds") {
		t.Fatalf("want a reset of idle_timeout, got\n%s", pl)
	}
	// Unmanaged: left as it is.
	pu := e.provisioner(t, "shop", func(o *provision.Options) { o.UnmanagedAttributes = []string{"idle_timeout.timeout_seconds"} })
	if pl, err := pu.Plan(ctx, demoStack()); err != nil || !pl.Empty() {
		t.Fatalf("unmanaged key planned: %v\n%s", err, pl)
	}
}

func TestForeignResourcesUntouched(t *testing.T) {
	e := newEnv(t, elbtest.Options{Seed: 4})
	p := e.provisioner(t, "shop")
	ctx := context.Background()
	if _, err := p.Apply(ctx, demoStack()); err != nil {
		t.Fatal(err)
	}
	// Someone else's target group and a rule on our listener.
	lbs, _ := e.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"demo"}})
	foreign, err := e.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("theirs"), Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: lbs.LoadBalancers[0].VpcId, TargetType: types.TargetTypeEnumIp})
	if err != nil {
		t.Fatal(err)
	}
	ls, _ := e.elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: lbs.LoadBalancers[0].LoadBalancerArn})
	if _, err := e.elb.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: ls.Listeners[0].ListenerArn, Priority: aws.Int32(500),
		Conditions: []types.RuleCondition{{Field: aws.String("host-header"), HostHeaderConfig: &types.HostHeaderConditionConfig{Values: []string{"theirs.example"}}}},
		Actions:    []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: foreign.TargetGroups[0].TargetGroupArn}}}); err != nil {
		t.Fatal(err)
	}
	e.srv.ResetRequests()
	if _, err := p.Apply(ctx, demoStack()); err != nil {
		t.Fatal(err)
	}
	if m := mutating(e.srv); len(m) != 0 {
		t.Fatalf("apply touched foreign resources: %v", m)
	}
	if _, err := p.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	tgs, _ := e.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{})
	if len(tgs.TargetGroups) != 1 || *tgs.TargetGroups[0].TargetGroupName != "theirs" {
		t.Fatalf("after Delete: %d target groups", len(tgs.TargetGroups))
	}
	// A same-named untagged target group is not taken over ...
	s := demoStack()
	s.TargetGroups[0].Name = "theirs"
	s.TargetGroups[0].Port = 80
	s.LoadBalancer("demo").Listeners[0].Rules[1].Actions = []elb.Action{elb.Forward(s.TargetGroups[0])}
	if _, err := p.Plan(ctx, s); !errors.Is(err, provision.ErrNotOwned) {
		t.Fatalf("plan over a foreign target group: %v, want ErrNotOwned", err)
	}
	// ... unless adopted explicitly.
	pa := e.provisioner(t, "shop", func(o *provision.Options) { o.Adopt = []string{"tg/theirs"} })
	pl, err := pa.Plan(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pl.String(), "adopt") {
		t.Fatalf("want an adopt op:\n%s", pl)
	}
}

// With 20% Throttling and 5% InternalFailure on every operation, create,
// update (with a replacement) and delete each converge exactly.
func TestFaultsConverge(t *testing.T) {
	var throttled, failed atomic.Int64
	t.Cleanup(func() {
		// About 0.20 and 0.05 of some 5,000 calls.
		if throttled.Load() < 100 || failed.Load() < 20 {
			t.Errorf("faults injected: %d Throttling, %d InternalFailure", throttled.Load(), failed.Load())
		}
		t.Logf("faults injected: %d Throttling, %d InternalFailure", throttled.Load(), failed.Load())
	})
	for seed := range uint64(50) {
		t.Run("seed"+itoa(int(seed)), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, elbtest.Options{Seed: seed})
			faults := mixedFaults(e)
			faults.set(true)
			p := e.provisioner(t, "shop", func(o *provision.Options) { o.ELBV2 = faults.client })
			ctx := context.Background()
			if _, err := p.Apply(ctx, demoStack()); err != nil {
				t.Fatal(err)
			}
			// An update with a replacement, and then Delete, under the
			// same faults.
			changed := demoStack()
			changed.TargetGroup("api").Port = 9091
			changed.TargetGroup("web").HealthCheck.Path = "/healthz"
			changed.LoadBalancer("demo").Attributes.IdleTimeoutSeconds = 30
			if _, err := p.Apply(ctx, changed); err != nil {
				t.Fatal(err)
			}
			faults.set(false)
			assertConverged(t, e, p, changed)
			faults.set(true)
			if _, err := p.Delete(ctx); err != nil {
				t.Fatal(err)
			}
			faults.set(false)
			assertConverged(t, e, p, &elb.Stack{})
			throttled.Add(faults.throttled.Load())
			failed.Add(faults.failed.Load())
		})
	}
}

// assertConverged checks the plan is empty and nothing is duplicated.
func assertConverged(t *testing.T, e *env, p *provision.Provisioner, s *elb.Stack) {
	t.Helper()
	ctx := context.Background()
	pl, err := p.Plan(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if !pl.Empty() {
		t.Fatalf("not converged:\n%s", pl)
	}
	lbs, _ := e.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	tgs, _ := e.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{})
	if len(lbs.LoadBalancers) != len(s.LoadBalancers) || len(tgs.TargetGroups) != len(s.TargetGroups) {
		t.Fatalf("%d load balancers, %d target groups; want %d, %d", len(lbs.LoadBalancers), len(tgs.TargetGroups), len(s.LoadBalancers), len(s.TargetGroups))
	}
}

// An apply cancelled at a random API call, then run again, converges
// with no duplicates and no orphans; so does a cancelled Delete.
func TestCancelledApplyConverges(t *testing.T) {
	for seed := range uint64(20) {
		t.Run("seed"+itoa(int(seed)), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, elbtest.Options{Seed: seed})
			r := rand.New(rand.NewPCG(seed, 1))
			for _, target := range []*elb.Stack{demoStack(), {}} {
				stop := int64(1 + r.IntN(20))
				ctx, cancel := context.WithCancel(context.Background())
				var calls atomic.Int64
				cfg := e.srv.Config()
				cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
				client := elbv2.NewFromConfig(cfg, func(o *elbv2.Options) {
					o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
						return st.Initialize.Add(middleware.InitializeMiddlewareFunc("cancelAt", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
							if calls.Add(1) == stop {
								cancel()
							}
							return next.HandleInitialize(ctx, in)
						}), middleware.Before)
					})
				})
				p := e.provisioner(t, "shop", func(o *provision.Options) { o.ELBV2 = client })
				_, _ = p.Apply(ctx, target) // may fail: cancelled
				cancel()
				p2 := e.provisioner(t, "shop")
				if _, err := p2.Apply(context.Background(), target); err != nil {
					t.Fatal(err)
				}
				assertConverged(t, e, p2, target)
			}
		})
	}
}

func itoa(n int) string {
	return strings.TrimSpace(strings.Repeat(" ", 0) + string(rune('0'+n/10)) + string(rune('0'+n%10)))
}

// Adoption tags an untagged resource, after which the stack owns it
// (and Delete removes it).
func TestAdoptThenOwn(t *testing.T) {
	e := newEnv(t, elbtest.Options{Seed: 15})
	ctx := context.Background()
	vpcs, err := e.ec2.DescribeVpcs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("web"), Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: vpcs.Vpcs[0].VpcId, TargetType: types.TargetTypeEnumIp}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.provisioner(t, "shop").Plan(ctx, demoStack()); !errors.Is(err, provision.ErrNotOwned) {
		t.Fatalf("err %v, want ErrNotOwned", err)
	}
	p := e.provisioner(t, "shop", func(o *provision.Options) { o.Adopt = []string{"tg/web"} })
	res, err := p.Apply(ctx, demoStack())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Plan.String(), "adopt") {
		t.Fatalf("no adopt op:\n%s", res.Plan)
	}
	assertConverged(t, e, e.provisioner(t, "shop"), demoStack())
	if _, err := e.provisioner(t, "shop").Delete(ctx); err != nil {
		t.Fatal(err)
	}
	assertConverged(t, e, e.provisioner(t, "shop"), &elb.Stack{})
	if _, err := p.ApplyPlan(ctx, &provision.Plan{}); !errors.Is(err, provision.ErrPlan) {
		t.Fatalf("ApplyPlan of a hand-made plan: %v", err)
	}
}

// faultMix injects, through elbtest's own fault injector, 20% Throttling
// and 5% InternalFailure on every call, and counts the faults its client
// meets.
type faultMix struct {
	srv               *elbtest.Server
	client            *elbv2.Client
	throttled, failed atomic.Int64
}

// set turns the faults on or off.
func (f *faultMix) set(on bool) {
	if !on {
		f.srv.SetFaults(nil)
		return
	}
	f.srv.SetFaults(&elbtest.Faults{Rules: []elbtest.FaultRule{
		{Code: "Throttling", Rate: 0.20},
		{Code: "InternalFailure", Rate: 0.05},
	}})
}

func mixedFaults(e *env) *faultMix {
	f := &faultMix{srv: e.srv}
	cfg := e.srv.Config()
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	f.client = elbv2.NewFromConfig(cfg, func(o *elbv2.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("faultCount", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				var ae smithy.APIError
				if errors.As(err, &ae) {
					switch ae.ErrorCode() {
					case "Throttling":
						f.throttled.Add(1)
					case "InternalFailure":
						f.failed.Add(1)
					}
				}
				return out, md, err
			}), middleware.Before)
		})
	})
	return f
}
