package lb

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestL4Metrics(t *testing.T) {
	target := startL4Target(t, echoHandler)
	reg := prometheus.NewRegistry()
	m, err := NewL4Metrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewL4Metrics(reg); err == nil {
		t.Error("registering the L4 metrics twice on one registry succeeded")
	}
	tg := newTestTG(t, TargetGroupConfig{Name: "web"}, target.addr)
	p := &TCPProxy{Name: "front", TargetGroup: tg, Metrics: m}
	addr := serveTCP(t, p)
	const n = 100000
	c := dialTCP(t, addr)
	c.Write(make([]byte, n))
	c.CloseWrite()
	got, _ := io.ReadAll(c)
	c.Close()
	if len(got) != n {
		t.Fatalf("echoed %d bytes, want %d", len(got), n)
	}
	waitFor(t, 5*time.Second, "the connection to end", func() bool {
		return testutil.ToFloat64(m.activeFlows.WithLabelValues("front", "tcp")) == 0
	})
	for _, tc := range []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.newFlows.WithLabelValues("front", "tcp"), 1},
		{m.bytes.WithLabelValues("front", "tcp", "to_target"), n},
		{m.bytes.WithLabelValues("front", "tcp", "to_client"), n},
	} {
		if got := testutil.ToFloat64(tc.c); got != tc.want {
			t.Errorf("%v = %v, want %v", tc.c, got, tc.want)
		}
	}
	want := `
# HELP lbkit_l4_target_group_hosts Targets of a target group by health state (NLB HealthyHostCount, UnHealthyHostCount).
# TYPE lbkit_l4_target_group_hosts gauge
lbkit_l4_target_group_hosts{state="draining",target_group="web"} 0
lbkit_l4_target_group_hosts{state="healthy",target_group="web"} 1
lbkit_l4_target_group_hosts{state="initial",target_group="web"} 0
lbkit_l4_target_group_hosts{state="unhealthy",target_group="web"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "lbkit_l4_target_group_hosts"); err != nil {
		t.Error(err)
	}
}
