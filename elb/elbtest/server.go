package elbtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Wire protocol versions the endpoint dispatches on. ELBv2 and EC2 share
// the URL, and both have a DescribeTags action, so the Version parameter,
// not the Action, picks the service.
const (
	ELBv2Version = "2015-12-01"
	EC2Version   = "2016-11-15"
)

// DefaultMaxBodyBytes caps a request body. The largest legitimate ELBv2
// request (a rule with every condition, 20 ARNs, 50 tags) is a few tens of
// kilobytes; the cap keeps a hostile or broken client from making the
// endpoint buffer without bound.
const DefaultMaxBodyBytes = 1 << 20

// Clock supplies the endpoint's notion of now: creation times, the
// provisioning → active transition, simulated health and deregistration
// delays all read it. Tests inject a [ManualClock] to step through health
// check intervals without sleeping.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// ManualClock is a Clock that moves only when told to. The zero value
// starts at the zero time.Time; it is safe for concurrent use.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a clock stopped at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Options configures a Server. The zero value is a usable us-east-1
// endpoint for account 123456789012 with AWS's default quotas.
type Options struct {
	// Region appears in ARNs, DNS names and availability zones; "" means
	// us-east-1.
	Region string
	// AccountID appears in ARNs; "" means 123456789012.
	AccountID string
	// Clock is the time source; nil means the system clock.
	Clock Clock
	// Seed makes generated IDs (ARN suffixes, vpc-/subnet-/sg- IDs, DNS
	// numbers) and fault injection reproducible. Zero is a valid seed.
	Seed uint64
	// ProvisioningDelay is how long a new load balancer stays
	// "provisioning" before it is "active". Zero means it is active from
	// the first describe after the create (the create itself answers
	// "provisioning", as AWS does).
	ProvisioningDelay time.Duration
	// Quotas overrides AWS's default limits; zero fields keep the default.
	Quotas Quotas
	// Health decides the health of registered targets in use by a load
	// balancer; nil means a [Simulated] model driven by each target
	// group's health check settings.
	Health HealthSource
	// Live, if set, is told the whole state after every successful
	// mutating call: the seam through which load balancers can really
	// serve traffic (see [Live]).
	Live Live
	// Faults injects errors and latency; nil injects nothing.
	Faults *Faults
	// StateFile, if set, is loaded at start (when it exists) and rewritten
	// after every successful mutating call, so a restarted endpoint keeps
	// every resource.
	StateFile string
	// MaxBodyBytes caps request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// RequestLogLimit bounds the request log (oldest entries are dropped);
	// 0 means 100000, negative disables the log.
	RequestLogLimit int
	// NoDefaultVPC skips creating the default VPC (172.31.0.0/16 with one
	// default subnet per availability zone and a default security group)
	// that every AWS account starts with.
	NoDefaultVPC bool
	// Logger receives one debug line per request and errors writing the
	// state file; nil discards.
	Logger *slog.Logger
}

// Live receives the endpoint's state after every successful mutating
// call. [LiveStacks] (live mode) implements it with elb/local so that the
// load balancers created through the API really serve traffic. Sync runs
// with the state lock released, on the goroutine of the request, one call
// at a time and in order (each snapshot is at least as new as the one
// before); an error is logged, not returned to the client.
type Live interface {
	Sync(ctx context.Context, snapshot *Snapshot) error
}

// Server is a running ELBv2 + EC2 endpoint. Create it with [NewServer]
// (loopback, for tests) or [Start] (any address); Close it when done.
type Server struct {
	// URL is the base endpoint, "http://127.0.0.1:port".
	URL string

	opts   Options
	clock  Clock
	ln     net.Listener
	http   *http.Server
	client *http.Client
	served chan struct{}
	st     *store
	faults *faultInjector
	log    requestLog
	reqID  atomic.Uint64
	logger *slog.Logger
	saveMu sync.Mutex
	// liveMu orders Live.Sync calls: each takes its snapshot while holding
	// it, so a later Sync never carries an older state than an earlier one.
	liveMu   sync.Mutex
	handlers map[string]*operation // "version/Action"
}

// NewServer starts an endpoint on a loopback port, as httptest.NewServer
// does, and panics if it cannot listen or load its state file.
func NewServer(opts Options) *Server {
	s, err := Start("127.0.0.1:0", opts)
	if err != nil {
		panic(err)
	}
	return s
}

// Start serves an endpoint on addr ("127.0.0.1:4566"; port 0 picks one).
func Start(addr string, opts Options) (*Server, error) {
	s, err := New(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("elbtest: %w", err)
	}
	s.ln = ln
	s.URL = "http://" + ln.Addr().String()
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	s.served = make(chan struct{})
	go s.serve()
	return s, nil
}

// New returns an endpoint that is not listening: serve it with its
// ServeHTTP (it is an http.Handler). URL and Config are empty until the
// caller sets URL.
func New(opts Options) (*Server, error) {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.RequestLogLimit == 0 {
		opts.RequestLogLimit = 100000
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Health == nil {
		opts.Health = &Simulated{}
	}
	opts.Quotas = opts.Quotas.withDefaults()
	s := &Server{
		opts:   opts,
		clock:  opts.Clock,
		logger: opts.Logger,
		faults: newFaultInjector(opts.Faults, opts.Seed),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}},
	}
	s.log.limit = opts.RequestLogLimit
	s.st = newStore(&s.opts)
	if opts.StateFile != "" {
		loaded, err := s.loadStateFile(opts.StateFile)
		if err != nil {
			return nil, err
		}
		if loaded {
			s.registerHandlers()
			return s, nil
		}
	}
	if !opts.NoDefaultVPC {
		s.st.createDefaultVPC()
	}
	s.registerHandlers()
	return s, nil
}

// serve is the accept loop; it returns when Close shuts the server down.
func (s *Server) serve() {
	defer close(s.served)
	if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.logger.Error("elbtest: serve", "err", err)
	}
}

// Close stops the endpoint and waits for outstanding requests to finish.
// It also closes the idle connections of [Server.Client], so a test that
// used Config leaks no goroutines.
func (s *Server) Close() {
	// Close our own client's idle connections first: Shutdown waits up to
	// 5 s for connections that were opened but never sent a request.
	s.client.CloseIdleConnections()
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = s.http.Shutdown(ctx)
		cancel()
		_ = s.http.Close()
		<-s.served
	}
	s.client.CloseIdleConnections()
}

// Client is the HTTP client that Config uses: its idle connections are
// closed by Close.
func (s *Server) Client() *http.Client { return s.client }

// Region is the endpoint's region.
func (s *Server) Region() string { return s.opts.Region }

// Config returns an aws.Config for the endpoint: its region, static
// credentials, BaseEndpoint set to URL and the server's own HTTP client.
// elasticloadbalancingv2.NewFromConfig and ec2.NewFromConfig both work with
// it unchanged.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       s.opts.Region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDELBTEST", "elbtest-secret", ""),
		BaseEndpoint: aws.String(s.URL),
		HTTPClient:   s.client,
	}
}

// Health returns the health source: the *Simulated model unless
// Options.Health replaced it.
func (s *Server) Health() HealthSource { return s.opts.Health }

// ErrNotSimulated is returned by FailTarget and RecoverTarget when
// Options.Health replaced the Simulated model.
var ErrNotSimulated = errors.New("elbtest: the health source is not *Simulated")

// FailTarget makes target id:port (port 0: every port) fail its
// simulated health checks from now on the endpoint's clock; it turns
// unhealthy with reason after the group's unhealthy threshold.
func (s *Server) FailTarget(id string, port int32, reason string) error {
	sim, ok := s.opts.Health.(*Simulated)
	if !ok {
		return ErrNotSimulated
	}
	sim.Fail(id, port, reason, s.clock.Now())
	return nil
}

// RecoverTarget makes target id:port pass its simulated health checks
// again from now; it turns healthy after the group's healthy threshold.
func (s *Server) RecoverTarget(id string, port int32) error {
	sim, ok := s.opts.Health.(*Simulated)
	if !ok {
		return ErrNotSimulated
	}
	sim.Recover(id, port, s.clock.Now())
	return nil
}

// operation is one action of one service.
type operation struct {
	name     string
	service  string
	mutating bool
	// run decodes the request and executes it; it returns the XML body of
	// the response (without the envelope) or an error.
	run func(r *request) ([]byte, error)
}

// request is one call in flight.
type request struct {
	ctx    context.Context
	op     *operation
	form   *form
	values url.Values
	id     string
	now    time.Time
}

// ServeHTTP answers one awsQuery or ec2query request.
func (s *Server) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	id := s.newRequestID()
	w.Header().Set("X-Amzn-Requestid", id)
	values, aerr := s.readParams(w, hr)
	if aerr != nil {
		s.writeError(w, "", id, aerr)
		s.log.add(Request{Time: s.clock.Now(), Code: aerr.Code, Status: aerr.status(), RequestID: id})
		return
	}
	action, version := values.Get("Action"), values.Get("Version")
	service := serviceELBv2
	if version == EC2Version {
		service = serviceEC2
	}
	op := s.handlers[version+"/"+action]
	entry := Request{Time: s.clock.Now(), Service: service, Operation: action, Params: values, RequestID: id}
	var body []byte
	var err error
	switch {
	case action == "":
		err = apiErr(codeMissingParameter, "The request must contain the parameter Action")
	case version != ELBv2Version && version != EC2Version:
		if version == "" {
			err = apiErr(codeMissingParameter, "The request must contain the parameter Version")
		} else {
			err = apiErr(codeUnsupportedVersion, "Version %q is not supported: this endpoint speaks ELBv2 %s and EC2 %s", version, ELBv2Version, EC2Version)
		}
	case op == nil:
		err = apiErr(codeInvalidAction, "The action %s is not valid for this web service.", action)
	default:
		entry.Mutating = op.mutating
		err = s.faults.before(hr.Context(), action)
		if err == nil {
			r := &request{ctx: hr.Context(), op: op, form: newForm(values), values: values, id: id, now: s.clock.Now()}
			body, err = op.run(r)
			if err == nil && op.mutating {
				s.afterMutation(hr.Context())
			}
		}
	}
	var ae *APIError
	if err != nil && !errors.As(err, &ae) {
		s.logger.Error("elbtest: internal error", "op", action, "err", err)
		ae = &APIError{Code: codeInternalFailure, Message: "We encountered an internal error. Please try again.", Status: http.StatusInternalServerError}
	}
	if ae != nil {
		entry.Code, entry.Message, entry.Status = ae.Code, ae.Message, ae.status()
		if service == serviceEC2 {
			s.writeEC2Error(w, id, ae)
		} else {
			s.writeError(w, action, id, ae)
		}
	} else {
		entry.Status = http.StatusOK
		s.writeOK(w, service, action, id, body)
	}
	s.logger.Debug("elbtest", "op", action, "code", entry.Code, "id", id)
	s.log.add(entry)
}

func (s *Server) readParams(w http.ResponseWriter, hr *http.Request) (url.Values, *APIError) {
	switch hr.Method {
	case http.MethodGet:
		return hr.URL.Query(), nil
	case http.MethodPost:
	default:
		return nil, &APIError{Code: codeInvalidHTTPRequest, Message: "Unsupported HTTP method " + hr.Method, Status: http.StatusMethodNotAllowed}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, hr.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &APIError{Code: codeRequestTooLarge, Message: fmt.Sprintf("Request body is larger than %d bytes", s.opts.MaxBodyBytes), Status: http.StatusRequestEntityTooLarge}
		}
		return nil, &APIError{Code: codeInvalidHTTPRequest, Message: "Could not read the request body"}
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &APIError{Code: codeInvalidHTTPRequest, Message: "The request body is not valid application/x-www-form-urlencoded"}
	}
	for k, v := range hr.URL.Query() {
		if _, ok := values[k]; !ok {
			values[k] = v
		}
	}
	return values, nil
}

func (s *Server) newRequestID() string {
	n := s.reqID.Add(1)
	return fmt.Sprintf("%08x-%04x-4000-8000-%012x", uint32(s.opts.Seed), uint16(n>>32), n&0xffffffffffff)
}

const elbNS = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
const ec2NS = "http://ec2.amazonaws.com/doc/2016-11-15/"

func (s *Server) writeOK(w http.ResponseWriter, service, action, id string, body []byte) {
	var x xmlWriter
	x.Grow(len(body) + 256)
	if service == serviceEC2 {
		x.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<" + action + `Response xmlns="` + ec2NS + `">`)
		x.elem("requestId", id)
		x.Write(body)
		x.close(action + "Response")
	} else {
		x.WriteString("<" + action + `Response xmlns="` + elbNS + `">`)
		x.open(action + "Result")
		x.Write(body)
		x.close(action + "Result")
		x.WriteString("<ResponseMetadata>")
		x.elem("RequestId", id)
		x.WriteString("</ResponseMetadata>")
		x.close(action + "Response")
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(x.Bytes())
}

func (s *Server) writeError(w http.ResponseWriter, _ string, id string, ae *APIError) {
	var x xmlWriter
	x.WriteString(`<ErrorResponse xmlns="` + elbNS + `"><Error>`)
	x.elem("Type", ae.faultType())
	x.elem("Code", ae.Code)
	x.elem("Message", ae.Message)
	x.WriteString("</Error>")
	x.elem("RequestId", id)
	x.WriteString("</ErrorResponse>")
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(ae.status())
	_, _ = w.Write(x.Bytes())
}

func (s *Server) writeEC2Error(w http.ResponseWriter, id string, ae *APIError) {
	var x xmlWriter
	x.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Response><Errors><Error>")
	x.elem("Code", ae.Code)
	x.elem("Message", ae.Message)
	x.WriteString("</Error></Errors>")
	x.elem("RequestID", id)
	x.WriteString("</Response>")
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(ae.status())
	_, _ = w.Write(x.Bytes())
}

// afterMutation persists the state and tells Live about it.
func (s *Server) afterMutation(ctx context.Context) {
	if s.opts.StateFile == "" && s.opts.Live == nil {
		return
	}
	if s.opts.StateFile != "" {
		if err := s.saveStateFile(); err != nil {
			s.logger.Error("elbtest: writing state file", "file", s.opts.StateFile, "err", err)
		}
	}
	if s.opts.Live != nil {
		s.liveMu.Lock()
		err := s.opts.Live.Sync(ctx, s.Snapshot())
		s.liveMu.Unlock()
		if err != nil {
			s.logger.Error("elbtest: live sync", "err", err)
		}
	}
}

const (
	serviceELBv2 = "elasticloadbalancing"
	serviceEC2   = "ec2"
)

// Request is one entry of the request log.
type Request struct {
	Time time.Time
	// Service is "elasticloadbalancing" or "ec2".
	Service string
	// Operation is the Action parameter, "CreateLoadBalancer".
	Operation string
	// Params are the decoded form parameters, Action and Version included.
	Params url.Values
	// Mutating is true for operations that change state (Create*, Modify*,
	// Register*, Set*, Add*, Remove*, Delete*) whether or not they
	// succeeded.
	Mutating bool
	// Code is the error code, "" on success; Message goes with it.
	Code, Message string
	Status        int
	RequestID     string
}

type requestLog struct {
	mu      sync.Mutex
	limit   int
	entries []Request
}

func (l *requestLog) add(r Request) {
	if l.limit < 0 {
		return
	}
	l.mu.Lock()
	if len(l.entries) >= l.limit {
		n := copy(l.entries, l.entries[len(l.entries)/2:])
		l.entries = l.entries[:n]
	}
	l.entries = append(l.entries, r)
	l.mu.Unlock()
}

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []Request {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return append([]Request(nil), s.log.entries...)
}

// ResetRequests empties the request log, so a test can assert on the calls
// one step of its code makes.
func (s *Server) ResetRequests() {
	s.log.mu.Lock()
	s.log.entries = nil
	s.log.mu.Unlock()
}

// MutatingRequests returns the logged calls to mutating operations,
// successful or not: "a no-op reconcile made zero mutating calls" is
// len(s.MutatingRequests()) == 0.
func (s *Server) MutatingRequests() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Mutating {
			out = append(out, r)
		}
	}
	return out
}

// isMutating classifies an action by its verb.
func isMutating(action string) bool {
	for _, p := range []string{"Create", "Delete", "Modify", "Register", "Deregister", "Set", "Add", "Remove", "Authorize", "Revoke"} {
		if strings.HasPrefix(action, p) {
			return true
		}
	}
	return false
}
