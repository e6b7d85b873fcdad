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
