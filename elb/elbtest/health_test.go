package elbtest_test

import (
	"testing"
	"time"

	"github.com/lbkit/lbkit/elb/elbtest"
)

// TestSimulated walks the simulated health model through registration,
// failure and recovery with 10 s intervals, thresholds 3 up / 2 down.
func TestSimulated(t *testing.T) {
	hc := elbtest.HealthCheck{Interval: 10 * time.Second, HealthyThreshold: 3, UnhealthyThreshold: 2}
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tests := []struct {
		name  string
		marks func(m *elbtest.Simulated)
		now   int
		want  elbtest.Health
	}{
		{"just registered", nil, 0, elbtest.Health{State: "initial", Reason: "Elb.RegistrationInProgress", Description: "Target registration is in progress"}},
		{"first checks", nil, 15, elbtest.Health{State: "initial", Reason: "Elb.InitialHealthChecking", Description: "Initial health checks in progress"}},
		{"healthy at threshold", nil, 30, elbtest.Health{State: "healthy"}},
		{"failing, not yet", func(m *elbtest.Simulated) { m.Fail("t", 80, "", at(100)) }, 119, elbtest.Health{State: "healthy"}},
		{"failing, unhealthy", func(m *elbtest.Simulated) { m.Fail("t", 80, "", at(100)) }, 120, elbtest.Health{State: "unhealthy", Reason: "Target.FailedHealthChecks", Description: "Health checks failed"}},
		{"failing from the start", func(m *elbtest.Simulated) { m.Fail("t", 0, elbtest.ReasonResponseCodeMismatch, at(0)) }, 20, elbtest.Health{State: "unhealthy", Reason: "Target.ResponseCodeMismatch", Description: "Health checks failed with these codes: [502]"}},
		{"other port unaffected", func(m *elbtest.Simulated) { m.Fail("t", 81, "", at(0)) }, 50, elbtest.Health{State: "healthy"}},
		{"recovering", func(m *elbtest.Simulated) { m.Fail("t", 80, "", at(100)); m.Recover("t", 80, at(200)) }, 220, elbtest.Health{State: "unhealthy", Reason: "Target.FailedHealthChecks", Description: "Health checks failed"}},
		{"recovered", func(m *elbtest.Simulated) { m.Fail("t", 80, "", at(100)); m.Recover("t", 80, at(200)) }, 230, elbtest.Health{State: "healthy"}},
		{"mark in the future ignored", func(m *elbtest.Simulated) { m.Fail("t", 80, "", at(500)) }, 100, elbtest.Health{State: "healthy"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &elbtest.Simulated{}
			if tc.marks != nil {
				tc.marks(m)
			}
			got := m.TargetHealth(elbtest.HealthQuery{TargetID: "t", Port: 80, HealthCheck: hc, Since: t0, Now: at(tc.now)})
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
