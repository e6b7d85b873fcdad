package balancer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"sync/atomic"
	"time"
)

// Status says whether an endpoint may receive new picks.
//
// The zero value is [StatusHealthy], so an Endpoint with only an address is
// usable: a balancer without health checking treats every endpoint as up.
type Status uint8

const (
	// StatusHealthy endpoints receive new picks.
	StatusHealthy Status = iota
	// StatusUnhealthy endpoints receive no picks, except when fail-open or
	// the panic threshold (see [FailOpen]) puts every endpoint back in use.
	StatusUnhealthy
	// StatusDraining endpoints receive no new picks, even in fail-open: it is
	// the effective weight 0 of HAProxy's drain and of ELB's deregistration
	// delay. Hashing algorithms still map a pick with
	// [PickInfo.Established] set to a draining endpoint, so a flow that is
	// already open keeps its endpoint until it ends.
	StatusDraining
)

// String returns "healthy", "unhealthy" or "draining".
func (s Status) String() string {
	switch s {
	case StatusHealthy:
		return "healthy"
	case StatusUnhealthy:
		return "unhealthy"
	case StatusDraining:
		return "draining"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Endpoint is one backend a balancer can pick.
//
// Endpoints are values: a balancer copies the slice it is given in
// [State], and the *Endpoint a pick returns points into that immutable copy,
// so callers must not modify it.
type Endpoint struct {
	// Addr identifies the endpoint, usually "host:port". It must be non-empty
	// and unique within a State. Hashing algorithms hash Addr, so two
	// processes given the same set of Addrs and weights agree on every key.
	// Per-endpoint state (in-flight counts, slow start) follows Addr across
	// updates.
	Addr string
	// Weight is the endpoint's relative share of picks. Zero means 1, so the
	// zero Endpoint is usable; to stop new picks use [StatusDraining].
	Weight uint32
	// Zone is the endpoint's availability zone, for zone awareness (see
	// [BuildOptions.Zone]). Empty means unknown: such endpoints count as
	// belonging to every zone.
	Zone string
	// Status says whether the endpoint takes new picks. The zero value is
	// healthy.
	Status Status
	// Metadata is opaque to the balancer and returned with every pick, for
	// example the caller's *httputil.ReverseProxy for this endpoint.
	Metadata any
}

// weight returns the configured weight with 0 meaning 1.
func (e *Endpoint) weight() float64 {
	if e.Weight == 0 {
		return 1
	}
	return float64(e.Weight)
}

// State is what a balancer balances over. It is a struct so that fields can
// be added without breaking callers.
type State struct {
	// Endpoints is the whole set; order does not matter. Balancers copy it.
	Endpoints []Endpoint
}

// Flow is an L4 flow's 5-tuple, the key NLB hashes so that every packet of
// a flow goes to the same endpoint.
type Flow struct {
	// Proto is the IP protocol number: 6 for TCP, 17 for UDP.
	Proto uint8
	// Src and Dst are the client and the listener address of the flow.
	Src, Dst netip.AddrPort
}

// Hash returns a 64-bit hash of the 5-tuple. It is deterministic across
// processes, machines and Go versions (xxHash64 with a fixed seed over a
// fixed byte layout), so separate forwarders agree. IPv4 and its
// IPv4-mapped IPv6 form hash alike.
func (f Flow) Hash() uint64 {
	s := f.Src.Addr().As16()
	d := f.Dst.Addr().As16()
	sp, dp := f.Src.Port(), f.Dst.Port()
	// xxh64 of the 37 bytes src(16) dst(16) sport(2, big endian)
	// dport(2, big endian) proto(1), unrolled for that one length;
	// flowBytes and TestFlowHashUnrolled keep it equal to the generic form.
	seed := flowSeed // a variable: the sums below wrap, as XXH64 intends
	v1 := xxRound(seed+xxPrime1+xxPrime2, binary.LittleEndian.Uint64(s[0:8]))
	v2 := xxRound(seed+xxPrime2, binary.LittleEndian.Uint64(s[8:16]))
	v3 := xxRound(seed, binary.LittleEndian.Uint64(d[0:8]))
	v4 := xxRound(seed-xxPrime1, binary.LittleEndian.Uint64(d[8:16]))
	h := bits.RotateLeft64(v1, 1) + bits.RotateLeft64(v2, 7) + bits.RotateLeft64(v3, 12) + bits.RotateLeft64(v4, 18)
	h = xxMerge(h, v1)
	h = xxMerge(h, v2)
	h = xxMerge(h, v3)
	h = xxMerge(h, v4)
	h += 37
	tail := uint32(sp>>8) | uint32(sp&0xff)<<8 | uint32(dp>>8)<<16 | uint32(dp&0xff)<<24
	h ^= uint64(tail) * xxPrime1
	h = bits.RotateLeft64(h, 23)*xxPrime2 + xxPrime3
	h ^= uint64(f.Proto) * xxPrime5
	h = bits.RotateLeft64(h, 11) * xxPrime1
	h ^= h >> 33
	h *= xxPrime2
	h ^= h >> 29
	h *= xxPrime3
	h ^= h >> 32
	return h
}

// flowBytes is the byte layout Flow.Hash hashes.
func flowBytes(f Flow) [37]byte {
	var b [37]byte
	s := f.Src.Addr().As16()
	d := f.Dst.Addr().As16()
	copy(b[0:16], s[:])
	copy(b[16:32], d[:])
	sp, dp := f.Src.Port(), f.Dst.Port()
	b[32], b[33] = byte(sp>>8), byte(sp)
	b[34], b[35] = byte(dp>>8), byte(dp)
	b[36] = f.Proto
	return b
}

// IsValid reports whether f has a valid source and destination.
func (f Flow) IsValid() bool { return f.Src.IsValid() && f.Dst.IsValid() }

// PickInfo is what a pick knows about the request or flow. Each algorithm
// reads only what it needs; the zero value is a valid PickInfo.
type PickInfo struct {
	// Hash is the consistent-hashing key for [RingHash], [Maglev],
	// [Rendezvous] and [BoundedLoad] (other algorithms ignore it). Compute
	// it with [HashString] or [HashBytes] from a header, cookie or client
	// address; zero is an ordinary key.
	Hash uint64
	// Flow is the 5-tuple of an L4 flow; [FlowHash] keys on Flow.Hash().
	Flow Flow
	// Established marks a pick for a flow that already exists (a TCP
	// segment that is not a SYN, a request on a sticky session). Hashing
	// algorithms then may return a draining endpoint, so the flow keeps its
	// endpoint while it drains. Non-hashing algorithms ignore it: for them
	// the caller keeps the connection to the endpoint it already has.
	Established bool
}

// DoneInfo reports how a picked request or connection ended.
type DoneInfo struct {
	// Err is the request's error, nil on success.
	Err error
	// Latency is the time from pick to completion, if the caller measured
	// it (zero otherwise).
	Latency time.Duration
}

// PickResult is the outcome of a successful pick.
type PickResult struct {
	// Endpoint is the picked endpoint. It points into the balancer's
	// immutable copy of the State: read it, do not modify it.
	Endpoint *Endpoint
	// load is the endpoint's in-flight counter when the algorithm tracks
	// load, nil otherwise; total is the balancer-wide one, for bounded load.
	load  *endpointLoad
	total *atomic.Int64
}

// Done reports that the picked request or connection has ended. Load-aware
// algorithms ([LeastRequest], [LeastConn], [BoundedLoad]) count a pick as in
// flight until Done is called, so call it exactly once per successful pick
// (defer it); for other algorithms it does nothing and costs nothing. It is
// safe on the zero PickResult and does not allocate.
func (r PickResult) Done(info DoneInfo) {
	if r.load != nil {
		r.load.done(info)
	}
	if r.total != nil {
		r.total.Add(-1)
	}
}

// Picker picks endpoints from one immutable snapshot of the endpoint set.
//
// Pick is safe for concurrent use by any number of goroutines, never blocks
// and, for every algorithm in this package, takes no lock and allocates
// nothing. When no endpoint is available it returns an error for which
// errors.Is(err, ErrNoEndpoint) is true.
type Picker interface {
	Pick(info PickInfo) (PickResult, error)
}

// Balancer holds an endpoint set and the picker built from it.
//
// Update must be called from one goroutine at a time (it is serialized
// internally, but callers should feed it from a single watch loop); each
// Update publishes a new immutable Picker with an atomic pointer swap, so
// Pick and Picker may be called concurrently with Update from any number of
// goroutines. Picks that started before the swap finish on the old picker.
type Balancer interface {
	// Update replaces the endpoint set. An invalid set (an empty or
	// duplicate Addr, an unknown Status, more endpoints than the algorithm
	// holds: 65535 for Maglev) returns an error wrapping
	// ErrInvalidEndpoint and changes nothing. An empty set is valid: picks then fail with ErrNoEndpoint.
	Update(State) error
	// Picker returns the current picker, for callers that want to pick
	// several times from one consistent snapshot.
	Picker() Picker
	// Pick picks from the current picker; it is Picker().Pick(info).
	Pick(info PickInfo) (PickResult, error)
	// Close stops the balancer's timers (slow start). Picks keep working on
	// the last picker; Updates after Close return ErrClosed.
	Close()
}

// Builder makes Balancers of one algorithm. The algorithm types of this
// package ([RoundRobin], [Random], [LeastRequest], [LeastConn], [RingHash],
// [Maglev], [Rendezvous], [BoundedLoad], [FlowHash]) are Builders whose
// exported fields configure the algorithm; their zero values use the
// documented defaults.
type Builder interface {
	// Name returns the algorithm's name, e.g. "round_robin".
	Name() string
	// Build returns a Balancer with an empty endpoint set.
	Build(BuildOptions) Balancer
}

// New is b.Build(opts), or RoundRobin when b is nil.
func New(b Builder, opts BuildOptions) Balancer {
	if b == nil {
		b = RoundRobin{}
	}
	return b.Build(opts)
}

// BuildOptions are the modifiers and dependencies every algorithm takes.
// The zero value is ALB's behaviour: fail open when no endpoint is healthy,
// no slow start, no zone preference, the system clock and a fast
// goroutine-safe random source.
type BuildOptions struct {
	// SlowStart ramps the weight of endpoints that become healthy.
	SlowStart SlowStart
	// FailOpen says what happens when few or no endpoints are healthy.
	FailOpen FailOpen
	// Zone prefers endpoints of the caller's zone.
	Zone ZoneAware
	// Clock is read on Update and drives slow-start steps; it is never read
	// on the pick path. Nil means the system clock.
	Clock Clock
	// Rand returns uniformly random 64-bit values. It must be safe for
	// concurrent use and should not allocate. Nil means math/rand/v2's
	// global source (per-thread ChaCha8, lock-free). Inject a seeded source
	// to make random algorithms reproducible in tests.
	Rand func() uint64
}

// SlowStart ramps up the share of an endpoint that becomes healthy (joins
// while others already serve, or recovers from unhealthy), so a cold
// backend is not flooded. The effective weight is
//
//	weight · max(MinWeightPercent/100, (t/Window)^(1/Aggression))
//
// for t < Window, which is ELB's linear ramp (slow_start.duration_seconds,
// 30–900 s) when Aggression is 1, and Envoy's slow_start_config otherwise.
// As on ELB, an endpoint enters slow start only if at least one other
// healthy endpoint is not in slow start, so a fresh balancer's first set is
// used at full weight. Effective weights change in steps (see Step) by
// republishing the picker; the pick path reads no clock.
type SlowStart struct {
	// Window is the ramp duration. Zero disables slow start.
	Window time.Duration
	// Aggression shapes the curve; zero means 1 (linear). Larger values
	// ramp faster early.
	Aggression float64
	// MinWeightPercent is the floor of the ramp in percent of the weight.
	// Zero means 10, Envoy's default; it must be above 0 so that a new
	// endpoint gets some traffic.
	MinWeightPercent float64
	// Step is how often effective weights are recomputed while an endpoint
	// ramps. Zero means Window/32, but at least 100ms.
	Step time.Duration
}

// FailOpen says what happens when too few endpoints are healthy. The zero
// value is ALB's behaviour: when every endpoint is unhealthy, use them all.
type FailOpen struct {
	// Disabled turns fail-open off: with no healthy endpoint, picks fail
	// with ErrNoEndpoint.
	Disabled bool
	// PanicThreshold, in percent (0–100), is Envoy's panic mode: when the
	// healthy share of non-draining endpoints falls below it, every
	// non-draining endpoint is used, healthy or not. Envoy's default is 50.
	// Zero means only when none is healthy. Ignored when Disabled.
	PanicThreshold float64
}

// ZoneAware prefers endpoints in the caller's zone, as ELB does with
// cross-zone load balancing off.
type ZoneAware struct {
	// Local is the caller's zone. Empty disables zone awareness.
	Local string
	// CrossZone, when true, balances across all zones (ALB's default), and
	// Local is ignored. When false (NLB's default) only endpoints in Local
	// (or with no zone) are used while at least one of them is available;
	// if none is, all zones are used, as ELB's DNS fail-over would.
	CrossZone bool
}

// Errors. Branch on them with errors.Is.
var (
	// ErrNoEndpoint means no endpoint can take the pick: the set is empty,
	// draining, or unhealthy with fail-open disabled. Callers should fail
	// the request (HTTP 503) or wait for an Update; retrying the same
	// picker gives the same answer. The error returned by Pick is a
	// *NoEndpointError with the counts.
	ErrNoEndpoint = errors.New("balancer: no endpoint available")
	// ErrInvalidEndpoint means Update was given an invalid set (an empty
	// or duplicate Addr, an unknown Status, too many endpoints); nothing
	// was changed.
	ErrInvalidEndpoint = errors.New("balancer: invalid endpoint")
	// ErrInvalidConfig means a standalone table was asked for with invalid
	// parameters (see NewMaglevTable).
	ErrInvalidConfig = errors.New("balancer: invalid configuration")
	// ErrClosed means Update was called after Close.
	ErrClosed = errors.New("balancer: closed")
)

// NoEndpointError is the error a Pick returns when no endpoint is available.
// It matches ErrNoEndpoint with errors.Is, and carries the counts behind the
// decision. Pickers build it once per snapshot, so returning it does not
// allocate.
type NoEndpointError struct {
	// Total, Unhealthy and Draining count the endpoints of the snapshot.
	Total, Unhealthy, Draining int
}

func (e *NoEndpointError) Error() string {
	return fmt.Sprintf("balancer: no endpoint available (%d endpoints: %d unhealthy, %d draining)", e.Total, e.Unhealthy, e.Draining)
}

// Is makes errors.Is(err, ErrNoEndpoint) true.
func (e *NoEndpointError) Is(target error) bool { return target == ErrNoEndpoint }
