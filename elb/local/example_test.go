package local_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/local"
)

// Explain answers "where does this request go?" offline, with the same
// rule evaluation that routes requests in a running stack.
func ExampleExplain() {
	s := &elb.Stack{}
	web := s.AddTargetGroup(elb.NewTargetGroup("web", elb.ProtocolHTTP, 80, elb.TargetTypeIP))
	api := s.AddTargetGroup(elb.NewTargetGroup("api", elb.ProtocolHTTP, 8080, elb.TargetTypeIP))
	web.VPCID, api.VPCID = "vpc-1", "vpc-1"
	alb := s.AddLoadBalancer(elb.NewApplicationLoadBalancer("demo"))
	alb.Subnets = []string{"subnet-a", "subnet-b"}
	l := alb.AddListener(elb.ProtocolHTTP, 80, elb.Forward(web))
	l.AddRule(10, elb.Forward(api), elb.PathPattern("/api/*"), elb.HTTPRequestMethod("GET", "POST"))
	l.AddRule(20, elb.Forward(web), elb.PathPattern("/api/v1/*")) // shadowed by rule 10 for GET and POST only: not reported

	req, _ := local.NewRequest("GET", "http://example.com/api/users?page=2")
	e, err := local.Explain(s, "demo", 80, req)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(e)
	req, _ = local.NewRequest("GET", "http://example.com/index.html")
	e, _ = local.Explain(s, "demo", 80, req)
	fmt.Print(e)
	// Output:
	// GET example.com/api/users?page=2 → demo:80
	//   matched rule 10 (path-pattern /api/* AND http-request-method GET|POST)
	//   forward → api (weight 1)
	// GET example.com/index.html → demo:80
	//   no rule matched: default action
	//   forward → web (weight 1)
}

// Start serves a stack on loopback: here an ALB whose only rule answers
// with a fixed response, and whose default forwards to a backend.
func ExampleStart() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from the backend\n")
	}))
	defer backend.Close()
	host, port, _ := net.SplitHostPort(backend.Listener.Addr().String())
	p, _ := strconv.Atoi(port)

	s := &elb.Stack{}
	web := s.AddTargetGroup(elb.NewTargetGroup("web", elb.ProtocolHTTP, 80, elb.TargetTypeIP))
	web.VPCID = "vpc-1"
	web.HealthCheck.Enabled = elb.Bool(false) // routable at once ("unavailable")
	web.Targets = []elb.Target{{ID: host, Port: p}}
	alb := s.AddLoadBalancer(elb.NewApplicationLoadBalancer("demo"))
	alb.Subnets = []string{"subnet-a", "subnet-b"}
	l := alb.AddListener(elb.ProtocolHTTP, 80, elb.Forward(web))
	l.AddRule(10, elb.FixedResponse(200, elb.ContentTypeTextPlain, "pong\n"), elb.PathPattern("/ping"))

	st, err := local.Start(context.Background(), s, local.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	addr, _ := st.Addr("demo", 80) // 127.0.0.1:<free port>
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, path := range []string{"/ping", "/"} {
		resp, err := c.Get("http://" + addr + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(path, " → ", string(b))
	}
	hs, _ := st.TargetHealth("web")
	fmt.Println(hs[0].State, hs[0].Reason)
	// Output:
	// /ping → pong
	// / → hello from the backend
	// unavailable Target.HealthCheckDisabled
}
