package elbtest

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Faults injects failures for reliability tests. Every decision comes from
// one random stream seeded with Options.Seed, so a run that issues the same
// calls in the same order sees the same faults: a failing test can be
// replayed. (Concurrent callers race for positions in the stream; replay
// then needs the same interleaving.)
type Faults struct {
	// Rules that match a call all apply to it: their latencies add up, and
	// their rates are shares of one draw, so that rules of 20% Throttling
	// and 5% InternalFailure on the same operation fail 20% and 5% of its
	// calls respectively (rates beyond a total of 1 never fire). A call no
	// rule matches gets no fault.
	Rules []FaultRule
}

// FaultRule is one kind of fault for a set of operations.
type FaultRule struct {
	// Operations are the actions ("RegisterTargets") this rule applies
	// to; empty means every action.
	Operations []string
	// Code is the error returned: "Throttling" (HTTP 400, which the SDK
	// retries), "ServiceUnavailable" (503) or "InternalFailure" (500), or
	// any other code (400).
	Code string
	// Rate is the probability, 0 to 1, that a matching call fails.
	Rate float64
	// Latency is added to every matching call, failed or not. It ends
	// early if the client gives up.
	Latency time.Duration
}

func (r *FaultRule) matches(action string) bool {
	if len(r.Operations) == 0 {
		return true
	}
	for _, o := range r.Operations {
		if o == action {
			return true
		}
	}
	return false
}

type faultInjector struct {
	mu    sync.Mutex
	rules []FaultRule
	rng   *rand.Rand
}

func newFaultInjector(f *Faults, seed uint64) *faultInjector {
	fi := &faultInjector{rng: rand.New(rand.NewPCG(seed, 0x656c6274657374))}
	if f != nil {
		fi.rules = append(fi.rules, f.Rules...)
	}
	return fi
}

// SetFaults replaces the fault rules of a running endpoint (nil removes
// them); the random stream continues.
func (s *Server) SetFaults(f *Faults) {
	s.faults.mu.Lock()
	s.faults.rules = nil
	if f != nil {
		s.faults.rules = append(s.faults.rules, f.Rules...)
	}
	s.faults.mu.Unlock()
}

// before applies the matching rules to a call: it waits their latency,
// then returns the injected error or nil.
func (fi *faultInjector) before(ctx context.Context, action string) error {
	fi.mu.Lock()
	var (
		latency time.Duration
		code    string
		fail    bool
		draw    = -1.0 // drawn once, on the first rule with a rate
		share   float64
	)
	for i := range fi.rules {
		r := &fi.rules[i]
		if !r.matches(action) {
			continue
		}
		latency += r.Latency
		if r.Rate <= 0 || fail {
			continue
		}
		if draw < 0 {
			draw = fi.rng.Float64()
		}
		share += r.Rate
		if draw < share {
			fail, code = true, r.Code
		}
	}
	fi.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if !fail {
		return nil
	}
	return faultError(code)
}

func faultError(code string) *APIError {
	switch code {
	case "", codeThrottling:
		return &APIError{Code: codeThrottling, Message: "Rate exceeded"}
	case codeServiceUnavailable:
		return &APIError{Code: codeServiceUnavailable, Message: "Service is unavailable. Please try again.", Status: http.StatusServiceUnavailable}
	case codeInternalFailure:
		return &APIError{Code: codeInternalFailure, Message: "We encountered an internal error. Please try again.", Status: http.StatusInternalServerError}
	}
	return &APIError{Code: code, Message: "Injected fault " + code}
}
