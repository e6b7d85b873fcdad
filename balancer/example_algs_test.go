package balancer_test

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/lbkit/lbkit/balancer"
)

// pickAddr picks once and completes the pick at once.
func pickAddr(b balancer.Balancer, info balancer.PickInfo) string {
	r, err := b.Pick(info)
	if err != nil {
		return err.Error()
	}
	r.Done(balancer.DoneInfo{})
	return r.Endpoint.Addr
}

// ALB's weighted_random: picks in proportion to the weights.
func ExampleRandom() {
	src := rand.New(rand.NewPCG(1, 2)) // seeded, for a stable output; not for concurrent use
	b := balancer.New(balancer.Random{}, balancer.BuildOptions{Rand: src.Uint64})
	defer b.Close()
	if err := b.Update(balancer.State{Endpoints: []balancer.Endpoint{
		{Addr: "10.0.0.1:80", Weight: 3},
		{Addr: "10.0.0.2:80", Weight: 1},
	}}); err != nil {
		panic(err)
	}
	n := map[string]int{}
	for range 10000 {
		n[pickAddr(b, balancer.PickInfo{})]++
	}
	fmt.Printf("%.2f %.2f\n", float64(n["10.0.0.1:80"])/10000, float64(n["10.0.0.2:80"])/10000)
	// Output: 0.74 0.26
}

// For L4: a connection counts until Done, and new connections go to the
// endpoint with the fewest open per unit of weight.
func ExampleLeastConn() {
	b := balancer.New(balancer.LeastConn{}, balancer.BuildOptions{Rand: func() uint64 { return 0 }})
	defer b.Close()
	if err := b.Update(balancer.State{Endpoints: []balancer.Endpoint{
		{Addr: "10.0.0.1:5432"}, {Addr: "10.0.0.2:5432"},
	}}); err != nil {
		panic(err)
	}
	first, _ := b.Pick(balancer.PickInfo{}) // held open
	second, _ := b.Pick(balancer.PickInfo{})
	fmt.Println(first.Endpoint.Addr, second.Endpoint.Addr)
	first.Done(balancer.DoneInfo{})
	second.Done(balancer.DoneInfo{})
	// Output: 10.0.0.1:5432 10.0.0.2:5432
}

// Consistent hashing keeps a key on its endpoint while others come and go.
// RingHash, Maglev and Rendezvous take the same PickInfo.Hash.
func ExampleRingHash() {
	b := balancer.New(balancer.RingHash{}, balancer.BuildOptions{})
	defer b.Close()
	set := func(addrs ...string) {
		var eps []balancer.Endpoint
		for _, a := range addrs {
			eps = append(eps, balancer.Endpoint{Addr: a})
		}
		if err := b.Update(balancer.State{Endpoints: eps}); err != nil {
			panic(err)
		}
	}
	key := balancer.PickInfo{Hash: balancer.HashString("session-42")}
	set("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80")
	before := pickAddr(b, key)
	set("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80")
	after := pickAddr(b, key)
	fmt.Println(before == after || after == "10.0.0.4:80") // stays, or moves only to the newcomer
	// Output: true
}

// Rendezvous (highest random weight) hashing: every key ranks all
// endpoints; removing one moves only the keys it held.
func ExampleRendezvous() {
	b := balancer.New(balancer.Rendezvous{}, balancer.BuildOptions{})
	defer b.Close()
	all := []balancer.Endpoint{{Addr: "a:80"}, {Addr: "b:80"}, {Addr: "c:80"}}
	if err := b.Update(balancer.State{Endpoints: all}); err != nil {
		panic(err)
	}
	keys := make([]balancer.PickInfo, 1000)
	owner := make([]string, len(keys))
	for i := range keys {
		keys[i].Hash = balancer.HashString(fmt.Sprint("key-", i))
		owner[i] = pickAddr(b, keys[i])
	}
	if err := b.Update(balancer.State{Endpoints: all[:2]}); err != nil { // c leaves
		panic(err)
	}
	movedOthers := 0
	for i := range keys {
		if owner[i] != "c:80" && pickAddr(b, keys[i]) != owner[i] {
			movedOthers++
		}
	}
	fmt.Println("keys of a and b that moved:", movedOthers)
	// Output: keys of a and b that moved: 0
}

// ALB fails open: with no healthy endpoint it routes to all of them.
// Disabled, the pick fails with ErrNoEndpoint, for a 503.
func ExampleFailOpen() {
	down := []balancer.Endpoint{
		{Addr: "10.0.0.1:80", Status: balancer.StatusUnhealthy},
		{Addr: "10.0.0.2:80", Status: balancer.StatusUnhealthy},
	}
	for _, fo := range []balancer.FailOpen{{}, {Disabled: true}} {
		b := balancer.New(balancer.RoundRobin{}, balancer.BuildOptions{FailOpen: fo})
		if err := b.Update(balancer.State{Endpoints: down}); err != nil {
			panic(err)
		}
		_, err := b.Pick(balancer.PickInfo{})
		fmt.Printf("disabled=%v: no endpoint=%v\n", fo.Disabled, errors.Is(err, balancer.ErrNoEndpoint))
		b.Close()
	}
	// Output:
	// disabled=false: no endpoint=false
	// disabled=true: no endpoint=true
}

// NLB without cross-zone load balancing: picks stay in the caller's zone
// while it has a healthy endpoint.
func ExampleZoneAware() {
	b := balancer.New(balancer.RoundRobin{}, balancer.BuildOptions{Zone: balancer.ZoneAware{Local: "us-east-1a"}})
	defer b.Close()
	eps := []balancer.Endpoint{
		{Addr: "10.0.1.5:80", Zone: "us-east-1a"},
		{Addr: "10.0.2.5:80", Zone: "us-east-1b"},
	}
	if err := b.Update(balancer.State{Endpoints: eps}); err != nil {
		panic(err)
	}
	fmt.Println(pickAddr(b, balancer.PickInfo{}), pickAddr(b, balancer.PickInfo{}))
	eps[0].Status = balancer.StatusUnhealthy // the local zone has none left
	if err := b.Update(balancer.State{Endpoints: eps}); err != nil {
		panic(err)
	}
	fmt.Println(pickAddr(b, balancer.PickInfo{}))
	// Output:
	// 10.0.1.5:80 10.0.1.5:80
	// 10.0.2.5:80
}

// Draining (deregistration delay): a draining endpoint takes no new flows,
// but a hashing balancer keeps sending it the flows it already has.
func Example_drain() {
	b := balancer.New(balancer.Maglev{}, balancer.BuildOptions{})
	defer b.Close()
	eps := []balancer.Endpoint{{Addr: "10.0.0.1:443"}, {Addr: "10.0.0.2:443"}}
	if err := b.Update(balancer.State{Endpoints: eps}); err != nil {
		panic(err)
	}
	// A flow whose key lands on 10.0.0.1.
	var flow balancer.PickInfo
	for i := 0; ; i++ {
		flow.Hash = balancer.HashString(fmt.Sprint("flow-", i))
		if pickAddr(b, flow) == "10.0.0.1:443" {
			break
		}
	}
	eps[0].Status = balancer.StatusDraining
	if err := b.Update(balancer.State{Endpoints: eps}); err != nil {
		panic(err)
	}
	flow.Established = true
	fmt.Println("established:", pickAddr(b, flow))
	flow.Established = false
	fmt.Println("new:", pickAddr(b, flow))
	// Output:
	// established: 10.0.0.1:443
	// new: 10.0.0.2:443
}
