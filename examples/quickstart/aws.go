package main

import (
	"context"
	"fmt"
	"net"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/lbkit/lbkit/elb"
)

// runAWS plays the chapter against real AWS. It is not run by CI.
func runAWS(ctx context.Context, p *printer, cfg config) error {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("AWS credentials: %w", err)
	}
	fmt.Fprintf(p.w, "lbkit quickstart against REAL AWS (region %s): this creates BILLABLE load balancers, deleted at the end\n", awsCfg.Region)
	e := &env{
		c:       clients{cfg: awsCfg, elb: elbv2.NewFromConfig(awsCfg), ec2: ec2.NewFromConfig(awsCfg)},
		vpc:     cfg.VPC,
		dial:    (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		poll:    5 * time.Second,
		maxWait: 10 * time.Minute,
	}
	for _, ip := range splitList(cfg.Targets) {
		e.endpoints = append(e.endpoints, elb.Target{ID: ip, Port: 80})
	}
	return chapter(ctx, p, e, cfg.Keep)
}
