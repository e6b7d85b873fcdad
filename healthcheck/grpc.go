package healthcheck

import (
	"context"
	"crypto/tls"
	"io"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// GRPCChecker calls grpc.health.v1.Health/Check with grpc-go's health
// client. The check succeeds when the call returns OK with SERVING, or
// fails with a gRPC code that Matcher lists: ALB's default matcher "12"
// (Unimplemented) accepts a server that is up but has no health service.
// An OK answer that is not SERVING is a mismatch with code 0.
//
// It keeps one client connection per target between probes and drops it
// after a connection-level failure, so a target that comes back is probed
// on a fresh connection instead of waiting out grpc-go's reconnect backoff.
// Set fields before the first Check.
type GRPCChecker struct {
	// Port overrides the target's port; 0 means the traffic port.
	Port int
	// Service is HealthCheckRequest.service; empty asks about the server.
	Service string
	// Authority is the :authority header; empty means the address.
	Authority string
	// Matcher lists the non-OK codes that count as success; the zero
	// Matcher means "12".
	Matcher Matcher
	// TLS dials with TLS (certificate not verified, as ELB); else h2c.
	TLS bool
	// DialOptions are added to the checker's own.
	DialOptions []grpc.DialOption

	mu     sync.Mutex
	conns  map[Target]*grpc.ClientConn
	closed bool
}

var (
	_ Checker   = (*GRPCChecker)(nil)
	_ Forgetter = (*GRPCChecker)(nil)
	_ io.Closer = (*GRPCChecker)(nil)
)

// Check calls Health/Check on t.
func (c *GRPCChecker) Check(ctx context.Context, t Target) error {
	cc, kept, err := c.conn(t)
	if err != nil {
		return &CheckError{Reason: ReasonInternalError, Description: ReasonInternalError.Description(), Code: -1, Err: err}
	}
	if !kept {
		defer cc.Close()
	}
	resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{Service: c.Service})
	code := status.Code(err)
	switch {
	case err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING:
		return nil
	case err == nil:
		return &CheckError{Reason: ReasonResponseCodeMismatch, Description: mismatchDescription(0), Code: 0,
			Err: errString("health status " + resp.GetStatus().String())}
	}
	m := c.Matcher
	if len(m.ranges) == 0 {
		m = Matcher{ranges: []codeRange{{12, 12}}}
	}
	if m.Match(int(code)) {
		return nil
	}
	switch code {
	case codes.DeadlineExceeded, codes.Canceled:
		c.drop(t, cc)
		return &CheckError{Reason: ReasonTimeout, Description: ReasonTimeout.Description(), Code: int(code), Err: err}
	case codes.Unavailable:
		c.drop(t, cc)
		return &CheckError{Reason: ReasonFailedHealthChecks, Description: ReasonFailedHealthChecks.Description(), Code: int(code), Err: err}
	}
	return &CheckError{Reason: ReasonResponseCodeMismatch, Description: mismatchDescription(int(code)), Code: int(code), Err: err}
}

type errString string

func (e errString) Error() string { return string(e) }

// conn returns t's client connection; kept is false when the checker is
// closed and the caller must close it after the probe.
func (c *GRPCChecker) conn(t Target) (cc *grpc.ClientConn, kept bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cc := c.conns[t]; cc != nil {
		return cc, true, nil
	}
	addr, err := probeAddr(t.Addr, c.Port)
	if err != nil {
		return nil, false, err
	}
	creds := insecure.NewCredentials()
	if c.TLS {
		creds = credentials.NewTLS(&tls.Config{InsecureSkipVerify: true}) // ELB does not verify target certificates.
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
	if c.Authority != "" {
		opts = append(opts, grpc.WithAuthority(c.Authority))
	}
	opts = append(opts, c.DialOptions...)
	cc, err = grpc.NewClient("passthrough:///"+addr, opts...)
	if err != nil {
		return nil, false, err
	}
	if c.closed {
		return cc, false, nil
	}
	if c.conns == nil {
		c.conns = make(map[Target]*grpc.ClientConn)
	}
	c.conns[t] = cc
	return cc, true, nil
}

// drop closes cc and forgets it if it is still t's connection.
func (c *GRPCChecker) drop(t Target, cc *grpc.ClientConn) {
	c.mu.Lock()
	if c.conns[t] == cc {
		delete(c.conns, t)
	}
	c.mu.Unlock()
	cc.Close()
}

// Forget closes t's client connection.
func (c *GRPCChecker) Forget(t Target) {
	c.mu.Lock()
	cc := c.conns[t]
	delete(c.conns, t)
	c.mu.Unlock()
	if cc != nil {
		cc.Close()
	}
}

// Close closes every client connection.
func (c *GRPCChecker) Close() error {
	c.mu.Lock()
	conns := c.conns
	c.conns, c.closed = nil, true
	c.mu.Unlock()
	for _, cc := range conns {
		cc.Close()
	}
	return nil
}
