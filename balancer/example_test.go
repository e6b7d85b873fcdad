package balancer_test

import (
	"errors"
	"fmt"

	"github.com/lbkit/lbkit/balancer"
)

func Example() {
	b := balancer.New(balancer.RoundRobin{}, balancer.BuildOptions{
		Rand: func() uint64 { return 0 }, // a fixed start, for a stable output
	})
	defer b.Close()

	if _, err := b.Pick(balancer.PickInfo{}); errors.Is(err, balancer.ErrNoEndpoint) {
		fmt.Println("no endpoint yet:", err)
	}
	err := b.Update(balancer.State{Endpoints: []balancer.Endpoint{
		{Addr: "10.0.0.1:80", Weight: 2},
		{Addr: "10.0.0.2:80"},
	}})
	if err != nil {
		panic(err)
	}
	for range 6 {
		r, err := b.Pick(balancer.PickInfo{})
		if err != nil {
			panic(err)
		}
		fmt.Println(r.Endpoint.Addr)
		r.Done(balancer.DoneInfo{})
	}
	// Output:
	// no endpoint yet: balancer: no endpoint available (0 endpoints: 0 unhealthy, 0 draining)
	// 10.0.0.2:80
	// 10.0.0.1:80
	// 10.0.0.1:80
	// 10.0.0.2:80
	// 10.0.0.1:80
	// 10.0.0.1:80
}
