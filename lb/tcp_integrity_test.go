package lb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/lbkit/lbkit/balancer"
)

// TestTCPProxyIntegrityUnderChurn streams bulk data through the proxy
// from many clients at once while targets are registered, reweighted,
// deregistered (drained) and re-registered. Every stream must arrive
// byte for byte: each client half-closes after its upload, the target
// answers with the SHA-256 of what it received, and the client compares
// it with its own.
func TestTCPProxyIntegrityUnderChurn(t *testing.T) {
	const (
		clients   = 6
		perClient = 3
		size      = 2 << 20
	)
	var targets []*l4Target
	for range 4 {
		targets = append(targets, startL4Target(t, shaHandler))
	}
	for _, algo := range []struct {
		name  string
		b     balancer.Builder
		delay time.Duration
	}{
		{"flow_hash", balancer.FlowHash{}, 30 * time.Second},
		{"round_robin", nil, 30 * time.Second},
		// Drains end while streams still run: without connection
		// termination they must continue to the end.
		{"flow_hash, 5ms deregistration delay", balancer.FlowHash{}, 5 * time.Millisecond},
	} {
		t.Run(algo.name, func(t *testing.T) {
			tg := newTestTG(t, TargetGroupConfig{Algorithm: algo.b, DeregistrationDelay: algo.delay}, targets[0].addr, targets[1].addr)
			p := &TCPProxy{TargetGroup: tg}
			addr := serveTCP(t, p)

			ctx, cancel := context.WithCancel(context.Background())
			churnDone := make(chan int)
			go func() { churnDone <- churn(ctx, tg, targets) }()

			var wg sync.WaitGroup
			errs := make(chan error, clients*perClient)
			for i := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(i), 42))
					for j := range perClient {
						if err := streamSHA(addr, rng, size); err != nil {
							errs <- fmt.Errorf("client %d stream %d: %w", i, j, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			cancel()
			changes := <-churnDone
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			t.Logf("%d streams of %d MiB intact through %d target set changes", clients*perClient, size>>20, changes)
			if changes < 5 {
				t.Errorf("only %d target set changes happened during the streams", changes)
			}
		})
	}
}

// churn changes the target set until ctx ends and returns how many
// changes it made. Deregistered targets keep running (their connections
// drain); they may come back later.
func churn(ctx context.Context, tg *TargetGroup, targets []*l4Target) int {
	rng := rand.New(rand.NewPCG(7, 7))
	n := 0
	for ctx.Err() == nil {
		// targets[0] stays registered with a positive weight, so that a
		// new connection always has a target; the others come and go.
		tgt := targets[1+rng.IntN(len(targets)-1)].addr
		switch rng.IntN(3) {
		case 0:
			if tg.Register(Target{Addr: tgt, Weight: 1 + rng.IntN(5)}) == nil {
				n++
			}
		case 1:
			if _, err := tg.Deregister(tgt); err == nil {
				n++
			}
		case 2:
			if tg.SetWeight(tgt, rng.IntN(4)) == nil {
				n++
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(2+rng.IntN(8)) * time.Millisecond):
		}
	}
	return n
}

// streamSHA uploads size pseudo-random bytes, half-closes, and checks the
// SHA-256 the target sends back.
func streamSHA(addr string, rng *rand.Rand, size int) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	h := sha256.New()
	buf := make([]byte, 64<<10)
	for sent := 0; sent < size; sent += len(buf) {
		for k := 0; k < len(buf); k += 8 {
			v := rng.Uint64()
			for b := range 8 {
				buf[k+b] = byte(v >> (8 * b))
			}
		}
		h.Write(buf)
		if _, err := c.Write(buf); err != nil {
			return fmt.Errorf("write at %d: %w", sent, err)
		}
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return err
	}
	got, err := io.ReadAll(c)
	if err != nil {
		return fmt.Errorf("reading digest: %w", err)
	}
	if want := h.Sum(nil); !bytes.Equal(got, want) {
		return fmt.Errorf("target's digest %x, want %x", got, want)
	}
	return nil
}
