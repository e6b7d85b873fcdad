package healthcheck

import "time"

// Clock is the Monitor's source of time: when probes are due, when draining
// ends, when outlier ejections expire. Tests inject a fake one to drive
// thresholds and delays without sleeping. Probe timeouts are not taken from
// the Clock: they bound real network I/O and use real time.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once, d from Now.
	NewTimer(d time.Duration) Timer
}

// Timer is the subset of *time.Timer the Monitor uses.
type Timer interface {
	// C is the channel the time is sent on when the timer fires.
	C() <-chan time.Time
	// Reset makes the timer fire d from now, whether or not it fired.
	Reset(d time.Duration)
	// Stop prevents the timer from firing.
	Stop()
}

// SystemClock is the real time.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// NewTimer returns a [time.Timer].
func (SystemClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time   { return r.t.C }
func (r realTimer) Reset(d time.Duration) { r.t.Reset(d) }
func (r realTimer) Stop()                 { r.t.Stop() }
