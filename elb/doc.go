// Package elb is the typed model of AWS Elastic Load Balancing v2:
// Application and Network Load Balancers, their listeners, rules
// (conditions and actions), target groups, health checks, attributes,
// targets and tags — with AWS's defaults, AWS's validation rules and error
// wording, and ALB's rule evaluation.
//
// One [Stack] describes what should exist. The same value is provisioned in
// AWS by elb/provision, served on this machine by elb/local, produced from
// Kubernetes manifests by elb/kube and stored by the ELBv2 endpoint of
// elb/elbtest. The package is pure: it imports only the standard library, does
// no I/O and knows nothing of the AWS SDK.
//
// # Typical usage
//
//	s := &elb.Stack{}
//	web := s.AddTargetGroup(elb.NewTargetGroup("web", elb.ProtocolHTTP, 80, elb.TargetTypeIP))
//	web.VPCID = "vpc-1"
//	alb := s.AddLoadBalancer(elb.NewApplicationLoadBalancer("demo"))
//	alb.Subnets = []string{"subnet-a", "subnet-b"}
//	l := alb.AddListener(elb.ProtocolHTTP, 80, elb.FixedResponse(404, elb.ContentTypeTextPlain, "no route"))
//	l.AddRule(10, elb.Forward(web), elb.PathPattern("/*"))
//
//	s.Defaults()                        // fill in what AWS would fill in
//	if err := s.Validate(); err != nil { // every problem, with field paths
//		var errs elb.Errors
//		errors.As(err, &errs)
//	}
//	router, _ := elb.NewRouter(l)
//	m := router.Route(&elb.Request{Method: "GET", Host: "example.com", Path: "/"})
//	_ = m.Action() // forward to "web"
//
// # Steps are explicit
//
// Building, [Stack.Defaults], [Stack.Validate] and [Lint] are separate calls.
// Defaults writes AWS's value into every field left at its zero value, so two
// stacks that AWS would treat the same compare equal (reflect.DeepEqual, or
// their JSON) after Defaults. Validate never modifies its input and reports
// every problem it finds at once, each as an [*Error] with a field path, the
// AWS error code (ValidationError, IncompatibleProtocols, PriorityInUse, …)
// and AWS's message where a public source shows AWS's wording. Smaller
// validators (ValidateLoadBalancerName, ValidateTargetGroup, ValidateRule,
// ValidateHealthCheck, ValidateTarget, ValidateTags, …) serve an API server
// that validates one request at a time, and the typed attribute structs
// convert to and from the API's key/value attributes
// (ApplyLoadBalancerAttributes, ApplyTargetGroupAttributes,
// ApplyListenerAttributes, with ModifyXxxAttributes' checks).
//
// # Lint
//
// [Lint] reports what AWS accepts but is almost certainly a mistake: rules
// shadowed by a rule of higher precedence, duplicate priorities, target
// groups no reachable action sends traffic to, quotas nearly used up.
//
// # References by name
//
// Actions refer to target groups by name (or by ARN, for code that stores
// resources by ARN); the builders take a [*TargetGroup], so a typo cannot
// compile. [Stack.Validate] reports a reference to a missing target group
// (TargetGroupNotFound) and a target group used by two load balancers
// (TargetGroupAssociationLimit).
//
// # Rule evaluation
//
// [NewRouter] compiles a listener's rules; [Router.Route] evaluates a
// [Request] with ALB's semantics (ascending priority, default actions last,
// conditions ANDed, values ORed, per-field case rules, `*` and `?`
// wildcards) without allocating. It is the routing hook of elb/local:
// [Request] is a plain struct a data plane fills from what it parsed, and
// [Router.RouteHTTP] takes an *http.Request. [ForwardConfig.Pick] chooses
// among a forward's weighted target groups.
//
// # Serialization
//
// The JSON form ([Marshal], [Unmarshal]) uses the field names of the Go types
// in lowerCamelCase and is meant to be written by hand; Unmarshal rejects
// unknown fields and trailing data. YAML lives in the sub-package
// elb/elbyaml so that this package keeps no dependency beyond the standard
// library.
//
// # What it does not do
//
// It does not talk to AWS (elb/provision does), serve traffic (elb/local
// does), pick a target within a target group (package balancer does) or
// run health checks (package healthcheck does). Gateway Load Balancers, trust
// stores, mutual TLS and rule transforms are not modelled. The API is v0 and
// experimental: names are stable, fields may be added.
package elb
