package elbtest_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/lbkit/lbkit/elb/elbtest"
)

type liveBackend struct {
	srv  *httptest.Server
	port int32
}

func newLiveBackend(t *testing.T, name string) *liveBackend {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) }))
	t.Cleanup(srv.Close)
	_, p, _ := net.SplitHostPort(srv.Listener.Addr().String())
	n, _ := strconv.Atoi(p)
	return &liveBackend{srv: srv, port: int32(n)}
}

// newLiveEnv is an endpoint in live mode on the system clock, with health
// checks 50 times faster than AWS's.
func newLiveEnv(t *testing.T) (*env, *elbtest.LiveStacks) {
	live := elbtest.NewLive(elbtest.LiveOptions{TimeScale: 0.02})
	t.Cleanup(func() { live.Close() })
	e := newEnv(t, elbtest.Options{Live: live, Health: live, Clock: systemClock{}})
	return e, live
}

func pollUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) healthOf(tgArn *string) map[string]string {
	e.t.Helper()
	out, err := e.elb.DescribeTargetHealth(e.ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tgArn})
	if err != nil {
		e.t.Fatal(err)
	}
	m := map[string]string{}
	for _, d := range out.TargetHealthDescriptions {
		m[fmt.Sprintf("%s:%d", *d.Target.Id, *d.Target.Port)] = string(d.TargetHealth.State)
	}
	return m
}

func TestLiveModeServesTrafficAndReportsRealHealth(t *testing.T) {
	e, live := newLiveEnv(t)
	b1, b2 := newLiveBackend(t, "one"), newLiveBackend(t, "two")
	out, err := e.elb.CreateTargetGroup(e.ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String("web"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(e.vpc),
		TargetType: types.TargetTypeEnumIp, HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2),
		HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2),
	})
	if err != nil {
		t.Fatal(err)
	}
	tg := out.TargetGroups[0]
	_, err = e.elb.RegisterTargets(e.ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: []types.TargetDescription{
		{Id: aws.String("127.0.0.1"), Port: aws.Int32(b1.port)}, {Id: aws.String("127.0.0.1"), Port: aws.Int32(b2.port)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	alb := e.alb("live")
	e.listener(alb.LoadBalancerArn, types.ProtocolEnumHttp, 80, forward(tg.TargetGroupArn))
	if err := live.Err("live"); err != nil {
		t.Fatal(err)
	}
	k1, k2 := fmt.Sprintf("127.0.0.1:%d", b1.port), fmt.Sprintf("127.0.0.1:%d", b2.port)
	pollUntil(t, 10*time.Second, "both targets healthy", func() bool {
		h := e.healthOf(tg.TargetGroupArn)
		return h[k1] == "healthy" && h[k2] == "healthy"
	})

	// The DNS name reaches the listener through the live dialer.
	tr := &http.Transport{DialContext: live.DialContext, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	url := "http://" + *alb.DNSName + "/"
	fetch := func() string {
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	seen := map[string]int{}
	for range 10 {
		seen[fetch()]++
	}
	if seen["one"] == 0 || seen["two"] == 0 {
		t.Fatalf("requests went to %v, want both targets", seen)
	}
	if a, ok := live.Addr(*alb.DNSName, 80); !ok || a == "" {
		t.Errorf("Addr(%s, 80) = %q, %v", *alb.DNSName, a, ok)
	}

	// The front door serves the load balancer by its DNS name in Host.
	fd := httptest.NewServer(live.FrontDoor())
	defer fd.Close()
	for _, tc := range []struct {
		host string
		code int
	}{{*alb.DNSName, 200}, {*alb.DNSName + ":80", 200}, {"unknown.example.com", 404}} {
		req, _ := http.NewRequest("GET", fd.URL+"/", nil)
		req.Host = tc.host
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("front door, Host %s: status %d, want %d", tc.host, resp.StatusCode, tc.code)
		}
	}

	// A stopped backend turns unhealthy in DescribeTargetHealth and gets
	// no more requests.
	b2.srv.Close()
	pollUntil(t, 10*time.Second, "target two unhealthy", func() bool { return e.healthOf(tg.TargetGroupArn)[k2] == "unhealthy" })
	for range 10 {
		if got := fetch(); got != "one" {
			t.Fatalf("request answered by %q after two turned unhealthy", got)
		}
	}

	// Deregistered targets drain: the endpoint says draining, and the
	// local stack sends them nothing new.
	_, err = e.elb.DeregisterTargets(e.ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("127.0.0.1"), Port: aws.Int32(b1.port)}}})
	if err != nil {
		t.Fatal(err)
	}
	if h := e.healthOf(tg.TargetGroupArn)[k1]; h != "draining" {
		t.Errorf("deregistered target is %q, want draining", h)
	}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusBadGateway {
		t.Errorf("with no registered target left serving, status %d", resp.StatusCode)
	}

	// Deleting the load balancer stops its listener.
	addr, _ := live.Addr("live", 80)
	if _, err := e.elb.DeleteLoadBalancer(e.ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: alb.LoadBalancerArn}); err != nil {
		t.Fatal(err)
	}
	if _, ok := live.Addr("live", 80); ok {
		t.Error("deleted load balancer still listed")
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Error("deleted load balancer still accepts connections")
	}
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Rules created and deleted through the API route at once, and targets
// registered later receive traffic.
func TestLiveModeRulesAndLateTargets(t *testing.T) {
	e, live := newLiveEnv(t)
	ba, bb := newLiveBackend(t, "a"), newLiveBackend(t, "b")
	mk := func(name string, b *liveBackend) types.TargetGroup {
		out, err := e.elb.CreateTargetGroup(e.ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: types.ProtocolEnumHttp,
			Port: aws.Int32(80), VpcId: aws.String(e.vpc), TargetType: types.TargetTypeEnumIp, HealthCheckIntervalSeconds: aws.Int32(5),
			HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		return out.TargetGroups[0]
	}
	ta, tb := mk("a", ba), mk("b", bb)
	reg := func(tg types.TargetGroup, b *liveBackend) {
		if _, err := e.elb.RegisterTargets(e.ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn,
			Targets: []types.TargetDescription{{Id: aws.String("127.0.0.1"), Port: aws.Int32(b.port)}}}); err != nil {
			t.Fatal(err)
		}
	}
	reg(ta, ba)
	alb := e.alb("rules")
	l := e.listener(alb.LoadBalancerArn, types.ProtocolEnumHttp, 80, forward(ta.TargetGroupArn))
	rule, err := e.elb.CreateRule(e.ctx, &elbv2.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(10),
		Conditions: pathRule("/b/*"), Actions: forward(tb.TargetGroupArn)})
	if err != nil {
		t.Fatal(err)
	}
	reg(tb, bb) // registered after the rule that uses its group
	c := &http.Client{Transport: &http.Transport{DialContext: live.DialContext, DisableKeepAlives: true}, Timeout: 5 * time.Second}
	get := func(path string) string {
		resp, err := c.Get("http://" + *alb.DNSName + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	pollUntil(t, 10*time.Second, "b healthy", func() bool {
		return e.healthOf(tb.TargetGroupArn)[fmt.Sprintf("127.0.0.1:%d", bb.port)] == "healthy"
	})
	for _, tc := range []struct{ path, want string }{{"/", "a"}, {"/b/x", "b"}, {"/bx", "a"}} {
		if got := get(tc.path); got != tc.want {
			t.Errorf("GET %s answered by %q, want %q", tc.path, got, tc.want)
		}
	}
	if _, err := e.elb.DeleteRule(e.ctx, &elbv2.DeleteRuleInput{RuleArn: rule.Rules[0].RuleArn}); err != nil {
		t.Fatal(err)
	}
	if got := get("/b/x"); got != "a" {
		t.Errorf("after DeleteRule, /b/x answered by %q, want a", got)
	}
	// Group b is no longer used by any rule: its target is unused.
	if h := e.healthOf(tb.TargetGroupArn)[fmt.Sprintf("127.0.0.1:%d", bb.port)]; h != "unused" {
		t.Errorf("target of an unused group is %q, want unused", h)
	}
}
