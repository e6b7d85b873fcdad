package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/cenkalti/backoff/v4"
)

// Ownership tags. Every resource the provisioner creates carries both;
// only resources carrying TagStack with the stack's name are ever changed
// or deleted.
const (
	// TagStack names the owning stack (Options.StackName).
	TagStack = "lbkit.io/stack"
	// TagResource is the resource's ID within its stack: "lb/NAME",
	// "tg/NAME", "listener/LB/PORT", "rule/LB/PORT/PRIORITY".
	TagResource = "lbkit.io/resource"
)

// Errors. Match them with errors.Is.
var (
	// ErrNotOwned: a resource the stack needs (same name, or a listener
	// or rule priority in the way) exists but does not carry the stack's
	// ownership tags. Nothing was changed; adopt it explicitly with
	// Options.Adopt, or rename.
	ErrNotOwned = errors.New("provision: resource exists and is not owned by this stack")
	// ErrSubnets: subnet discovery found too few subnets (an ALB needs two
	// availability zones). Tag subnets with kubernetes.io/role/elb or
	// kubernetes.io/role/internal-elb, or list them in the spec.
	ErrSubnets = errors.New("provision: not enough subnets")
	// ErrInvalidStack: the desired stack failed elb validation; the
	// wrapped elb.Errors lists every problem. Fix the spec.
	ErrInvalidStack = errors.New("provision: invalid stack")
	// ErrOptions: Options are incomplete (no stack name, no clients).
	ErrOptions = errors.New("provision: invalid options")
	// ErrPlan: ApplyPlan was given a plan that Plan did not return (one
	// decoded from JSON, say). Plan again and apply that.
	ErrPlan = errors.New("provision: plan not made by Plan")
)

// ELBV2API is what the provisioner calls on Elastic Load Balancing v2,
// composed of one narrow interface per resource; each is in turn composed
// from the SDK's own per-operation interfaces, so that the SDK's
// paginators and waiters accept it. *elasticloadbalancingv2.Client
// satisfies it.
type ELBV2API interface {
	LoadBalancerAPI
	TargetGroupAPI
	ListenerAPI
	RuleAPI
	TagsAPI
	TargetsAPI
}

// LoadBalancerAPI reads and writes load balancers.
type LoadBalancerAPI interface {
	elbv2.DescribeLoadBalancersAPIClient
	CreateLoadBalancer(context.Context, *elbv2.CreateLoadBalancerInput, ...func(*elbv2.Options)) (*elbv2.CreateLoadBalancerOutput, error)
	DeleteLoadBalancer(context.Context, *elbv2.DeleteLoadBalancerInput, ...func(*elbv2.Options)) (*elbv2.DeleteLoadBalancerOutput, error)
	DescribeLoadBalancerAttributes(context.Context, *elbv2.DescribeLoadBalancerAttributesInput, ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancerAttributesOutput, error)
	ModifyLoadBalancerAttributes(context.Context, *elbv2.ModifyLoadBalancerAttributesInput, ...func(*elbv2.Options)) (*elbv2.ModifyLoadBalancerAttributesOutput, error)
	SetSubnets(context.Context, *elbv2.SetSubnetsInput, ...func(*elbv2.Options)) (*elbv2.SetSubnetsOutput, error)
	SetSecurityGroups(context.Context, *elbv2.SetSecurityGroupsInput, ...func(*elbv2.Options)) (*elbv2.SetSecurityGroupsOutput, error)
	SetIpAddressType(context.Context, *elbv2.SetIpAddressTypeInput, ...func(*elbv2.Options)) (*elbv2.SetIpAddressTypeOutput, error)
}

// TargetGroupAPI reads and writes target groups.
type TargetGroupAPI interface {
	elbv2.DescribeTargetGroupsAPIClient
	CreateTargetGroup(context.Context, *elbv2.CreateTargetGroupInput, ...func(*elbv2.Options)) (*elbv2.CreateTargetGroupOutput, error)
	ModifyTargetGroup(context.Context, *elbv2.ModifyTargetGroupInput, ...func(*elbv2.Options)) (*elbv2.ModifyTargetGroupOutput, error)
	DeleteTargetGroup(context.Context, *elbv2.DeleteTargetGroupInput, ...func(*elbv2.Options)) (*elbv2.DeleteTargetGroupOutput, error)
	DescribeTargetGroupAttributes(context.Context, *elbv2.DescribeTargetGroupAttributesInput, ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupAttributesOutput, error)
	ModifyTargetGroupAttributes(context.Context, *elbv2.ModifyTargetGroupAttributesInput, ...func(*elbv2.Options)) (*elbv2.ModifyTargetGroupAttributesOutput, error)
}

// ListenerAPI reads and writes listeners.
type ListenerAPI interface {
	elbv2.DescribeListenersAPIClient
	CreateListener(context.Context, *elbv2.CreateListenerInput, ...func(*elbv2.Options)) (*elbv2.CreateListenerOutput, error)
	ModifyListener(context.Context, *elbv2.ModifyListenerInput, ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error)
	DeleteListener(context.Context, *elbv2.DeleteListenerInput, ...func(*elbv2.Options)) (*elbv2.DeleteListenerOutput, error)
	DescribeListenerAttributes(context.Context, *elbv2.DescribeListenerAttributesInput, ...func(*elbv2.Options)) (*elbv2.DescribeListenerAttributesOutput, error)
	ModifyListenerAttributes(context.Context, *elbv2.ModifyListenerAttributesInput, ...func(*elbv2.Options)) (*elbv2.ModifyListenerAttributesOutput, error)
}

// RuleAPI reads and writes listener rules.
type RuleAPI interface {
	elbv2.DescribeRulesAPIClient
	CreateRule(context.Context, *elbv2.CreateRuleInput, ...func(*elbv2.Options)) (*elbv2.CreateRuleOutput, error)
	ModifyRule(context.Context, *elbv2.ModifyRuleInput, ...func(*elbv2.Options)) (*elbv2.ModifyRuleOutput, error)
	DeleteRule(context.Context, *elbv2.DeleteRuleInput, ...func(*elbv2.Options)) (*elbv2.DeleteRuleOutput, error)
}

// TagsAPI reads and writes tags of any ELBv2 resource.
type TagsAPI interface {
	DescribeTags(context.Context, *elbv2.DescribeTagsInput, ...func(*elbv2.Options)) (*elbv2.DescribeTagsOutput, error)
	AddTags(context.Context, *elbv2.AddTagsInput, ...func(*elbv2.Options)) (*elbv2.AddTagsOutput, error)
	RemoveTags(context.Context, *elbv2.RemoveTagsInput, ...func(*elbv2.Options)) (*elbv2.RemoveTagsOutput, error)
}

// TargetsAPI is what target registration needs: the narrow interface an
// embedding binder (elb/kube) hands to [SyncTargets] and [Rollout].
type TargetsAPI interface {
	elbv2.DescribeTargetHealthAPIClient
	RegisterTargets(context.Context, *elbv2.RegisterTargetsInput, ...func(*elbv2.Options)) (*elbv2.RegisterTargetsOutput, error)
	DeregisterTargets(context.Context, *elbv2.DeregisterTargetsInput, ...func(*elbv2.Options)) (*elbv2.DeregisterTargetsOutput, error)
}

// EC2API is the EC2 subset used for subnet and VPC discovery.
type EC2API interface {
	ec2.DescribeSubnetsAPIClient
	ec2.DescribeVpcsAPIClient
}

// Rate is a client-side request rate for one operation: Burst calls at
// once, then PerSecond calls per second.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Progress is one event reported to Options.Progress while applying or
// waiting.
type Progress struct {
	// Phase is "plan", "apply", "wait" or "delete".
	Phase string
	// Op is the operation being applied, if any.
	Op *Op
	// Message says what happened, for a human.
	Message string
	// Done and Total count operations (apply) or attempts (wait).
	Done, Total int
}

// Options configure a Provisioner. StackName, ELBV2 and EC2 are required.
type Options struct {
	// StackName is written to TagStack on every resource; only resources
	// with this tag value are changed or deleted.
	StackName string
	// ELBV2 and EC2 are the AWS clients. Build them with SDK retries off
	// (NewFromConfig does) so that Retry is the only retry layer.
	ELBV2 ELBV2API
	EC2   EC2API
	// VPCID is used for target groups without a VPCID and for subnet
	// discovery; "" means the account's default VPC.
	VPCID string
	// ClusterName, if set, restricts subnet discovery to subnets tagged
	// kubernetes.io/cluster/<ClusterName> (owned or shared), as the AWS
	// Load Balancer Controller does.
	ClusterName string
	// Adopt lists resource IDs ("tg/web", "lb/demo") that may be taken
	// over although they lack the ownership tags: the plan tags them
	// (an "adopt" op) and from then on they are owned. Nothing else
	// untagged is ever touched.
	Adopt []string
	// UnmanagedAttributes are attribute keys ("access_logs.s3.bucket")
	// the provisioner neither sets nor resets. Every other key missing
	// from the spec is reset to AWS's default.
	UnmanagedAttributes []string
	// IgnoreTargets leaves target registration to someone else (a
	// TargetGroupBinding binder): Apply neither registers nor
	// deregisters targets.
	IgnoreTargets bool
	// Concurrency bounds the calls in flight during Apply and Delete;
	// 0 means 8.
	Concurrency int
	// TargetBatchSize is the number of targets per Register/Deregister
	// call; 0 means 200 (what the AWS Load Balancer Controller uses).
	TargetBatchSize int
	// Retry configures retries of throttled and 5xx calls.
	Retry RetryOptions
	// RateLimits are client-side limits per operation name
	// ("RegisterTargets"); operations not listed use DefaultRate.
	RateLimits map[string]Rate
	// DefaultRate applies to operations without a RateLimits entry; zero
	// means 20 per second, burst 40.
	DefaultRate Rate
	// Progress, if set, receives progress events. It is called from
	// Apply's goroutines, one call at a time.
	Progress func(Progress)
	// Logger receives one debug line per call and one info line per
	// applied op; nil discards.
	Logger *slog.Logger
}

// RetryOptions configure exponential backoff with jitter
// (cenkalti/backoff/v4). Zero fields take the defaults in brackets.
type RetryOptions struct {
	InitialInterval time.Duration // [100ms]
	MaxInterval     time.Duration // [5s]
	Multiplier      float64       // [2]
	Jitter          float64       // randomization factor [0.5]
	// MaxAttempts bounds the attempts per call, the first included [10].
	// The context's deadline bounds them too.
	MaxAttempts int
}

var _ ELBV2API = (*elbv2.Client)(nil)
var _ EC2API = (*ec2.Client)(nil)

// Provisioner reconciles stacks of one StackName with AWS. It is safe for
// concurrent use; Apply calls for the same stack must not overlap.
type Provisioner struct {
	opts    Options
	limits  sync.Map // op name -> *limiter
	progMu  sync.Mutex
	adopt   map[string]bool
	unmanAt map[string]bool
}

// New returns a Provisioner. Each optFn is applied to a copy of opts.
func New(opts Options, optFns ...func(*Options)) (*Provisioner, error) {
	for _, f := range optFns {
		f(&opts)
	}
	if opts.StackName == "" || opts.ELBV2 == nil || opts.EC2 == nil {
		return nil, fmt.Errorf("%w: StackName, ELBV2 and EC2 are required", ErrOptions)
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.TargetBatchSize <= 0 {
		opts.TargetBatchSize = 200
	}
	r := &opts.Retry
	if r.InitialInterval <= 0 {
		r.InitialInterval = 100 * time.Millisecond
	}
	if r.MaxInterval <= 0 {
		r.MaxInterval = 5 * time.Second
	}
	if r.Multiplier < 1 {
		r.Multiplier = 2
	}
	if r.Jitter <= 0 {
		r.Jitter = 0.5
	}
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 10
	}
	if opts.DefaultRate.PerSecond <= 0 {
		opts.DefaultRate = Rate{PerSecond: 20, Burst: 40}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Provisioner{opts: opts, adopt: map[string]bool{}, unmanAt: map[string]bool{}}
	for _, id := range opts.Adopt {
		p.adopt[id] = true
	}
	for _, k := range opts.UnmanagedAttributes {
		p.unmanAt[k] = true
	}
	return p, nil
}

// NewFromConfig builds the ELBv2 and EC2 clients from cfg with the SDK's
// own retries turned off (this package retries with backoff) and returns
// New(Options{StackName: stack, ...}, optFns...).
func NewFromConfig(cfg aws.Config, stack string, optFns ...func(*Options)) (*Provisioner, error) {
	noRetry := func() aws.Retryer { return aws.NopRetryer{} }
	cfg.Retryer = noRetry
	return New(Options{
		StackName: stack,
		ELBV2:     elbv2.NewFromConfig(cfg),
		EC2:       ec2.NewFromConfig(cfg),
	}, optFns...)
}

// Options returns a copy of the provisioner's options (defaults filled in).
func (p *Provisioner) Options() Options { return p.opts }

func (p *Provisioner) progress(ev Progress) {
	if p.opts.Progress == nil {
		return
	}
	p.progMu.Lock()
	defer p.progMu.Unlock()
	p.opts.Progress(ev)
}

// retryableCodes are AWS error codes that mean "try again later".
var retryableCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "RequestLimitExceeded": true,
	"TooManyRequestsException": true, "RequestThrottled": true, "RequestThrottledException": true,
	"InternalFailure": true, "InternalError": true, "ServiceUnavailable": true, "ServiceUnavailableException": true,
}

// Retryable reports whether err is worth retrying: throttling, an AWS 5xx
// or a transport error. It classifies with errors.As (smithy.APIError,
// smithyhttp.ResponseError, net.Error), never by message.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var rl *retryLater
	if errors.As(err, &rl) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if retryableCodes[ae.ErrorCode()] {
			return true
		}
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return true
	}
	if ae != nil {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// call runs fn under the operation's rate limit, retrying retryable
// errors with exponential backoff and jitter within ctx.
func call[Out any](ctx context.Context, p *Provisioner, op string, fn func(context.Context) (Out, error)) (Out, error) {
	r := p.opts.Retry
	eb := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(r.InitialInterval),
		backoff.WithMaxInterval(r.MaxInterval),
		backoff.WithMultiplier(r.Multiplier),
		backoff.WithRandomizationFactor(r.Jitter),
		backoff.WithMaxElapsedTime(0),
	)
	b := backoff.WithContext(backoff.WithMaxRetries(eb, uint64(r.MaxAttempts-1)), ctx)
	lim := p.limiter(op)
	attempt := 0
	return backoff.RetryWithData(func() (Out, error) {
		attempt++
		var zero Out
		if err := lim.wait(ctx); err != nil {
			return zero, backoff.Permanent(err)
		}
		out, err := fn(ctx)
		if err != nil {
			p.opts.Logger.Debug("aws call failed", "op", op, "attempt", attempt, "err", err)
			if !Retryable(err) {
				return zero, backoff.Permanent(fmt.Errorf("%s: %w", op, err))
			}
			return zero, fmt.Errorf("%s: %w", op, err)
		}
		return out, nil
	}, b)
}

func (p *Provisioner) limiter(op string) *limiter {
	if l, ok := p.limits.Load(op); ok {
		return l.(*limiter)
	}
	r, ok := p.opts.RateLimits[op]
	if !ok {
		r = p.opts.DefaultRate
	}
	l, _ := p.limits.LoadOrStore(op, newLimiter(r))
	return l.(*limiter)
}

// limiter is a token bucket: tokens accrue at rate per second up to
// burst; wait takes one, sleeping (ctx-aware) until it is available.
type limiter struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newLimiter(r Rate) *limiter {
	b := float64(r.Burst)
	if b < 1 {
		b = 1
	}
	return &limiter{rate: r.PerSecond, burst: b, tokens: b}
}

func (l *limiter) wait(ctx context.Context) error {
	if l.rate <= 0 {
		return ctx.Err()
	}
	l.mu.Lock()
	now := time.Now()
	if !l.last.IsZero() {
		l.tokens += now.Sub(l.last).Seconds() * l.rate
		if l.tokens > l.burst {
			l.tokens = l.burst
		}
	}
	l.last = now
	l.tokens--
	var d time.Duration
	if l.tokens < 0 {
		d = time.Duration(-l.tokens / l.rate * float64(time.Second))
	}
	l.mu.Unlock()
	if d == 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
