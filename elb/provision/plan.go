package provision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lbkit/lbkit/elb"
)

// OpKind is what an operation does.
type OpKind string

// Operation kinds.
const (
	OpCreate  OpKind = "create"
	OpUpdate  OpKind = "update"
	OpReplace OpKind = "replace" // an immutable field changed: a new resource takes the old one's place
	OpDelete  OpKind = "delete"
	// OpAdopt tags an existing, untagged resource listed in Options.Adopt
	// (and updates whatever else differs).
	OpAdopt      OpKind = "adopt"
	OpRegister   OpKind = "register"
	OpDeregister OpKind = "deregister"
)

// ResourceKind is the kind of AWS resource an operation acts on.
type ResourceKind string

// Resource kinds.
const (
	KindLoadBalancer ResourceKind = "LoadBalancer"
	KindTargetGroup  ResourceKind = "TargetGroup"
	KindListener     ResourceKind = "Listener"
	KindRule         ResourceKind = "Rule"
	KindTargets      ResourceKind = "Targets"
)

// Op is one planned change.
type Op struct {
	Kind     OpKind       `json:"kind"`
	Resource ResourceKind `json:"resource"`
	// ID is the resource's ID in the stack (TagResource): "tg/web",
	// "listener/demo/80", "rule/demo/80/10".
	ID string `json:"id"`
	// ARN is the existing resource's ARN ("" for a create).
	ARN string `json:"arn,omitempty"`
	// Fields are the fields an update changes ("healthCheck",
	// "attributes.idle_timeout.timeout_seconds", "tags") or the immutable
	// fields that force a replace.
	Fields []string `json:"fields,omitempty"`
	// Reason says why, for a human.
	Reason string `json:"reason"`
	// Disruptive is set when traffic may be dropped while the op runs
	// (a load balancer replaced or deleted, a listener deleted).
	Disruptive bool `json:"disruptive,omitempty"`
	// Targets are the targets a register or deregister op moves.
	Targets []elb.Target `json:"targets,omitempty"`

	phase    int
	lb       *elb.LoadBalancer
	tg       *elb.TargetGroup
	l        *elb.Listener
	r        *elb.Rule
	parent   string // load balancer ID of a listener, listener ID of a rule
	physName string // AWS name of a created load balancer or target group
	attrs    []elb.Attribute
	addTags  map[string]string
	rmTags   []string
	update   map[string]bool // fields to modify
}

// Apply phases, in dependency order: target groups and their targets
// before the load balancers and listeners that forward to them; deletions
// last, in reverse, once nothing refers to what they delete.
const (
	phaseLBReplaceDelete = 10
	phaseTG              = 20
	phaseTargets         = 30
	phaseLB              = 40
	phaseListener        = 50
	phaseRule            = 60
	// Rules are deleted after the creates: a rule that moves to another
	// priority exists twice for a moment rather than not at all. (A
	// desired priority never holds a rule to delete: same priority, same
	// ID, so that is an update.)
	phaseRuleDelete     = 65
	phaseListenerDelete = 70
	phaseLBDelete       = 80
	phaseTGDelete       = 90
)

// Plan is the difference between a desired stack and AWS: the operations
// Apply would run, in order. Planning makes only read calls.
type Plan struct {
	Stack string `json:"stack"`
	Ops   []Op   `json:"ops"`

	desired *elb.Stack
	arns    map[string]string // resource ID -> ARN of existing resources kept
	mu      sync.Mutex
}

// Empty reports whether the plan changes nothing.
func (pl *Plan) Empty() bool { return len(pl.Ops) == 0 }

// Disruptive reports whether any op is disruptive.
func (pl *Plan) Disruptive() bool {
	for _, op := range pl.Ops {
		if op.Disruptive {
			return true
		}
	}
	return false
}

// String renders the plan as a table for humans.
func (pl *Plan) String() string {
	var b strings.Builder
	if len(pl.Ops) == 0 {
		fmt.Fprintf(&b, "stack %s: no changes\n", pl.Stack)
		return b.String()
	}
	fmt.Fprintf(&b, "stack %s: %d change(s)\n", pl.Stack, len(pl.Ops))
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OP\tRESOURCE\tID\tFIELDS\tREASON")
	for _, op := range pl.Ops {
		kind := string(op.Kind)
		if op.Disruptive {
			kind += "!"
		}
		fields := strings.Join(op.Fields, ",")
		if n := len(op.Targets); n > 0 {
			fields = fmt.Sprintf("%d target(s)", n)
		}
		if fields == "" {
			fields = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", kind, op.Resource, op.ID, fields, op.Reason)
	}
	tw.Flush()
	return b.String()
}

// JSON renders the plan as indented JSON.
func (pl *Plan) JSON() ([]byte, error) { return json.MarshalIndent(pl, "", "  ") }

func (pl *Plan) add(op Op) { pl.Ops = append(pl.Ops, op) }

func (pl *Plan) arn(id string) string {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.arns[id]
}

func (pl *Plan) setARN(id, arn string) {
	pl.mu.Lock()
	pl.arns[id] = arn
	pl.mu.Unlock()
}

// tgARN resolves a target group reference (name or ARN) at apply time.
func (pl *Plan) tgARN(ref string) string {
	if a := pl.arn("tg/" + ref); a != "" {
		return a
	}
	return ref
}

// IDs of resources within a stack.
func lbID(name string) string               { return "lb/" + name }
func tgID(name string) string               { return "tg/" + name }
func listenerID(lb string, port int) string { return "listener/" + lb + "/" + itoa(port) }
func ruleID(lid string, prio int) string {
	return "rule/" + strings.TrimPrefix(lid, "listener/") + "/" + itoa(prio)
}

// Plan compares stack with AWS and returns the operations that would make
// AWS match it. It validates a defaulted copy of stack (stack itself is
// not modified) and makes only read calls.
func (p *Provisioner) Plan(ctx context.Context, stack *elb.Stack) (*Plan, error) {
	desired, err := prepare(stack)
	if err != nil {
		return nil, err
	}
	needVPC := false
	for _, tg := range desired.TargetGroups {
		needVPC = needVPC || (tg.VPCID == "" && tg.TargetType != elb.TargetTypeLambda)
	}
	o, err := p.observe(ctx, needVPC, func(id string) bool { return p.adopt[id] })
	if err != nil {
		return nil, err
	}
	pl := &Plan{Stack: p.opts.StackName, desired: desired, arns: map[string]string{}}
	if err := p.diff(ctx, pl, desired, o); err != nil {
		return nil, err
	}
	sort.SliceStable(pl.Ops, func(i, j int) bool { return pl.Ops[i].phase < pl.Ops[j].phase })
	return pl, nil
}

// prepare deep-copies, defaults and validates the desired stack.
func prepare(stack *elb.Stack) (*elb.Stack, error) {
	data, err := elb.Marshal(stack)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidStack, err)
	}
	var s elb.Stack
	if err := elb.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidStack, err)
	}
	s.Defaults()
	if err := validateForProvisioning(&s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidStack, err)
	}
	return &s, nil
}

// validateForProvisioning validates the stack with subnets and VPCs that
// the provisioner fills in later stubbed, so that "no subnets" (discovery)
// and "no VPC" (default VPC) pass.
func validateForProvisioning(s *elb.Stack) error {
	data, _ := elb.Marshal(s)
	var c elb.Stack
	if err := elb.Unmarshal(data, &c); err != nil {
		return err
	}
	for _, lb := range c.LoadBalancers {
		if len(lb.Subnets) == 0 && len(lb.SubnetMappings) == 0 && lb.SubnetSelector == nil {
			lb.Subnets = []string{"subnet-discovered-a", "subnet-discovered-b"}
		}
	}
	for _, tg := range c.TargetGroups {
		if tg.VPCID == "" && tg.TargetType != elb.TargetTypeLambda {
			tg.VPCID = "vpc-default"
		}
	}
	return c.Validate()
}

func (p *Provisioner) diff(ctx context.Context, pl *Plan, d *elb.Stack, o *observed) error {
	vpc := p.opts.VPCID
	if vpc == "" {
		vpc = o.defVPC
	}
	// Target groups.
	wantTG := map[string]bool{}
	current := map[string]string{} // tg ARN -> spec name, for the TGs kept
	for _, tg := range d.TargetGroups {
		if tg.VPCID == "" && tg.TargetType != elb.TargetTypeLambda {
			tg.VPCID = vpc
		}
		id := tgID(tg.Name)
		wantTG[id] = true
		var cands []*obsTG
		for _, a := range o.tgs {
			switch {
			case p.owns(a.tags) && a.tags[TagResource] == id:
				cands = append(cands, a)
			case aws.ToString(a.tg.TargetGroupName) == tg.Name && !p.owns(a.tags):
				if !p.adopt[id] {
					return fmt.Errorf("%w: target group %s (%s)", ErrNotOwned, tg.Name, aws.ToString(a.tg.TargetGroupArn))
				}
				cands = append(cands, a)
			}
		}
		var cur *obsTG
		for _, a := range cands {
			if cur == nil && len(tgImmutableDiff(tg, a)) == 0 {
				cur = a
			}
		}
		switch {
		case cur != nil:
			arn := aws.ToString(cur.tg.TargetGroupArn)
			pl.arns[id] = arn
			current[arn] = tg.Name
			if op, ok := p.diffTG(id, tg, cur); ok {
				pl.add(op)
			}
			if !p.opts.IgnoreTargets {
				p.diffTargets(pl, id, arn, tg, cur.targets)
			}
		default:
			op := Op{Kind: OpCreate, Resource: KindTargetGroup, ID: id, Reason: "not in AWS", phase: phaseTG, tg: tg, physName: tg.Name}
			if len(cands) > 0 {
				op.Kind, op.ARN = OpReplace, aws.ToString(cands[0].tg.TargetGroupArn)
				op.Fields = tgImmutableDiff(tg, cands[0])
				op.Reason = "immutable field(s) changed: a new target group is created, listeners move to it, the old one is deleted"
				op.physName = altName(tg.Name, tg)
			}
			for _, a := range o.tgs {
				if aws.ToString(a.tg.TargetGroupName) == op.physName && !slices.Contains(cands, a) {
					return fmt.Errorf("%w: target group name %s is taken", ErrNotOwned, op.physName)
				}
			}
			pl.add(op)
			if !p.opts.IgnoreTargets && len(tg.Targets) > 0 {
				pl.add(Op{Kind: OpRegister, Resource: KindTargets, ID: id, Targets: tg.Targets, Reason: "new target group", phase: phaseTargets, tg: tg})
			}
		}
		for _, a := range cands {
			if a != cur && !p.owns(a.tags) {
				return fmt.Errorf("%w: adopted target group %s differs in immutable fields %v", ErrNotOwned, tg.Name, tgImmutableDiff(tg, a))
			}
		}
		for _, a := range cands {
			if a != cur {
				reason := "replaced"
				if cur != nil {
					reason = "duplicate of " + aws.ToString(cur.tg.TargetGroupArn)
				}
				pl.add(Op{Kind: OpDelete, Resource: KindTargetGroup, ID: id, ARN: aws.ToString(a.tg.TargetGroupArn), Reason: reason, phase: phaseTGDelete})
			}
		}
	}
	for _, a := range o.tgs {
		if p.owns(a.tags) && !wantTG[a.tags[TagResource]] {
			pl.add(Op{Kind: OpDelete, Resource: KindTargetGroup, ID: a.tags[TagResource], ARN: aws.ToString(a.tg.TargetGroupArn), Reason: "not in the stack", phase: phaseTGDelete})
		}
	}
	nameOf := func(arn string) string {
		if n, ok := current[arn]; ok {
			return n
		}
		return arn
	}

	// Load balancers.
	wantLB := map[string]bool{}
	for _, lb := range d.LoadBalancers {
		id := lbID(lb.Name)
		wantLB[id] = true
		var cands []*obsLB
		for _, a := range o.lbs {
			switch {
			case p.owns(a.tags) && a.tags[TagResource] == id:
				cands = append(cands, a)
			case aws.ToString(a.lb.LoadBalancerName) == lb.Name && !p.owns(a.tags):
				if !p.adopt[id] {
					return fmt.Errorf("%w: load balancer %s (%s)", ErrNotOwned, lb.Name, aws.ToString(a.lb.LoadBalancerArn))
				}
				cands = append(cands, a)
			}
		}
		if len(lb.Subnets) == 0 && len(lb.SubnetMappings) == 0 {
			ids, err := p.DiscoverSubnets(ctx, lb.Type, lb.Scheme, lb.SubnetSelector, p.opts.VPCID)
			if err != nil {
				return fmt.Errorf("load balancer %s: %w", lb.Name, err)
			}
			lb.Subnets = ids
		}
		var cur *obsLB
		for _, a := range cands {
			if cur == nil && elb.LoadBalancerType(a.lb.Type) == lb.Type && elb.Scheme(a.lb.Scheme) == lb.Scheme {
				cur = a
			}
		}
		for _, a := range cands {
			if a == cur {
				continue
			}
			if !p.owns(a.tags) {
				return fmt.Errorf("%w: adopted load balancer %s differs in type or scheme", ErrNotOwned, lb.Name)
			}
			ph, reason := phaseLBDelete, "duplicate"
			if cur == nil {
				ph, reason = phaseLBReplaceDelete, "replaced: type or scheme changed (load balancer names are unique, so the old one goes first)"
			}
			pl.add(Op{Kind: OpDelete, Resource: KindLoadBalancer, ID: id, ARN: aws.ToString(a.lb.LoadBalancerArn), Reason: reason, Disruptive: true, phase: ph})
		}
		if cur == nil {
			op := Op{Kind: OpCreate, Resource: KindLoadBalancer, ID: id, Reason: "not in AWS", phase: phaseLB, lb: lb, physName: lb.Name}
			if len(cands) > 0 {
				op.Kind, op.ARN, op.Disruptive = OpReplace, aws.ToString(cands[0].lb.LoadBalancerArn), true
				for _, f := range []struct {
					n    string
					a, b string
				}{{"type", string(cands[0].lb.Type), string(lb.Type)}, {"scheme", string(cands[0].lb.Scheme), string(lb.Scheme)}} {
					if f.a != f.b {
						op.Fields = append(op.Fields, f.n)
					}
				}
				op.Reason = "immutable field(s) changed: deleted, then created again"
			}
			pl.add(op)
			for _, l := range lb.Listeners {
				_ = p.planListener(pl, id, lb, l, nil, nameOf) // nothing observed: no conflicts
			}
			continue
		}
		pl.arns[id] = aws.ToString(cur.lb.LoadBalancerArn)
		if op, ok := p.diffLB(id, lb, cur); ok {
			pl.add(op)
		}
		wantL := map[int]bool{}
		for _, l := range lb.Listeners {
			wantL[l.Port] = true
			var match *obsListener
			for _, al := range cur.listeners {
				if portOf(al.l) != l.Port {
					continue
				}
				if al.tags == nil || (!p.owns(al.tags) && p.owns(cur.tags)) {
					return fmt.Errorf("%w: listener %s:%d (%s)", ErrNotOwned, lb.Name, l.Port, aws.ToString(al.l.ListenerArn))
				}
				match = al
			}
			if err := p.planListener(pl, id, lb, l, match, nameOf); err != nil {
				return err
			}
		}
		for _, al := range cur.listeners {
			if p.owns(al.tags) && !wantL[portOf(al.l)] {
				pl.add(Op{Kind: OpDelete, Resource: KindListener, ID: al.tags[TagResource], ARN: aws.ToString(al.l.ListenerArn), Reason: "not in the stack", Disruptive: true, phase: phaseListenerDelete})
			}
		}
	}
	for _, a := range o.lbs {
		if p.owns(a.tags) && !wantLB[a.tags[TagResource]] {
			pl.add(Op{Kind: OpDelete, Resource: KindLoadBalancer, ID: a.tags[TagResource], ARN: aws.ToString(a.lb.LoadBalancerArn), Reason: "not in the stack", Disruptive: true, phase: phaseLBDelete})
		}
	}
	return nil
}

// altName is the AWS name of a replacement: the spec name (cut to fit)
// and a hash of the new immutable fields, so that it is the same on every
// run and does not collide with the resource it replaces.
func altName(name string, tg *elb.TargetGroup) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d/%s/%s/%s/%s", name, tg.Protocol, tg.Port, tg.TargetType, tg.VPCID, tg.ProtocolVersion, tg.IPAddressType))
	suffix := hex.EncodeToString(h[:])[:8]
	if len(name) > 32-9 {
		name = strings.TrimRight(name[:32-9], "-")
	}
	return name + "-" + suffix
}

func (p *Provisioner) wantTags(spec elb.Tags, id string) map[string]string {
	m := map[string]string{}
	for k, v := range spec {
		m[k] = v
	}
	m[TagStack] = p.opts.StackName
	m[TagResource] = id
	return m
}

// diffTags fills op's tag changes and reports whether there are any.
func (p *Provisioner) diffTags(op *Op, spec elb.Tags, actual map[string]string) bool {
	want := p.wantTags(spec, op.ID)
	for _, k := range sortedKeys(want) {
		if v, ok := actual[k]; !ok || v != want[k] {
			if op.addTags == nil {
				op.addTags = map[string]string{}
			}
			op.addTags[k] = want[k]
		}
	}
	for _, k := range sortedKeys(actual) {
		if _, ok := want[k]; !ok && !strings.HasPrefix(k, "aws:") {
			op.rmTags = append(op.rmTags, k)
		}
	}
	return len(op.addTags) > 0 || len(op.rmTags) > 0
}

// diffAttrs returns the attributes of want that differ from actual,
// skipping unmanaged keys. want comes from the defaulted spec, so a key
// removed from the spec holds AWS's default and is reset.
func (p *Provisioner) diffAttrs(want []elb.Attribute, actual map[string]string) []elb.Attribute {
	var out []elb.Attribute
	for _, a := range want {
		if p.unmanAt[a.Key] {
			continue
		}
		if v, ok := actual[a.Key]; !ok || v != a.Value {
			out = append(out, a)
		}
	}
	return out
}

func (p *Provisioner) finish(op *Op, adopting bool, fields []string) (Op, bool) {
	if op.addTags != nil || op.rmTags != nil {
		fields = append(fields, "tags")
	}
	for _, a := range op.attrs {
		fields = append(fields, "attributes."+a.Key)
	}
	if len(fields) == 0 {
		return Op{}, false
	}
	op.Fields = fields
	if adopting {
		op.Kind, op.Reason = OpAdopt, "adopted (Options.Adopt)"
	}
	return *op, true
}

func tgImmutableDiff(tg *elb.TargetGroup, a *obsTG) []string {
	at := tgFromSDK(a.tg)
	at.Defaults()
	var f []string
	if at.Protocol != tg.Protocol {
		f = append(f, "protocol")
	}
	if at.Port != tg.Port {
		f = append(f, "port")
	}
	if at.TargetType != tg.TargetType {
		f = append(f, "targetType")
	}
	if at.VPCID != tg.VPCID {
		f = append(f, "vpcId")
	}
	if at.ProtocolVersion != tg.ProtocolVersion {
		f = append(f, "protocolVersion")
	}
	if at.IPAddressType != tg.IPAddressType {
		f = append(f, "ipAddressType")
	}
	return f
}

func (p *Provisioner) diffTG(id string, tg *elb.TargetGroup, a *obsTG) (Op, bool) {
	op := Op{Kind: OpUpdate, Resource: KindTargetGroup, ID: id, ARN: aws.ToString(a.tg.TargetGroupArn), Reason: "differs from the spec", phase: phaseTG, tg: tg, update: map[string]bool{}}
	var fields []string
	at := tgFromSDK(a.tg)
	ahc := at.EffectiveHealthCheck()
	if !jsonEqual(ahc, tg.HealthCheck) {
		fields = append(fields, "healthCheck")
		op.update["healthCheck"] = true
	}
	op.attrs = p.diffAttrs(tg.AttributeList(), a.attrs)
	p.diffTags(&op, tg.Tags, a.tags)
	return p.finish(&op, !p.owns(a.tags), fields)
}

func (p *Provisioner) diffLB(id string, lb *elb.LoadBalancer, a *obsLB) (Op, bool) {
	op := Op{Kind: OpUpdate, Resource: KindLoadBalancer, ID: id, ARN: aws.ToString(a.lb.LoadBalancerArn), Reason: "differs from the spec", phase: phaseLB, lb: lb, update: map[string]bool{}}
	var fields []string
	var subnets []string
	for _, z := range a.lb.AvailabilityZones {
		subnets = append(subnets, aws.ToString(z.SubnetId))
	}
	want := lb.Subnets
	if len(want) == 0 {
		for _, m := range lb.SubnetMappings {
			want = append(want, m.SubnetID)
		}
	}
	if !sameSet(subnets, want) {
		fields = append(fields, "subnets")
		op.update["subnets"] = true
	}
	if len(lb.SecurityGroups) > 0 && !sameSet(a.lb.SecurityGroups, lb.SecurityGroups) {
		fields = append(fields, "securityGroups")
		op.update["securityGroups"] = true
	}
	if elb.IPAddressType(a.lb.IpAddressType) != lb.IPAddressType {
		fields = append(fields, "ipAddressType")
		op.update["ipAddressType"] = true
	}
	op.attrs = p.diffAttrs(lb.Attributes.Attributes(lb.Type), a.attrs)
	p.diffTags(&op, lb.Tags, a.tags)
	return p.finish(&op, !p.owns(a.tags), fields)
}

// normalize returns the listener's default actions and rules as AWS
// would hold them, for comparison.
func normListener(t elb.LoadBalancerType, l *elb.Listener) {
	lb := &elb.LoadBalancer{Type: t, Listeners: []*elb.Listener{l}}
	lb.Defaults()
}

func (p *Provisioner) planListener(pl *Plan, lbid string, lb *elb.LoadBalancer, l *elb.Listener, a *obsListener, nameOf func(string) string) error {
	id := listenerID(lb.Name, l.Port)
	if a == nil {
		pl.add(Op{Kind: OpCreate, Resource: KindListener, ID: id, Reason: "not in AWS", phase: phaseListener, lb: lb, l: l, parent: lbid})
		for _, r := range l.Rules {
			pl.add(Op{Kind: OpCreate, Resource: KindRule, ID: ruleID(id, r.Priority), Reason: "not in AWS", phase: phaseRule, lb: lb, l: l, r: r, parent: id})
		}
		return nil
	}
	pl.arns[id] = aws.ToString(a.l.ListenerArn)
	adopting := !p.owns(a.tags)
	op := Op{Kind: OpUpdate, Resource: KindListener, ID: id, ARN: aws.ToString(a.l.ListenerArn), Reason: "differs from the spec", phase: phaseListener, lb: lb, l: l, parent: lbid, update: map[string]bool{}}
	actual := &elb.Listener{Port: portOf(a.l), Protocol: elb.Protocol(a.l.Protocol), SSLPolicy: aws.ToString(a.l.SslPolicy),
		DefaultActions: fromSDKActions(a.l.DefaultActions, nameOf)}
	for _, c := range a.l.Certificates {
		actual.Certificates = append(actual.Certificates, aws.ToString(c.CertificateArn))
	}
	if len(a.l.AlpnPolicy) > 0 {
		actual.ALPNPolicy = elb.ALPNPolicy(a.l.AlpnPolicy[0])
	}
	normListener(lb.Type, actual)
	var fields []string
	if actual.Protocol != l.Protocol {
		fields = append(fields, "protocol")
	}
	if actual.SSLPolicy != l.SSLPolicy {
		fields = append(fields, "sslPolicy")
	}
	if actual.ALPNPolicy != l.ALPNPolicy {
		fields = append(fields, "alpnPolicy")
	}
	if first(actual.Certificates) != first(l.Certificates) {
		fields = append(fields, "certificates")
	}
	if !jsonEqual(actual.DefaultActions, l.DefaultActions) {
		fields = append(fields, "defaultActions")
	}
	if len(fields) > 0 {
		op.update["listener"] = true
	}
	if l.Protocol == elb.ProtocolTCP && a.attrs != nil {
		op.attrs = p.diffAttrs(l.Attributes.Attributes(), a.attrs)
	}
	p.diffTags(&op, l.Tags, a.tags)
	if o, ok := p.finish(&op, adopting, fields); ok {
		pl.add(o)
	}

	// Rules: owned ones are matched by ID (priority); foreign ones are
	// left alone, and one in the way of a desired priority is an error
	// (AWS would answer PriorityInUse).
	want := map[string]bool{}
	owned := map[string]*obsRule{}
	foreign := map[int]string{}
	for _, r := range a.rules {
		if p.owns(r.tags) || adopting {
			owned[ruleID(id, prioOf(r.r))] = r
		} else {
			foreign[prioOf(r.r)] = aws.ToString(r.r.RuleArn)
		}
	}
	for _, r := range l.Rules {
		if arn, ok := foreign[r.Priority]; ok {
			return fmt.Errorf("%w: rule at priority %d of %s (%s)", ErrNotOwned, r.Priority, id, arn)
		}
	}
	for _, r := range l.Rules {
		rid := ruleID(id, r.Priority)
		want[rid] = true
		ar := owned[rid]
		if ar == nil {
			pl.add(Op{Kind: OpCreate, Resource: KindRule, ID: rid, Reason: "not in AWS", phase: phaseRule, lb: lb, l: l, r: r, parent: id})
			continue
		}
		pl.arns[rid] = aws.ToString(ar.r.RuleArn)
		rop := Op{Kind: OpUpdate, Resource: KindRule, ID: rid, ARN: aws.ToString(ar.r.RuleArn), Reason: "differs from the spec", phase: phaseRule, lb: lb, l: l, r: r, parent: id, update: map[string]bool{}}
		al := &elb.Listener{Protocol: l.Protocol, Rules: []*elb.Rule{{Priority: r.Priority, Conditions: fromSDKConditions(ar.r.Conditions), Actions: fromSDKActions(ar.r.Actions, nameOf)}}}
		normListener(lb.Type, al)
		var rf []string
		if !jsonEqual(al.Rules[0].Conditions, r.Conditions) {
			rf = append(rf, "conditions")
		}
		if !jsonEqual(al.Rules[0].Actions, r.Actions) {
			rf = append(rf, "actions")
		}
		if len(rf) > 0 {
			rop.update["rule"] = true
		}
		p.diffTags(&rop, r.Tags, ar.tags)
		if o, ok := p.finish(&rop, !p.owns(ar.tags), rf); ok {
			pl.add(o)
		}
	}
	for rid, ar := range owned {
		if !want[rid] && p.owns(ar.tags) {
			pl.add(Op{Kind: OpDelete, Resource: KindRule, ID: rid, ARN: aws.ToString(ar.r.RuleArn), Reason: "not in the stack", phase: phaseRuleDelete})
		}
	}
	return nil
}

func (p *Provisioner) diffTargets(pl *Plan, id, arn string, tg *elb.TargetGroup, actual []TargetState) {
	reg, dereg := DiffTargets(tg.Targets, actual)
	if len(reg) > 0 {
		pl.add(Op{Kind: OpRegister, Resource: KindTargets, ID: id, ARN: arn, Targets: reg, Reason: "in the spec, not registered", phase: phaseTargets, tg: tg})
	}
	if len(dereg) > 0 {
		pl.add(Op{Kind: OpDeregister, Resource: KindTargets, ID: id, ARN: arn, Targets: dereg, Reason: "registered, not in the spec", phase: phaseTargets, tg: tg})
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	sort.Strings(x)
	sort.Strings(y)
	return slices.Equal(x, y)
}

func jsonEqual(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
