package provision_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/elbtest"
	"github.com/lbkit/lbkit/elb/provision"
)

// A target group whose port changes is replaced create-before-delete: the
// new group is created and filled, the rule moves to it, then the old
// group is deleted.
func TestReplaceTargetGroupCreateBeforeDelete(t *testing.T) {
	e := newEnv(t, elbtest.Options{Seed: 10})
	p := e.provisioner(t, "shop")
	ctx := context.Background()
	if _, err := p.Apply(ctx, demoStack()); err != nil {
		t.Fatal(err)
	}
	s := demoStack()
	s.TargetGroup("api").Port = 9091
	pl, err := p.Plan(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if pl.Disruptive() {
		t.Fatalf("target group replacement marked disruptive:\n%s", pl)
	}
	e.srv.ResetRequests()
	if _, err := p.ApplyPlan(ctx, pl); err != nil {
		t.Fatal(err)
	}
	got := mutating(e.srv)
	want := []string{"CreateTargetGroup", "RegisterTargets", "ModifyRule", "DeleteTargetGroup"}
	if !slices.Equal(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	assertConverged(t, e, p, s)
}

func TestReplaceLoadBalancerIsDisruptive(t *testing.T) {
	e := newEnv(t, elbtest.Options{Seed: 11})
	p := e.provisioner(t, "shop")
	ctx := context.Background()
	if _, err := p.Apply(ctx, demoStack()); err != nil {
		t.Fatal(err)
	}
	s := demoStack()
	s.LoadBalancer("demo").Scheme = elb.SchemeInternal
	pl, err := p.Plan(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if !pl.Disruptive() || pl.Ops[0].Kind != provision.OpDelete || pl.Ops[0].Resource != provision.KindLoadBalancer {
		t.Fatalf("want a disruptive delete first:\n%s", pl)
	}
	if _, err := p.ApplyPlan(ctx, pl); err != nil {
		t.Fatal(err)
	}
	assertConverged(t, e, p, s)
}

func TestPlanOutput(t *testing.T) {
	e := newEnv(t, elbtest.Options{Seed: 12})
	p := e.provisioner(t, "shop")
	ctx := context.Background()
	if _, err := p.Apply(ctx, demoStack()); err != nil {
		t.Fatal(err)
	}
	s := demoStack()
	s.TargetGroup("web").HealthCheck.Path = "/healthz"
	s.LoadBalancer("demo").Listeners[0].Rules = s.LoadBalancer("demo").Listeners[0].Rules[1:]
	pl, err := p.Plan(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	want := `stack shop: 2 change(s)
OP      RESOURCE     ID               FIELDS       REASON
update  TargetGroup  tg/web           healthCheck  differs from the spec
delete  Rule         rule/demo/80/10  -            not in the stack
`
	if got := pl.String(); got != want {
		t.Fatalf("table:\n%s\nwant:\n%s", got, want)
	}
	data, err := pl.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back provision.Plan
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Stack != "shop" || len(back.Ops) != 2 || back.Ops[0].Fields[0] != "healthCheck" || back.Ops[1].ARN == "" {
		t.Fatalf("JSON round trip: %s", data)
	}
}

func TestInvalidStackChangesNothing(t *testing.T) {
	e := newEnv(t, elbtest.Options{Seed: 13})
	p := e.provisioner(t, "shop")
	s := demoStack()
	s.TargetGroup("web").Port = 70000
	if _, err := p.Apply(context.Background(), s); !errors.Is(err, provision.ErrInvalidStack) {
		t.Fatalf("err %v, want ErrInvalidStack", err)
	}
	if len(e.srv.Requests()) != 0 {
		t.Fatalf("an invalid stack made %d calls", len(e.srv.Requests()))
	}
}

func TestRetryable(t *testing.T) {
	resp := func(code int) error {
		return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}}, Err: errors.New("x")}
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"throttling", &smithy.GenericAPIError{Code: "Throttling"}, true},
		{"internal failure", fmt.Errorf("op: %w", &smithy.GenericAPIError{Code: "InternalFailure"}), true},
		{"validation", &smithy.GenericAPIError{Code: "ValidationError", Message: "Rate exceeded"}, false},
		{"503", resp(503), true},
		{"400", resp(400), false},
		{"canceled", context.Canceled, false},
		{"plain", errors.New("Throttling"), false},
	}
	for _, tt := range tests {
		if got := provision.Retryable(tt.err); got != tt.want {
			t.Errorf("%s: Retryable = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// Every call goes through the per-operation rate limit.
func TestRateLimitPerOperation(t *testing.T) {
	e := newEnv(t, elbtest.Options{Seed: 14})
	p := e.provisioner(t, "shop", func(o *provision.Options) {
		o.RateLimits = map[string]provision.Rate{"CreateRule": {PerSecond: 20, Burst: 1}}
	})
	ctx := context.Background()
	if _, err := p.Apply(ctx, demoStack()); err != nil {
		t.Fatal(err)
	}
	var times []int64
	for _, r := range e.srv.Requests() {
		if r.Operation == "CreateRule" {
			times = append(times, r.Time.UnixNano())
		}
	}
	if len(times) != 2 {
		t.Fatalf("%d CreateRule calls", len(times))
	}
	slices.Sort(times)
	// 20/s with a burst of 1: the second call waits about 50 ms.
	if d := times[1] - times[0]; d < 40e6 {
		t.Fatalf("CreateRule calls %v apart, want >= 40ms", d)
	}
	_ = strings.Contains
}

// A rule that moves to another priority is created there before the old
// one is deleted; a foreign rule at a desired priority stops the plan.
func TestRuleMoves(t *testing.T) {
	e := newEnv(t, elbtest.Options{Seed: 16})
	p := e.provisioner(t, "shop")
	ctx := context.Background()
	if _, err := p.Apply(ctx, demoStack()); err != nil {
		t.Fatal(err)
	}
	s := demoStack()
	s.LoadBalancer("demo").Listeners[0].Rules[0].Priority = 15
	e.srv.ResetRequests()
	if _, err := p.Apply(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got, want := mutating(e.srv), []string{"CreateRule", "DeleteRule"}; !slices.Equal(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	assertConverged(t, e, p, s)

	// Someone else's rule at priority 30, which the spec now wants.
	lbs, _ := e.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"demo"}})
	ls, _ := e.elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: lbs.LoadBalancers[0].LoadBalancerArn})
	if _, err := e.elb.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: ls.Listeners[0].ListenerArn, Priority: aws.Int32(30),
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &types.PathPatternConditionConfig{Values: []string{"/theirs"}}}},
		Actions:    []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}}}); err != nil {
		t.Fatal(err)
	}
	s.LoadBalancer("demo").Listeners[0].AddRule(30, elb.FixedResponse(200, "", ""), elb.PathPattern("/ours"))
	if _, err := p.Plan(ctx, s); !errors.Is(err, provision.ErrNotOwned) {
		t.Fatalf("err %v, want ErrNotOwned", err)
	}
}

func nlbStack() *elb.Stack {
	s := &elb.Stack{}
	tcp := s.AddTargetGroup(elb.NewTargetGroup("tcp", elb.ProtocolTCP, 5432, elb.TargetTypeIP))
	tcp.Targets = []elb.Target{{ID: "10.0.2.1"}}
	tcp.Attributes.ProxyProtocolV2 = true
	nlb := s.AddLoadBalancer(elb.NewNetworkLoadBalancer("db"))
	nlb.Scheme = elb.SchemeInternal
	l := nlb.AddListener(elb.ProtocolTCP, 5432, elb.Forward(tcp))
	l.Attributes.TCPIdleTimeoutSeconds = 600
	return s
}

func TestNetworkLoadBalancer(t *testing.T) {
	e := newEnv(t, elbtest.Options{Seed: 17})
	p := e.provisioner(t, "db")
	ctx := context.Background()
	if _, err := p.Apply(ctx, nlbStack()); err != nil {
		t.Fatal(err)
	}
	e.srv.ResetRequests()
	if pl, err := p.Plan(ctx, nlbStack()); err != nil || !pl.Empty() {
		t.Fatalf("second plan: %v\n%s", err, pl)
	}
	s := nlbStack()
	s.LoadBalancer("db").Listeners[0].Attributes.TCPIdleTimeoutSeconds = 0 // back to AWS's default
	s.TargetGroup("tcp").Attributes.ProxyProtocolV2 = false
	pl, err := p.Plan(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, op := range pl.Ops {
		fields = append(fields, op.Fields...)
	}
	slices.Sort(fields)
	if want := []string{"attributes.proxy_protocol_v2.enabled", "attributes.tcp.idle_timeout.seconds"}; !slices.Equal(fields, want) {
		t.Fatalf("fields %v, want %v\n%s", fields, want, pl)
	}
	if _, err := p.ApplyPlan(ctx, pl); err != nil {
		t.Fatal(err)
	}
	assertConverged(t, e, p, s)
}

// Every kind of condition and action round-trips through AWS: a second
// plan is empty.
func TestRichALBRoundTrip(t *testing.T) {
	e := newEnv(t, elbtest.Options{Seed: 18})
	p := e.provisioner(t, "rich")
	ctx := context.Background()
	s := &elb.Stack{}
	blue := s.AddTargetGroup(elb.NewTargetGroup("blue", elb.ProtocolHTTP, 80, elb.TargetTypeIP))
	green := s.AddTargetGroup(elb.NewTargetGroup("green", elb.ProtocolHTTP, 80, elb.TargetTypeIP))
	green.Attributes.Stickiness = elb.Stickiness{Enabled: true, Type: elb.StickinessAppCookie, AppCookieName: "sid"}
	green.HealthCheck.Matcher.HTTPCode = "200-299"
	alb := s.AddLoadBalancer(elb.NewApplicationLoadBalancer("rich"))
	alb.Attributes.DropInvalidHeaderFields = true
	alb.Tags = elb.Tags{"env": "test"}
	alb.AddListener(elb.ProtocolHTTP, 80, elb.RedirectToHTTPS())
	l := alb.AddListener(elb.ProtocolHTTPS, 443, elb.FixedResponse(404, elb.ContentTypeJSON, `{"error":"no route"}`))
	l.Certificates = []string{"arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"}
	l.SSLPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
	l.AddRule(1, elb.WeightedForward(elb.Weight(blue, 90), elb.Weight(green, 10)).WithGroupStickiness(300), elb.HostHeader("shop.example.com", "*.shop.example.com"))
	l.AddRule(2, elb.Forward(green), elb.HTTPHeader("X-Canary", "yes"), elb.HTTPRequestMethod("GET", "HEAD"))
	l.AddRule(3, elb.Forward(blue), elb.QueryString(elb.QueryStringKeyValue{Key: "v", Value: "2"}), elb.SourceIP("10.0.0.0/8"))
	l.AddRule(4, elb.Redirect(elb.RedirectConfig{Host: "new.example.com", StatusCode: elb.RedirectPermanent}), elb.PathPattern("/old/*"))
	if _, err := p.Apply(ctx, s); err != nil {
		t.Fatal(err)
	}
	if pl, err := p.Plan(ctx, s); err != nil || !pl.Empty() {
		t.Fatalf("second plan: %v\n%s", err, pl)
	}
}
