package balancer

import (
	"errors"
	"testing"
)

func eps(addrs ...string) []Endpoint {
	out := make([]Endpoint, len(addrs))
	for i, a := range addrs {
		out[i] = Endpoint{Addr: a}
	}
	return out
}

func TestRoundRobinCycles(t *testing.T) {
	b := New(RoundRobin{}, BuildOptions{Rand: func() uint64 { return 0 }})
	defer b.Close()
	if _, err := b.Pick(PickInfo{}); !errors.Is(err, ErrNoEndpoint) {
		t.Fatalf("empty balancer: err = %v, want ErrNoEndpoint", err)
	}
	if err := b.Update(State{Endpoints: eps("c", "a", "b")}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 6 {
		r, err := b.Pick(PickInfo{})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.Endpoint.Addr)
		r.Done(DoneInfo{})
	}
	want := []string{"b", "c", "a", "b", "c", "a"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("picks = %v, want %v", got, want)
		}
	}
}

func TestWeightedScheduleSmooth(t *testing.T) {
	tests := []struct {
		name string
		w    []float64
		want string
	}{
		{"5:1:1", []float64{5, 1, 1}, "aaabcaa"},
		{"2:1", []float64{2, 1}, "aba"},
		{"reduced", []float64{4, 2}, "aba"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []byte
			for _, i := range schedule(tt.w) {
				got = append(got, byte('a'+i))
			}
			if string(got) != tt.want {
				t.Errorf("schedule(%v) = %s, want %s", tt.w, got, tt.want)
			}
		})
	}
}

func TestUpdateRejectsInvalid(t *testing.T) {
	b := New(RoundRobin{}, BuildOptions{})
	defer b.Close()
	if err := b.Update(State{Endpoints: eps("a")}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]Endpoint{eps("a", "a"), eps(""), {{Addr: "x", Status: 9}}} {
		if err := b.Update(State{Endpoints: bad}); !errors.Is(err, ErrInvalidEndpoint) {
			t.Errorf("Update(%v) = %v, want ErrInvalidEndpoint", bad, err)
		}
	}
	r, err := b.Pick(PickInfo{})
	if err != nil || r.Endpoint.Addr != "a" {
		t.Errorf("after rejected updates: %v, %v; want the old set", r.Endpoint, err)
	}
}

func TestRoundRobinZeroAllocs(t *testing.T) {
	for _, weighted := range []bool{false, true} {
		b := New(RoundRobin{}, BuildOptions{})
		es := eps("a", "b", "c")
		if weighted {
			es[0].Weight = 3
		}
		if err := b.Update(State{Endpoints: es}); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(1000, func() {
			r, _ := b.Pick(PickInfo{})
			r.Done(DoneInfo{})
		}); n != 0 {
			t.Errorf("weighted=%v: %v allocs per pick", weighted, n)
		}
		b.Close()
	}
}

func TestMaglevRejectsTooManyEndpoints(t *testing.T) {
	es := make([]Endpoint, maxMaglevEndpoints+1)
	for i := range es {
		es[i].Addr = string(rune(0x10000 + i))
	}
	for _, bd := range []Builder{Maglev{}, FlowHash{}, BoundedLoad{}} {
		b := bd.Build(BuildOptions{})
		if err := b.Update(State{Endpoints: es}); !errors.Is(err, ErrInvalidEndpoint) {
			t.Errorf("%s: Update with %d endpoints = %v, want ErrInvalidEndpoint", bd.Name(), len(es), err)
		}
		b.Close()
	}
}
