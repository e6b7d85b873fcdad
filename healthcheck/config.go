package healthcheck

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Protocol is the protocol a health check speaks.
type Protocol string

// The health check protocols.
const (
	// HTTP sends GET Path and matches the status code against Matcher.
	HTTP Protocol = "HTTP"
	// HTTPS is HTTP over TLS; the target's certificate is not verified,
	// as ELB does not verify it.
	HTTPS Protocol = "HTTPS"
	// TCP succeeds when a connection is established.
	TCP Protocol = "TCP"
	// GRPC calls grpc.health.v1.Health/Check and matches the gRPC status
	// code against Matcher (ALB's GrpcCode matcher; "12" by default, since
	// an unimplemented health service still proves the server is up).
	// In AWS terms this is an HTTP/HTTPS health check of a target group
	// whose ProtocolVersion is GRPC; here it is in cleartext (h2c) unless
	// TLS is set on the checker.
	GRPC Protocol = "GRPC"
)

// Config is one target group's health check settings, with ELBv2's names
// and ranges. Start from [DefaultConfig] or [DefaultNLBConfig] and change
// fields; the zero Config is not valid.
type Config struct {
	// Protocol of the check.
	Protocol Protocol
	// Port overrides the port of each target's traffic address; 0 means
	// the traffic port ("traffic-port" in AWS).
	Port int
	// Path of the HTTP/HTTPS request, starting with "/". For GRPC it is
	// the service name sent in HealthCheckRequest (empty: the whole
	// server), since AWS puts the gRPC service path there too.
	Path string
	// Host is the Host header (HTTP/HTTPS) or :authority (GRPC) to send;
	// empty means the target's address. lbkit extension.
	Host string
	// Matcher lists the successful codes: "200", "200,202", "200-299" (or
	// a mix of both, an lbkit superset). HTTP codes must lie in 200–599,
	// gRPC codes in 0–99. TCP ignores it.
	Matcher string
	// Interval between two checks of one target (5 s – 300 s).
	Interval time.Duration
	// Timeout of one check (2 s – 120 s); for HTTP, HTTPS and GRPC it
	// must be smaller than Interval.
	Timeout time.Duration
	// HealthyThreshold is the number of consecutive successes that make an
	// unhealthy target healthy (2–10). A newly registered target needs one.
	HealthyThreshold int
	// UnhealthyThreshold is the number of consecutive failures that make a
	// target unhealthy (2–10).
	UnhealthyThreshold int
	// Disabled turns health checks off (HealthCheckEnabled=false): targets
	// are unavailable, not checked, and receive traffic.
	Disabled bool
	// DeregistrationDelay is how long a deregistered target drains before
	// it is removed (0 s – 3600 s); it ends early when no requests are in
	// flight (see [Monitor.Drained]).
	DeregistrationDelay time.Duration
	// KeepUnhealthyConnections is NLB's
	// target_health_state.unhealthy.connection_termination.enabled = false
	// (inverted so that the zero value is AWS's default, true): the load
	// balancer keeps a target's established connections when it turns
	// unhealthy instead of terminating them. With an UnhealthyDrainingInterval,
	// a healthy target that fails goes to unhealthy.draining first.
	KeepUnhealthyConnections bool
	// UnhealthyDrainingInterval is NLB's
	// target_health_state.unhealthy.draining_interval_seconds (0 s –
	// 360000 s, default 0): how long a target that turned unhealthy stays
	// unhealthy.draining — no new connections, established ones kept, still
	// checked, back to healthy after HealthyThreshold successes — before it
	// becomes unhealthy (and the load balancer terminates its connections).
	// AWS accepts a non-zero value only with KeepUnhealthyConnections. A
	// change applies to targets that turn unhealthy afterwards.
	UnhealthyDrainingInterval time.Duration
}

// AWS ranges (CreateTargetGroup, ModifyTargetGroup and
// ModifyTargetGroupAttributes).
const (
	MinInterval            = 5 * time.Second
	MaxInterval            = 300 * time.Second
	MinTimeout             = 2 * time.Second
	MaxTimeout             = 120 * time.Second
	MinThreshold           = 2
	MaxThreshold           = 10
	MaxDeregistrationDelay = 3600 * time.Second
	// MaxUnhealthyDrainingInterval is
	// target_health_state.unhealthy.draining_interval_seconds' maximum. It
	// is not a [Limits] field: it bounds an attribute, not probing.
	MaxUnhealthyDrainingInterval = 360000 * time.Second
)

// DefaultDeregistrationDelay is deregistration_delay.timeout_seconds' default.
const DefaultDeregistrationDelay = 300 * time.Second

// DefaultConfig returns AWS's defaults for a health check of protocol p on
// an Application Load Balancer target group (HTTP, HTTPS, GRPC) or a
// Network Load Balancer one (TCP): interval 30 s, timeout 5 s (TCP: 10 s),
// healthy 5, unhealthy 2, matcher "200" (GRPC "12", TCP none), path "/",
// traffic port, deregistration delay 300 s.
func DefaultConfig(p Protocol) Config {
	c := Config{
		Protocol:            p,
		Interval:            30 * time.Second,
		Timeout:             5 * time.Second,
		HealthyThreshold:    5,
		UnhealthyThreshold:  2,
		DeregistrationDelay: DefaultDeregistrationDelay,
	}
	switch p {
	case HTTP, HTTPS:
		c.Path, c.Matcher = "/", "200"
	case GRPC:
		c.Path, c.Matcher = "", "12"
	case TCP:
		c.Timeout = 10 * time.Second
	}
	return c
}

// DefaultNLBConfig returns AWS's defaults for a health check of protocol p
// on a Network Load Balancer target group (TCP, TLS, UDP, TCP_UDP): interval
// 30 s, timeout 10 s (6 s for HTTP), healthy 5, unhealthy 2, matcher
// "200-399" for HTTP/HTTPS, path "/".
func DefaultNLBConfig(p Protocol) Config {
	c := DefaultConfig(p)
	switch p {
	case HTTP:
		c.Timeout, c.Matcher = 6*time.Second, "200-399"
	case HTTPS:
		c.Timeout, c.Matcher = 10*time.Second, "200-399"
	default:
		c.Timeout = 10 * time.Second
	}
	return c
}

// ErrInvalidConfig is matched (errors.Is) by every *ConfigError: the
// configuration was rejected and nothing was changed.
var ErrInvalidConfig = errors.New("healthcheck: invalid config")

// ConfigError says which field of a Config is invalid and why. Validate
// joins one per invalid field; find them with errors.As.
type ConfigError struct {
	Field  string // Config field name, e.g. "Interval"
	Value  any    // the rejected value
	Reason string // e.g. "must be between 5s and 5m0s"
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("healthcheck: invalid %s %v: %s", e.Field, e.Value, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidConfig) true.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// Limits are the ranges Validate enforces. [AWSLimits] are ELB's; an
// embedded balancer that wants, say, one-second intervals (as HAProxy or
// Envoy allow) passes its own through Options.Limits.
type Limits struct {
	MinInterval, MaxInterval time.Duration
	MinTimeout, MaxTimeout   time.Duration
	MinThreshold             int
	MaxThreshold             int
	MaxDeregistrationDelay   time.Duration
	// WholeSeconds requires Interval and Timeout in whole seconds, as the
	// AWS API (which takes seconds) does.
	WholeSeconds bool
}

// AWSLimits returns ELB's ranges: interval 5–300 s, timeout 2–120 s,
// thresholds 2–10, deregistration delay 0–3600 s, whole seconds.
func AWSLimits() Limits {
	return Limits{
		MinInterval: MinInterval, MaxInterval: MaxInterval,
		MinTimeout: MinTimeout, MaxTimeout: MaxTimeout,
		MinThreshold: MinThreshold, MaxThreshold: MaxThreshold,
		MaxDeregistrationDelay: MaxDeregistrationDelay,
		WholeSeconds:           true,
	}
}

// Validate checks c against AWS's ranges ([AWSLimits]) and returns every
// problem, each a *ConfigError, joined; nil if c is valid. A disabled
// health check still has its fields validated, as AWS does.
func (c Config) Validate() error { return c.ValidateWithin(AWSLimits()) }

// ValidateWithin is Validate with other ranges. The rules that are not
// ranges (protocol, path, matcher syntax, timeout smaller than the interval
// for HTTP, HTTPS and GRPC) always apply.
func (c Config) ValidateWithin(l Limits) error {
	var errs []error
	bad := func(field string, v any, format string, args ...any) {
		errs = append(errs, &ConfigError{Field: field, Value: v, Reason: fmt.Sprintf(format, args...)})
	}
	switch c.Protocol {
	case HTTP, HTTPS, TCP, GRPC:
	default:
		bad("Protocol", strconv.Quote(string(c.Protocol)), "must be HTTP, HTTPS, TCP or GRPC")
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("Port", c.Port, "must be 1–65535, or 0 for the traffic port")
	}
	if c.Interval < l.MinInterval || c.Interval > l.MaxInterval || c.Interval <= 0 {
		bad("Interval", c.Interval, "must be between %v and %v", l.MinInterval, l.MaxInterval)
	} else if l.WholeSeconds && c.Interval%time.Second != 0 {
		bad("Interval", c.Interval, "must be a whole number of seconds")
	}
	if c.Timeout < l.MinTimeout || c.Timeout > l.MaxTimeout || c.Timeout <= 0 {
		bad("Timeout", c.Timeout, "must be between %v and %v", l.MinTimeout, l.MaxTimeout)
	} else if l.WholeSeconds && c.Timeout%time.Second != 0 {
		bad("Timeout", c.Timeout, "must be a whole number of seconds")
	}
	if (c.Protocol == HTTP || c.Protocol == HTTPS || c.Protocol == GRPC) && c.Timeout >= c.Interval {
		// AWS: "Health check timeout '10' must be smaller than the interval '10'".
		bad("Timeout", c.Timeout, "must be smaller than the interval %v", c.Interval)
	}
	if c.HealthyThreshold < max(l.MinThreshold, 1) || c.HealthyThreshold > l.MaxThreshold {
		bad("HealthyThreshold", c.HealthyThreshold, "must be between %d and %d", max(l.MinThreshold, 1), l.MaxThreshold)
	}
	if c.UnhealthyThreshold < max(l.MinThreshold, 1) || c.UnhealthyThreshold > l.MaxThreshold {
		bad("UnhealthyThreshold", c.UnhealthyThreshold, "must be between %d and %d", max(l.MinThreshold, 1), l.MaxThreshold)
	}
	if c.DeregistrationDelay < 0 || c.DeregistrationDelay > l.MaxDeregistrationDelay {
		bad("DeregistrationDelay", c.DeregistrationDelay, "must be between 0s and %v", l.MaxDeregistrationDelay)
	}
	if c.UnhealthyDrainingInterval < 0 || c.UnhealthyDrainingInterval > MaxUnhealthyDrainingInterval {
		bad("UnhealthyDrainingInterval", c.UnhealthyDrainingInterval, "must be between 0s and %v", MaxUnhealthyDrainingInterval)
	} else if l.WholeSeconds && c.UnhealthyDrainingInterval%time.Second != 0 {
		bad("UnhealthyDrainingInterval", c.UnhealthyDrainingInterval, "must be a whole number of seconds")
	} else if c.UnhealthyDrainingInterval > 0 && !c.KeepUnhealthyConnections {
		// AWS: the draining interval can only be set when
		// unhealthy.connection_termination.enabled is false.
		bad("UnhealthyDrainingInterval", c.UnhealthyDrainingInterval, "requires KeepUnhealthyConnections (connection termination disabled)")
	}
	switch c.Protocol {
	case HTTP, HTTPS:
		if !strings.HasPrefix(c.Path, "/") || len(c.Path) > 1024 {
			bad("Path", strconv.Quote(c.Path), "must start with / and be at most 1024 characters")
		}
		if _, err := ParseMatcher(c.Matcher, 200, 599); err != nil {
			bad("Matcher", strconv.Quote(c.Matcher), "%v", err)
		}
	case GRPC:
		if len(c.Path) > 1024 {
			bad("Path", strconv.Quote(c.Path), "must be at most 1024 characters")
		}
		if _, err := ParseMatcher(c.Matcher, 0, 99); err != nil {
			bad("Matcher", strconv.Quote(c.Matcher), "%v", err)
		}
	}
	return errors.Join(errs...)
}
