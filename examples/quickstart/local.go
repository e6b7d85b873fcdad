package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/elb/elbtest"
)

// backend is one replica of deployment-2048: a little page that names it.
type backend struct {
	name string
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
	once sync.Once
}

func startBackend(name string) (*backend, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &backend{name: name, ln: ln, done: make(chan struct{})}
	b.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html>\n<title>2048</title>\n<h1>2048</h1>\n<p>Served by %s (a pod of deployment-2048)</p>\n", name)
	})}
	go func() {
		defer close(b.done)
		_ = b.srv.Serve(ln)
	}()
	return b, nil
}

func (b *backend) stop() {
	b.once.Do(func() {
		b.srv.Close()
		<-b.done
	})
}

func (b *backend) target() elb.Target {
	a := b.ln.Addr().(*net.TCPAddr)
	return elb.Target{ID: a.IP.String(), Port: a.Port}
}

func runLocal(ctx context.Context, p *printer, cfg config) (err error) {
	fmt.Fprintln(p.w, "lbkit quickstart: the EKS load balancing chapter on this machine, no AWS account needed")
	p.step("Setup")
	live := elbtest.NewLive(elbtest.LiveOptions{TimeScale: cfg.TimeScale})
	defer live.Close()
	srv := elbtest.NewServer(elbtest.Options{Live: live, Health: live, NoDefaultVPC: true,
		ProvisioningDelay: time.Duration(float64(10*time.Second) * cfg.TimeScale)})
	defer srv.Close()
	p.say("local ELBv2 + EC2 endpoint at %s, live mode: load balancers really serve traffic", srv.URL)
	p.say("health checks run at %gx AWS's pace (-timescale %g)", 1/cfg.TimeScale, cfg.TimeScale)

	var backends []*backend
	defer func() {
		for _, b := range backends {
			b.stop()
		}
	}()
	var addrs []string
	for i := 1; i <= 3; i++ {
		b, err := startBackend("backend-" + strconv.Itoa(i))
		if err != nil {
			return err
		}
		backends = append(backends, b)
		addrs = append(addrs, b.name+" "+b.ln.Addr().String())
	}
	p.say("3 web backends (the 3 replicas of deployment-2048): %s", strings.Join(addrs, ", "))

	awsCfg := srv.Config()
	c := clients{cfg: awsCfg, elb: elbv2.NewFromConfig(awsCfg), ec2: ec2.NewFromConfig(awsCfg)}
	vpc, subnets, err := createVPC(ctx, c)
	if err != nil {
		return err
	}
	defer func() {
		if derr := deleteVPC(context.WithoutCancel(ctx), c, vpc, subnets); derr != nil && err == nil {
			err = derr
		}
		if err == nil {
			p.say("deleted the VPC and its subnets; done")
		}
	}()
	p.say("VPC %s (10.0.0.0/16) with subnets %s in us-east-1a/b/c, tagged %s=1", vpc, strings.Join(subnets, ", "), elb.TagRoleELB)

	e := &env{c: c, vpc: vpc, dial: live.DialContext, poll: 50 * time.Millisecond, maxWait: 20 * time.Second}
	for _, b := range backends {
		e.endpoints = append(e.endpoints, b.target())
	}
	e.stopBackend = func(i int) string {
		backends[i].stop()
		return backends[i].name
	}
	p.say("load balancer DNS names reach their local listeners through elbtest.LiveStacks.DialContext")
	if cfg.Keep {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		fd := &http.Server{Handler: live.FrontDoor(), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = fd.Serve(ln) }()
		defer fd.Close()
		e.reach = func(dns string) string {
			if a, ok := live.Addr(dns, 80); ok {
				return fmt.Sprintf("curl http://%s/   or   curl -H 'Host: %s' http://%s/", a, dns, ln.Addr())
			}
			return dns
		}
	}
	return chapter(ctx, p, e, cfg.Keep)
}

func createVPC(ctx context.Context, c clients) (string, []string, error) {
	v, err := c.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		return "", nil, fmt.Errorf("create VPC: %w", err)
	}
	vpc := aws.ToString(v.Vpc.VpcId)
	var subnets []string
	for i, az := range []string{"us-east-1a", "us-east-1b", "us-east-1c"} {
		s, err := c.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), AvailabilityZone: aws.String(az),
			CidrBlock: aws.String(fmt.Sprintf("10.0.%d.0/24", i))})
		if err != nil {
			return vpc, subnets, fmt.Errorf("create subnet: %w", err)
		}
		subnets = append(subnets, aws.ToString(s.Subnet.SubnetId))
	}
	_, err = c.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: subnets, Tags: []ec2types.Tag{
		{Key: aws.String(elb.TagRoleELB), Value: aws.String("1")},
		{Key: aws.String("kubernetes.io/cluster/quickstart"), Value: aws.String("shared")},
	}})
	if err != nil {
		return vpc, subnets, fmt.Errorf("tag subnets: %w", err)
	}
	return vpc, subnets, nil
}

func deleteVPC(ctx context.Context, c clients, vpc string, subnets []string) error {
	for _, s := range subnets {
		if _, err := c.ec2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(s)}); err != nil {
			return err
		}
	}
	_, err := c.ec2.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(vpc)})
	return err
}
