// Package local runs an elb.Stack on this machine through package lb: the
// same spec that elb/provision creates in AWS serves real traffic here.
//
// Each Application Load Balancer listener becomes an lb.HTTPListener whose
// lb.HTTPProxy is routed by elb's own rule evaluation (elb.NewRouter), so
// local routing and offline evaluation cannot disagree. Each Network Load
// Balancer listener becomes an lb.TCPProxy (TCP), lb.TLSProxy (TLS),
// lb.UDPProxy (UDP) or both (TCP_UDP). Every target group is an
// lb.TargetGroup with the group's health check (package healthcheck, ELB's
// state machine), algorithm, deregistration delay and stickiness.
//
// # Typical usage
//
//	st, err := local.Start(ctx, stack, local.Options{})
//	if err != nil { … }
//	defer st.Close()
//	addr, _ := st.Addr("demo", 80)     // where listener 80 of "demo" listens
//	http.Get("http://" + addr + "/")
//	err = st.Apply(changed)            // new rules, targets, listeners; no request dropped
//	hs, _ := st.TargetHealth("web")    // ELB states: initial, healthy, unhealthy, draining, unused, unavailable
//
// Listener ports map to loopback: by default every listener binds
// 127.0.0.1:0 (a free port) and [Stack.Addr] / [Stack.Listeners] say where;
// Options.Listen chooses other addresses (for example the listener's own
// port). Targets are dialled at their ID and port for ip target groups;
// Options.Resolve maps instance IDs (or anything else) to addresses.
// Options.TimeScale speeds up health checks and deregistration delays for
// demos and tests (0.05 runs a 30 s interval every 1.5 s). Options.Metrics
// registers lb's Prometheus metrics on the caller's registry.
//
// [Stack.Apply] diffs the running stack against a new spec: listeners that
// stay keep their socket, their routes are swapped atomically (a request
// is routed by the old or the new rules, never by neither); target groups
// that stay keep their targets' health, new targets are registered and
// removed ones drain for the deregistration delay (ending early when idle).
// Every target group is checked before anything changes, so a spec that
// does not validate, or a target that cannot be resolved, changes nothing;
// a listener that cannot bind is reported after the rest was applied.
//
// [Explain] is the offline half: for a stack and a request, which listener,
// rule, action and target group — with the stack's lint findings — as a
// value that prints itself, without opening any socket.
//
// # What it does not do
//
// It does not serve authenticate-oidc / authenticate-cognito actions (such
// rules answer 501), preserve client IPs (that needs IP_TRANSPARENT and
// routing; targets see the proxy's address), reach lambda or alb targets,
// or implement SSL policies: HTTPS and TLS listeners use a self-signed
// certificate unless Options.Certificate provides one. A UDP listener whose
// target group changes is restarted (its flows start over). A listener
// whose protocol changes is a new listener: with a fixed address
// (Options.Listen) the new one binds before the old one is closed, so
// change the protocol in two Applies (remove, then add). The API is v0
// and experimental.
package local
