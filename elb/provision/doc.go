// Package provision reconciles an elb.Stack with AWS Elastic Load
// Balancing through aws-sdk-go-v2: it plans, applies and deletes load
// balancers, listeners, rules, target groups and targets.
//
// It fixes what users of the AWS Load Balancer Controller run into: only
// resources carrying the stack's ownership tags (TagStack, TagResource)
// are changed or deleted — a rule someone else added to an owned listener
// is left alone, and adopting an untagged resource is explicit
// (Options.Adopt); attribute keys removed from the spec go back to AWS's
// defaults unless listed in Options.UnmanagedAttributes; Plan is a real
// dry run (read calls only) printable as a table or JSON; Drift is the
// same comparison for a timer; every call is rate limited per operation
// and retried on throttling and 5xx with exponential backoff and jitter;
// targets are registered by diff in batches; Rollout registers new targets
// and waits for them to be healthy before deregistering old ones.
//
// # Typical usage
//
//	p, err := provision.NewFromConfig(cfg, "shop", func(o *provision.Options) {
//		o.Progress = func(ev provision.Progress) { log.Println(ev.Message) }
//	})
//	plan, err := p.Plan(ctx, stack) // read-only
//	fmt.Print(plan)                  // a table: op, resource, id, fields, reason
//	res, err := p.ApplyPlan(ctx, plan)
//	err = p.WaitActive(ctx, stack, 10*time.Minute)
//	...
//	_, err = p.Delete(ctx) // everything tagged with the stack
//
// # Model → plan → apply
//
// Plan defaults and validates a copy of the stack, reads AWS (one page per
// resource type, tags in batches of 20), and returns typed [Op]s: create,
// update (with the fields that differ), replace (an immutable field
// changed: protocol, port, target type, VPC of a target group; type or
// scheme of a load balancer), delete, adopt, register and deregister, each
// with a reason and a Disruptive flag. ApplyPlan runs them phase by phase:
// target groups, their targets, load balancers, listeners, rules, then
// deletions in reverse. A replaced target group is created under a
// derived name before listeners move to it and the old one is deleted
// (create before delete); a replaced load balancer is deleted first,
// because its name must be free, and is marked Disruptive.
//
// Subnets: a load balancer without Subnets or SubnetMappings gets one
// subnet per availability zone among those tagged kubernetes.io/role/elb
// (internal: kubernetes.io/role/internal-elb) or matching its
// SubnetSelector, optionally restricted to Options.ClusterName; an ALB
// needs two zones ([ErrSubnets]). Target groups without a VPC go to
// Options.VPCID or the default VPC.
//
// # What it does not do
//
// It does not manage security groups, certificates beyond a listener's
// default certificate (extra SNI certificates are not reconciled), WAF,
// Shield or Route 53 records; it does not wait between phases for a new
// load balancer to become active (AWS accepts listeners on a provisioning
// load balancer) — call WaitActive. Apply calls for one stack must not
// run concurrently. The API is v0 and experimental.
package provision
