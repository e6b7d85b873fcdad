package healthcheck

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// OutlierConfig is passive outlier detection, Envoy's model with Envoy's
// defaults (envoy.config.cluster.v3.OutlierDetection). A target is ejected
// (taken out of Available, its ELB state untouched) when it fails too
// often by one of four detectors; it returns after BaseEjectionTime × the
// number of times it was ejected, capped at MaxEjectionTime, or at its next
// successful active check. Enforcing* fields are percentages: the chance
// that a detection really ejects (0 only counts, 100 always ejects).
// This goes beyond ELB and is opt-in (Options.Outlier).
type OutlierConfig struct {
	// Interval between sweeps that compute success-rate and failure
	// percentage ejections and return ejected targets. Default 10 s.
	Interval time.Duration
	// BaseEjectionTime is the first ejection's length. Default 30 s.
	BaseEjectionTime time.Duration
	// MaxEjectionTime caps an ejection's length. Default 300 s.
	MaxEjectionTime time.Duration
	// MaxEjectionPercent caps the share of targets ejected at once; one
	// target may always be ejected whatever the value. Default 10.
	MaxEjectionPercent int

	// Consecutive5xx ejects after this many consecutive 5xx responses or
	// local-origin errors (connect failures, resets). 0 disables. Default 5.
	Consecutive5xx          int
	EnforcingConsecutive5xx int // default 100
	// ConsecutiveGatewayFailure ejects after this many consecutive 502,
	// 503, 504 or local-origin errors. 0 disables. Default 5.
	ConsecutiveGatewayFailure          int
	EnforcingConsecutiveGatewayFailure int // default 0

	// Success rate: at each Interval, among targets with at least
	// SuccessRateRequestVolume requests in it (and only if there are at
	// least SuccessRateMinimumHosts of them), eject those whose success
	// rate is below mean − stdev × SuccessRateStdevFactor/1000.
	SuccessRateMinimumHosts  int // default 5
	SuccessRateRequestVolume int // default 100
	SuccessRateStdevFactor   int // default 1900
	EnforcingSuccessRate     int // default 100

	// Failure percentage: at each Interval, among targets with at least
	// FailurePercentageRequestVolume requests (and only if there are at
	// least FailurePercentageMinimumHosts), eject those whose failure
	// percentage is at least FailurePercentageThreshold.
	FailurePercentageThreshold     int // default 85
	FailurePercentageMinimumHosts  int // default 5
	FailurePercentageRequestVolume int // default 50
	EnforcingFailurePercentage     int // default 0

	// KeepEjectedOnActiveSuccess keeps an ejected target out even when an
	// active check succeeds. False (Envoy's default,
	// successful_active_health_check_uneject_host=true) returns it.
	KeepEjectedOnActiveSuccess bool
}

// DefaultOutlierConfig returns Envoy's defaults.
func DefaultOutlierConfig() OutlierConfig {
	return OutlierConfig{
		Interval:                           10 * time.Second,
		BaseEjectionTime:                   30 * time.Second,
		MaxEjectionTime:                    300 * time.Second,
		MaxEjectionPercent:                 10,
		Consecutive5xx:                     5,
		EnforcingConsecutive5xx:            100,
		ConsecutiveGatewayFailure:          5,
		EnforcingConsecutiveGatewayFailure: 0,
		SuccessRateMinimumHosts:            5,
		SuccessRateRequestVolume:           100,
		SuccessRateStdevFactor:             1900,
		EnforcingSuccessRate:               100,
		FailurePercentageThreshold:         85,
		FailurePercentageMinimumHosts:      5,
		FailurePercentageRequestVolume:     50,
		EnforcingFailurePercentage:         0,
	}
}

// Validate returns every invalid field as a *ConfigError (Field prefixed
// "Outlier."), joined; nil if c is valid.
func (c OutlierConfig) Validate() error {
	var errs []error
	bad := func(field string, v any, reason string) {
		errs = append(errs, &ConfigError{Field: "Outlier." + field, Value: v, Reason: reason})
	}
	if c.Interval <= 0 {
		bad("Interval", c.Interval, "must be positive")
	}
	if c.BaseEjectionTime <= 0 {
		bad("BaseEjectionTime", c.BaseEjectionTime, "must be positive")
	}
	if c.MaxEjectionTime < c.BaseEjectionTime {
		bad("MaxEjectionTime", c.MaxEjectionTime, fmt.Sprintf("must be at least BaseEjectionTime %v", c.BaseEjectionTime))
	}
	pct := map[string]int{
		"MaxEjectionPercent":                 c.MaxEjectionPercent,
		"EnforcingConsecutive5xx":            c.EnforcingConsecutive5xx,
		"EnforcingConsecutiveGatewayFailure": c.EnforcingConsecutiveGatewayFailure,
		"EnforcingSuccessRate":               c.EnforcingSuccessRate,
		"EnforcingFailurePercentage":         c.EnforcingFailurePercentage,
		"FailurePercentageThreshold":         c.FailurePercentageThreshold,
	}
	for _, name := range []string{"MaxEjectionPercent", "EnforcingConsecutive5xx", "EnforcingConsecutiveGatewayFailure", "EnforcingSuccessRate", "EnforcingFailurePercentage", "FailurePercentageThreshold"} {
		if v := pct[name]; v < 0 || v > 100 {
			bad(name, v, "must be a percentage, 0–100")
		}
	}
	nonneg := []struct {
		name string
		v    int
	}{
		{"Consecutive5xx", c.Consecutive5xx},
		{"ConsecutiveGatewayFailure", c.ConsecutiveGatewayFailure},
		{"SuccessRateMinimumHosts", c.SuccessRateMinimumHosts},
		{"SuccessRateRequestVolume", c.SuccessRateRequestVolume},
		{"SuccessRateStdevFactor", c.SuccessRateStdevFactor},
		{"FailurePercentageMinimumHosts", c.FailurePercentageMinimumHosts},
		{"FailurePercentageRequestVolume", c.FailurePercentageRequestVolume},
	}
	for _, f := range nonneg {
		if f.v < 0 {
			bad(f.name, f.v, "must not be negative")
		}
	}
	return errors.Join(errs...)
}

// Result is the outcome of one request a proxy sent to a target, reported
// with [Monitor.Report].
type Result struct {
	// Status is the HTTP status code of the response; 0 when there was
	// none (an L4 connection, or an error before the response).
	Status int
	// Err is a local-origin failure: the connection could not be made or
	// broke before a response. Nil when the exchange completed.
	Err error
}

// failed reports whether r counts as a failure (a 5xx or local-origin
// error) and as a gateway failure (502, 503, 504, local-origin error).
func (r Result) failed() (fail, gateway bool) {
	if r.Err != nil {
		return true, true
	}
	return r.Status >= 500 && r.Status <= 599, r.Status == 502 || r.Status == 503 || r.Status == 504
}

// outlierState is the Monitor's outlier detection, guarded by Monitor.mu.
type outlierState struct {
	cfg      OutlierConfig
	nextTick time.Time
	ejected  int
	sweeps   atomic.Uint64 // interval sweeps done, for tests
}

// outlierHost is one target's counters. The atomics are updated by Report
// without the Monitor's lock; the rest under it.
type outlierHost struct {
	consec5xx atomic.Int32
	consecGw  atomic.Int32
	requests  atomic.Uint64 // this interval
	failures  atomic.Uint64 // this interval

	ejections   int // multiplier of BaseEjectionTime
	unejectedAt time.Time
}

// Report feeds passive outlier detection with the result of one request to
// t. It is cheap (a lock-free lookup and a few atomics) and safe to call
// from every request. Without Options.Outlier, or for an unknown target, it does
// nothing.
func (m *Monitor) Report(t Target, r Result) {
	if m.outlier == nil {
		return
	}
	fail, gw := r.failed()
	v, ok := m.hot.Load(t)
	if !ok {
		return
	}
	e := v.(*entry)
	o := &e.od
	o.requests.Add(1)
	var trip5xx, tripGw bool
	cfg := &m.outlier.cfg
	if fail {
		o.failures.Add(1)
		if n := o.consec5xx.Add(1); cfg.Consecutive5xx > 0 && n == int32(cfg.Consecutive5xx) {
			trip5xx = true
		}
	} else if o.consec5xx.Load() != 0 {
		o.consec5xx.Store(0)
	}
	if gw {
		if n := o.consecGw.Add(1); cfg.ConsecutiveGatewayFailure > 0 && n == int32(cfg.ConsecutiveGatewayFailure) {
			tripGw = true
		}
	} else if o.consecGw.Load() != 0 {
		o.consecGw.Store(0)
	}
	if !trip5xx && !tripGw {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.targets[t] != e {
		return
	}
	now := m.clock.Now()
	if trip5xx {
		o.consec5xx.Store(0)
		m.ejectLocked(e, cfg.EnforcingConsecutive5xx, now)
	}
	if tripGw {
		o.consecGw.Store(0)
		m.ejectLocked(e, cfg.EnforcingConsecutiveGatewayFailure, now)
	}
}

// ejectLocked ejects e if the enforcement roll and MaxEjectionPercent allow.
func (m *Monitor) ejectLocked(e *entry, enforcing int, now time.Time) bool {
	os := m.outlier
	if e.h.Ejected || e.h.State == StateDraining || enforcing <= 0 {
		return false
	}
	if enforcing < 100 && int(m.rand()%100) >= enforcing {
		return false
	}
	hosts := len(m.targets)
	if os.ejected > 0 && (os.ejected+1)*100 > os.cfg.MaxEjectionPercent*hosts {
		return false
	}
	e.od.ejections++
	d := time.Duration(e.od.ejections) * os.cfg.BaseEjectionTime
	if d > os.cfg.MaxEjectionTime || d <= 0 {
		d = os.cfg.MaxEjectionTime
	}
	old := e.h
	e.h.Ejected, e.h.EjectedUntil = true, now.Add(d)
	os.ejected++
	m.emitLocked(Event{Time: now, Old: old, New: e.h})
	return true
}

func (m *Monitor) unejectLocked(e *entry, now time.Time) {
	if !e.h.Ejected {
		return
	}
	old := e.h
	e.h.Ejected, e.h.EjectedUntil = false, time.Time{}
	e.od.consec5xx.Store(0)
	e.od.consecGw.Store(0)
	e.od.unejectedAt = now
	m.outlier.ejected--
	m.emitLocked(Event{Time: now, Old: old, New: e.h})
}

// activeSuccessLocked returns an ejected target on a successful active
// check, as Envoy does by default.
func (m *Monitor) activeSuccessLocked(e *entry, now time.Time) {
	if !m.outlier.cfg.KeepEjectedOnActiveSuccess {
		m.unejectLocked(e, now)
	}
}

// outlierTickLocked runs the interval sweep when it is due and returns how
// long until the next one.
func (m *Monitor) outlierTickLocked(now time.Time) time.Duration {
	os := m.outlier
	if os.nextTick.IsZero() {
		os.nextTick = now.Add(os.cfg.Interval)
	}
	if now.Before(os.nextTick) {
		return os.nextTick.Sub(now)
	}
	os.nextTick = now.Add(os.cfg.Interval)
	m.sweepLocked(now)
	os.sweeps.Add(1)
	return os.cfg.Interval
}

type hostRate struct {
	e        *entry
	requests uint64
	failures uint64
}

// sweepLocked returns expired ejections, relaxes the multipliers of targets
// that stayed in for a whole interval, and runs the success-rate and
// failure-percentage detectors over the interval's counters.
func (m *Monitor) sweepLocked(now time.Time) {
	os := m.outlier
	cfg := &os.cfg
	var rates []hostRate
	for _, e := range m.targets {
		o := &e.od
		req, fail := o.requests.Swap(0), o.failures.Swap(0)
		switch {
		case e.h.Ejected:
			if !now.Before(e.h.EjectedUntil) {
				m.unejectLocked(e, now)
			}
			continue
		case o.ejections > 0 && now.Sub(o.unejectedAt) >= cfg.Interval:
			o.ejections--
		}
		if e.h.State != StateDraining && req > 0 {
			rates = append(rates, hostRate{e, req, fail})
		}
	}
	// Success rate.
	{
		var vals []float64
		var sel []hostRate
		for _, r := range rates {
			if r.requests >= uint64(cfg.SuccessRateRequestVolume) && r.requests > 0 {
				vals = append(vals, 100*float64(r.requests-r.failures)/float64(r.requests))
				sel = append(sel, r)
			}
		}
		if len(sel) > 0 && len(sel) >= cfg.SuccessRateMinimumHosts {
			var sum float64
			for _, v := range vals {
				sum += v
			}
			mean := sum / float64(len(vals))
			var sq float64
			for _, v := range vals {
				sq += (v - mean) * (v - mean)
			}
			stdev := math.Sqrt(sq / float64(len(vals)))
			threshold := mean - stdev*float64(cfg.SuccessRateStdevFactor)/1000
			for i, r := range sel {
				if vals[i] < threshold {
					m.ejectLocked(r.e, cfg.EnforcingSuccessRate, now)
				}
			}
		}
	}
	// Failure percentage.
	var sel []hostRate
	for _, r := range rates {
		if r.requests >= uint64(cfg.FailurePercentageRequestVolume) && r.requests > 0 {
			sel = append(sel, r)
		}
	}
	if len(sel) > 0 && len(sel) >= cfg.FailurePercentageMinimumHosts {
		for _, r := range sel {
			if 100*r.failures >= uint64(cfg.FailurePercentageThreshold)*r.requests {
				m.ejectLocked(r.e, cfg.EnforcingFailurePercentage, now)
			}
		}
	}
}
