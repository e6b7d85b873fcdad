package provision_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/elbtest"
	"github.com/lbkit/lbkit/elb/provision"
)

// env is one elbtest endpoint with role-tagged default subnets.
type env struct {
	srv  *elbtest.Server
	elb  *elbv2.Client
	ec2  *ec2.Client
	opts elbtest.Options
}

func newEnv(t testing.TB, opts elbtest.Options) *env {
	t.Helper()
	srv := elbtest.NewServer(opts)
	t.Cleanup(srv.Close)
	// Close the client's idle connections first: a connection the
	// transport dialed but never used is "new" to the server, and
	// http.Server.Shutdown (in srv.Close) waits 5 s for those.
	t.Cleanup(srv.Client().CloseIdleConnections)
	cfg := srv.Config()
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	e := &env{srv: srv, elb: elbv2.NewFromConfig(cfg), ec2: ec2.NewFromConfig(cfg), opts: opts}
	ctx := context.Background()
	sn, err := e.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range sn.Subnets {
		ids = append(ids, *s.SubnetId)
	}
	if _, err := e.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: []ec2types.Tag{{Key: aws.String(elb.TagRoleELB), Value: aws.String("1")}, {Key: aws.String(elb.TagRoleInternalELB), Value: aws.String("1")}}}); err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	return e
}

func (e *env) provisioner(t testing.TB, stack string, optFns ...func(*provision.Options)) *provision.Provisioner {
	t.Helper()
	p, err := provision.New(provision.Options{StackName: stack, ELBV2: e.elb, EC2: e.ec2,
		Retry:       provision.RetryOptions{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond, MaxAttempts: 30},
		DefaultRate: provision.Rate{PerSecond: 1e6, Burst: 1000},
	}, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// demoStack is the chapter's ALB: one HTTP listener with a default 404,
// two rules forwarding to two target groups.
func demoStack() *elb.Stack {
	s := &elb.Stack{}
	web := s.AddTargetGroup(elb.NewTargetGroup("web", elb.ProtocolHTTP, 8080, elb.TargetTypeIP))
	web.Targets = []elb.Target{{ID: "10.0.0.1"}, {ID: "10.0.0.2"}}
	api := s.AddTargetGroup(elb.NewTargetGroup("api", elb.ProtocolHTTP, 9090, elb.TargetTypeIP))
	api.Targets = []elb.Target{{ID: "10.0.1.1"}}
	alb := s.AddLoadBalancer(elb.NewApplicationLoadBalancer("demo"))
	l := alb.AddListener(elb.ProtocolHTTP, 80, elb.FixedResponse(404, elb.ContentTypeTextPlain, "no route"))
	l.AddRule(10, elb.Forward(api), elb.PathPattern("/api/*"))
	l.AddRule(20, elb.Forward(web), elb.PathPattern("/*"))
	return s
}

func mutating(srv *elbtest.Server) []string {
	var out []string
	for _, r := range srv.MutatingRequests() {
		out = append(out, r.Operation)
	}
	return out
}

func TestCreateNoopDelete(t *testing.T) {
	e := newEnv(t, elbtest.Options{Seed: 1})
	p := e.provisioner(t, "shop")
	ctx := context.Background()
	stack := demoStack()

	pl, err := p.Plan(ctx, stack)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.srv.MutatingRequests()); n != 0 {
		t.Fatalf("Plan made %d mutating calls", n)
	}
	if _, err := p.ApplyPlan(ctx, pl); err != nil {
		t.Fatal(err)
	}
	e.srv.ResetRequests()
	pl, err = p.Plan(ctx, stack)
	if err != nil {
		t.Fatal(err)
	}
	if !pl.Empty() {
		t.Fatalf("second plan not empty:\n%s", pl)
	}
	if _, err := p.Apply(ctx, stack); err != nil {
		t.Fatal(err)
	}
	if m := mutating(e.srv); len(m) != 0 {
		t.Fatalf("no-op apply made mutating calls: %v", m)
	}
	if _, err := p.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	lbs, _ := e.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	tgs, _ := e.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{})
	if len(lbs.LoadBalancers)+len(tgs.TargetGroups) != 0 {
		t.Fatalf("left behind: %d load balancers, %d target groups", len(lbs.LoadBalancers), len(tgs.TargetGroups))
	}
}

var _ = errors.Is
var _ = fmt.Sprint
var _ = strings.Contains
var _ = types.ActionTypeEnumForward
