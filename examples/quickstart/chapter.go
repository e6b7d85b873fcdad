package main

import (
	"context"
	"embed"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/kube"
	"github.com/lbkit/lbkit/elb/local"
)

// The chapter's manifests, verbatim.
//
//go:embed 2048_full.yaml nlb-service.yaml targetgroupbinding.yaml
var manifests embed.FS

// env is where the chapter runs: the local endpoint or real AWS.
type env struct {
	c   clients
	vpc string
	// endpoints are the pods of deployment-2048 (the service's endpoints).
	endpoints []elb.Target
	dial      func(ctx context.Context, network, addr string) (net.Conn, error)
	poll      time.Duration // between describes while waiting
	maxWait   time.Duration
	// stopBackend stops backend i (0-based); nil where the quickstart
	// does not own the backends (-aws).
	stopBackend func(i int) (name string)
	// reach says how a person reaches a load balancer's DNS name from a
	// shell (-keep); nil prints the URL.
	reach func(dnsName string) string
}

func (e *env) httpClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{DialContext: e.dial, DisableKeepAlives: true},
		Timeout:   5 * time.Second,
	}
}

var backendName = regexp.MustCompile(`backend-\d+`)

// spread sends n requests to url and counts the answers by backend.
func (e *env) spread(ctx context.Context, url string, n int) (map[string]int, error) {
	c := e.httpClient()
	counts := map[string]int{}
	for range n {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err != nil {
			return counts, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		name := backendName.FindString(string(b))
		if resp.StatusCode != 200 || name == "" {
			name = fmt.Sprintf("status %d", resp.StatusCode)
		}
		counts[name]++
	}
	return counts, nil
}

func formatCounts(m map[string]int) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// targetStates describes a target group's targets: "healthy 3" and, for
// the others, their reason.
func (e *env) targetStates(ctx context.Context, arn string) (map[string]string, string, error) {
	out, err := e.c.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
	if err != nil {
		return nil, "", err
	}
	states := map[string]string{}
	count := map[string]int{}
	for _, d := range out.TargetHealthDescriptions {
		s := string(d.TargetHealth.State)
		states[fmt.Sprintf("%s:%d", *d.Target.Id, *d.Target.Port)] = s
		if d.TargetHealth.Reason != "" {
			s += " (" + string(d.TargetHealth.Reason) + ")"
		}
		count[s]++
	}
	return states, formatCounts(count), nil
}

// waitTargets polls DescribeTargetHealth until cond holds, printing each
// change of the summary.
func (e *env) waitTargets(ctx context.Context, p *printer, arn string, what string, cond func(map[string]string) bool) error {
	last := ""
	deadline := time.Now().Add(e.maxWait)
	for {
		states, summary, err := e.targetStates(ctx, arn)
		if err != nil {
			return err
		}
		if summary != last {
			p.say("  targets: %s", summary)
			last = summary
		}
		if cond(states) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("targets not %s after %v: %s", what, e.maxWait, summary)
		}
		if err := sleep(ctx, e.poll); err != nil {
			return err
		}
	}
}

func allHealthy(n int) func(map[string]string) bool {
	return func(m map[string]string) bool {
		c := 0
		for _, s := range m {
			if s == "healthy" {
				c++
			}
		}
		return c == n
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// chapter plays the chapter in e. Everything it creates is deleted before
// it returns, also on error.
// refs lists object references for a line of output.
func refs(rs []kube.ObjectRef) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return strings.Join(out, ", ")
}

func chapter(ctx context.Context, p *printer, e *env, keep bool) (err error) {
	var created []*provisioned
	defer func() {
		p.step("Clean up")
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.maxWait)
		defer cancel()
		for i := len(created) - 1; i >= 0; i-- {
			if rerr := e.c.remove(cctx, created[i]); rerr != nil && err == nil {
				err = fmt.Errorf("cleanup: %w", rerr)
			}
		}
		if err == nil {
			p.say("deleted the load balancers and target groups")
		}
	}()

	// 1. The 2048 game behind an ALB, from the Ingress.
	p.step("2048_full.yaml: Ingress → Application Load Balancer")
	objs, err := readFile("2048_full.yaml")
	if err != nil {
		return err
	}
	if len(objs.Ingresses) != 1 || len(objs.Services) != 1 {
		return fmt.Errorf("2048_full.yaml: want an Ingress and a Service")
	}
	ing, svc := objs.Ingresses[0], objs.Services[0]
	p.say("read Ingress %s (class %s, scheme %s, target-type %s), Service %s; passed over: %s",
		ing.Name, *ing.Spec.IngressClassName, ing.Annotations[kube.IngressPrefix+"scheme"], ing.Annotations[kube.IngressPrefix+"target-type"],
		svc.Name, refs(objs.Skipped))
	tr, err := translate(p, objs, e.vpc, e.endpoints)
	if err != nil {
		return err
	}
	albStack := tr.Stack
	// Offline first: where would a request go? (elb/local.Explain, the
	// same rule evaluation the running ALB uses.)
	req, _ := local.NewRequest("GET", "http://game.example.com/index.html")
	if ex, err := local.Explain(albStack, albStack.LoadBalancers[0].Name, 80, req); err == nil {
		for _, line := range strings.Split(strings.TrimRight(ex.String(), "\n"), "\n") {
			p.say("explain: %s", strings.TrimSpace(line))
		}
	}
	alb, err := e.c.apply(ctx, "game-2048-ingress", albStack, e.vpc, e.poll, e.maxWait, p.say)
	created = append(created, alb)
	if err != nil {
		return err
	}
	albLB := alb.LoadBalancers[albStack.LoadBalancers[0].Name]
	albTG := alb.TargetGroups[albStack.TargetGroups[0].Name]
	if err := e.waitTargets(ctx, p, albTG, "healthy", allHealthy(len(e.endpoints))); err != nil {
		return err
	}
	albURL := "http://" + *albLB.DNSName + "/"
	counts, err := e.spread(ctx, albURL, 30)
	if err != nil {
		return err
	}
	p.say("30 requests to %s → %s", albURL, formatCounts(counts))

	// 2. The same app behind an NLB, from the Service.
	p.step("nlb-service.yaml: Service type LoadBalancer → Network Load Balancer")
	objs, err = readFile("nlb-service.yaml")
	if err != nil {
		return err
	}
	if len(objs.Services) != 1 {
		return fmt.Errorf("nlb-service.yaml: want one Service")
	}
	nsvc := objs.Services[0]
	p.say("read Service %s (load-balancer-type %s, nlb-target-type %s, scheme %s)", nsvc.Name,
		nsvc.Annotations[kube.ServicePrefix+"type"], nsvc.Annotations[kube.ServicePrefix+"nlb-target-type"], nsvc.Annotations[kube.ServicePrefix+"scheme"])
	tr, err = translate(p, objs, e.vpc, e.endpoints)
	if err != nil {
		return err
	}
	nlbStack := tr.Stack
	nlb, err := e.c.apply(ctx, "game-2048-nlb-service", nlbStack, e.vpc, e.poll, e.maxWait, p.say)
	created = append(created, nlb)
	if err != nil {
		return err
	}
	nlbLB := nlb.LoadBalancers[nlbStack.LoadBalancers[0].Name]
	if err := e.waitTargets(ctx, p, nlb.TargetGroups[nlbStack.TargetGroups[0].Name], "healthy", allHealthy(len(e.endpoints))); err != nil {
		return err
	}
	nlbURL := "http://" + *nlbLB.DNSName + "/"
	counts, err = e.spread(ctx, nlbURL, 9)
	if err != nil {
		return err
	}
	p.say("NLB answers on TCP:80: 9 connections to %s → %s", nlbURL, formatCounts(counts))

	// 3. TargetGroupBinding into an existing target group.
	p.step("targetgroupbinding.yaml: register the pods into an existing target group")
	existing := &elb.Stack{}
	etg := existing.AddTargetGroup(elb.NewTargetGroup("existing-target-group", elb.ProtocolTCP, 80, elb.TargetTypeIP))
	etg.VPCID = e.vpc
	etg.HealthCheck = elb.HealthCheck{Protocol: elb.ProtocolTCP, IntervalSeconds: 10, TimeoutSeconds: 5, HealthyThreshold: 3, UnhealthyThreshold: 3}
	enlb := existing.AddLoadBalancer(elb.NewNetworkLoadBalancer("existing-nlb"))
	enlb.SubnetSelector = &elb.SubnetSelector{Tags: elb.Tags{elb.TagRoleELB: ""}}
	enlb.AddListener(elb.ProtocolTCP, 80, elb.Forward(etg))
	p.say("first, infrastructure made outside Kubernetes: an NLB and an empty target group")
	ex, err := e.c.apply(ctx, "existing-infrastructure", existing, e.vpc, e.poll, e.maxWait, p.say)
	created = append(created, ex)
	if err != nil {
		return err
	}
	objs, err = readFile("targetgroupbinding.yaml")
	if err != nil {
		return err
	}
	// The binding's Service is the NLB Service of the previous manifest.
	objs.Services = append(objs.Services, nsvc)
	tr, err = translate(p, objs, e.vpc, e.endpoints)
	if err != nil {
		return err
	}
	if len(tr.Bindings) != 1 {
		return fmt.Errorf("targetgroupbinding.yaml: want one TargetGroupBinding")
	}
	tgb := tr.Bindings[0]
	etgARN := ex.TargetGroups["existing-target-group"]
	ref := tgb.Source.Spec.ServiceRef
	p.say("read TargetGroupBinding %s: service %s:%s → %s", tgb.Object.Name, ref.Name, ref.Port.String(), tgb.TargetGroupARN)
	p.say("  (that ARN is the chapter's example, account 112233 in eu-central-1; bound here to the target group just created: %s)", etgARN)
	binder := &kube.Binder{Provisioner: ex.prov, Client: e.c.elb}
	if _, err := binder.Bind(ctx, tgb, etgARN); err != nil {
		return err
	}
	p.say("registered the %d endpoints of %s (status: %s)", len(tgb.Targets), ref.Name, tgb.Source.Status.Conditions[0].Message)
	exLB := ex.LoadBalancers["existing-nlb"]
	if err := e.waitTargets(ctx, p, etgARN, "healthy", allHealthy(len(e.endpoints))); err != nil {
		return err
	}
	exURL := "http://" + *exLB.DNSName + "/"
	counts, err = e.spread(ctx, exURL, 9)
	if err != nil {
		return err
	}
	p.say("9 connections to %s → %s", exURL, formatCounts(counts))

	// 4. A backend fails.
	if e.stopBackend != nil {
		p.step("A backend stops: health checks notice, traffic avoids it")
		i := len(e.endpoints) - 1
		name := e.stopBackend(i)
		key := fmt.Sprintf("%s:%d", e.endpoints[i].ID, e.endpoints[i].Port)
		p.say("stopped %s (%s)", name, key)
		if err := e.waitTargets(ctx, p, albTG, "unhealthy", func(m map[string]string) bool { return m[key] == "unhealthy" }); err != nil {
			return err
		}
		counts, err = e.spread(ctx, albURL, 30)
		if err != nil {
			return err
		}
		p.say("30 requests to the ALB → %s", formatCounts(counts))
		if counts[name] == 0 {
			p.say("%s gets no more requests", name)
		}
	}
	if keep {
		how := func(dns string) string { return "http://" + dns + "/" }
		if e.reach != nil {
			how = e.reach
		}
		p.say("still running; press Ctrl-C to clean up. Try:")
		p.say("  ALB: %s", how(*albLB.DNSName))
		p.say("  NLB: %s", how(*nlbLB.DNSName))
		<-ctx.Done()
	}
	return nil
}
