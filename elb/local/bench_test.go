package local_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/local"
)

// BenchmarkProxiedRequest measures one request through a running ALB
// stack (elb rule evaluation + lb proxy) against the same backend reached
// directly, in the same run: the ratio is the cost of the local ALB.
func BenchmarkProxiedRequest(b *testing.B) {
	be := newBenchBackend(b)
	s := albStackBench(be)
	st, err := local.Start(context.Background(), s, local.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	addr, _ := st.Addr("demo", 80)
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	for _, bc := range []struct{ name, url string }{
		{"direct", "http://" + be + "/api/x"},
		{"local-alb", "http://" + addr + "/api/x"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.Get(bc.url)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

func albStackBench(backendAddr string) *elb.Stack {
	s := &elb.Stack{}
	tg := s.AddTargetGroup(elb.NewTargetGroup("api", elb.ProtocolHTTP, 80, elb.TargetTypeIP))
	tg.VPCID = "vpc-1"
	tg.HealthCheck.Enabled = elb.Bool(false)
	host, port := splitHostPort(backendAddr)
	tg.Targets = []elb.Target{{ID: host, Port: port}}
	alb := s.AddLoadBalancer(elb.NewApplicationLoadBalancer("demo"))
	alb.Subnets = []string{"subnet-a", "subnet-b"}
	l := alb.AddListener(elb.ProtocolHTTP, 80, elb.FixedResponse(404, "", "no"))
	for i := 1; i <= 20; i++ {
		l.AddRule(i, elb.FixedResponse(200, "", "x"), elb.HostHeader("h"+string(rune('a'+i))+".example.com"))
	}
	l.AddRule(100, elb.Forward(tg), elb.PathPattern("/api/*"))
	return s
}
