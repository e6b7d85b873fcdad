// Command elbtest-server serves a local ELBv2 + EC2 endpoint (package
// elb/elbtest) that the AWS CLI and every AWS SDK can use:
//
//	go run ./examples/elbtest-server -addr 127.0.0.1:4566 -state /tmp/elb.json
//	export AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_DEFAULT_REGION=us-east-1 \
//	       AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
//	aws elbv2 describe-load-balancers
//	aws ec2 describe-subnets --filters Name=default-for-az,Values=true
//
// With -state, every change is written to the file and a restart keeps
// every resource. The -fault-* flags inject seeded errors and latency for
// reliability tests.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lbkit/lbkit/elb/elbtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], func(url string) {}); err != nil {
		fmt.Fprintln(os.Stderr, "elbtest-server:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done; ready is called with the endpoint's URL
// once it listens.
func run(ctx context.Context, args []string, ready func(url string)) error {
	fs := flag.NewFlagSet("elbtest-server", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:4566", "address to listen on")
	region := fs.String("region", "us-east-1", "region of ARNs, DNS names and availability zones")
	account := fs.String("account", "123456789012", "account ID in ARNs")
	state := fs.String("state", "", "state file: loaded at start, rewritten after every change")
	seed := fs.Uint64("seed", 0, "seed for generated IDs and injected faults")
	provisioning := fs.Duration("provisioning-delay", 0, "how long new load balancers stay provisioning")
	faultRate := fs.Float64("fault-rate", 0, "probability (0-1) that a matching call fails")
	faultCode := fs.String("fault-code", "Throttling", "error code of injected faults: Throttling, ServiceUnavailable, InternalFailure, …")
	faultOps := fs.String("fault-ops", "", "comma-separated actions faults apply to (default: all)")
	latency := fs.Duration("latency", 0, "latency added to every matching call")
	verbose := fs.Bool("v", false, "log every request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	opts := elbtest.Options{
		Region:            *region,
		AccountID:         *account,
		Seed:              *seed,
		StateFile:         *state,
		ProvisioningDelay: *provisioning,
		Logger:            logger,
	}
	if *faultRate > 0 || *latency > 0 {
		rule := elbtest.FaultRule{Code: *faultCode, Rate: *faultRate, Latency: *latency}
		if *faultOps != "" {
			rule.Operations = strings.Split(*faultOps, ",")
		}
		opts.Faults = &elbtest.Faults{Rules: []elbtest.FaultRule{rule}}
	}
	srv, err := elbtest.Start(*addr, opts)
	if err != nil {
		return err
	}
	logger.Info("serving ELBv2 and EC2", "url", srv.URL, "region", *region, "state", *state)
	fmt.Printf("export AWS_ENDPOINT_URL=%s AWS_DEFAULT_REGION=%s AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test\n", srv.URL, *region)
	ready(srv.URL)
	<-ctx.Done()
	logger.Info("shutting down")
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		return fmt.Errorf("shutdown timed out")
	}
	return nil
}
