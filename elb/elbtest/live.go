package elbtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/local"
)

// LiveOptions configures live mode.
type LiveOptions struct {
	// Listen chooses the local address of a load balancer's listener;
	// nil or "" means a free loopback port ("127.0.0.1:0"). Use the
	// listener's own port ("127.0.0.1:80") to make the DNS name work with
	// an /etc/hosts entry.
	Listen func(lbName string, port int) string
	// TimeScale speeds up health checks and deregistration delays (see
	// local.Options.TimeScale); 0 means AWS's pace.
	TimeScale float64
	// Resolve maps instance targets to addresses (local.Options.Resolve);
	// ip targets are dialled at their IP and port.
	Resolve func(tg *elb.TargetGroup, t elb.Target) (string, error)
	// Logger receives sync errors and listener changes; nil discards.
	Logger *slog.Logger
}

// LiveStacks is live mode: it implements [Live] and [HealthSource], so
//
//	live := elbtest.NewLive(elbtest.LiveOptions{})
//	srv := elbtest.NewServer(elbtest.Options{Live: live, Health: live})
//	defer live.Close() // after srv.Close
//
// makes every load balancer created through the API serve traffic on this
// machine through elb/local (one local.Stack per load balancer, with the
// target groups its listeners and rules forward to), and makes
// DescribeTargetHealth report the real health checks of those stacks.
//
// # Reaching a load balancer by its DNSName
//
// The DNSName a load balancer reports (name-1234.us-east-1.elb.amazonaws.com)
// does not resolve to this machine. Three ways reach it:
//
//   - [LiveStacks.Addr] maps (DNSName, name or ARN, port) to the local
//     address of that listener: the port map.
//   - [LiveStacks.DialContext] is a dialer that does the same mapping for
//     "dnsname:port" addresses; plug it into http.Transport.DialContext
//     and use the DNS name in URLs unchanged.
//   - [LiveStacks.FrontDoor] is an HTTP handler that serves every load
//     balancer on one port, chosen by the Host header (LocalStack's edge
//     port): curl -H "Host: <DNSName>" http://127.0.0.1:<port>/.
//   - With LiveOptions.Listen binding listeners to their own ports on
//     127.0.0.1 (root for ports below 1024), an /etc/hosts line mapping
//     the DNS name to 127.0.0.1 makes any client work.
//
// Load balancers serve as soon as they are created (a "provisioning" one
// already answers). Targets that AWS reports as draining stop receiving
// new traffic at once; the local drain follows TimeScale while the
// endpoint's draining state follows its own clock.
type LiveStacks struct {
	opts LiveOptions
	log  *slog.Logger

	syncMu sync.Mutex // serializes Sync and Close
	closed bool

	mu     sync.RWMutex
	stacks map[string]*liveLB    // by load balancer ARN
	tgs    map[string]*liveLB    // by target group ARN
	tgName map[string]string     // target group ARN → name
	specs  map[string]*elb.Stack // by load balancer ARN, last applied
	errs   map[string]error      // by load balancer ARN, last sync error
}

type liveLB struct {
	arn, name, dns string
	stack          *local.Stack
	hash           string
}

// NewLive returns live mode with no load balancer running yet.
func NewLive(opts LiveOptions) *LiveStacks {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &LiveStacks{opts: opts, log: log,
		stacks: map[string]*liveLB{}, tgs: map[string]*liveLB{}, tgName: map[string]string{},
		specs: map[string]*elb.Stack{}, errs: map[string]error{}}
}

var (
	_ Live         = (*LiveStacks)(nil)
	_ HealthSource = (*LiveStacks)(nil)
)

// Sync implements Live: it starts, updates and stops one local stack per
// load balancer of the snapshot. A load balancer whose spec does not
// convert or bind keeps its previous configuration; the error is returned
// (the endpoint logs it) and reported by [LiveStacks.Err].
func (ls *LiveStacks) Sync(ctx context.Context, snap *Snapshot) error {
	ls.syncMu.Lock()
	defer ls.syncMu.Unlock()
	if ls.closed {
		return errors.New("elbtest: live mode is closed")
	}
	want := StacksFromSnapshot(snap)
	var errs []error
	ls.mu.RLock()
	cur := make(map[string]*liveLB, len(ls.stacks))
	for k, v := range ls.stacks {
		cur[k] = v
	}
	ls.mu.RUnlock()
	next := map[string]*liveLB{}
	syncErrs := map[string]error{}
	for arn, spec := range want {
		rec := snap.LoadBalancers[arn]
		lbName := spec.LoadBalancers[0].Name
		hash := specHash(spec)
		old := cur[arn]
		if old != nil && old.hash == hash {
			next[arn] = old
			continue
		}
		var err error
		if old == nil {
			var st *local.Stack
			st, err = local.Start(context.Background(), spec, local.Options{
				Listen: func(l *elb.LoadBalancer, li *elb.Listener) string {
					if ls.opts.Listen != nil {
						return ls.opts.Listen(l.Name, li.Port)
					}
					return ""
				},
				TimeScale: ls.opts.TimeScale,
				Resolve:   ls.opts.Resolve,
				Logger:    ls.log,
			})
			if err == nil {
				next[arn] = &liveLB{arn: arn, name: lbName, dns: str(rec.LoadBalancer.DNSName), stack: st, hash: hash}
			}
		} else {
			err = old.stack.Apply(spec)
			next[arn] = &liveLB{arn: arn, name: lbName, dns: old.dns, stack: old.stack, hash: hash}
		}
		if err != nil {
			if old != nil && next[arn] == nil {
				next[arn] = old
			}
			err = fmt.Errorf("elbtest: live load balancer %s: %w", lbName, err)
			syncErrs[arn] = err
			errs = append(errs, err)
		}
	}
	ls.mu.Lock()
	var gone []*liveLB
	for arn, l := range ls.stacks {
		if next[arn] == nil {
			gone = append(gone, l)
		}
	}
	ls.stacks = next
	ls.tgs, ls.tgName = map[string]*liveLB{}, map[string]string{}
	for arn, spec := range want {
		for _, tg := range spec.TargetGroups {
			if l := next[arn]; l != nil {
				ls.tgs[tg.ARN] = l
				ls.tgName[tg.ARN] = tg.Name
			}
		}
	}
	ls.specs, ls.errs = want, syncErrs
	ls.mu.Unlock()
	for _, l := range gone {
		l.stack.Close()
	}
	return errors.Join(errs...)
}

// Err returns the last sync error of a load balancer (name, ARN or DNS
// name), nil if its configuration is served.
func (ls *LiveStacks) Err(lb string) error {
	ls.mu.RLock()
	defer ls.mu.RUnlock()
	for arn, err := range ls.errs {
		if l := ls.stacks[arn]; arn == lb || (l != nil && (l.name == lb || l.dns == lb)) {
			return err
		}
	}
	return nil
}

func specHash(s *elb.Stack) string {
	b, _ := elb.Marshal(s)
	return string(b)
}

// find returns the running load balancer named by its ARN, name or DNS
// name (case-insensitive, as DNS).
func (ls *LiveStacks) find(lb string) *liveLB {
	ls.mu.RLock()
	defer ls.mu.RUnlock()
	if l := ls.stacks[lb]; l != nil {
		return l
	}
	for _, l := range ls.stacks {
		if l.name == lb || strings.EqualFold(l.dns, lb) {
			return l
		}
	}
	return nil
}

// Addr returns the local address of listener port of a load balancer
// given by DNS name, name or ARN.
func (ls *LiveStacks) Addr(lb string, port int) (string, bool) {
	l := ls.find(lb)
	if l == nil {
		return "", false
	}
	return l.stack.Addr(l.name, port)
}

// Listeners returns every running listener, by load balancer DNS name.
func (ls *LiveStacks) Listeners() map[string][]local.ListenerInfo {
	ls.mu.RLock()
	defer ls.mu.RUnlock()
	out := map[string][]local.ListenerInfo{}
	for _, l := range ls.stacks {
		out[l.dns] = l.stack.Listeners()
	}
	return out
}

// DialContext dials address, replacing a load balancer's "dnsname:port"
// by the local address of that listener; other addresses are dialled as
// they are. Use it as http.Transport.DialContext.
func (ls *LiveStacks) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err == nil {
		if p, perr := strconv.Atoi(port); perr == nil {
			if a, ok := ls.Addr(host, p); ok {
				address = a
			}
		}
	}
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

// TargetHealth implements HealthSource with the real health checks of the
// local stacks. A target that no stack runs yet (the first Sync has not
// finished) is initial, registration in progress.
func (ls *LiveStacks) TargetHealth(q HealthQuery) Health {
	ls.mu.RLock()
	l, name := ls.tgs[q.TargetGroupARN], ls.tgName[q.TargetGroupARN]
	ls.mu.RUnlock()
	pending := Health{State: StateInitial, Reason: ReasonRegistrationInProgress, Description: "Target registration is in progress"}
	if l == nil {
		return pending
	}
	hs, err := l.stack.TargetHealth(name)
	if err != nil {
		return pending
	}
	for _, h := range hs {
		if h.Target.ID == q.TargetID && int32(h.Target.Port) == q.Port {
			return Health{State: h.State, Reason: h.Reason, Description: h.Description}
		}
	}
	return pending
}

// Close stops every local stack. Close the Server first, so that no Sync
// starts new ones.
func (ls *LiveStacks) Close() error {
	ls.syncMu.Lock()
	defer ls.syncMu.Unlock()
	ls.closed = true
	ls.mu.Lock()
	stacks := ls.stacks
	ls.stacks, ls.tgs = map[string]*liveLB{}, map[string]*liveLB{}
	ls.mu.Unlock()
	for _, l := range stacks {
		l.stack.Close()
	}
	return nil
}

// StacksFromSnapshot converts an endpoint's state into one elb.Stack per
// load balancer (by ARN), with its listeners, rules and the target groups
// they forward to (with their registered, non-draining targets). Actions
// refer to target groups by ARN.
func StacksFromSnapshot(snap *Snapshot) map[string]*elb.Stack {
	tgs := map[string]*elb.TargetGroup{}
	for arn, rec := range snap.TargetGroups {
		tg := specTargetGroup(&rec.TargetGroup)
		if attrs, err := elb.ApplyTargetGroupAttributes(tg, liveAttrs(rec.Attributes)); err == nil {
			tg.Attributes = attrs
		}
		for _, t := range rec.Targets {
			if !t.DeregisteredAt.IsZero() {
				continue
			}
			tg.Targets = append(tg.Targets, elb.Target{ID: t.ID, Port: int(t.Port), AvailabilityZone: t.AvailabilityZone})
		}
		tgs[arn] = tg
	}
	listeners := map[string][]*ListenerRecord{}
	for _, l := range snap.Listeners {
		a := str(l.Listener.LoadBalancerArn)
		listeners[a] = append(listeners[a], l)
	}
	rules := map[string][]*RuleRecord{}
	for _, r := range snap.Rules {
		rules[r.ListenerArn] = append(rules[r.ListenerArn], r)
	}
	out := map[string]*elb.Stack{}
	for arn, rec := range snap.LoadBalancers {
		lbr := &rec.LoadBalancer
		l := &elb.LoadBalancer{Name: str(lbr.LoadBalancerName), ARN: arn, Type: specLBType(lbr.Type),
			Scheme: elb.Scheme(lbr.Scheme), SecurityGroups: lbr.SecurityGroups}
		for _, az := range lbr.AvailabilityZones {
			l.Subnets = append(l.Subnets, str(az.SubnetId))
		}
		if attrs, err := elb.ApplyLoadBalancerAttributes(l.Type, elb.LoadBalancerAttributes{}, liveAttrs(rec.Attributes)); err == nil {
			l.Attributes = attrs
		}
		s := &elb.Stack{LoadBalancers: []*elb.LoadBalancer{l}}
		used := map[string]bool{}
		lrecs := listeners[arn]
		sort.Slice(lrecs, func(i, j int) bool { return lrecs[i].Seq < lrecs[j].Seq })
		for _, lr := range lrecs {
			x := &lr.Listener
			li := specListener(x.Port, x.Protocol, x.Certificates, x.SslPolicy, x.AlpnPolicy, x.DefaultActions)
			for _, rr := range rules[str(x.ListenerArn)] {
				if rr.Rule.IsDefault != nil && *rr.Rule.IsDefault {
					continue
				}
				p, err := strconv.Atoi(str(rr.Rule.Priority))
				if err != nil {
					continue
				}
				li.Rules = append(li.Rules, &elb.Rule{Priority: p, Conditions: specConditions(rr.Rule.Conditions), Actions: specActions(rr.Rule.Actions)})
				markUsed(used, rr.Rule.Actions)
			}
			sort.Slice(li.Rules, func(i, j int) bool { return li.Rules[i].Priority < li.Rules[j].Priority })
			markUsed(used, x.DefaultActions)
			l.Listeners = append(l.Listeners, li)
		}
		var names []string
		for tgARN := range used {
			if tgs[tgARN] != nil {
				names = append(names, tgARN)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			s.TargetGroups = append(s.TargetGroups, tgs[n])
		}
		out[arn] = s
	}
	return out
}

func markUsed(used map[string]bool, as []types.Action) {
	for _, a := range as {
		if a.TargetGroupArn != nil {
			used[*a.TargetGroupArn] = true
		}
		if a.ForwardConfig != nil {
			for _, t := range a.ForwardConfig.TargetGroups {
				used[str(t.TargetGroupArn)] = true
			}
		}
	}
}

func liveAttrs(m map[string]string) []elb.Attribute {
	out := make([]elb.Attribute, 0, len(m))
	for k, v := range m {
		out = append(out, elb.Attribute{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// FrontDoor returns an HTTP handler that serves every load balancer by
// its DNS name, as LocalStack's edge port does: a request whose Host is a
// load balancer's DNSName (any port) goes to that load balancer's listener
// on the Host's port, or on port 80 when the Host has no port or names a
// port the load balancer has no listener on. The Host header is passed
// unchanged, so host-header rules see the DNS name. Unknown hosts get 404.
//
//	go http.ListenAndServe("127.0.0.1:8080", live.FrontDoor())
//	curl -H "Host: my-alb-123.us-east-1.elb.amazonaws.com" http://127.0.0.1:8080/
func (ls *LiveStacks) FrontDoor() http.Handler {
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = pr.In.Context().Value(frontDoorKey{}).(string)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, port := r.Host, 80
		if h, p, err := net.SplitHostPort(r.Host); err == nil {
			host = h
			if n, err := strconv.Atoi(p); err == nil {
				port = n
			}
		}
		addr, ok := ls.Addr(host, port)
		if !ok {
			addr, ok = ls.Addr(host, 80)
		}
		if !ok {
			http.Error(w, "elbtest: no load balancer named "+host, http.StatusNotFound)
			return
		}
		rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), frontDoorKey{}, addr)))
	})
}

type frontDoorKey struct{}
