package elb

import (
	"reflect"
	"testing"
)

func TestLoadBalancerAttributesRoundTrip(t *testing.T) {
	lb := NewApplicationLoadBalancer("a")
	lb.Defaults()
	kvs := lb.Attributes.Attributes(LoadBalancerTypeApplication)
	got, err := ApplyLoadBalancerAttributes(LoadBalancerTypeApplication, LoadBalancerAttributes{}, kvs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, lb.Attributes) {
		t.Errorf("round trip\n got %+v\nwant %+v", got, lb.Attributes)
	}
	want := map[string]string{"idle_timeout.timeout_seconds": "60", "routing.http2.enabled": "true", "deletion_protection.enabled": "false", "load_balancing.cross_zone.enabled": "true", "access_logs.s3.bucket": ""}
	have := map[string]string{}
	for _, kv := range kvs {
		have[kv.Key] = kv.Value
	}
	for k, v := range want {
		if have[k] != v {
			t.Errorf("%s = %q, want %q", k, have[k], v)
		}
	}
}

func TestApplyAttributesErrors(t *testing.T) {
	base := LoadBalancerAttributes{IdleTimeoutSeconds: 60}
	tests := []struct {
		name string
		t    LoadBalancerType
		kvs  []Attribute
		code string
		msg  string
	}{
		{"unknown key", LoadBalancerTypeApplication, []Attribute{{"nope", "1"}}, CodeValidationError, "Load balancer attribute key 'nope' is not recognized"},
		{"ALB key on NLB", LoadBalancerTypeNetwork, []Attribute{{"routing.http2.enabled", "true"}}, CodeInvalidConfigurationRequest, "Load balancer attribute key 'routing.http2.enabled' is not supported on load balancers of type 'network'"},
		{"bad bool", LoadBalancerTypeApplication, []Attribute{{"deletion_protection.enabled", "yes"}}, CodeValidationError, "Load balancer attribute value 'yes' is not valid for key 'deletion_protection.enabled'"},
		{"bad int", LoadBalancerTypeApplication, []Attribute{{"idle_timeout.timeout_seconds", "x"}}, CodeValidationError, "Load balancer attribute value 'x' is not valid for key 'idle_timeout.timeout_seconds'"},
		{"out of range", LoadBalancerTypeApplication, []Attribute{{"idle_timeout.timeout_seconds", "5000"}}, CodeValidationError, "The value of 'idle_timeout.timeout_seconds' must be between 1 and 4000, not '5000'"},
		{"duplicate key", LoadBalancerTypeApplication, []Attribute{{"idle_timeout.timeout_seconds", "5"}, {"idle_timeout.timeout_seconds", "6"}}, CodeValidationError, "Load balancer attribute key 'idle_timeout.timeout_seconds' is specified more than once"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ApplyLoadBalancerAttributes(tt.t, base, tt.kvs)
			e := AsErrors(err).First()
			if e == nil || e.Code != tt.code || e.Message != tt.msg {
				t.Errorf("err = %v, want %s: %s", err, tt.code, tt.msg)
			}
			if !reflect.DeepEqual(got, base) {
				t.Errorf("bad input changed the attributes: %+v", got)
			}
		})
	}
	got, err := ApplyLoadBalancerAttributes(LoadBalancerTypeApplication, base, []Attribute{{"idle_timeout.timeout_seconds", "120"}, {"routing.http2.enabled", "false"}})
	if err != nil || got.IdleTimeoutSeconds != 120 || *got.HTTP2 {
		t.Errorf("apply = %+v, %v", got, err)
	}
}

func TestTargetGroupAttributes(t *testing.T) {
	tg := &TargetGroup{Name: "t", Protocol: ProtocolTCP, Port: 80, TargetType: TargetTypeIP, VPCID: "v"}
	tg.Defaults()
	kvs := tg.AttributeList()
	c := &TargetGroup{Protocol: ProtocolTCP, TargetType: TargetTypeIP}
	got, err := ApplyTargetGroupAttributes(c, kvs)
	if err != nil || !reflect.DeepEqual(got, tg.Attributes) {
		t.Fatalf("round trip: %+v, %v\nwant %+v", got, err, tg.Attributes)
	}
	_, err = ApplyTargetGroupAttributes(tg, []Attribute{{"stickiness.type", "lb_cookie"}})
	if e := AsErrors(err).First(); e == nil || e.Message != "Stickiness type 'lb_cookie' is not supported for target groups with the TCP protocol" {
		t.Errorf("lb_cookie on TCP: %v", err)
	}
	_, err = ApplyTargetGroupAttributes(tg, []Attribute{{"slow_start.duration_seconds", "60"}})
	if e := AsErrors(err).First(); e == nil || e.Code != CodeInvalidConfigurationRequest {
		t.Errorf("slow start on TCP: %v", err)
	}
	la, err := ApplyListenerAttributes(ProtocolTCP, ListenerAttributes{}, []Attribute{{"tcp.idle_timeout.seconds", "600"}})
	if err != nil || la.TCPIdleTimeoutSeconds != 600 || la.Attributes()[0] != (Attribute{"tcp.idle_timeout.seconds", "600"}) {
		t.Errorf("listener attributes: %+v, %v", la, err)
	}
	if _, err := ApplyListenerAttributes(ProtocolHTTP, ListenerAttributes{}, []Attribute{{"tcp.idle_timeout.seconds", "600"}}); err == nil {
		t.Error("tcp.idle_timeout.seconds accepted on an HTTP listener")
	}
}
