// Package dsr is a direct-server-return (DSR) load balancer for IPv4 on
// Linux: it sees only the packets clients send to a virtual IP (VIP),
// forwards each one unchanged to a backend, and the backend answers the
// client directly, from the VIP. Replies never cross the balancer, which is
// why DSR scales further than a proxy (IPVS "direct routing", Katran, GLB
// Director and Google's Maglev work this way).
//
// The package has three layers:
//
//   - [Core] is the forwarding decision as a pure function of packet bytes:
//     parse, look the 5-tuple up in a bounded flow table (idle timeouts,
//     shortened by FIN/RST), choose new flows with a consistent [Selector],
//     and write an Ethernet header (ModeL2) or VXLAN+Ethernet (ModeVXLAN)
//     in front of the unchanged packet. ICMP "fragmentation needed" goes to
//     the backend of the flow it quotes; fragments and IP options are
//     dropped and counted; other destinations are ignored. No privileges,
//     no I/O: tests feed it golden packets.
//   - [Forwarder] (Linux) runs a Core between a TUN device (the kernel
//     routes the VIP into it; or, with [IngressPacketRing], a PACKET_MMAP
//     receive ring) and an AF_PACKET socket on the backends' segment
//     (ModeL2, batched with sendmmsg, GSO super-packets passed through) or
//     a UDP socket (ModeVXLAN). It resolves backend MACs with ARP, and
//     follows a healthcheck.Monitor ([Forwarder.FollowHealth]).
//   - [ConfigureBackend] and [ConfigureVXLAN] prepare a backend: the VIP on
//     loopback with the ARP sysctls (arp_ignore=1, arp_announce=2,
//     rp_filter=0), and for ModeVXLAN the kernel's vxlan device, so no
//     agent runs on backends. [PrepareBalancer] sets the balancer host's
//     sysctls.
//
// Typical usage, on the balancer (root, or CAP_NET_ADMIN+CAP_NET_RAW):
//
//	fw, err := dsr.NewForwarder(dsr.ForwarderConfig{
//		Config:    dsr.Config{VIPs: []netip.Addr{vip}},
//		Interface: "eth0", // the backends' segment
//	})
//	if err != nil { ... }
//	defer fw.Close()
//	err = fw.SetBackends(ctx, []dsr.Backend{{Addr: b1, Weight: 1}, {Addr: b2, Weight: 1}})
//	go fw.Run(ctx)
//
// and on each backend, dsr.ConfigureBackend(dsr.BackendConfig{VIPs: ...})
// before its server listens on the VIP (or on 0.0.0.0).
//
// Clients must reach the VIP through the balancer: a route to the VIP via
// the balancer's address (as IPVS-DR tests do), or the balancer answering
// ARP for it.
//
// What it does not do: IPv6 (ignored for now); reassembly (fragments are
// dropped, as Katran does); seeing replies (so TCP state is inferred from
// inbound packets only, as in IPVS DR: a flow's entry lives until its idle
// timeout); spreading VXLAN source ports per flow for ECMP entropy (each
// queue sends from one port). Health checks come from the healthcheck package:
// [Forwarder.FollowHealth] drains (or removes) backends that fail them. The
// API is experimental (v0).
package dsr
