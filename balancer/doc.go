// Package balancer picks an endpoint for each request or flow: round robin,
// random, least outstanding requests (P2C), least connections, ring hash,
// Maglev, rendezvous hashing, bounded-load consistent hashing and L4 flow
// hashing, with ELB- and Envoy-style modifiers (slow start, fail-open and
// panic threshold, zone awareness, drain).
//
// The API follows grpc-go's split of roles: a [Builder] (one per algorithm,
// configured by its exported fields) builds a [Balancer]; the Balancer takes
// endpoint sets through Update, from one goroutine, and publishes an
// immutable [Picker] with an atomic pointer swap; Pick is safe from any
// number of goroutines, never blocks, takes no lock and allocates nothing.
// Load-aware algorithms count a pick in flight until [PickResult.Done].
//
// Typical usage:
//
//	b := balancer.New(balancer.RoundRobin{}, balancer.BuildOptions{})
//	defer b.Close()
//	err := b.Update(balancer.State{Endpoints: []balancer.Endpoint{
//		{Addr: "10.0.0.1:80"}, {Addr: "10.0.0.2:80", Weight: 2},
//	}})
//	...
//	r, err := b.Pick(balancer.PickInfo{})
//	if errors.Is(err, balancer.ErrNoEndpoint) {
//		// 503
//	}
//	defer r.Done(balancer.DoneInfo{})
//	forward(r.Endpoint.Addr)
//
// Time and randomness are injected through [BuildOptions] (Clock, Rand);
// the pick path reads no clock at all: slow start re-weights on timer steps
// by publishing a new picker. Hashing is xxHash64 with fixed seeds, so
// hashing algorithms agree across processes given the same endpoint set.
//
// What it does not do: it opens no connection and checks no health (feed it
// [Endpoint.Status] from package healthcheck), keeps no per-flow state
// (callers that need connection tracking keep it and set
// [PickInfo.Established]), and starts no goroutine of its own. The package
// is experimental (v0): names may still change.
package balancer
