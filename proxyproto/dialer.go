package proxyproto

import (
	"context"
	"fmt"
	"net"
	"time"
)

// Dialer opens connections that start with a PROXY header: what a proxy
// uses toward its targets. The zero value dials with a zero net.Dialer.
type Dialer struct {
	// DialFunc opens the connection. Nil means (&net.Dialer{}).DialContext.
	DialFunc func(ctx context.Context, network, address string) (net.Conn, error)
}

// DialContext connects to address and writes h as the connection's first
// bytes, in one write, before returning. The header is formatted before
// dialing, so an invalid header costs no connection. If the write fails
// the connection is closed. ctx bounds both the dial and the write.
//
// For a relayed client, h is typically [NewHeader](client.RemoteAddr(),
// client.LocalAddr()); for health checks, [NewLocalHeader]().
func (d *Dialer) DialContext(ctx context.Context, network, address string, h *Header) (net.Conn, error) {
	var buf [256]byte
	b, err := h.AppendFormat(buf[:0])
	if err != nil {
		return nil, fmt.Errorf("proxyproto: dial %s: %w", address, err)
	}
	dial := d.DialFunc
	if dial == nil {
		var nd net.Dialer
		dial = nd.DialContext
	}
	c, err := dial(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if err := writeAll(ctx, c, b); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("proxyproto: writing header to %s: %w", address, err)
	}
	return c, nil
}

// WriteHeader writes h to c in one write, bounded by ctx: what DialContext
// does after dialing, for connections opened some other way. c's write
// deadline is cleared afterwards.
func WriteHeader(ctx context.Context, c net.Conn, h *Header) error {
	var buf [256]byte
	b, err := h.AppendFormat(buf[:0])
	if err != nil {
		return err
	}
	return writeAll(ctx, c, b)
}

func writeAll(ctx context.Context, c net.Conn, b []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		if err := c.SetWriteDeadline(dl); err != nil {
			return err
		}
		defer func() { _ = c.SetWriteDeadline(time.Time{}) }()
	}
	if ctx.Done() != nil {
		// Cancellation interrupts a blocked write by moving its deadline
		// to the past; stop() makes sure that does not happen afterwards.
		fired := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			_ = c.SetWriteDeadline(time.Unix(1, 0))
			close(fired)
		})
		defer func() {
			if !stop() {
				<-fired
				_ = c.SetWriteDeadline(time.Time{})
			}
		}()
	}
	_, err := c.Write(b)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
