package lb

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// L4Metrics are the Prometheus metrics of the L4 listeners (TCPProxy,
// UDPProxy, TLSProxy), named after NLB's CloudWatch metrics. One value may
// be shared by many listeners: each is labelled by its Name. A nil
// *L4Metrics records nothing.
type L4Metrics struct {
	newFlows     *prometheus.CounterVec
	activeFlows  *prometheus.GaugeVec
	bytes        *prometheus.CounterVec
	targetErrors *prometheus.CounterVec
	resets       *prometheus.CounterVec
	tlsErrors    *prometheus.CounterVec
	droppedFlows *prometheus.CounterVec
	health       *l4HealthCollector
}

// NewL4Metrics creates the L4 metrics and registers them on reg (the
// caller's registry, never a global one). It fails if reg already holds
// metrics of the same names.
func NewL4Metrics(reg prometheus.Registerer) (*L4Metrics, error) {
	lp := []string{"listener", "protocol"}
	m := &L4Metrics{
		newFlows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lbkit_l4_new_flows_total",
			Help: "New TCP connections or UDP flows accepted (NLB NewFlowCount).",
		}, lp),
		activeFlows: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lbkit_l4_active_flows",
			Help: "TCP connections or UDP flows currently open (NLB ActiveFlowCount).",
		}, lp),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lbkit_l4_processed_bytes_total",
			Help: "Bytes forwarded, by direction: to_target or to_client (NLB ProcessedBytes).",
		}, append(lp, "direction")),
		targetErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lbkit_l4_target_connection_errors_total",
			Help: "Failed connection attempts to targets, timeouts included.",
		}, []string{"listener", "target"}),
		resets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lbkit_l4_resets_total",
			Help: "Connections the load balancer reset, by reason: idle, error, no_target, terminated, shutdown.",
		}, []string{"listener", "reason"}),
		tlsErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lbkit_l4_tls_negotiation_errors_total",
			Help: "Failed TLS handshakes, by side: client or target (NLB ClientTLSNegotiationErrorCount, TargetTLSNegotiationErrorCount).",
		}, []string{"listener", "side"}),
		droppedFlows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lbkit_l4_dropped_flows_total",
			Help: "New UDP flows dropped because the flow table was full or no target was available.",
		}, []string{"listener", "reason"}),
		health: &l4HealthCollector{desc: prometheus.NewDesc("lbkit_l4_target_group_hosts",
			"Targets of a target group by health state (NLB HealthyHostCount, UnHealthyHostCount).",
			[]string{"target_group", "state"}, nil)},
	}
	for _, c := range []prometheus.Collector{m.newFlows, m.activeFlows, m.bytes, m.targetErrors, m.resets, m.tlsErrors, m.droppedFlows, m.health} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// WatchTargetGroup adds tg's host counts, by health state, to the
// lbkit_l4_target_group_hosts gauge. Watching the same group twice has no
// further effect.
func (m *L4Metrics) WatchTargetGroup(tg *TargetGroup) {
	if m == nil || tg == nil {
		return
	}
	m.health.mu.Lock()
	defer m.health.mu.Unlock()
	for _, g := range m.health.groups {
		if g == tg {
			return
		}
	}
	m.health.groups = append(m.health.groups, tg)
}

type l4HealthCollector struct {
	desc   *prometheus.Desc
	mu     sync.Mutex
	groups []*TargetGroup
}

func (c *l4HealthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *l4HealthCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	groups := append([]*TargetGroup(nil), c.groups...)
	c.mu.Unlock()
	for _, g := range groups {
		counts := g.Counts()
		for h, n := range counts {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), g.Name(), Health(h).String())
		}
	}
}

// l4Recorder is one listener's view of L4Metrics, with label values
// resolved once so the per-connection cost is a few atomics. The zero
// value (nil metrics) records nothing.
type l4Recorder struct {
	m                  *L4Metrics
	listener           string
	newFlows           prometheus.Counter
	active             prometheus.Gauge
	toTarget, toClient prometheus.Counter
}

func newL4Recorder(m *L4Metrics, listener, protocol string) *l4Recorder {
	if m == nil {
		return &l4Recorder{}
	}
	return &l4Recorder{
		m:        m,
		listener: listener,
		newFlows: m.newFlows.WithLabelValues(listener, protocol),
		active:   m.activeFlows.WithLabelValues(listener, protocol),
		toTarget: m.bytes.WithLabelValues(listener, protocol, "to_target"),
		toClient: m.bytes.WithLabelValues(listener, protocol, "to_client"),
	}
}

func (r *l4Recorder) flowStart() {
	if r.m != nil {
		r.newFlows.Inc()
		r.active.Inc()
	}
}

func (r *l4Recorder) flowEnd() {
	if r.m != nil {
		r.active.Dec()
	}
}

func (r *l4Recorder) bytes(toTarget bool, n int64) {
	if r.m == nil {
		return
	}
	if toTarget {
		r.toTarget.Add(float64(n))
	} else {
		r.toClient.Add(float64(n))
	}
}

func (r *l4Recorder) targetError(target string) {
	if r.m != nil {
		r.m.targetErrors.WithLabelValues(r.listener, target).Inc()
	}
}

func (r *l4Recorder) reset(reason string) {
	if r.m != nil {
		r.m.resets.WithLabelValues(r.listener, reason).Inc()
	}
}

func (r *l4Recorder) tlsError(side string) {
	if r.m != nil {
		r.m.tlsErrors.WithLabelValues(r.listener, side).Inc()
	}
}

func (r *l4Recorder) dropped(reason string) {
	if r.m != nil {
		r.m.droppedFlows.WithLabelValues(r.listener, reason).Inc()
	}
}
