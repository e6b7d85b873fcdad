package balancer

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestSlowStartFactor(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name    string
		ss      SlowStart
		elapsed time.Duration
		want    float64
		ramping bool
	}{
		{"start floors at 10%", SlowStart{Window: 100 * time.Second}, 0, 0.1, true},
		{"linear half", SlowStart{Window: 100 * time.Second}, 50 * time.Second, 0.5, true},
		{"custom floor", SlowStart{Window: 100 * time.Second, MinWeightPercent: 30}, 20 * time.Second, 0.3, true},
		{"aggression 2", SlowStart{Window: 100 * time.Second, Aggression: 2}, 25 * time.Second, 0.5, true},
		{"aggression 0.5", SlowStart{Window: 100 * time.Second, Aggression: 0.5}, 50 * time.Second, 0.25, true},
		{"done", SlowStart{Window: 100 * time.Second}, 100 * time.Second, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBase(RoundRobin{}, BuildOptions{SlowStart: tt.ss})
			b.since["x"] = t0
			got, r := b.slowStartFactor("x", t0.Add(tt.elapsed))
			if math.Abs(got-tt.want) > 1e-9 || r != tt.ramping {
				t.Errorf("factor = %v, %v; want %v, %v", got, r, tt.want, tt.ramping)
			}
		})
	}
}

func TestCloseAndZeroValues(t *testing.T) {
	b := New(nil, BuildOptions{})
	if err := b.Update(State{Endpoints: []Endpoint{{Addr: "a"}}}); err != nil {
		t.Fatal(err)
	}
	r, err := b.Pick(PickInfo{})
	if err != nil || r.Endpoint.Addr != "a" || r.Endpoint.Status != StatusHealthy {
		t.Fatalf("zero Endpoint not usable: %v, %v", r.Endpoint, err)
	}
	PickResult{}.Done(DoneInfo{}) // the zero PickResult is safe
	b.Close()
	if err := b.Update(State{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Update after Close = %v, want ErrClosed", err)
	}
	if _, err := b.Pick(PickInfo{}); err != nil {
		t.Errorf("Pick after Close = %v, want the last picker", err)
	}
	if s := StatusDraining.String(); s != "draining" {
		t.Errorf("String = %q", s)
	}
}
