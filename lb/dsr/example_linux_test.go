package dsr_test

import (
	"context"
	"log"
	"net/netip"

	"github.com/lbkit/lbkit/healthcheck"
	"github.com/lbkit/lbkit/lb/dsr"
)

// On the balancer: route the VIP into the forwarder and forward to two
// backends on eth0's segment. (Needs root; not run as a test.)
func ExampleNewForwarder() {
	ctx := context.Background()
	vip := netip.MustParseAddr("10.0.0.100")
	if err := dsr.PrepareBalancer("eth0"); err != nil { // ip_forward=1, rp_filter=0
		log.Fatal(err)
	}
	fw, err := dsr.NewForwarder(dsr.ForwarderConfig{
		Config:    dsr.Config{VIPs: []netip.Addr{vip}},
		Interface: "eth0",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer fw.Close()
	err = fw.SetBackends(ctx, []dsr.Backend{ // MACs resolved with ARP
		{Addr: netip.MustParseAddr("10.0.0.11"), Weight: 1},
		{Addr: netip.MustParseAddr("10.0.0.12"), Weight: 1},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := fw.Run(ctx); err != nil {
		log.Fatal(err)
	}
}

// On each backend: hold the VIP on loopback, never answer ARP for it, and
// (VXLAN mode only) decapsulate with the kernel's vxlan device.
func ExampleConfigureBackend() {
	vip := netip.MustParseAddr("10.0.0.100")
	if err := dsr.ConfigureBackend(dsr.BackendConfig{VIPs: []netip.Addr{vip}}); err != nil {
		log.Fatal(err)
	}
	if err := dsr.ConfigureVXLAN(dsr.VXLANConfig{Local: netip.MustParseAddr("10.0.0.11")}); err != nil {
		log.Fatal(err)
	}
}

// Health checks drive the backend set: backends that fail TCP checks on
// port 8080 are drained until they pass again.
func ExampleForwarder_FollowHealth() {
	ctx := context.Background()
	var fw *dsr.Forwarder // from NewForwarder
	m, err := healthcheck.NewMonitor(healthcheck.DefaultConfig(healthcheck.TCP), healthcheck.Options{})
	if err != nil {
		log.Fatal(err)
	}
	go m.Run(ctx)
	backends := []dsr.Backend{{Addr: netip.MustParseAddr("10.0.0.11"), Weight: 1}}
	if err := fw.FollowHealth(ctx, m, backends, dsr.HealthOptions{Port: 8080}); err != nil {
		log.Fatal(err)
	}
}
