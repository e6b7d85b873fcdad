package elbtest

import (
	"context"
	"testing"
)

// Rules on one operation share a single draw: their rates are the
// fractions of calls that fail with each code.
func TestFaultRulesCompose(t *testing.T) {
	fi := newFaultInjector(&Faults{Rules: []FaultRule{
		{Code: codeThrottling, Rate: 0.20},
		{Operations: []string{"RegisterTargets"}, Code: codeInternalFailure, Rate: 0.05},
	}}, 7)
	const n = 20000
	count := map[string]int{}
	for range n {
		if err := fi.before(context.Background(), "RegisterTargets"); err != nil {
			count[err.(*APIError).Code]++
		}
		if err := fi.before(context.Background(), "DescribeRules"); err != nil && err.(*APIError).Code != codeThrottling {
			t.Fatalf("DescribeRules got %v; only the Throttling rule matches it", err)
		}
	}
	for code, want := range map[string]float64{codeThrottling: 0.20, codeInternalFailure: 0.05} {
		got := float64(count[code]) / n
		if got < want-0.01 || got > want+0.01 {
			t.Errorf("%s on %.3f of calls, want %.2f ± 0.01", code, got, want)
		}
	}
}
