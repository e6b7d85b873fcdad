// Command quickstart plays the EKS load balancing chapter on this machine,
// with no AWS account: the real AWS SDK provisions an Application and a
// Network Load Balancer from the chapter's own Kubernetes manifests
// against lbkit's local ELBv2 + EC2 endpoint (elb/elbtest) in live mode,
// where those load balancers really serve traffic (elb/local) to three
// local web backends with real health checks.
//
//	go run ./examples/quickstart
//
// What happens, in order: a VPC with three subnets tagged
// kubernetes.io/role/elb; 2048_full.yaml's Ingress becomes an internet-facing
// ALB (subnets found by tag) forwarding / to the three backends; requests
// through the ALB's DNS name spread over them; nlb-service.yaml's Service
// becomes an NLB that answers on TCP:80; targetgroupbinding.yaml registers
// the service's endpoints into an existing target group behind an existing
// NLB; one backend stops, turns unhealthy in DescribeTargetHealth and gets
// no more requests; everything is deleted. Health checks run 20 times
// faster than AWS's (-timescale) so that it takes seconds, not minutes.
//
// With -aws it runs against real AWS with the default credential chain
// (environment, ~/.aws, SSO, instance role). THIS CREATES BILLABLE
// RESOURCES (an ALB, NLBs, target groups) in your account, deleted at the
// end. It needs -vpc: a VPC with subnets tagged kubernetes.io/role/elb=1 and
// an internet gateway; and -targets: the IPs of three web servers in that
// VPC (the pods of deployment-2048), since 127.0.0.1 is not reachable from
// AWS.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var cfg config
	flag.BoolVar(&cfg.AWS, "aws", false, "use real AWS with the default credential chain (creates BILLABLE resources, deleted at the end)")
	flag.StringVar(&cfg.VPC, "vpc", "", "with -aws: the VPC whose subnets are tagged kubernetes.io/role/elb=1")
	flag.StringVar(&cfg.Targets, "targets", "", "with -aws: comma-separated IPs of three web servers on port 80 in that VPC")
	flag.Float64Var(&cfg.TimeScale, "timescale", 0.05, "local mode: health check intervals and delays are multiplied by this")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep everything running until Ctrl-C before cleaning up")
	flag.Parse()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

type config struct {
	AWS       bool
	VPC       string
	Targets   string
	TimeScale float64
	Keep      bool
}

// printer prefixes each line with the time since the start.
type printer struct {
	w     io.Writer
	start time.Time
}

func (p *printer) say(format string, args ...any) {
	fmt.Fprintf(p.w, "[%5.1fs] %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, args...))
}

func (p *printer) step(title string) {
	fmt.Fprintf(p.w, "\n== %s\n", title)
}

func run(ctx context.Context, w io.Writer, cfg config) error {
	p := &printer{w: w, start: time.Now()}
	if cfg.AWS {
		if cfg.VPC == "" || cfg.Targets == "" {
			return fmt.Errorf("-aws needs -vpc and -targets (see go doc ./examples/quickstart)")
		}
		return runAWS(ctx, p, cfg)
	}
	return runLocal(ctx, p, cfg)
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
