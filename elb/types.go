package elb

// Stack is a set of load balancers and the target groups their actions
// forward to. It is the unit that elb/provision reconciles, elb/local runs
// and elb/kube produces.
type Stack struct {
	// LoadBalancers are the stack's load balancers, each with its
	// listeners and rules.
	LoadBalancers []*LoadBalancer `json:"loadBalancers,omitempty"`
	// TargetGroups are the stack's target groups. Actions refer to them by
	// Name (or ARN). AWS lets a target group serve one load balancer only.
	TargetGroups []*TargetGroup `json:"targetGroups,omitempty"`
}

// LoadBalancerType is the kind of load balancer: application (ALB, layer 7)
// or network (NLB, layer 4). AWS's API values.
type LoadBalancerType string

// Load balancer types.
const (
	LoadBalancerTypeApplication LoadBalancerType = "application"
	LoadBalancerTypeNetwork     LoadBalancerType = "network"
)

// Scheme says whether a load balancer has public addresses.
type Scheme string

// Schemes. AWS's default is internet-facing.
const (
	SchemeInternetFacing Scheme = "internet-facing"
	SchemeInternal       Scheme = "internal"
)

// IPAddressType is the address family of a load balancer or target group.
type IPAddressType string

// IP address types. Load balancers take ipv4, dualstack and
// dualstack-without-public-ipv4 (ALB only); target groups take ipv4 and ipv6.
const (
	IPAddressTypeIPv4                       IPAddressType = "ipv4"
	IPAddressTypeIPv6                       IPAddressType = "ipv6"
	IPAddressTypeDualstack                  IPAddressType = "dualstack"
	IPAddressTypeDualstackWithoutPublicIPv4 IPAddressType = "dualstack-without-public-ipv4"
)

// Tags are AWS resource tags: at most 50 per resource, keys 1–128 and values
// 0–256 characters. A map, because AWS treats tags as a set keyed by Key.
type Tags map[string]string

// Subnet tags that select subnets for load balancers the way the AWS Load
// Balancer Controller does.
const (
	// TagRoleELB marks public subnets for internet-facing load balancers.
	TagRoleELB = "kubernetes.io/role/elb"
	// TagRoleInternalELB marks private subnets for internal load balancers.
	TagRoleInternalELB = "kubernetes.io/role/internal-elb"
)

// LoadBalancer is an Application or Network Load Balancer.
type LoadBalancer struct {
	// Name is 1–32 alphanumerics and hyphens, neither first nor last, and
	// does not begin with "internal-". It is unique per account and region.
	Name string `json:"name"`
	// ARN is set by code that stores load balancers by ARN (elb/provision,
	// elb/elbtest); a desired spec leaves it empty.
	ARN string `json:"arn,omitempty"`
	// Type is application or network. Defaults: application.
	Type LoadBalancerType `json:"type,omitempty"`
	// Scheme defaults to internet-facing.
	Scheme Scheme `json:"scheme,omitempty"`
	// IPAddressType defaults to ipv4.
	IPAddressType IPAddressType `json:"ipAddressType,omitempty"`
	// Subnets are subnet IDs, one per Availability Zone; an ALB needs two
	// zones at least. Exactly one of Subnets, SubnetMappings and
	// SubnetSelector is set.
	Subnets []string `json:"subnets,omitempty"`
	// SubnetMappings are subnets with an Elastic IP or private address
	// each (NLB).
	SubnetMappings []SubnetMapping `json:"subnetMappings,omitempty"`
	// SubnetSelector picks subnets by tag when the load balancer is
	// provisioned, as the AWS Load Balancer Controller does.
	SubnetSelector *SubnetSelector `json:"subnetSelector,omitempty"`
	// SecurityGroups are security group IDs (ALB; optional for NLB).
	SecurityGroups []string `json:"securityGroups,omitempty"`
	// Attributes are the load balancer's attributes; zero values mean
	// AWS's defaults (see Defaults).
	Attributes LoadBalancerAttributes `json:"attributes,omitzero"`
	// Listeners are the load balancer's listeners, at most 50.
	Listeners []*Listener `json:"listeners,omitempty"`
	// Tags are the load balancer's tags.
	Tags Tags `json:"tags,omitempty"`
}

// SubnetMapping is a subnet with optional fixed addresses.
type SubnetMapping struct {
	SubnetID string `json:"subnetId"`
	// AllocationID is an Elastic IP allocation (internet-facing NLB).
	AllocationID string `json:"allocationId,omitempty"`
	// PrivateIPv4Address is a fixed private address (internal NLB).
	PrivateIPv4Address string `json:"privateIPv4Address,omitempty"`
	// IPv6Address is a fixed IPv6 address (dualstack NLB).
	IPv6Address string `json:"ipv6Address,omitempty"`
}

// SubnetSelector selects the subnets whose tags include all of Tags (a tag
// with an empty value matches any value), one per Availability Zone.
type SubnetSelector struct {
	Tags Tags `json:"tags"`
}

// XFFHeaderProcessingMode is what an ALB does with X-Forwarded-For.
type XFFHeaderProcessingMode string

// X-Forwarded-For modes (routing.http.xff_header_processing.mode).
const (
	XFFAppend   XFFHeaderProcessingMode = "append"
	XFFPreserve XFFHeaderProcessingMode = "preserve"
	XFFRemove   XFFHeaderProcessingMode = "remove"
)

// DesyncMitigationMode is how an ALB treats requests that may cause HTTP
// desync (routing.http.desync_mitigation_mode).
type DesyncMitigationMode string

// Desync mitigation modes.
const (
	DesyncMonitor   DesyncMitigationMode = "monitor"
	DesyncDefensive DesyncMitigationMode = "defensive"
	DesyncStrictest DesyncMitigationMode = "strictest"
)

// LoadBalancerAttributes are the typed load balancer attributes. A zero
// field means "AWS's default"; Defaults writes the default in. Pointers
// are used where the default is not the zero value.
type LoadBalancerAttributes struct {
	// DeletionProtection (deletion_protection.enabled), default false.
	DeletionProtection bool `json:"deletionProtection,omitempty"`
	// IdleTimeoutSeconds (idle_timeout.timeout_seconds, ALB), 1–4000,
	// default 60.
	IdleTimeoutSeconds int `json:"idleTimeoutSeconds,omitempty"`
	// HTTP2 (routing.http2.enabled, ALB), default true.
	HTTP2 *bool `json:"http2,omitempty"`
	// XFFHeaderProcessingMode (ALB), default append.
	XFFHeaderProcessingMode XFFHeaderProcessingMode `json:"xffHeaderProcessingMode,omitempty"`
	// DesyncMitigationMode (ALB), default defensive.
	DesyncMitigationMode DesyncMitigationMode `json:"desyncMitigationMode,omitempty"`
	// DropInvalidHeaderFields (routing.http.drop_invalid_header_fields.enabled, ALB).
	DropInvalidHeaderFields bool `json:"dropInvalidHeaderFields,omitempty"`
	// PreserveHostHeader (routing.http.preserve_host_header.enabled, ALB).
	PreserveHostHeader bool `json:"preserveHostHeader,omitempty"`
	// ClientKeepAliveSeconds (client_keep_alive.seconds, ALB), 60–604800,
	// default 3600.
	ClientKeepAliveSeconds int `json:"clientKeepAliveSeconds,omitempty"`
	// CrossZone (load_balancing.cross_zone.enabled): always true on an ALB
	// (AWS does not let it be turned off), default false on an NLB.
	CrossZone *bool `json:"crossZone,omitempty"`
	// AccessLogs (access_logs.s3.*).
	AccessLogs AccessLogs `json:"accessLogs,omitzero"`
	// WAFFailOpen (waf.fail_open.enabled, ALB).
	WAFFailOpen bool `json:"wafFailOpen,omitempty"`
}

// AccessLogs is where a load balancer writes access logs.
type AccessLogs struct {
	Enabled bool   `json:"enabled,omitempty"`
	Bucket  string `json:"bucket,omitempty"`
	Prefix  string `json:"prefix,omitempty"`
}

// Protocol is a listener, target group or health check protocol.
type Protocol string

// Protocols. ALB listeners and target groups take HTTP and HTTPS; NLB ones
// take TCP, TLS, UDP and TCP_UDP; health checks take HTTP, HTTPS and TCP.
const (
	ProtocolHTTP   Protocol = "HTTP"
	ProtocolHTTPS  Protocol = "HTTPS"
	ProtocolTCP    Protocol = "TCP"
	ProtocolTLS    Protocol = "TLS"
	ProtocolUDP    Protocol = "UDP"
	ProtocolTCPUDP Protocol = "TCP_UDP"
)

// ALPNPolicy is a TLS listener's ALPN policy (NLB).
type ALPNPolicy string

// ALPN policies.
const (
	ALPNHTTP1Only      ALPNPolicy = "HTTP1Only"
	ALPNHTTP2Only      ALPNPolicy = "HTTP2Only"
	ALPNHTTP2Optional  ALPNPolicy = "HTTP2Optional"
	ALPNHTTP2Preferred ALPNPolicy = "HTTP2Preferred"
	ALPNNone           ALPNPolicy = "None"
)

// DefaultSSLPolicy is the policy AWS gives a new HTTPS or TLS listener that
// names none.
const DefaultSSLPolicy = "ELBSecurityPolicy-2016-08"

// Listener accepts connections on a port of its load balancer.
type Listener struct {
	// Port is 1–65535 and unique per load balancer (per protocol family
	// for UDP on an NLB).
	Port int `json:"port"`
	// Protocol is HTTP or HTTPS on an ALB; TCP, TLS, UDP or TCP_UDP on an
	// NLB. Defaults: HTTP on an ALB, TCP on an NLB.
	Protocol Protocol `json:"protocol,omitempty"`
	// Certificates are ACM/IAM certificate ARNs (HTTPS, TLS); the first is
	// the default certificate. At most 25.
	Certificates []string `json:"certificates,omitempty"`
	// SSLPolicy is the TLS negotiation policy (HTTPS, TLS); defaults to
	// DefaultSSLPolicy.
	SSLPolicy string `json:"sslPolicy,omitempty"`
	// ALPNPolicy is the ALPN policy of a TLS listener.
	ALPNPolicy ALPNPolicy `json:"alpnPolicy,omitempty"`
	// DefaultActions run when no rule matches: optional authenticate
	// actions, then one terminal action (forward, redirect,
	// fixed-response).
	DefaultActions []Action `json:"defaultActions"`
	// Rules are the listener's rules (ALB only), at most 100 per load
	// balancer, evaluated in ascending Priority.
	Rules []*Rule `json:"rules,omitempty"`
	// Attributes are the listener's attributes.
	Attributes ListenerAttributes `json:"attributes,omitzero"`
	// Tags are the listener's tags.
	Tags Tags `json:"tags,omitempty"`
}

// ListenerAttributes are the typed listener attributes.
type ListenerAttributes struct {
	// TCPIdleTimeoutSeconds (tcp.idle_timeout.seconds, NLB TCP
	// listeners), 60–6000, default 350.
	TCPIdleTimeoutSeconds int `json:"tcpIdleTimeoutSeconds,omitempty"`
}

// Rule routes the requests that match all its Conditions to its Actions.
type Rule struct {
	// Priority is 1–50000, unique per listener; lower is evaluated first.
	Priority int `json:"priority"`
	// Conditions must all match (AND); within one condition any value may
	// match (OR). A rule has 1–5 condition values in total.
	Conditions []Condition `json:"conditions"`
	// Actions are optional authenticate actions followed by exactly one
	// terminal action.
	Actions []Action `json:"actions"`
	// Tags are the rule's tags.
	Tags Tags `json:"tags,omitempty"`
}

// ConditionField is the kind of a rule condition. AWS's API values.
type ConditionField string

// Condition fields.
const (
	FieldHostHeader        ConditionField = "host-header"
	FieldPathPattern       ConditionField = "path-pattern"
	FieldHTTPHeader        ConditionField = "http-header"
	FieldHTTPRequestMethod ConditionField = "http-request-method"
	FieldQueryString       ConditionField = "query-string"
	FieldSourceIP          ConditionField = "source-ip"
)

// Condition is one condition of a rule. Which fields apply depends on
// Field: Values for every field but query-string; HTTPHeaderName for
// http-header; QueryStrings for query-string. Build conditions with
// HostHeader, PathPattern, HTTPHeader, HTTPRequestMethod, QueryString and
// SourceIP.
type Condition struct {
	Field ConditionField `json:"field"`
	// HTTPHeaderName is the header an http-header condition reads
	// (case-insensitive, not Host, at most 40 characters).
	HTTPHeaderName string `json:"httpHeaderName,omitempty"`
	// Values are host patterns, path patterns, header value patterns,
	// methods or CIDR blocks; any one may match.
	Values []string `json:"values,omitempty"`
	// QueryStrings are the key/value patterns of a query-string
	// condition; any one may match.
	QueryStrings []QueryStringKeyValue `json:"queryStrings,omitempty"`
}

// QueryStringKeyValue is one query-string pattern. An empty Key matches any
// key. Both are case-insensitive and take `*` and `?`; `\*`, `\?` and `\\`
// stand for the literal characters.
type QueryStringKeyValue struct {
	Key   string `json:"key,omitempty"`
	Value string `json:"value"`
}

// ActionType is the kind of an action. AWS's API values.
type ActionType string

// Action types. forward, redirect and fixed-response are terminal.
const (
	ActionForward             ActionType = "forward"
	ActionRedirect            ActionType = "redirect"
	ActionFixedResponse       ActionType = "fixed-response"
	ActionAuthenticateOIDC    ActionType = "authenticate-oidc"
	ActionAuthenticateCognito ActionType = "authenticate-cognito"
)

// Action is what a rule or a listener's default does with a request. The
// config matching Type is set, the others are nil. Build actions with
// Forward, WeightedForward, Redirect, FixedResponse, AuthenticateOIDC and
// AuthenticateCognito.
type Action struct {
	Type ActionType `json:"type"`
	// Order is 1–50000; actions run in ascending Order. Defaults sets it
	// to the action's position (1, 2, …) when no action has one.
	Order int `json:"order,omitempty"`
	// Forward sends the request to one or more weighted target groups.
	Forward *ForwardConfig `json:"forward,omitempty"`
	// Redirect answers with an HTTP redirect.
	Redirect *RedirectConfig `json:"redirect,omitempty"`
	// FixedResponse answers with a fixed status, content type and body.
	FixedResponse *FixedResponseConfig `json:"fixedResponse,omitempty"`
	// AuthenticateOIDC authenticates the user with an OIDC provider.
	AuthenticateOIDC *AuthenticateOIDCConfig `json:"authenticateOIDC,omitempty"`
	// AuthenticateCognito authenticates the user with a Cognito user pool.
	AuthenticateCognito *AuthenticateCognitoConfig `json:"authenticateCognito,omitempty"`
}

// ForwardConfig is a forward action: 1–5 target groups with weights.
type ForwardConfig struct {
	TargetGroups []TargetGroupTuple `json:"targetGroups"`
	// Stickiness keeps a client on the target group it was first sent to
	// (ALB, weighted forwards).
	Stickiness *GroupStickiness `json:"stickiness,omitempty"`
}

// TargetGroupTuple is one weighted target group of a forward.
type TargetGroupTuple struct {
	// TargetGroup is the Name of a target group in the same Stack, or its
	// ARN.
	TargetGroup string `json:"targetGroup"`
	// Weight is 0–999; nil means 1 (AWS's default for a lone target
	// group). A weight of 0 sends no traffic.
	Weight *int `json:"weight,omitempty"`
}

// GroupStickiness is target-group stickiness of a weighted forward.
type GroupStickiness struct {
	Enabled bool `json:"enabled"`
	// DurationSeconds is 1–604800 when Enabled.
	DurationSeconds int `json:"durationSeconds,omitempty"`
}

// RedirectStatus is a redirect's HTTP status.
type RedirectStatus string

// Redirect statuses.
const (
	RedirectPermanent RedirectStatus = "HTTP_301"
	RedirectFound     RedirectStatus = "HTTP_302"
)

// RedirectConfig is a redirect action. Each component may use the
// placeholders #{protocol}, #{host}, #{port}, #{path} and #{query}; an empty
// component keeps the request's (Defaults writes the placeholder in).
type RedirectConfig struct {
	Protocol string `json:"protocol,omitempty"` // HTTP, HTTPS or #{protocol}
	Host     string `json:"host,omitempty"`
	Port     string `json:"port,omitempty"`
	Path     string `json:"path,omitempty"` // starts with "/"
	Query    string `json:"query,omitempty"`
	// StatusCode is HTTP_301 or HTTP_302.
	StatusCode RedirectStatus `json:"statusCode"`
}

// Content types a fixed response may have.
const (
	ContentTypeTextPlain  = "text/plain"
	ContentTypeTextCSS    = "text/css"
	ContentTypeTextHTML   = "text/html"
	ContentTypeJavaScript = "application/javascript"
	ContentTypeJSON       = "application/json"
)

// FixedResponseConfig is a fixed-response action.
type FixedResponseConfig struct {
	// StatusCode is 2XX, 4XX or 5XX, as a string as in AWS's API.
	StatusCode string `json:"statusCode"`
	// ContentType is one of the ContentType constants, or empty.
	ContentType string `json:"contentType,omitempty"`
	// MessageBody is at most 1024 characters.
	MessageBody string `json:"messageBody,omitempty"`
}

// OnUnauthenticatedRequest is what an authenticate action does with a
// request that carries no session.
type OnUnauthenticatedRequest string

// Behaviours for unauthenticated requests. Default: authenticate.
const (
	UnauthenticatedDeny         OnUnauthenticatedRequest = "deny"
	UnauthenticatedAllow        OnUnauthenticatedRequest = "allow"
	UnauthenticatedAuthenticate OnUnauthenticatedRequest = "authenticate"
)

// AuthSession holds the session settings common to both authenticate
// actions.
type AuthSession struct {
	// SessionCookieName defaults to AWSELBAuthSessionCookie.
	SessionCookieName string `json:"sessionCookieName,omitempty"`
	// Scope defaults to "openid".
	Scope string `json:"scope,omitempty"`
	// SessionTimeoutSeconds defaults to 604800 (7 days).
	SessionTimeoutSeconds int64 `json:"sessionTimeoutSeconds,omitempty"`
	// AuthenticationRequestExtraParams are up to 10 extra query
	// parameters for the authorization endpoint.
	AuthenticationRequestExtraParams map[string]string `json:"authenticationRequestExtraParams,omitempty"`
	// OnUnauthenticatedRequest defaults to authenticate.
	OnUnauthenticatedRequest OnUnauthenticatedRequest `json:"onUnauthenticatedRequest,omitempty"`
}

// AuthenticateOIDCConfig is an authenticate-oidc action (ALB, HTTPS
// listeners). It is modelled and validated; elb/local does not run it.
type AuthenticateOIDCConfig struct {
	Issuer                  string `json:"issuer"`
	AuthorizationEndpoint   string `json:"authorizationEndpoint"`
	TokenEndpoint           string `json:"tokenEndpoint"`
	UserInfoEndpoint        string `json:"userInfoEndpoint"`
	ClientID                string `json:"clientId"`
	ClientSecret            string `json:"clientSecret,omitempty"`
	UseExistingClientSecret bool   `json:"useExistingClientSecret,omitempty"`
	AuthSession
}

// AuthenticateCognitoConfig is an authenticate-cognito action (ALB, HTTPS
// listeners). It is modelled and validated; elb/local does not run it.
type AuthenticateCognitoConfig struct {
	UserPoolARN      string `json:"userPoolArn"`
	UserPoolClientID string `json:"userPoolClientId"`
	UserPoolDomain   string `json:"userPoolDomain"`
	AuthSession
}

// ProtocolVersion is the HTTP version an ALB uses towards targets.
type ProtocolVersion string

// Protocol versions (HTTP and HTTPS target groups). Default HTTP1.
const (
	ProtocolVersionHTTP1 ProtocolVersion = "HTTP1"
	ProtocolVersionHTTP2 ProtocolVersion = "HTTP2"
	ProtocolVersionGRPC  ProtocolVersion = "GRPC"
)

// TargetType is what a target group's targets are.
type TargetType string

// Target types. Default instance.
const (
	TargetTypeInstance TargetType = "instance"
	TargetTypeIP       TargetType = "ip"
	TargetTypeLambda   TargetType = "lambda"
	TargetTypeALB      TargetType = "alb"
)

// TargetGroup is a set of targets with a protocol, a port and a health
// check.
type TargetGroup struct {
	// Name follows the load balancer name rules (1–32 alphanumerics and
	// hyphens, neither first nor last) and is unique per account and
	// region.
	Name string `json:"name"`
	// ARN is set by code that stores target groups by ARN; actions may
	// refer to a target group by it.
	ARN string `json:"arn,omitempty"`
	// Protocol is HTTP or HTTPS for an ALB; TCP, TLS, UDP or TCP_UDP for
	// an NLB; empty for lambda.
	Protocol Protocol `json:"protocol,omitempty"`
	// ProtocolVersion is HTTP1, HTTP2 or GRPC (HTTP and HTTPS only).
	ProtocolVersion ProtocolVersion `json:"protocolVersion,omitempty"`
	// Port is the targets' default port, 1–65535 (not for lambda).
	Port int `json:"port,omitempty"`
	// TargetType defaults to instance.
	TargetType TargetType `json:"targetType,omitempty"`
	// VPCID is the VPC of the targets (not for lambda).
	VPCID string `json:"vpcId,omitempty"`
	// IPAddressType is ipv4 or ipv6 (ip targets); default ipv4.
	IPAddressType IPAddressType `json:"ipAddressType,omitempty"`
	// HealthCheck is the group's health check.
	HealthCheck HealthCheck `json:"healthCheck,omitzero"`
	// Attributes are the group's attributes.
	Attributes TargetGroupAttributes `json:"attributes,omitzero"`
	// Targets are the registered targets, at most 1000 (1 for lambda).
	Targets []Target `json:"targets,omitempty"`
	// Tags are the target group's tags.
	Tags Tags `json:"tags,omitempty"`
}

// TrafficPort is the health check port meaning "the port each target
// receives traffic on".
const TrafficPort = "traffic-port"

// HealthCheck is a target group's health check. Zero fields mean AWS's
// defaults for the target group's protocol and target type (see Defaults).
type HealthCheck struct {
	// Enabled defaults to true, false for lambda target groups.
	Enabled *bool `json:"enabled,omitempty"`
	// Protocol is HTTP, HTTPS or TCP (TCP only for NLB target groups).
	Protocol Protocol `json:"protocol,omitempty"`
	// Port is TrafficPort or a port number 1–65535.
	Port string `json:"port,omitempty"`
	// Path is the HTTP(S) path (or gRPC method path), default "/" (for
	// GRPC "/AWS.ALB/healthcheck").
	Path string `json:"path,omitempty"`
	// IntervalSeconds is 5–300.
	IntervalSeconds int `json:"intervalSeconds,omitempty"`
	// TimeoutSeconds is 2–120 and smaller than IntervalSeconds.
	TimeoutSeconds int `json:"timeoutSeconds,omitempty"`
	// HealthyThreshold is 2–10 consecutive successes.
	HealthyThreshold int `json:"healthyThreshold,omitempty"`
	// UnhealthyThreshold is 2–10 consecutive failures.
	UnhealthyThreshold int `json:"unhealthyThreshold,omitempty"`
	// Matcher is the successful response codes.
	Matcher Matcher `json:"matcher,omitzero"`
}

// Matcher is a health check's success codes: HTTP codes such as "200",
// "200,202" or "200-299"; gRPC codes such as "0" or "0-99".
type Matcher struct {
	HTTPCode string `json:"httpCode,omitempty"`
	GRPCCode string `json:"grpcCode,omitempty"`
}

// StickinessType is a target group's stickiness kind.
type StickinessType string

// Stickiness types: lb_cookie and app_cookie on ALB target groups,
// source_ip on NLB target groups.
const (
	StickinessLBCookie  StickinessType = "lb_cookie"
	StickinessAppCookie StickinessType = "app_cookie"
	StickinessSourceIP  StickinessType = "source_ip"
)

// Algorithm is an ALB target group's load balancing algorithm.
type Algorithm string

// Algorithms (load_balancing.algorithm.type). Default round_robin.
const (
	AlgorithmRoundRobin               Algorithm = "round_robin"
	AlgorithmLeastOutstandingRequests Algorithm = "least_outstanding_requests"
	AlgorithmWeightedRandom           Algorithm = "weighted_random"
)

// CrossZoneMode is a target group's cross-zone setting.
type CrossZoneMode string

// Cross-zone modes (load_balancing.cross_zone.enabled).
const (
	CrossZoneOn           CrossZoneMode = "true"
	CrossZoneOff          CrossZoneMode = "false"
	CrossZoneLoadBalancer CrossZoneMode = "use_load_balancer_configuration"
)

// TargetGroupAttributes are the typed target group attributes. A zero field
// means AWS's default; pointers where the default is not the zero value.
type TargetGroupAttributes struct {
	// DeregistrationDelaySeconds (deregistration_delay.timeout_seconds),
	// 0–3600, default 300.
	DeregistrationDelaySeconds *int `json:"deregistrationDelaySeconds,omitempty"`
	// ConnectionTermination (deregistration_delay.connection_termination.enabled,
	// NLB): close connections when the delay ends.
	ConnectionTermination bool `json:"connectionTermination,omitempty"`
	// Stickiness (stickiness.*).
	Stickiness Stickiness `json:"stickiness,omitzero"`
	// Algorithm (ALB), default round_robin.
	Algorithm Algorithm `json:"algorithm,omitempty"`
	// SlowStartSeconds (slow_start.duration_seconds, ALB): 0 (off) or
	// 30–900; not with weighted_random.
	SlowStartSeconds int `json:"slowStartSeconds,omitempty"`
	// CrossZone, default use_load_balancer_configuration.
	CrossZone CrossZoneMode `json:"crossZone,omitempty"`
	// ProxyProtocolV2 (proxy_protocol_v2.enabled, NLB).
	ProxyProtocolV2 bool `json:"proxyProtocolV2,omitempty"`
	// PreserveClientIP (preserve_client_ip.enabled, NLB): default false
	// for ip targets over TCP or TLS, true otherwise.
	PreserveClientIP *bool `json:"preserveClientIP,omitempty"`
}

// Stickiness binds a client to a target.
type Stickiness struct {
	Enabled bool `json:"enabled,omitempty"`
	// Type defaults to lb_cookie on ALB target groups, source_ip on NLB
	// target groups.
	Type StickinessType `json:"type,omitempty"`
	// LBCookieDurationSeconds is 1–604800, default 86400.
	LBCookieDurationSeconds int `json:"lbCookieDurationSeconds,omitempty"`
	// AppCookieName is the application's cookie (app_cookie); it may not
	// begin with AWSALB, AWSALBAPP or AWSALBTG.
	AppCookieName string `json:"appCookieName,omitempty"`
	// AppCookieDurationSeconds is 1–604800, default 86400.
	AppCookieDurationSeconds int `json:"appCookieDurationSeconds,omitempty"`
}

// Target is one registered target: an instance ID, an IP address, a Lambda
// function ARN or an ALB ARN.
type Target struct {
	ID string `json:"id"`
	// Port overrides the target group's port (not for lambda or alb).
	Port int `json:"port,omitempty"`
	// AvailabilityZone is "all" for IP targets outside the VPC.
	AvailabilityZone string `json:"availabilityZone,omitempty"`
}
