package elb

import (
	"reflect"
	"testing"
)

func TestTargetGroupDefaults(t *testing.T) {
	tests := []struct {
		name string
		tg   TargetGroup
		hc   HealthCheck
	}{
		{"ALB HTTP", TargetGroup{Protocol: ProtocolHTTP, Port: 80}, HealthCheck{Enabled: Bool(true), Protocol: ProtocolHTTP, Port: TrafficPort, Path: "/", IntervalSeconds: 30, TimeoutSeconds: 5, HealthyThreshold: 5, UnhealthyThreshold: 2, Matcher: Matcher{HTTPCode: "200"}}},
		{"ALB HTTPS", TargetGroup{Protocol: ProtocolHTTPS, Port: 443}, HealthCheck{Enabled: Bool(true), Protocol: ProtocolHTTPS, Port: TrafficPort, Path: "/", IntervalSeconds: 30, TimeoutSeconds: 5, HealthyThreshold: 5, UnhealthyThreshold: 2, Matcher: Matcher{HTTPCode: "200"}}},
		{"ALB gRPC", TargetGroup{Protocol: ProtocolHTTPS, Port: 443, ProtocolVersion: ProtocolVersionGRPC}, HealthCheck{Enabled: Bool(true), Protocol: ProtocolHTTPS, Port: TrafficPort, Path: DefaultGRPCHealthCheckPath, IntervalSeconds: 30, TimeoutSeconds: 5, HealthyThreshold: 5, UnhealthyThreshold: 2, Matcher: Matcher{GRPCCode: "12"}}},
		{"NLB TCP", TargetGroup{Protocol: ProtocolTCP, Port: 80}, HealthCheck{Enabled: Bool(true), Protocol: ProtocolTCP, Port: TrafficPort, IntervalSeconds: 30, TimeoutSeconds: 10, HealthyThreshold: 5, UnhealthyThreshold: 2}},
		{"NLB with HTTP check", TargetGroup{Protocol: ProtocolTCP, Port: 80, HealthCheck: HealthCheck{Protocol: ProtocolHTTP}}, HealthCheck{Enabled: Bool(true), Protocol: ProtocolHTTP, Port: TrafficPort, Path: "/", IntervalSeconds: 30, TimeoutSeconds: 6, HealthyThreshold: 5, UnhealthyThreshold: 2, Matcher: Matcher{HTTPCode: "200-399"}}},
		{"NLB UDP", TargetGroup{Protocol: ProtocolUDP, Port: 53}, HealthCheck{Enabled: Bool(true), Protocol: ProtocolTCP, Port: TrafficPort, IntervalSeconds: 30, TimeoutSeconds: 10, HealthyThreshold: 5, UnhealthyThreshold: 2}},
		{"lambda", TargetGroup{TargetType: TargetTypeLambda}, HealthCheck{Enabled: Bool(false), Path: "/", IntervalSeconds: 35, TimeoutSeconds: 30, HealthyThreshold: 5, UnhealthyThreshold: 5, Matcher: Matcher{HTTPCode: "200"}}},
		{"explicit values kept", TargetGroup{Protocol: ProtocolHTTP, Port: 80, HealthCheck: HealthCheck{IntervalSeconds: 15, Path: "/healthz"}}, HealthCheck{Enabled: Bool(true), Protocol: ProtocolHTTP, Port: TrafficPort, Path: "/healthz", IntervalSeconds: 15, TimeoutSeconds: 5, HealthyThreshold: 5, UnhealthyThreshold: 2, Matcher: Matcher{HTTPCode: "200"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := tt.tg
			tg.Defaults()
			if !reflect.DeepEqual(tg.HealthCheck, tt.hc) {
				t.Errorf("health check\n got %+v\nwant %+v", tg.HealthCheck, tt.hc)
			}
		})
	}
}

func TestTargetGroupAttributeDefaults(t *testing.T) {
	alb := TargetGroup{Protocol: ProtocolHTTP, Port: 80}
	alb.Defaults()
	want := TargetGroupAttributes{
		DeregistrationDelaySeconds: Int(300), Algorithm: AlgorithmRoundRobin, CrossZone: CrossZoneLoadBalancer,
		Stickiness: Stickiness{Type: StickinessLBCookie, LBCookieDurationSeconds: 86400, AppCookieDurationSeconds: 86400},
	}
	if !reflect.DeepEqual(alb.Attributes, want) {
		t.Errorf("ALB attributes\n got %+v\nwant %+v", alb.Attributes, want)
	}
	for _, tt := range []struct {
		proto    Protocol
		tt       TargetType
		preserve bool
	}{
		{ProtocolTCP, TargetTypeIP, false},
		{ProtocolTLS, TargetTypeIP, false},
		{ProtocolUDP, TargetTypeIP, true},
		{ProtocolTCP, TargetTypeInstance, true},
	} {
		tg := TargetGroup{Protocol: tt.proto, Port: 80, TargetType: tt.tt}
		tg.Defaults()
		if *tg.Attributes.PreserveClientIP != tt.preserve || tg.Attributes.Stickiness.Type != StickinessSourceIP {
			t.Errorf("%s/%s: preserve client IP %v, stickiness %s", tt.proto, tt.tt, *tg.Attributes.PreserveClientIP, tg.Attributes.Stickiness.Type)
		}
	}
}

func TestLoadBalancerDefaults(t *testing.T) {
	alb := NewApplicationLoadBalancer("a")
	l := alb.AddListener("", 443, Redirect(RedirectConfig{Protocol: "HTTPS", StatusCode: RedirectPermanent}))
	alb.Defaults()
	if alb.Scheme != SchemeInternetFacing || alb.IPAddressType != IPAddressTypeIPv4 {
		t.Errorf("scheme %q, address type %q", alb.Scheme, alb.IPAddressType)
	}
	a := alb.Attributes
	if a.IdleTimeoutSeconds != 60 || !*a.HTTP2 || a.XFFHeaderProcessingMode != XFFAppend || a.DesyncMitigationMode != DesyncDefensive || a.ClientKeepAliveSeconds != 3600 || !*a.CrossZone {
		t.Errorf("ALB attributes %+v", a)
	}
	if l.Protocol != ProtocolHTTP || l.DefaultActions[0].Order != 1 {
		t.Errorf("listener protocol %q, order %d", l.Protocol, l.DefaultActions[0].Order)
	}
	r := l.DefaultActions[0].Redirect
	if r.Host != "#{host}" || r.Port != "#{port}" || r.Path != "/#{path}" || r.Query != "#{query}" || r.Protocol != "HTTPS" {
		t.Errorf("redirect %+v", r)
	}
	nlb := NewNetworkLoadBalancer("n")
	nl := nlb.AddListener("", 80, Forward(&TargetGroup{Name: "t"}))
	tls := nlb.AddListener(ProtocolTLS, 443, Forward(&TargetGroup{Name: "t"}))
	nlb.Defaults()
	if *nlb.Attributes.CrossZone || nlb.Attributes.IdleTimeoutSeconds != 0 || nlb.Attributes.HTTP2 != nil {
		t.Errorf("NLB attributes %+v", nlb.Attributes)
	}
	if nl.Protocol != ProtocolTCP || nl.Attributes.TCPIdleTimeoutSeconds != 350 || *nl.DefaultActions[0].Forward.TargetGroups[0].Weight != 1 {
		t.Errorf("NLB listener %+v", nl)
	}
	if tls.SSLPolicy != DefaultSSLPolicy || tls.ALPNPolicy != ALPNNone {
		t.Errorf("TLS listener %+v", tls)
	}
}

// TestDefaultsEquate checks the purpose of Defaults: a spec that spells out
// AWS's defaults and one that leaves them out are equal afterwards, and
// Defaults is idempotent.
func TestDefaultsEquate(t *testing.T) {
	sparse := validStack()
	explicit := validStack()
	explicit.LoadBalancers[0].Attributes.IdleTimeoutSeconds = 60
	explicit.LoadBalancers[0].Attributes.HTTP2 = Bool(true)
	explicit.TargetGroups[0].HealthCheck = HealthCheck{IntervalSeconds: 30, Path: "/", Matcher: Matcher{HTTPCode: "200"}}
	explicit.TargetGroups[0].Attributes.DeregistrationDelaySeconds = Int(300)
	explicit.LoadBalancers[0].Listeners[0].Rules[0].Actions[0].Forward.TargetGroups[0].Weight = Int(1)
	sparse.Defaults()
	explicit.Defaults()
	a, _ := Marshal(sparse)
	b, _ := Marshal(explicit)
	if string(a) != string(b) {
		t.Errorf("defaulted specs differ:\n%s\n%s", a, b)
	}
	explicit.Defaults()
	c, _ := Marshal(explicit)
	if string(b) != string(c) {
		t.Error("Defaults is not idempotent")
	}
}
