package balancer_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/lbkit/lbkit/balancer"
	"github.com/lbkit/lbkit/balancer/balancertest"
)

// A DSR forwarder keeps its own list of backends and needs only the table:
// every forwarder given the same names maps a flow to the same backend.
func ExampleMaglevTable() {
	backends := []string{"10.0.1.10", "10.0.1.11", "10.0.1.12"}
	t, err := balancer.NewMaglevTable(backends, nil, balancer.DefaultMaglevTableSize)
	if err != nil {
		panic(err)
	}
	flow := balancer.Flow{
		Proto: 6,
		Src:   netip.MustParseAddrPort("198.51.100.7:51000"),
		Dst:   netip.MustParseAddrPort("192.0.2.1:443"),
	}
	fmt.Println(backends[t.Lookup(flow.Hash())])
	fmt.Println(t.Counts())
	// Output:
	// 10.0.1.11
	// [21846 21846 21845]
}

// FlowHash pins every packet of a flow to one endpoint; a flow that already
// exists stays on its endpoint while it drains, new flows avoid it.
func ExampleFlowHash() {
	b := balancer.New(balancer.FlowHash{}, balancer.BuildOptions{})
	defer b.Close()
	eps := []balancer.Endpoint{{Addr: "10.0.1.10:443"}, {Addr: "10.0.1.11:443"}, {Addr: "10.0.1.12:443"}}
	if err := b.Update(balancer.State{Endpoints: eps}); err != nil {
		panic(err)
	}
	flow := balancer.Flow{
		Proto: 6,
		Src:   netip.MustParseAddrPort("198.51.100.7:51000"),
		Dst:   netip.MustParseAddrPort("192.0.2.1:443"),
	}
	r, _ := b.Pick(balancer.PickInfo{Flow: flow})
	fmt.Println("flow on", r.Endpoint.Addr)

	eps[2].Status = balancer.StatusDraining
	if err := b.Update(balancer.State{Endpoints: eps}); err != nil {
		panic(err)
	}
	r, _ = b.Pick(balancer.PickInfo{Flow: flow, Established: true})
	fmt.Println("established flow stays on", r.Endpoint.Addr)
	r, _ = b.Pick(balancer.PickInfo{Flow: flow})
	fmt.Println("a new flow with the same tuple goes to", r.Endpoint.Addr)
	// Output:
	// flow on 10.0.1.12:443
	// established flow stays on 10.0.1.12:443
	// a new flow with the same tuple goes to 10.0.1.11:443
}

// LeastRequest counts a request in flight until Done; P2C then steers new
// requests away from the busy endpoint.
func ExampleLeastRequest() {
	b := balancer.New(balancer.LeastRequest{}, balancer.BuildOptions{Rand: balancertest.Rand(1)})
	defer b.Close()
	if err := b.Update(balancer.State{Endpoints: []balancer.Endpoint{{Addr: "a"}, {Addr: "b"}}}); err != nil {
		panic(err)
	}
	slow, _ := b.Pick(balancer.PickInfo{}) // held open: a slow request
	counts := map[string]int{}
	for range 1000 {
		r, err := b.Pick(balancer.PickInfo{})
		if err != nil {
			panic(err)
		}
		counts[r.Endpoint.Addr]++
		r.Done(balancer.DoneInfo{Latency: time.Millisecond})
	}
	slow.Done(balancer.DoneInfo{Latency: time.Second})
	fmt.Printf("busy %s got %d%% of new requests\n", slow.Endpoint.Addr, counts[slow.Endpoint.Addr]/10)
	// Output:
	// busy b got 22% of new requests
}

// BoundedLoad keeps a hot key on its endpoint until that endpoint holds
// more than ⌈c·mean⌉ requests, then spills.
func ExampleBoundedLoad() {
	b := balancer.New(balancer.BoundedLoad{Factor: 1.25}, balancer.BuildOptions{})
	defer b.Close()
	var eps []balancer.Endpoint
	for i := range 4 {
		eps = append(eps, balancer.Endpoint{Addr: fmt.Sprintf("cache-%d", i)})
	}
	if err := b.Update(balancer.State{Endpoints: eps}); err != nil {
		panic(err)
	}
	key := balancer.HashString("/popular/object")
	load := map[string]int{}
	var open []balancer.PickResult
	for range 40 {
		r, _ := b.Pick(balancer.PickInfo{Hash: key})
		load[r.Endpoint.Addr]++
		open = append(open, r)
	}
	fmt.Println(load) // the cap ⌈1.25·40/4⌉ is 13
	for _, r := range open {
		r.Done(balancer.DoneInfo{})
	}
	// Output:
	// map[cache-0:13 cache-1:7 cache-2:13 cache-3:7]
}

// Slow start ramps a new endpoint in; with a FakeClock nothing waits.
func ExampleSlowStart() {
	clk := balancertest.NewFakeClock(time.Unix(0, 0))
	b := balancer.New(balancer.RoundRobin{}, balancer.BuildOptions{
		Clock:     clk,
		SlowStart: balancer.SlowStart{Window: 60 * time.Second, Step: 15 * time.Second},
	})
	defer b.Close()
	old := []balancer.Endpoint{{Addr: "old"}}
	_ = b.Update(balancer.State{Endpoints: old})
	_ = b.Update(balancer.State{Endpoints: append(old, balancer.Endpoint{Addr: "new"})})
	share := func() int {
		n := 0
		for range 1000 {
			r, _ := b.Pick(balancer.PickInfo{})
			if r.Endpoint.Addr == "new" {
				n++
			}
		}
		return n / 10
	}
	for range 5 {
		fmt.Printf("t=%v new=%d%%\n", clk.Now().Unix(), share())
		clk.Advance(15 * time.Second)
	}
	// Output:
	// t=0 new=9%
	// t=15 new=20%
	// t=30 new=33%
	// t=45 new=42%
	// t=60 new=50%
}
