package dsr

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCollector(t *testing.T) {
	c := newTestCore(t, ModeL2)
	for _, f := range fixtures() {
		if f.mode == ModeL2 {
			c.Forward(withHeadroom(f.pkt), t0)
		}
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(NewCollector("test", func() ForwarderStats { return ForwarderStats{Stats: c.Stats(), SendErrors: 2} })); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP lbkit_dsr_dropped_packets_total VIP packets dropped, by reason.
# TYPE lbkit_dsr_dropped_packets_total counter
lbkit_dsr_dropped_packets_total{forwarder="test",reason="fragment"} 2
lbkit_dsr_dropped_packets_total{forwarder="test",reason="icmp"} 2
lbkit_dsr_dropped_packets_total{forwarder="test",reason="ingress_queue"} 0
lbkit_dsr_dropped_packets_total{forwarder="test",reason="ip_options"} 1
lbkit_dsr_dropped_packets_total{forwarder="test",reason="malformed"} 3
lbkit_dsr_dropped_packets_total{forwarder="test",reason="no_backend"} 0
lbkit_dsr_dropped_packets_total{forwarder="test",reason="protocol"} 1
lbkit_dsr_dropped_packets_total{forwarder="test",reason="send_error"} 2
lbkit_dsr_dropped_packets_total{forwarder="test",reason="truncated"} 0
# HELP lbkit_dsr_ignored_packets_total Packets not addressed to a VIP.
# TYPE lbkit_dsr_ignored_packets_total counter
lbkit_dsr_ignored_packets_total{forwarder="test"} 2
# HELP lbkit_dsr_flows_created_total Flows entered in the flow table.
# TYPE lbkit_dsr_flows_created_total counter
lbkit_dsr_flows_created_total{forwarder="test"} 4
`
	err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"lbkit_dsr_dropped_packets_total", "lbkit_dsr_ignored_packets_total", "lbkit_dsr_flows_created_total")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg, "lbkit_dsr_packets_total", "lbkit_dsr_backend_weight"); err != nil || n != 6 {
		t.Fatalf("per-backend series: %d, %v; want 6", n, err)
	}
}
