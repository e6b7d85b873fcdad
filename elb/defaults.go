package elb

// Default values AWS applies, named so callers and docs can refer to them.
const (
	DefaultIdleTimeoutSeconds         = 60
	DefaultClientKeepAliveSeconds     = 3600
	DefaultTCPIdleTimeoutSeconds      = 350
	DefaultDeregistrationDelaySeconds = 300
	DefaultStickinessDurationSeconds  = 86400
	DefaultAuthSessionTimeoutSeconds  = 604800
	DefaultAuthSessionCookieName      = "AWSELBAuthSessionCookie"
	DefaultGRPCHealthCheckPath        = "/AWS.ALB/healthcheck"
)

// Defaults writes AWS's default into every field of the stack left at its
// zero value, as AWS would on create: load balancer type, scheme and
// address type; attributes per load balancer type; listener protocol, SSL
// policy and TCP idle timeout; action order, weights and redirect
// placeholders; target group type, protocol version, health check per
// protocol and target type, and attributes. After Defaults, two stacks that
// AWS would treat the same are equal. Defaults does not validate; values it
// cannot interpret (an unknown protocol) are left alone for Validate to
// report. It is idempotent.
func (s *Stack) Defaults() {
	for _, lb := range s.LoadBalancers {
		if lb != nil {
			lb.Defaults()
		}
	}
	for _, tg := range s.TargetGroups {
		if tg != nil {
			tg.Defaults()
		}
	}
}

// Defaults fills in the load balancer's, its listeners' and its rules'
// defaults. See Stack.Defaults.
func (lb *LoadBalancer) Defaults() {
	if lb.Type == "" {
		lb.Type = LoadBalancerTypeApplication
	}
	if lb.Scheme == "" {
		lb.Scheme = SchemeInternetFacing
	}
	if lb.IPAddressType == "" {
		lb.IPAddressType = IPAddressTypeIPv4
	}
	a := &lb.Attributes
	switch lb.Type {
	case LoadBalancerTypeApplication:
		if a.IdleTimeoutSeconds == 0 {
			a.IdleTimeoutSeconds = DefaultIdleTimeoutSeconds
		}
		if a.HTTP2 == nil {
			a.HTTP2 = Bool(true)
		}
		if a.XFFHeaderProcessingMode == "" {
			a.XFFHeaderProcessingMode = XFFAppend
		}
		if a.DesyncMitigationMode == "" {
			a.DesyncMitigationMode = DesyncDefensive
		}
		if a.ClientKeepAliveSeconds == 0 {
			a.ClientKeepAliveSeconds = DefaultClientKeepAliveSeconds
		}
		if a.CrossZone == nil {
			a.CrossZone = Bool(true)
		}
	case LoadBalancerTypeNetwork:
		if a.CrossZone == nil {
			a.CrossZone = Bool(false)
		}
	}
	for _, l := range lb.Listeners {
		if l != nil {
			l.defaults(lb.Type)
		}
	}
}

func (l *Listener) defaults(t LoadBalancerType) {
	if l.Protocol == "" {
		switch t {
		case LoadBalancerTypeApplication:
			l.Protocol = ProtocolHTTP
		case LoadBalancerTypeNetwork:
			l.Protocol = ProtocolTCP
		}
	}
	if (l.Protocol == ProtocolHTTPS || l.Protocol == ProtocolTLS) && l.SSLPolicy == "" {
		l.SSLPolicy = DefaultSSLPolicy
	}
	if l.Protocol == ProtocolTLS && l.ALPNPolicy == "" {
		l.ALPNPolicy = ALPNNone
	}
	if l.Protocol == ProtocolTCP && l.Attributes.TCPIdleTimeoutSeconds == 0 {
		l.Attributes.TCPIdleTimeoutSeconds = DefaultTCPIdleTimeoutSeconds
	}
	defaultActions(l.DefaultActions)
	for _, r := range l.Rules {
		if r != nil {
			defaultActions(r.Actions)
		}
	}
}

// defaultActions numbers actions 1, 2, … when none has an Order, and fills
// each action's defaults.
func defaultActions(as []Action) {
	anyOrder := false
	for _, a := range as {
		anyOrder = anyOrder || a.Order != 0
	}
	for i := range as {
		a := &as[i]
		if !anyOrder {
			a.Order = i + 1
		}
		switch {
		case a.Forward != nil:
			for j := range a.Forward.TargetGroups {
				if a.Forward.TargetGroups[j].Weight == nil {
					a.Forward.TargetGroups[j].Weight = Int(1)
				}
			}
			if st := a.Forward.Stickiness; st != nil && !st.Enabled && st.DurationSeconds == 0 {
				a.Forward.Stickiness = nil // AWS reports {Enabled: false}; nil says the same
			}
		case a.Redirect != nil:
			r := a.Redirect
			def(&r.Protocol, "#{protocol}")
			def(&r.Host, "#{host}")
			def(&r.Port, "#{port}")
			def(&r.Path, "/#{path}")
			def(&r.Query, "#{query}")
		case a.AuthenticateOIDC != nil:
			a.AuthenticateOIDC.AuthSession.defaults()
		case a.AuthenticateCognito != nil:
			a.AuthenticateCognito.AuthSession.defaults()
		}
	}
}

func (s *AuthSession) defaults() {
	def(&s.SessionCookieName, DefaultAuthSessionCookieName)
	def(&s.Scope, "openid")
	if s.SessionTimeoutSeconds == 0 {
		s.SessionTimeoutSeconds = DefaultAuthSessionTimeoutSeconds
	}
	if s.OnUnauthenticatedRequest == "" {
		s.OnUnauthenticatedRequest = UnauthenticatedAuthenticate
	}
}

func def[T ~string](p *T, v T) {
	if *p == "" {
		*p = v
	}
}

// isALBProtocol reports whether p is a protocol of ALB listeners and
// target groups.
func isALBProtocol(p Protocol) bool { return p == ProtocolHTTP || p == ProtocolHTTPS }

// isNLBProtocol reports whether p is a protocol of NLB listeners and
// target groups.
func isNLBProtocol(p Protocol) bool {
	return p == ProtocolTCP || p == ProtocolTLS || p == ProtocolUDP || p == ProtocolTCPUDP
}

// Defaults fills in the target group's defaults: target type instance;
// protocol version HTTP1 and IP address type ipv4 where they apply; the
// health check and the attributes AWS gives its protocol and target type.
// See Stack.Defaults.
func (tg *TargetGroup) Defaults() {
	if tg.TargetType == "" {
		tg.TargetType = TargetTypeInstance
	}
	if isALBProtocol(tg.Protocol) && tg.ProtocolVersion == "" {
		tg.ProtocolVersion = ProtocolVersionHTTP1
	}
	if tg.TargetType != TargetTypeLambda && tg.IPAddressType == "" {
		tg.IPAddressType = IPAddressTypeIPv4
	}
	tg.HealthCheck = tg.EffectiveHealthCheck()
	tg.Attributes = tg.EffectiveAttributes()
}

// EffectiveHealthCheck returns the health check with AWS's defaults for
// the group's protocol and target type filled in, without modifying tg.
//
// ALB (HTTP, HTTPS) groups: HTTP(S) to the traffic port, path "/", every
// 30 s, timeout 5 s, 5 healthy / 2 unhealthy, matcher 200 (gRPC: path
// /AWS.ALB/healthcheck, code 12). NLB groups: TCP to the traffic port every
// 30 s, timeout 10 s (6 s for an HTTP check), 5/2, matcher 200-399 for
// HTTP(S) checks. Lambda: disabled; when enabled, every 35 s, timeout 30 s,
// 5/5, matcher 200.
func (tg *TargetGroup) EffectiveHealthCheck() HealthCheck {
	hc := tg.HealthCheck
	tt := tg.TargetType
	if tt == "" {
		tt = TargetTypeInstance
	}
	if tt == TargetTypeLambda {
		if hc.Enabled == nil {
			hc.Enabled = Bool(false)
		}
		defInt(&hc.IntervalSeconds, 35)
		defInt(&hc.TimeoutSeconds, 30)
		defInt(&hc.HealthyThreshold, 5)
		defInt(&hc.UnhealthyThreshold, 5)
		def(&hc.Path, "/")
		def(&hc.Matcher.HTTPCode, "200")
		return hc
	}
	if hc.Enabled == nil {
		hc.Enabled = Bool(true)
	}
	def(&hc.Port, TrafficPort)
	defInt(&hc.IntervalSeconds, 30)
	defInt(&hc.HealthyThreshold, 5)
	defInt(&hc.UnhealthyThreshold, 2)
	switch {
	case isALBProtocol(tg.Protocol):
		def(&hc.Protocol, tg.Protocol)
		defInt(&hc.TimeoutSeconds, 5)
		if tg.ProtocolVersion == ProtocolVersionGRPC {
			def(&hc.Path, DefaultGRPCHealthCheckPath)
			if hc.Matcher.HTTPCode == "" {
				def(&hc.Matcher.GRPCCode, "12")
			}
		} else {
			def(&hc.Path, "/")
			if hc.Matcher.GRPCCode == "" {
				def(&hc.Matcher.HTTPCode, "200")
			}
		}
	case isNLBProtocol(tg.Protocol):
		def(&hc.Protocol, ProtocolTCP)
		switch hc.Protocol {
		case ProtocolHTTP:
			defInt(&hc.TimeoutSeconds, 6)
		default:
			defInt(&hc.TimeoutSeconds, 10)
		}
		if isALBProtocol(hc.Protocol) {
			def(&hc.Path, "/")
			def(&hc.Matcher.HTTPCode, "200-399")
		}
	}
	return hc
}

func defInt(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}

// EffectiveAttributes returns the group's attributes with AWS's defaults
// for its protocol and target type filled in, without modifying tg.
func (tg *TargetGroup) EffectiveAttributes() TargetGroupAttributes {
	a := tg.Attributes
	tt := tg.TargetType
	if tt == "" {
		tt = TargetTypeInstance
	}
	if tt == TargetTypeLambda {
		return a
	}
	if a.DeregistrationDelaySeconds == nil {
		a.DeregistrationDelaySeconds = Int(DefaultDeregistrationDelaySeconds)
	}
	if a.CrossZone == "" {
		a.CrossZone = CrossZoneLoadBalancer
	}
	switch {
	case isALBProtocol(tg.Protocol):
		def(&a.Stickiness.Type, StickinessLBCookie)
		defInt(&a.Stickiness.LBCookieDurationSeconds, DefaultStickinessDurationSeconds)
		defInt(&a.Stickiness.AppCookieDurationSeconds, DefaultStickinessDurationSeconds)
		def(&a.Algorithm, AlgorithmRoundRobin)
	case isNLBProtocol(tg.Protocol):
		def(&a.Stickiness.Type, StickinessSourceIP)
		if a.PreserveClientIP == nil {
			off := tt == TargetTypeIP && (tg.Protocol == ProtocolTCP || tg.Protocol == ProtocolTLS)
			a.PreserveClientIP = Bool(!off)
		}
	}
	return a
}
