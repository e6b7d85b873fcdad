// Package healthcheck decides which targets may receive traffic, the way an
// Elastic Load Balancing target group does, plus passive outlier detection
// as Envoy does it.
//
// A [Monitor] holds the targets of one target group. It probes each with a
// [Checker] ([HTTPChecker], [TCPChecker], [GRPCChecker], or your own) every
// Config.Interval and runs ELB's state machine on the results: a registered
// target is initial until one check passes (healthy) or UnhealthyThreshold
// fail (unhealthy); HealthyThreshold consecutive successes make an unhealthy
// target healthy again and UnhealthyThreshold consecutive failures make a
// healthy one unhealthy — or, on an NLB target group with connection
// termination disabled and a draining interval
// (Config.KeepUnhealthyConnections, Config.UnhealthyDrainingInterval),
// unhealthy.draining for that interval first. States, reason codes and
// descriptions carry AWS's names ([StateHealthy], [ReasonTimeout], ...) so
// that DescribeTargetHealth can report them as they are. Deregistered targets drain for the
// deregistration delay, or until [Monitor.Drained]; a target group that no
// load balancer uses leaves its targets unused; disabled checks leave them
// unavailable (and routable, as ELB does).
//
// Subscribers get transitions, never bare probes, together with an
// immutable [Snapshot]; a balancer is fed with Snapshot.Available.
// Proxies report request outcomes with [Monitor.Report] to drive outlier
// detection ([OutlierConfig]), which ejects misbehaving targets for a while
// without touching their ELB state.
//
// Scheduling scales to thousands of targets: one goroutine, one heap and one
// timer per Monitor, a bounded pool of probe workers, the first probe of each
// target jittered over an interval, idle keep-alive connections that hold no
// goroutine. Time comes from an injectable [Clock].
//
// # Typical usage
//
//	cfg := healthcheck.DefaultConfig(healthcheck.HTTP)
//	cfg.Path = "/healthz"
//	m, err := healthcheck.NewMonitor(cfg, healthcheck.Options{})
//	if err != nil { ... } // a *ConfigError per invalid field
//	m.Register(healthcheck.Target{Addr: "10.0.0.7:8080"})
//	m.Subscribe(func(u healthcheck.Update) { setEndpoints(u.Snapshot.Available()) })
//	go m.Run(ctx) // until ctx is done
//
// # What it does not do
//
// It does not balance (see package balancer), proxy, or fail open: when no
// target is healthy, Snapshot.Available is empty and the caller decides
// (ELB routes to every registered target then; [Snapshot.Registered] gives
// them). It does not resolve names: targets are addresses. It does not
// hold or close connections: a proxy follows the unhealthy.draining and
// unhealthy transitions to keep or terminate them. The API is v0 and
// experimental: fields and functions may be added.
package healthcheck
