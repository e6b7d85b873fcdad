package provision

import (
	"context"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"golang.org/x/sync/errgroup"
)

// pageSize is the largest page DescribeLoadBalancers, DescribeTargetGroups
// and DescribeRules accept, so a no-op reconcile reads each in one page.
const pageSize = 400

// tagBatch is the most resource ARNs DescribeTags accepts per call.
const tagBatch = 20

// observed is what exists in AWS, as read by observe.
type observed struct {
	lbs     []*obsLB // every load balancer, owned or not
	tgs     []*obsTG // every target group, owned or not
	byTGArn map[string]*obsTG
	defVPC  string
}

type obsLB struct {
	lb        types.LoadBalancer
	tags      map[string]string
	attrs     map[string]string
	listeners []*obsListener
	read      bool // attributes and listeners were read
}

type obsListener struct {
	l     types.Listener
	tags  map[string]string
	attrs map[string]string
	rules []*obsRule
}

type obsRule struct {
	r    types.Rule
	tags map[string]string
}

type obsTG struct {
	tg      types.TargetGroup
	tags    map[string]string
	attrs   map[string]string
	targets []TargetState
	read    bool
}

// TargetState is one registered target and its health as AWS reports it.
type TargetState struct {
	ID     string `json:"id"`
	Port   int    `json:"port,omitempty"`
	AZ     string `json:"availabilityZone,omitempty"`
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

func (p *Provisioner) owns(tags map[string]string) bool { return tags[TagStack] == p.opts.StackName }

// observe reads the stack's resources. want(idOrName) says which
// unowned-but-adoptable resources must be read in depth too.
func (p *Provisioner) observe(ctx context.Context, needDefaultVPC bool, adoptable func(id string) bool) (*observed, error) {
	o := &observed{byTGArn: map[string]*obsTG{}}
	c := p.opts.ELBV2
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		pg := elbv2.NewDescribeLoadBalancersPaginator(c, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(pageSize)})
		for pg.HasMorePages() {
			out, err := call(gctx, p, "DescribeLoadBalancers", func(ctx context.Context) (*elbv2.DescribeLoadBalancersOutput, error) { return pg.NextPage(ctx) })
			if err != nil {
				return err
			}
			for _, lb := range out.LoadBalancers {
				o.lbs = append(o.lbs, &obsLB{lb: lb})
			}
		}
		return nil
	})
	g.Go(func() error {
		pg := elbv2.NewDescribeTargetGroupsPaginator(c, &elbv2.DescribeTargetGroupsInput{PageSize: aws.Int32(pageSize)})
		for pg.HasMorePages() {
			out, err := call(gctx, p, "DescribeTargetGroups", func(ctx context.Context) (*elbv2.DescribeTargetGroupsOutput, error) { return pg.NextPage(ctx) })
			if err != nil {
				return err
			}
			for _, tg := range out.TargetGroups {
				o.tgs = append(o.tgs, &obsTG{tg: tg})
			}
		}
		return nil
	})
	if needDefaultVPC && p.opts.VPCID == "" {
		g.Go(func() error {
			out, err := call(gctx, p, "DescribeVpcs", func(ctx context.Context) (*ec2.DescribeVpcsOutput, error) {
				return p.opts.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
			})
			if err != nil {
				return err
			}
			if len(out.Vpcs) > 0 {
				o.defVPC = aws.ToString(out.Vpcs[0].VpcId)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	// Tags of every load balancer and target group, 20 ARNs per call.
	lbTags := make([]map[string]string, len(o.lbs))
	tgTags := make([]map[string]string, len(o.tgs))
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(p.opts.Concurrency)
	var lbArns, tgArns []string
	for _, lb := range o.lbs {
		lbArns = append(lbArns, aws.ToString(lb.lb.LoadBalancerArn))
	}
	for _, tg := range o.tgs {
		tgArns = append(tgArns, aws.ToString(tg.tg.TargetGroupArn))
	}
	// One DescribeTags takes ARNs of any kind: batch both together.
	allTags := make([]map[string]string, len(lbArns)+len(tgArns))
	p.describeTags(gctx, g, append(lbArns, tgArns...), allTags)
	if err := g.Wait(); err != nil {
		return nil, err
	}
	copy(lbTags, allTags[:len(lbArns)])
	copy(tgTags, allTags[len(lbArns):])
	for i, lb := range o.lbs {
		lb.tags = lbTags[i]
	}
	for i, tg := range o.tgs {
		tg.tags = tgTags[i]
		o.byTGArn[aws.ToString(tg.tg.TargetGroupArn)] = tg
	}

	// In depth: owned (or adoptable) load balancers and target groups.
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(p.opts.Concurrency)
	for _, lb := range o.lbs {
		if !p.owns(lb.tags) && !adoptable("lb/"+aws.ToString(lb.lb.LoadBalancerName)) {
			continue
		}
		lb.read = true
		adopting := !p.owns(lb.tags)
		g.Go(func() error { return p.readLB(gctx, lb, adopting) })
	}
	for _, tg := range o.tgs {
		if !p.owns(tg.tags) && !adoptable("tg/"+aws.ToString(tg.tg.TargetGroupName)) {
			continue
		}
		tg.read = true
		g.Go(func() error {
			arn := tg.tg.TargetGroupArn
			out, err := call(gctx, p, "DescribeTargetGroupAttributes", func(ctx context.Context) (*elbv2.DescribeTargetGroupAttributesOutput, error) {
				return c.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: arn})
			})
			if err != nil {
				return err
			}
			tg.attrs = tgAttrMap(out.Attributes)
			return nil
		})
		if !p.opts.IgnoreTargets {
			g.Go(func() error {
				ts, err := p.describeTargets(gctx, c, aws.ToString(tg.tg.TargetGroupArn))
				tg.targets = ts
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return o, nil
}

func (p *Provisioner) describeTags(ctx context.Context, g *errgroup.Group, arns []string, into []map[string]string) {
	for i := 0; i < len(arns); i += tagBatch {
		chunk := arns[i:min(i+tagBatch, len(arns))]
		base := i
		g.Go(func() error {
			out, err := call(ctx, p, "DescribeTags", func(ctx context.Context) (*elbv2.DescribeTagsOutput, error) {
				return p.opts.ELBV2.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: chunk})
			})
			if err != nil {
				return err
			}
			idx := map[string]int{}
			for j, a := range chunk {
				idx[a] = base + j
				into[base+j] = map[string]string{}
			}
			for _, td := range out.TagDescriptions {
				j, ok := idx[aws.ToString(td.ResourceArn)]
				if !ok {
					continue
				}
				for _, t := range td.Tags {
					into[j][aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
			}
			return nil
		})
	}
}

// readLB reads a load balancer's attributes, listeners, rules and their
// tags.
func (p *Provisioner) readLB(ctx context.Context, lb *obsLB, adopting bool) error {
	c := p.opts.ELBV2
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		out, err := call(gctx, p, "DescribeLoadBalancerAttributes", func(ctx context.Context) (*elbv2.DescribeLoadBalancerAttributesOutput, error) {
			return c.DescribeLoadBalancerAttributes(ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: lb.lb.LoadBalancerArn})
		})
		if err != nil {
			return err
		}
		lb.attrs = lbAttrMap(out.Attributes)
		return nil
	})
	g.Go(func() error {
		pg := elbv2.NewDescribeListenersPaginator(c, &elbv2.DescribeListenersInput{LoadBalancerArn: lb.lb.LoadBalancerArn, PageSize: aws.Int32(pageSize)})
		for pg.HasMorePages() {
			out, err := call(gctx, p, "DescribeListeners", func(ctx context.Context) (*elbv2.DescribeListenersOutput, error) { return pg.NextPage(ctx) })
			if err != nil {
				return err
			}
			for _, l := range out.Listeners {
				lb.listeners = append(lb.listeners, &obsListener{l: l})
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	// Listener tags, then rules of owned listeners.
	ltags := make([]map[string]string, len(lb.listeners))
	var arns []string
	for _, l := range lb.listeners {
		arns = append(arns, aws.ToString(l.l.ListenerArn))
	}
	g, gctx = errgroup.WithContext(ctx)
	p.describeTags(gctx, g, arns, ltags)
	if err := g.Wait(); err != nil {
		return err
	}
	g, gctx = errgroup.WithContext(ctx)
	var mu sync.Mutex
	var ruleArns []string
	var rules []*obsRule
	for i, l := range lb.listeners {
		l.tags = ltags[i]
		if !p.owns(l.tags) && !adopting {
			continue // a listener someone else added: left alone
		}
		if l.l.Protocol == types.ProtocolEnumTcp {
			g.Go(func() error {
				out, err := call(gctx, p, "DescribeListenerAttributes", func(ctx context.Context) (*elbv2.DescribeListenerAttributesOutput, error) {
					return c.DescribeListenerAttributes(ctx, &elbv2.DescribeListenerAttributesInput{ListenerArn: l.l.ListenerArn})
				})
				if err != nil {
					return err
				}
				l.attrs = lAttrMap(out.Attributes)
				return nil
			})
		}
		if lb.lb.Type != types.LoadBalancerTypeEnumApplication {
			continue
		}
		g.Go(func() error {
			pg := elbv2.NewDescribeRulesPaginator(c, &elbv2.DescribeRulesInput{ListenerArn: l.l.ListenerArn, PageSize: aws.Int32(pageSize)})
			for pg.HasMorePages() {
				out, err := call(gctx, p, "DescribeRules", func(ctx context.Context) (*elbv2.DescribeRulesOutput, error) { return pg.NextPage(ctx) })
				if err != nil {
					return err
				}
				mu.Lock()
				for _, r := range out.Rules {
					if aws.ToBool(r.IsDefault) {
						continue
					}
					or := &obsRule{r: r}
					l.rules = append(l.rules, or)
					rules = append(rules, or)
					ruleArns = append(ruleArns, aws.ToString(r.RuleArn))
				}
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	rtags := make([]map[string]string, len(rules))
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(p.opts.Concurrency)
	p.describeTags(gctx, g, ruleArns, rtags)
	if err := g.Wait(); err != nil {
		return err
	}
	for i, r := range rules {
		r.tags = rtags[i]
	}
	return nil
}

func (p *Provisioner) describeTargets(ctx context.Context, c elbv2.DescribeTargetHealthAPIClient, arn string) ([]TargetState, error) {
	out, err := call(ctx, p, "DescribeTargetHealth", func(ctx context.Context) (*elbv2.DescribeTargetHealthOutput, error) {
		return c.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
	})
	if err != nil {
		return nil, err
	}
	ts := make([]TargetState, 0, len(out.TargetHealthDescriptions))
	for _, d := range out.TargetHealthDescriptions {
		t := TargetState{}
		if d.Target != nil {
			t.ID, t.Port, t.AZ = aws.ToString(d.Target.Id), int(aws.ToInt32(d.Target.Port)), aws.ToString(d.Target.AvailabilityZone)
		}
		if d.TargetHealth != nil {
			t.State, t.Reason = string(d.TargetHealth.State), string(d.TargetHealth.Reason)
		}
		ts = append(ts, t)
	}
	return ts, nil
}

func lbAttrMap(as []types.LoadBalancerAttribute) map[string]string {
	m := make(map[string]string, len(as))
	for _, a := range as {
		m[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	return m
}

func tgAttrMap(as []types.TargetGroupAttribute) map[string]string {
	m := make(map[string]string, len(as))
	for _, a := range as {
		m[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	return m
}

func lAttrMap(as []types.ListenerAttribute) map[string]string {
	m := make(map[string]string, len(as))
	for _, a := range as {
		m[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	return m
}

func portOf(l types.Listener) int { return int(aws.ToInt32(l.Port)) }

func prioOf(r types.Rule) int { n, _ := strconv.Atoi(aws.ToString(r.Priority)); return n }
