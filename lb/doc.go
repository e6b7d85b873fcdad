// Package lb is lbkit's embeddable data plane: an HTTP (L7) load balancer
// with ALB semantics, and the protocol-neutral [TargetGroup] that every
// listener picks targets from.
//
// # Typical usage
//
//	tg, _ := lb.NewTargetGroup(lb.TargetGroupConfig{Name: "web"})
//	defer tg.Close()
//	tg.Register(lb.Target{Addr: "10.0.0.1:8080"}, lb.Target{Addr: "10.0.0.2:8080"})
//
//	proxy := &lb.HTTPProxy{Router: lb.ForwardTo(tg)}
//	srv := &lb.HTTPListener{Addr: ":8080", Handler: proxy}
//	go srv.ListenAndServe(ctx) // returns after ctx ends and in-flight requests finish
//
// A [TargetGroup] holds targets that are registered, reweighted, marked
// healthy or unhealthy and deregistered at run time; a pick reads an
// immutable snapshot without locks and returns a [Lease] that counts the
// request (or connection) in flight, so that a deregistered target drains
// and leaves as soon as its last lease is done (ELB's deregistration delay
// ending early). When no target is healthy the group fails open, as ELB does.
//
// [HTTPProxy] is an http.Handler. Its [HTTPRouter] hook decides, per
// request, an [HTTPAction]: forward to one target group or to weighted
// groups (with group stickiness), redirect with ALB's #{host}, #{path},
// #{port}, #{protocol} and #{query} substitution, or a fixed response. The
// proxy sets X-Forwarded-For/-Proto/-Port in ALB's append, preserve or
// remove modes and trusts client-supplied values only from trusted proxies,
// removes hop-by-hop headers, adds a trace ID, maps target failures to 502,
// 503 and 504 as ALB does, retries on a fresh target within a budget (dial
// errors always; other failures only for idempotent requests whose body can
// be replayed), passes WebSocket and other Upgrade requests through, writes
// ALB-style access log records through log/slog, and exports Prometheus
// metrics to a registry the caller passes. [HTTPListener] serves HTTP/1.1,
// HTTPS with certificates chosen by SNI, HTTP/2 and h2c, with ALB's
// timeouts and a graceful shutdown.
//
// # L4 (NLB-like) listeners
//
//	tg, _ := lb.NewTargetGroup(lb.TargetGroupConfig{Name: "tcp", Algorithm: balancer.FlowHash{}})
//	p := &lb.TCPProxy{TargetGroup: tg, ProxyProtocolV2: true}
//	go p.Serve(ctx, ln) // returns after ctx ends and its connections are closed
//
// [TCPProxy] forwards each connection to one target, picked with the
// connection's 5-tuple (NLB's flow hash with balancer.FlowHash, or any
// other algorithm); when both sides are plain *net.TCPConn the kernel moves
// the bytes (splice), and each side's FIN is passed on as a half-close. It
// has NLB's 350 s idle timeout, a connect timeout with retries on other
// targets, PROXY protocol v2 toward targets, client IP preservation with
// IP_TRANSPARENT (Linux, CAP_NET_ADMIN, and routing that sends the
// targets' replies back through this host), connection termination at the
// end of a deregistration delay, and NLB's reset of an unhealthy target's
// connections ([UnhealthyPolicy]). [TLSProxy] terminates TLS (certificates
// by SNI, NLB's ALPN policies) and forwards plain or re-encrypted.
// [UDPProxy] keeps a flow table: a client's datagrams stick to one target
// until the flow is idle for 120 s, and replies return to that client.
// [TCPUDPProxy] serves both on one port ([ListenTCPUDP]). Health checks
// with NLB's defaults and PROXY v2 LOCAL headers come from
// [NLBHealthCheck] and [NewL4HealthChecker]; metrics named after NLB's
// CloudWatch metrics from [NewL4Metrics].
//
// # What it does not do
//
// lb does not parse ELB specs or evaluate ALB listener rules: that is
// package elb, and elb/local plugs it in as an HTTPRouter. It does not run
// health checks itself: a checker (package healthcheck) reports verdicts
// through [TargetGroup.SetHealth]. It does not cache, compress or
// authenticate. The API is v0 and experimental.
package lb
