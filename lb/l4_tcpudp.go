package lb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"syscall"
)

// ListenTCPUDP opens a TCP listener and a UDP socket on the same address
// and port, for a TCP_UDP listener (NLB's protocol of that name: one port,
// both transports). With port 0 it picks a port free for both, trying a
// few times.
func ListenTCPUDP(address string) (net.Listener, *net.UDPConn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, nil, fmt.Errorf("lb: listen TCP_UDP %q: %w", address, err)
	}
	tries := 1
	if port == "0" {
		tries = 10
	}
	for {
		ln, err := net.Listen("tcp", address)
		if err != nil {
			return nil, nil, err
		}
		p := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err == nil {
			return ln, pc.(*net.UDPConn), nil
		}
		ln.Close()
		tries--
		if tries == 0 || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, err
		}
	}
}

// TCPUDPProxy is a TCP_UDP listener: TCP connections and UDP flows on the
// same port, usually toward one target group (NLB requires a TCP_UDP
// target group). Each half keeps its own settings and metrics labels.
type TCPUDPProxy struct {
	TCP *TCPProxy
	UDP *UDPProxy
}

// Serve runs both halves until ctx ends or one of them fails, then stops
// the other and returns the first error (nil after ctx ends). It closes ln
// and pc.
func (p *TCPUDPProxy) Serve(ctx context.Context, ln net.Listener, pc *net.UDPConn) error {
	if p.TCP == nil || p.UDP == nil {
		ln.Close()
		pc.Close()
		return fmt.Errorf("%w: TCPUDPProxy needs both TCP and UDP", ErrL4Config)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var tcpErr, udpErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		tcpErr = p.TCP.Serve(ctx, ln)
		cancel()
	}()
	go func() {
		defer wg.Done()
		udpErr = p.UDP.Serve(ctx, pc)
		cancel()
	}()
	wg.Wait()
	return errors.Join(tcpErr, udpErr)
}
