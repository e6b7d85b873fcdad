package local

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"strconv"
	"time"

	"github.com/lbkit/lbkit/balancer"
	"github.com/lbkit/lbkit/elb"
	"github.com/lbkit/lbkit/healthcheck"
	"github.com/lbkit/lbkit/lb"
)

// group is one running target group.
type group struct {
	spec  *elb.TargetGroup
	shape string // everything but targets and health check: a change recreates the group
	hc    *healthcheck.Config
	tg    *lb.TargetGroup
	http  *lb.HTTPTargetGroup // ALB groups
	// addrs maps each registered target's dial address to its spec.
	addrs map[string]elb.Target
}

// shapeOf is the JSON of what an lb.TargetGroup cannot change in place.
func shapeOf(tg *elb.TargetGroup) string {
	c := *tg
	c.Targets, c.Tags, c.HealthCheck = nil, nil, elb.HealthCheck{}
	b, _ := json.Marshal(&c)
	return string(b)
}

func (s *Stack) scale(seconds int) time.Duration {
	return time.Duration(float64(seconds) * float64(time.Second) * s.opts.TimeScale)
}

// limits are AWS's ranges scaled like the durations they bound.
func (s *Stack) limits() healthcheck.Limits {
	l := healthcheck.AWSLimits()
	if s.opts.TimeScale == 1 {
		return l
	}
	f := func(d time.Duration) time.Duration { return time.Duration(float64(d) * s.opts.TimeScale) }
	l.MinInterval, l.MaxInterval = f(l.MinInterval), f(l.MaxInterval)
	l.MinTimeout, l.MaxTimeout = f(l.MinTimeout), f(l.MaxTimeout)
	l.WholeSeconds = false
	return l
}

// healthConfig converts the group's effective health check.
func (s *Stack) healthConfig(tg *elb.TargetGroup) (*healthcheck.Config, error) {
	hc := tg.EffectiveHealthCheck()
	c := healthcheck.Config{
		Protocol:           healthcheck.Protocol(hc.Protocol),
		Path:               hc.Path,
		Matcher:            hc.Matcher.HTTPCode,
		Interval:           s.scale(hc.IntervalSeconds),
		Timeout:            s.scale(hc.TimeoutSeconds),
		HealthyThreshold:   hc.HealthyThreshold,
		UnhealthyThreshold: hc.UnhealthyThreshold,
		Disabled:           hc.Enabled != nil && !*hc.Enabled,
	}
	if tg.ProtocolVersion == elb.ProtocolVersionGRPC {
		c.Protocol, c.Matcher = healthcheck.GRPC, hc.Matcher.GRPCCode
		c.Path = "" // the whole server: gRPC's health service takes a service name, not a method path
	}
	if hc.Port != "" && hc.Port != elb.TrafficPort {
		p, err := strconv.Atoi(hc.Port)
		if err != nil {
			return nil, fmt.Errorf("local: target group %s: health check port %q", tg.Name, hc.Port)
		}
		c.Port = p
	}
	return &c, nil
}

// groupPlan is what Apply will do to one target group, computed (and
// checked) before anything changes.
type groupPlan struct {
	old   *group
	spec  *elb.TargetGroup
	shape string
	hc    *healthcheck.Config
	addrs map[string]elb.Target
}

// planGroup checks tg and decides how to get from old (nil: none) to it.
// It changes nothing.
func (s *Stack) planGroup(old *group, tg *elb.TargetGroup) (*groupPlan, error) {
	switch tg.TargetType {
	case elb.TargetTypeLambda, elb.TargetTypeALB:
		if len(tg.Targets) > 0 {
			return nil, fmt.Errorf("local: target group %s: %s targets are not served locally", tg.Name, tg.TargetType)
		}
	}
	hc, err := s.healthConfig(tg)
	if err != nil {
		return nil, err
	}
	if err := hc.ValidateWithin(s.limits()); err != nil {
		return nil, fmt.Errorf("local: target group %s: %w", tg.Name, err)
	}
	if _, err := lb.ParseAlgorithm(string(tg.EffectiveAttributes().Algorithm)); err != nil {
		return nil, fmt.Errorf("local: target group %s: %w", tg.Name, err)
	}
	addrs := map[string]elb.Target{}
	for _, t := range tg.Targets {
		a, err := s.resolve(tg, t)
		if err != nil {
			return nil, err
		}
		addrs[a] = t
	}
	return &groupPlan{old: old, spec: tg, shape: shapeOf(tg), hc: hc, addrs: addrs}, nil
}

// apply carries out a plan: old updated in place when its shape is
// unchanged, or a new group.
func (s *Stack) applyGroup(p *groupPlan) (*group, error) {
	if old := p.old; old != nil && old.shape == p.shape {
		if *old.hc != *p.hc {
			if m := old.tg.HealthMonitor(); m != nil {
				if err := m.SetConfig(*p.hc); err != nil {
					return nil, fmt.Errorf("local: target group %s: %w", p.spec.Name, err)
				}
			}
			old.hc = p.hc
		}
		old.spec = p.spec
		old.syncTargets(p.addrs)
		return old, nil
	}
	g, err := s.newGroup(p.spec, p.shape, p.hc)
	if err != nil {
		return nil, err
	}
	g.syncTargets(p.addrs)
	return g, nil
}

func (s *Stack) resolve(tg *elb.TargetGroup, t elb.Target) (string, error) {
	if s.opts.Resolve != nil {
		return s.opts.Resolve(tg, t)
	}
	port := t.Port
	if port == 0 {
		port = tg.Port
	}
	if tg.TargetType != elb.TargetTypeIP {
		return "", fmt.Errorf("local: target group %s: target %s: %s targets need Options.Resolve", tg.Name, t.ID, tg.TargetType)
	}
	return net.JoinHostPort(t.ID, strconv.Itoa(port)), nil
}

func (s *Stack) newGroup(tg *elb.TargetGroup, shape string, hc *healthcheck.Config) (*group, error) {
	attrs := tg.EffectiveAttributes()
	alg, err := lb.ParseAlgorithm(string(attrs.Algorithm))
	if err != nil {
		return nil, fmt.Errorf("local: target group %s: %w", tg.Name, err)
	}
	nlb := tg.Protocol != elb.ProtocolHTTP && tg.Protocol != elb.ProtocolHTTPS
	if nlb {
		alg = balancer.FlowHash{}
	}
	delay := s.scale(*attrs.DeregistrationDelaySeconds)
	if delay == 0 {
		delay = -1 // lb: zero means its default; ELB's 0 means no delay
	}
	limits := s.limits()
	cfg := lb.TargetGroupConfig{
		Name:                tg.Name,
		Algorithm:           alg,
		DeregistrationDelay: delay,
		HealthCheck:         hc,
		HealthOptions:       healthcheck.Options{Limits: &limits},
		Logger:              s.log,
	}
	if attrs.SlowStartSeconds > 0 {
		cfg.Balancing.SlowStart = balancer.SlowStart{Window: s.scale(attrs.SlowStartSeconds)}
	}
	g := &group{spec: tg, shape: shape, hc: hc, addrs: map[string]elb.Target{}}
	if nlb {
		g.tg, err = lb.NewTargetGroup(cfg)
		if err != nil {
			return nil, err
		}
		return g, nil
	}
	h, err := lb.NewHTTPTargetGroup(cfg)
	if err != nil {
		return nil, err
	}
	h.TLS = tg.Protocol == elb.ProtocolHTTPS
	switch tg.ProtocolVersion {
	case elb.ProtocolVersionHTTP2:
		h.Version = lb.HTTP2
	case elb.ProtocolVersionGRPC:
		h.Version = lb.GRPC
	}
	if st := attrs.Stickiness; st.Enabled {
		switch st.Type {
		case elb.StickinessAppCookie:
			h.Stickiness = lb.HTTPStickiness{Type: lb.StickinessAppCookie, CookieName: st.AppCookieName, Duration: time.Duration(st.AppCookieDurationSeconds) * time.Second}
		default:
			h.Stickiness = lb.HTTPStickiness{Type: lb.StickinessLBCookie, Duration: time.Duration(st.LBCookieDurationSeconds) * time.Second}
		}
	}
	if err := h.Validate(); err != nil {
		h.Close()
		return nil, err
	}
	g.tg, g.http = h.TargetGroup, h
	return g, nil
}

// syncTargets registers new addresses and deregisters removed ones.
func (g *group) syncTargets(want map[string]elb.Target) {
	for a := range g.addrs {
		if _, ok := want[a]; !ok {
			_, _ = g.tg.Deregister(a)
		}
	}
	for a := range want {
		if _, ok := g.addrs[a]; !ok {
			_ = g.tg.Register(lb.Target{Addr: a, Zone: want[a].AvailabilityZone})
		}
	}
	g.addrs = want
}

func (g *group) setInUse(inUse bool) {
	if m := g.tg.HealthMonitor(); m != nil {
		m.SetInUse(inUse)
	}
}

// retire stops health checks of a group that no route uses any more; its
// leases in flight finish.
func (g *group) retire() { g.setInUse(false) }

func (g *group) close() { _ = g.tg.Close() }

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "lbkit local"},
		DNSNames:     []string{"localhost", "*.elb.amazonaws.com", "*.elb.localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
