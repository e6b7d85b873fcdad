// Package elbtest is a local ELBv2 + EC2 endpoint that speaks AWS's own
// wire protocol (awsQuery for Elastic Load Balancing 2015-12-01, ec2query
// for EC2 2016-11-15), so the unmodified aws-sdk-go-v2 clients — their
// paginators and waiters included — provision load balancers against it
// with no AWS account.
//
// Typical usage, in the spirit of net/http/httptest:
//
//	srv := elbtest.NewServer(elbtest.Options{})
//	defer srv.Close()
//	cfg := srv.Config() // region, static credentials, BaseEndpoint
//	elb := elasticloadbalancingv2.NewFromConfig(cfg)
//	ec2c := ec2.NewFromConfig(cfg)
//	subnets, _ := ec2c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
//	out, err := elb.CreateLoadBalancer(ctx, &elasticloadbalancingv2.CreateLoadBalancerInput{…})
//
// It follows AWS, not moto: the defaults of a new target group or load
// balancer, AWS's error codes and messages, idempotent creates (identical
// settings return the existing resource, different ones a Duplicate…
// error), ARNs and DNS names for app/ and net/ load balancers,
// provisioning → active, rule priorities with swaps through
// SetRulePriorities, the protected default rule, ResourceInUse,
// TargetGroupAssociationLimit, quotas ([Quotas]), 50 tags, at most 20 ARNs
// per describe, Marker/PageSize pagination, and target health states with
// their reasons — registered targets are health checked only once a
// listener or rule uses their group; deregistered ones drain for the
// group's deregistration delay.
//
// Every account starts with a default VPC (172.31.0.0/16), one default
// subnet in each of three availability zones and a default security group,
// as in AWS. Target health comes from a [HealthSource]; the default
// [Simulated] model follows each group's interval and thresholds on the
// endpoint's [Clock], which tests replace with a [ManualClock];
// [Server.FailTarget] and [Server.RecoverTarget] steer it. [Faults]
// injects seeded errors and latency; the request log ([Server.Requests],
// [Server.MutatingRequests]) lets a test assert which calls its code made.
// With Options.StateFile a restarted endpoint keeps every resource.
// Validation and defaults of what the spec covers (names, tags, target
// groups and health checks, listeners, conditions, actions, attributes)
// come from package elb, so the endpoint and elb agree on what AWS accepts.
// The program examples/elbtest-server serves it for the AWS CLI and other
// SDKs (AWS_ENDPOINT_URL).
//
// It does not: check SigV4 signatures (any credentials are accepted),
// implement trust stores, capacity reservations, Gateway Load Balancers or
// EC2 beyond VPCs, subnets, security groups (without their rules), tags and
// availability zones. By default load balancers do not serve traffic; in
// live mode ([NewLive], passed as both Options.Live and Options.Health) they
// run through elb/local and DescribeTargetHealth reports real health
// checks — see [LiveStacks] for how a DNSName reaches them. The API is v0
// and experimental.
package elbtest
