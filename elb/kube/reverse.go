package kube

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/lbkit/lbkit/elb"
)

// IngressAnnotations is the reverse of Translate for one ALB and the
// target group its Ingress backends use: the alb.ingress.kubernetes.io/*
// annotations that, on an Ingress, produce lb's settings and tg's target
// type, protocol and health check. Values equal to ALBC's defaults are
// left out. Rules, attributes and certificates per host are not
// translated; lb.Listeners give listen-ports, certificate-arn and
// ssl-policy.
func IngressAnnotations(lb *elb.LoadBalancer, tg *elb.TargetGroup) (map[string]string, error) {
	if lb.Type != "" && lb.Type != elb.LoadBalancerTypeApplication {
		return nil, fmt.Errorf("kube: load balancer %s is %s, not application", lb.Name, lb.Type)
	}
	m := map[string]string{}
	set := func(k, v, def string) {
		if v != "" && v != def {
			m[IngressPrefix+k] = v
		}
	}
	set("load-balancer-name", lb.Name, "")
	set("scheme", string(lb.Scheme), string(elb.SchemeInternal))
	set("ip-address-type", string(lb.IPAddressType), string(elb.IPAddressTypeIPv4))
	set("subnets", strings.Join(lb.Subnets, ","), "")
	set("security-groups", strings.Join(lb.SecurityGroups, ","), "")
	set("tags", joinTags(lb.Tags), "")
	var ports []map[string]int
	var certs []string
	for _, l := range lb.Listeners {
		ports = append(ports, map[string]int{string(l.Protocol): l.Port})
		for _, c := range l.Certificates {
			if !contains(certs, c) {
				certs = append(certs, c)
			}
		}
		if l.Protocol == elb.ProtocolHTTPS {
			set("ssl-policy", l.SSLPolicy, elb.DefaultSSLPolicy)
		}
		// An HTTP listener whose default action redirects to HTTPS is
		// what ssl-redirect makes.
		if l.Protocol == elb.ProtocolHTTP && len(l.DefaultActions) == 1 {
			if r := l.DefaultActions[0].Redirect; r != nil && r.Protocol == "HTTPS" {
				set("ssl-redirect", r.Port, "")
			}
		}
	}
	set("certificate-arn", strings.Join(certs, ","), "")
	if len(ports) > 0 {
		b, err := json.Marshal(ports)
		if err != nil {
			return nil, err
		}
		def := `[{"HTTP":80}]`
		if len(certs) > 0 {
			def = `[{"HTTPS":443}]`
		}
		set("listen-ports", string(b), def)
	}
	if tg != nil {
		set("target-type", string(tg.TargetType), string(elb.TargetTypeInstance))
		set("backend-protocol", string(tg.Protocol), string(elb.ProtocolHTTP))
		set("backend-protocol-version", string(tg.ProtocolVersion), string(elb.ProtocolVersionHTTP1))
		hc := tg.HealthCheck
		path, codes := "/", "200"
		if tg.ProtocolVersion == elb.ProtocolVersionGRPC {
			path, codes = "/AWS.ALB/healthcheck", "12"
		}
		itoa := func(n int) string {
			if n == 0 {
				return ""
			}
			return strconv.Itoa(n)
		}
		set("healthcheck-protocol", string(hc.Protocol), string(tg.Protocol))
		set("healthcheck-port", hc.Port, elb.TrafficPort)
		set("healthcheck-path", hc.Path, path)
		set("healthcheck-interval-seconds", itoa(hc.IntervalSeconds), "15")
		set("healthcheck-timeout-seconds", itoa(hc.TimeoutSeconds), "5")
		set("healthy-threshold-count", itoa(hc.HealthyThreshold), "2")
		set("unhealthy-threshold-count", itoa(hc.UnhealthyThreshold), "2")
		set("success-codes", hc.Matcher.HTTPCode+hc.Matcher.GRPCCode, codes)
	}
	return m, nil
}

func joinTags(t elb.Tags) string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + t[k])
	}
	return b.String()
}
