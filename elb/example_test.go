package elb_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/lbkit/lbkit/elb"
)

// The reference chapter's ALB (the 2048 game behind an Ingress): an
// internet-facing ALB in the subnets tagged kubernetes.io/role/elb, an
// HTTP:80 listener forwarding every path under / to a target group of pod
// IPs on port 80, health-checked every 15 seconds.
func Example_applicationLoadBalancer() {
	s := &elb.Stack{}
	game := s.AddTargetGroup(elb.NewTargetGroup("k8s-game2048-service2048", elb.ProtocolHTTP, 80, elb.TargetTypeIP))
	game.VPCID = "vpc-0a1b2c3d"
	game.HealthCheck.IntervalSeconds = 15
	game.AddTargets("192.168.12.34", "192.168.45.67", "192.168.78.90")

	alb := s.AddLoadBalancer(elb.NewApplicationLoadBalancer("k8s-game2048-ingress2048"))
	alb.Scheme = elb.SchemeInternetFacing
	alb.SubnetSelector = &elb.SubnetSelector{Tags: elb.Tags{elb.TagRoleELB: "1"}}
	http := alb.AddListener(elb.ProtocolHTTP, 80, elb.FixedResponse(404, elb.ContentTypeTextPlain, "Not Found"))
	http.AddRule(1, elb.Forward(game), elb.PathPattern("/*"))

	s.Defaults()
	if err := s.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	hc := game.HealthCheck
	fmt.Printf("health check: %s %s every %ds, timeout %ds, %d/%d, matcher %s\n",
		hc.Protocol, hc.Path, hc.IntervalSeconds, hc.TimeoutSeconds, hc.HealthyThreshold, hc.UnhealthyThreshold, hc.Matcher.HTTPCode)

	router, err := elb.NewRouter(http)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, path := range []string{"/", "/index.html"} {
		m := router.RouteHTTP(httptest.NewRequest("GET", "http://k8s-game2048.example.com"+path, nil))
		fmt.Printf("GET %s → rule %d, %s to %s\n", path, m.Rule.Priority, m.Action().Type, m.Action().Forward.TargetGroups[0].TargetGroup)
	}
	// Output:
	// health check: HTTP / every 15s, timeout 5s, 5/2, matcher 200
	// GET / → rule 1, forward to k8s-game2048-service2048
	// GET /index.html → rule 1, forward to k8s-game2048-service2048
}

// The reference chapter's NLB: an internet-facing NLB with a TCP:80
// listener forwarding to pod IPs on port 80, health-checked over TCP on the
// traffic port.
func Example_networkLoadBalancer() {
	s := &elb.Stack{}
	tg := s.AddTargetGroup(elb.NewTargetGroup("k8s-game2048-nlbservi", elb.ProtocolTCP, 80, elb.TargetTypeIP))
	tg.VPCID = "vpc-0a1b2c3d"
	tg.AddTargets("192.168.12.34", "192.168.45.67")

	nlb := s.AddLoadBalancer(elb.NewNetworkLoadBalancer("k8s-game2048-nlbservi"))
	nlb.SubnetSelector = &elb.SubnetSelector{Tags: elb.Tags{elb.TagRoleELB: "1"}}
	nlb.AddListener(elb.ProtocolTCP, 80, elb.Forward(tg))

	s.Defaults()
	if err := s.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	hc := tg.HealthCheck
	fmt.Printf("%s %s:%d → %s\n", nlb.Scheme, nlb.Listeners[0].Protocol, nlb.Listeners[0].Port, nlb.Listeners[0].DefaultActions[0].Forward.TargetGroups[0].TargetGroup)
	fmt.Printf("health check: %s %s every %ds, timeout %ds\n", hc.Protocol, hc.Port, hc.IntervalSeconds, hc.TimeoutSeconds)
	fmt.Printf("preserve client IP: %v, deregistration delay: %ds\n", *tg.Attributes.PreserveClientIP, *tg.Attributes.DeregistrationDelaySeconds)
	// Output:
	// internet-facing TCP:80 → k8s-game2048-nlbservi
	// health check: TCP traffic-port every 30s, timeout 10s
	// preserve client IP: false, deregistration delay: 300s
}

// Validate reports every problem at once, each with its field path and the
// AWS error code and message.
func ExampleStack_Validate() {
	s := &elb.Stack{}
	tg := s.AddTargetGroup(elb.NewTargetGroup("web", elb.ProtocolHTTP, 80, elb.TargetTypeIP))
	tg.VPCID = "vpc-1"
	tg.HealthCheck.IntervalSeconds, tg.HealthCheck.TimeoutSeconds = 10, 10
	alb := s.AddLoadBalancer(elb.NewApplicationLoadBalancer("internal-web"))
	alb.Subnets = []string{"subnet-a", "subnet-b"}
	l := alb.AddListener(elb.ProtocolHTTP, 80, elb.Forward(tg))
	l.AddRule(10, elb.Forward(tg), elb.PathPattern("/a/*"))
	l.AddRule(10, elb.Forward(tg), elb.PathPattern("/b/*"))

	for _, e := range elb.AsErrors(s.Validate()) {
		fmt.Printf("%s: %s: %s\n", e.Path, e.Code, e.Message)
	}
	// Output:
	// loadBalancers[0].name: ValidationError: Load balancer name 'internal-web' cannot begin with 'internal-'
	// loadBalancers[0].listeners[0].rules[1].priority: PriorityInUse: Priority '10' is currently in use
	// targetGroups[0].healthCheck.timeoutSeconds: ValidationError: Health check timeout '10' must be smaller than the interval '10'
}

// Route evaluates a request with ALB's semantics: the first rule by
// priority whose conditions all match, else the default actions.
func ExampleRouter_Route() {
	api := elb.NewTargetGroup("api", elb.ProtocolHTTP, 8080, elb.TargetTypeIP)
	web := elb.NewTargetGroup("web", elb.ProtocolHTTP, 80, elb.TargetTypeIP)
	l := &elb.Listener{Protocol: elb.ProtocolHTTP, Port: 80, DefaultActions: []elb.Action{elb.Forward(web)}}
	l.AddRule(10, elb.Forward(api), elb.HostHeader("api.example.com"), elb.PathPattern("/v1/*"))
	l.AddRule(20, elb.FixedResponse(403, elb.ContentTypeTextPlain, "no"), elb.HTTPHeader("X-Blocked", "true"))

	router, err := elb.NewRouter(l)
	if err != nil {
		panic(err)
	}
	for _, req := range []elb.Request{
		{Method: "GET", Host: "API.example.com:443", Path: "/v1/users"},
		{Method: "GET", Host: "api.example.com", Path: "/v2/users"},
	} {
		m := router.Route(&req)
		fmt.Println(req.Host+req.Path, "→ default:", m.Default(), m.Action().Forward.TargetGroups[0].TargetGroup)
	}
	// Output:
	// API.example.com:443/v1/users → default: false api
	// api.example.com/v2/users → default: true web
}

// Lint finds what AWS accepts but is almost certainly a mistake.
func ExampleLint() {
	s := &elb.Stack{}
	web := s.AddTargetGroup(elb.NewTargetGroup("web", elb.ProtocolHTTP, 80, elb.TargetTypeIP))
	old := s.AddTargetGroup(elb.NewTargetGroup("old", elb.ProtocolHTTP, 80, elb.TargetTypeIP))
	alb := s.AddLoadBalancer(elb.NewApplicationLoadBalancer("web"))
	l := alb.AddListener(elb.ProtocolHTTP, 80, elb.Forward(web))
	l.AddRule(1, elb.Forward(web), elb.PathPattern("/api/*"))
	l.AddRule(2, elb.Forward(old), elb.PathPattern("/api/v1/*"))

	for _, f := range elb.Lint(s) {
		fmt.Println(f)
	}
	// Output:
	// warning: loadBalancers[0].listeners[0].rules[1]: ShadowedRule: Rule with priority 2 never applies: every request it matches is matched first by the rule with priority 1 (rules[0])
	// warning: targetGroups[1]: UnreachableTargetGroup: No reachable action forwards to target group 'old' with a weight above 0
}
