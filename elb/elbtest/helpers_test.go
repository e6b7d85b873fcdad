package elbtest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
	"go.uber.org/goleak"

	"github.com/lbkit/lbkit/elb/elbtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// env is one endpoint with its SDK clients.
type env struct {
	t     *testing.T
	srv   *elbtest.Server
	clock *elbtest.ManualClock
	elb   *elbv2.Client
	ec2   *ec2.Client
	ctx   context.Context
	// subnets are the default VPC's subnets, one per zone; vpc its ID.
	subnets []string
	vpc     string
}

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, opts elbtest.Options) *env {
	t.Helper()
	clock := elbtest.NewManualClock(t0)
	if opts.Clock == nil {
		opts.Clock = clock
	}
	srv := elbtest.NewServer(opts)
	t.Cleanup(srv.Close)
	cfg := srv.Config()
	// Never retry in tests unless a test asks: a retried call would hide
	// the error it asserts.
	cfg.RetryMaxAttempts = 1
	e := &env{t: t, srv: srv, clock: clock, elb: elbv2.NewFromConfig(cfg), ec2: ec2.NewFromConfig(cfg), ctx: context.Background()}
	if !opts.NoDefaultVPC {
		out, err := e.ec2.DescribeSubnets(e.ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, sn := range out.Subnets {
			e.subnets = append(e.subnets, *sn.SubnetId)
			e.vpc = *sn.VpcId
		}
	}
	return e
}

func (e *env) alb(name string) types.LoadBalancer {
	e.t.Helper()
	out, err := e.elb.CreateLoadBalancer(e.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(name), Subnets: e.subnets[:2]})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.LoadBalancers[0]
}

func (e *env) nlb(name string) types.LoadBalancer {
	e.t.Helper()
	out, err := e.elb.CreateLoadBalancer(e.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(name), Type: types.LoadBalancerTypeEnumNetwork, Subnets: e.subnets[:1]})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.LoadBalancers[0]
}

func (e *env) tg(name string, proto types.ProtocolEnum, port int32) types.TargetGroup {
	e.t.Helper()
	out, err := e.elb.CreateTargetGroup(e.ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: proto, Port: aws.Int32(port), VpcId: aws.String(e.vpc), TargetType: types.TargetTypeEnumIp})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.TargetGroups[0]
}

func forward(tgArn *string) []types.Action {
	return []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: tgArn}}
}

func (e *env) listener(lbArn *string, proto types.ProtocolEnum, port int32, actions []types.Action) types.Listener {
	e.t.Helper()
	out, err := e.elb.CreateListener(e.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lbArn, Protocol: proto, Port: aws.Int32(port), DefaultActions: actions})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.Listeners[0]
}

func pathRule(path string) []types.RuleCondition {
	return []types.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &types.PathPatternConditionConfig{Values: []string{path}}}}
}

// code returns the AWS error code of err, "" for nil.
func code(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "not an API error: " + err.Error()
}

func message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := code(err); got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

// ec2CreateSubnetInZone adds a subnet to the default VPC in zone.
func (e *env) ec2CreateSubnetInZone(zone string) (string, error) {
	out, err := e.ec2.CreateSubnet(e.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(e.vpc), CidrBlock: aws.String("172.31.48.0/20"), AvailabilityZone: aws.String(zone)})
	if err != nil {
		return "", err
	}
	return *out.Subnet.SubnetId, nil
}
