package healthcheck

import (
	"errors"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	tests := []struct {
		name               string
		got                Config
		interval, timeout  time.Duration
		healthy, unhealthy int
		path, matcher      string
	}{
		{"ALB HTTP", DefaultConfig(HTTP), 30 * time.Second, 5 * time.Second, 5, 2, "/", "200"},
		{"ALB HTTPS", DefaultConfig(HTTPS), 30 * time.Second, 5 * time.Second, 5, 2, "/", "200"},
		{"ALB gRPC", DefaultConfig(GRPC), 30 * time.Second, 5 * time.Second, 5, 2, "", "12"},
		{"NLB TCP", DefaultConfig(TCP), 30 * time.Second, 10 * time.Second, 5, 2, "", ""},
		{"NLB TCP (NLB defaults)", DefaultNLBConfig(TCP), 30 * time.Second, 10 * time.Second, 5, 2, "", ""},
		{"NLB HTTP", DefaultNLBConfig(HTTP), 30 * time.Second, 6 * time.Second, 5, 2, "/", "200-399"},
		{"NLB HTTPS", DefaultNLBConfig(HTTPS), 30 * time.Second, 10 * time.Second, 5, 2, "/", "200-399"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.got
			if c.Interval != tc.interval || c.Timeout != tc.timeout || c.HealthyThreshold != tc.healthy || c.UnhealthyThreshold != tc.unhealthy || c.Path != tc.path || c.Matcher != tc.matcher {
				t.Fatalf("got %+v", c)
			}
			if c.Port != 0 || c.Disabled || c.DeregistrationDelay != 300*time.Second {
				t.Fatalf("got %+v", c)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("defaults invalid: %v", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(*Config)
		fields []string // invalid fields, in order
	}{
		{"valid", func(c *Config) {}, nil},
		{"interval bounds ok", func(c *Config) { c.Interval, c.Timeout = 300*time.Second, 120*time.Second }, nil},
		{"interval low", func(c *Config) { c.Interval = 4 * time.Second; c.Timeout = 2 * time.Second }, []string{"Interval"}},
		{"interval high", func(c *Config) { c.Interval = 301 * time.Second }, []string{"Interval"}},
		{"interval fractional", func(c *Config) { c.Interval = 5500 * time.Millisecond; c.Timeout = 2 * time.Second }, []string{"Interval"}},
		{"timeout low", func(c *Config) { c.Timeout = time.Second }, []string{"Timeout"}},
		{"timeout high", func(c *Config) { c.Interval = 300 * time.Second; c.Timeout = 121 * time.Second }, []string{"Timeout"}},
		{"timeout equals interval", func(c *Config) { c.Interval, c.Timeout = 10*time.Second, 10*time.Second }, []string{"Timeout"}},
		{"TCP timeout may equal interval", func(c *Config) { c.Protocol, c.Interval, c.Timeout = TCP, 10*time.Second, 10*time.Second }, nil},
		{"healthy threshold", func(c *Config) { c.HealthyThreshold = 1 }, []string{"HealthyThreshold"}},
		{"unhealthy threshold", func(c *Config) { c.UnhealthyThreshold = 11 }, []string{"UnhealthyThreshold"}},
		{"protocol", func(c *Config) { c.Protocol = "UDP" }, []string{"Protocol"}},
		{"port", func(c *Config) { c.Port = 70000 }, []string{"Port"}},
		{"path", func(c *Config) { c.Path = "health" }, []string{"Path"}},
		{"matcher range", func(c *Config) { c.Matcher = "100" }, []string{"Matcher"}},
		{"matcher syntax", func(c *Config) { c.Matcher = "2xx" }, []string{"Matcher"}},
		{"grpc matcher", func(c *Config) { c.Protocol, c.Path, c.Matcher = GRPC, "", "100" }, []string{"Matcher"}},
		{"deregistration delay", func(c *Config) { c.DeregistrationDelay = 3601 * time.Second }, []string{"DeregistrationDelay"}},
		{"unhealthy draining interval", func(c *Config) {
			c.KeepUnhealthyConnections, c.UnhealthyDrainingInterval = true, 360000*time.Second
		}, nil},
		{"unhealthy draining interval too long", func(c *Config) {
			c.KeepUnhealthyConnections, c.UnhealthyDrainingInterval = true, 360001*time.Second
		}, []string{"UnhealthyDrainingInterval"}},
		{"unhealthy draining interval negative", func(c *Config) {
			c.KeepUnhealthyConnections, c.UnhealthyDrainingInterval = true, -time.Second
		}, []string{"UnhealthyDrainingInterval"}},
		{"unhealthy draining interval fractional", func(c *Config) {
			c.KeepUnhealthyConnections, c.UnhealthyDrainingInterval = true, 1500*time.Millisecond
		}, []string{"UnhealthyDrainingInterval"}},
		{"unhealthy draining interval needs termination disabled", func(c *Config) {
			c.UnhealthyDrainingInterval = time.Minute
		}, []string{"UnhealthyDrainingInterval"}},
		{"keep connections without interval", func(c *Config) { c.KeepUnhealthyConnections = true }, nil},
		{"several", func(c *Config) { c.Interval = 0; c.HealthyThreshold = 0 }, []string{"Interval", "Timeout", "HealthyThreshold"}},
		{"disabled still validated", func(c *Config) { c.Disabled = true; c.UnhealthyThreshold = 1 }, []string{"UnhealthyThreshold"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig(HTTP)
			tc.mod(&c)
			err := c.Validate()
			if len(tc.fields) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate = %v, not ErrInvalidConfig", err)
			}
			var got []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var ce *ConfigError
				if !errors.As(e, &ce) {
					t.Fatalf("%v is not a *ConfigError", e)
				}
				got = append(got, ce.Field)
			}
			if len(got) != len(tc.fields) {
				t.Fatalf("fields %v, want %v (%v)", got, tc.fields, err)
			}
			for i := range got {
				if got[i] != tc.fields[i] {
					t.Fatalf("fields %v, want %v (%v)", got, tc.fields, err)
				}
			}
			if _, err := NewMonitor(c, Options{}); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("NewMonitor accepted an invalid config: %v", err)
			}
		})
	}
}

func TestConfigErrorMessage(t *testing.T) {
	c := DefaultConfig(HTTP)
	c.Interval, c.Timeout = 10*time.Second, 10*time.Second
	want := "healthcheck: invalid Timeout 10s: must be smaller than the interval 10s"
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestParseMatcher(t *testing.T) {
	tests := []struct {
		in      string
		lo, hi  int
		canon   string
		match   []int
		nomatch []int
		wantErr bool
	}{
		{in: "200", lo: 200, hi: 599, canon: "200", match: []int{200}, nomatch: []int{201, 199}},
		{in: "200,202", lo: 200, hi: 599, canon: "200,202", match: []int{200, 202}, nomatch: []int{201}},
		{in: "200-299", lo: 200, hi: 599, canon: "200-299", match: []int{200, 250, 299}, nomatch: []int{300}},
		{in: " 200 , 300-302 ", lo: 200, hi: 599, canon: "200,300-302", match: []int{301}, nomatch: []int{299}},
		{in: "0-99", lo: 0, hi: 99, canon: "0-99", match: []int{0, 12, 99}, nomatch: []int{100}},
		{in: "12", lo: 0, hi: 99, canon: "12", match: []int{12}, nomatch: []int{0}},
		{in: "", lo: 200, hi: 599, wantErr: true},
		{in: "199", lo: 200, hi: 599, wantErr: true},
		{in: "600", lo: 200, hi: 599, wantErr: true},
		{in: "299-200", lo: 200, hi: 599, wantErr: true},
		{in: "200,", lo: 200, hi: 599, wantErr: true},
		{in: "2000", lo: 200, hi: 599, wantErr: true},
		{in: "+200", lo: 200, hi: 599, wantErr: true},
		{in: "200-", lo: 200, hi: 599, wantErr: true},
		{in: "-1", lo: 0, hi: 99, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			m, err := ParseMatcher(tc.in, tc.lo, tc.hi)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			if m.String() != tc.canon {
				t.Fatalf("String = %q, want %q", m.String(), tc.canon)
			}
			for _, c := range tc.match {
				if !m.Match(c) {
					t.Errorf("%d not matched", c)
				}
			}
			for _, c := range tc.nomatch {
				if m.Match(c) {
					t.Errorf("%d matched", c)
				}
			}
		})
	}
}

func FuzzParseMatcher(f *testing.F) {
	for _, s := range []string{"200", "200,202", "200-299", " 200 , 300-302 ", "0-99", "12", "", "299-200", "2xx", "200,,", "-", "1-2-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMatcher(s, 200, 599)
		if err != nil {
			if len(m.ranges) != 0 {
				t.Fatal("error with a non-zero matcher")
			}
			return
		}
		// Invariants: codes outside the bounds never match; the canonical
		// form parses to a matcher that agrees on every code and prints the
		// same.
		if m.Match(199) || m.Match(600) {
			t.Fatalf("%q matches outside 200-599", s)
		}
		m2, err := ParseMatcher(m.String(), 200, 599)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", m.String(), s, err)
		}
		if m2.String() != m.String() {
			t.Fatalf("unstable: %q -> %q", m.String(), m2.String())
		}
		for code := 190; code < 610; code++ {
			if m.Match(code) != m2.Match(code) {
				t.Fatalf("%q and %q disagree on %d", s, m.String(), code)
			}
		}
	})
}

func TestReasonDescriptions(t *testing.T) {
	for _, r := range []Reason{ReasonRegistrationInProgress, ReasonInitialHealthChecking, ReasonResponseCodeMismatch, ReasonTimeout,
		ReasonFailedHealthChecks, ReasonInternalError, ReasonNotRegistered, ReasonNotInUse, ReasonInvalidState, ReasonIPUnusable,
		ReasonDeregistrationInProgress, ReasonHealthCheckDisabled} {
		if r.Description() == "" {
			t.Errorf("%s has no description", r)
		}
	}
	if Reason("").Description() != "" {
		t.Error("the healthy (empty) reason has a description")
	}
}

func TestValidateWithinLimits(t *testing.T) {
	c := DefaultConfig(HTTP)
	c.Interval, c.Timeout, c.HealthyThreshold = time.Second, 300*time.Millisecond, 1
	if err := c.Validate(); err == nil {
		t.Fatal("AWS limits accepted a 1 s interval")
	}
	l := Limits{MinInterval: 100 * time.Millisecond, MaxInterval: time.Hour, MinTimeout: 10 * time.Millisecond, MaxTimeout: time.Minute, MinThreshold: 1, MaxThreshold: 100, MaxDeregistrationDelay: time.Hour}
	if err := c.ValidateWithin(l); err != nil {
		t.Fatal(err)
	}
	m, err := NewMonitor(c, Options{Limits: &l})
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout = c.Interval // still rejected: not a range
	if err := m.SetConfig(c); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("SetConfig = %v", err)
	}
	if err := (Config{Protocol: TCP}).ValidateWithin(Limits{}); err == nil {
		t.Fatal("zero config valid within zero limits")
	}
}
