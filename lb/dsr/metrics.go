package dsr

import (
	"github.com/prometheus/client_golang/prometheus"
)

// NewCollector returns a Prometheus collector that reads stats at each
// scrape (so the packet path pays nothing for metrics) and reports:
//
//	lbkit_dsr_packets_total{forwarder,backend}       packets forwarded
//	lbkit_dsr_bytes_total{forwarder,backend}         IP bytes forwarded
//	lbkit_dsr_backend_weight{forwarder,backend}      0 = draining
//	lbkit_dsr_dropped_packets_total{forwarder,reason} by DropReason, plus
//	    ingress_queue (the forwarder fell behind), send_error, truncated
//	lbkit_dsr_ignored_packets_total{forwarder}       not for a VIP
//	lbkit_dsr_icmp_forwarded_total{forwarder}        frag-needed to a flow's backend
//	lbkit_dsr_flows{forwarder}                       live flows
//	lbkit_dsr_flows_created_total{forwarder}
//	lbkit_dsr_flows_evicted_total{forwarder}         pushed out by a full table
//
// name labels the forwarder. Register it on your own registry; use
// [Forwarder.Stats] (or a Core's, wrapped) as stats.
func NewCollector(name string, stats func() ForwarderStats) prometheus.Collector {
	l := prometheus.Labels{"forwarder": name}
	d := func(n, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("lbkit_dsr_"+n, help, labels, l)
	}
	return &collector{
		stats:   stats,
		packets: d("packets_total", "Packets forwarded to a backend.", "backend"),
		bytes:   d("bytes_total", "IP bytes forwarded to a backend, before encapsulation.", "backend"),
		weight:  d("backend_weight", "Backend weight; 0 drains it (no new flows).", "backend"),
		dropped: d("dropped_packets_total", "VIP packets dropped, by reason.", "reason"),
		ignored: d("ignored_packets_total", "Packets not addressed to a VIP."),
		icmp:    d("icmp_forwarded_total", "ICMP fragmentation-needed messages sent to the backend of their flow."),
		flows:   d("flows", "Live flows in the flow table."),
		created: d("flows_created_total", "Flows entered in the flow table."),
		evicted: d("flows_evicted_total", "Flows pushed out of the full flow table before their timeout."),
	}
}

type collector struct {
	stats                                                                   func() ForwarderStats
	packets, bytes, weight, dropped, ignored, icmp, flows, created, evicted *prometheus.Desc
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.packets, c.bytes, c.weight, c.dropped, c.ignored, c.icmp, c.flows, c.created, c.evicted} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for _, b := range s.Backends {
		a := b.Addr.String()
		counter(c.packets, b.Packets, a)
		counter(c.bytes, b.Bytes, a)
		ch <- prometheus.MustNewConstMetric(c.weight, prometheus.GaugeValue, float64(b.Weight), a)
	}
	for r := DropReason(1); r < numDropReasons; r++ {
		counter(c.dropped, s.Drops[r], r.String())
	}
	counter(c.dropped, s.IngressDrops, "ingress_queue")
	counter(c.dropped, s.SendErrors, "send_error")
	counter(c.dropped, s.Truncated, "truncated")
	counter(c.ignored, s.Ignored)
	counter(c.icmp, s.ICMPForwarded)
	ch <- prometheus.MustNewConstMetric(c.flows, prometheus.GaugeValue, float64(s.Flows))
	counter(c.created, s.FlowsCreated)
	counter(c.evicted, s.FlowsEvicted)
}
