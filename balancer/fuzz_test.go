package balancer_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/lbkit/lbkit/balancer"
	"github.com/lbkit/lbkit/balancer/balancertest"
)

// FuzzUpdatePick feeds arbitrary endpoint sets (4 bytes each: address,
// weight, status, zone) to every algorithm. Invariants: Update either
// accepts the set or rejects it with ErrInvalidEndpoint and keeps the old
// one; every pick returns an endpoint of the current set that is not
// draining (unless Established) or ErrNoEndpoint; nothing panics.
func FuzzUpdatePick(f *testing.F) {
	f.Add([]byte{1, 1, 0, 0, 2, 3, 0, 1, 3, 0, 1, 2})
	f.Add([]byte{1, 255, 2, 0})
	f.Add([]byte{1, 1, 0, 0, 1, 2, 0, 0}) // duplicate
	f.Add([]byte{})
	f.Add([]byte{9, 0, 1, 1, 8, 0, 1, 1, 7, 200, 0, 2, 6, 1, 2, 0})
	builders := []balancer.Builder{
		balancer.RoundRobin{}, balancer.Random{}, balancer.LeastRequest{}, balancer.LeastConn{},
		balancer.Maglev{TableSize: 251}, balancer.RingHash{PointsPerWeight: 8}, balancer.Rendezvous{},
		balancer.BoundedLoad{Hash: balancer.Maglev{TableSize: 251}}, balancer.FlowHash{TableSize: 251},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4*64 {
			return
		}
		var eps []balancer.Endpoint
		for i := 0; i+3 < len(data); i += 4 {
			eps = append(eps, balancer.Endpoint{
				Addr:   fmt.Sprintf("ep%d", data[i]%32),
				Weight: uint32(data[i+1]) * uint32(data[i+1]),
				Status: balancer.Status(data[i+2] % 4), // 3 is invalid
				Zone:   fmt.Sprintf("z%d", data[i+3]%3),
			})
		}
		for _, b := range builders {
			bl := b.Build(balancer.BuildOptions{
				Rand:     balancertest.Rand(uint64(len(data))),
				Zone:     balancer.ZoneAware{Local: "z1"},
				FailOpen: balancer.FailOpen{PanicThreshold: 50},
			})
			old := []balancer.Endpoint{{Addr: "old"}}
			if err := bl.Update(balancer.State{Endpoints: old}); err != nil {
				t.Fatal(err)
			}
			set := map[string]balancer.Status{"old": balancer.StatusHealthy}
			if err := bl.Update(balancer.State{Endpoints: eps}); err != nil {
				if !errors.Is(err, balancer.ErrInvalidEndpoint) {
					t.Fatalf("%s: Update error %v does not wrap ErrInvalidEndpoint", b.Name(), err)
				}
			} else {
				set = map[string]balancer.Status{}
				for _, e := range eps {
					set[e.Addr] = e.Status
				}
			}
			for i := range 20 {
				in := balancer.PickInfo{Hash: uint64(i) * 0x9e3779b97f4a7c15, Established: i%2 == 1}
				r, err := bl.Pick(in)
				if err != nil {
					if !errors.Is(err, balancer.ErrNoEndpoint) {
						t.Fatalf("%s: Pick error %v", b.Name(), err)
					}
					continue
				}
				st, ok := set[r.Endpoint.Addr]
				if !ok {
					t.Fatalf("%s: picked %q, not in the set", b.Name(), r.Endpoint.Addr)
				}
				if st == balancer.StatusDraining && !in.Established {
					t.Fatalf("%s: new pick went to draining %q", b.Name(), r.Endpoint.Addr)
				}
				r.Done(balancer.DoneInfo{})
			}
			bl.Close()
		}
	})
}
