package lb_test

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lbkit/lbkit/lb"
	"github.com/lbkit/lbkit/lb/lbtest"
)

// The reliability tests run steady keep-alive load through a real proxy on
// loopback while the target group changes, and require zero failed
// requests. Each step waits for a number of successful requests (polling,
// bounded), never for wall time.

const (
	loadWorkers = 8
	stepOK      = 100 // successful requests between changes
	stepWait    = 20 * time.Second
)

func startReliability(t *testing.T, cfg lb.TargetGroupConfig, n int) (*lb.HTTPTargetGroup, []*lbtest.Backend, *lbtest.Load) {
	t.Helper()
	return startReliabilityWith(t, cfg, n, nil)
}

func startReliabilityWith(t *testing.T, cfg lb.TargetGroupConfig, n int, l *lb.HTTPListener) (*lb.HTTPTargetGroup, []*lbtest.Backend, *lbtest.Load) {
	t.Helper()
	bs := lbtest.NewBackends(t, n)
	tg := lbtest.NewHTTPTargetGroup(t, cfg, bs...)
	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, l)
	load := lbtest.StartLoad(t, url, loadWorkers)
	load.WaitOK(t, stepOK, stepWait)
	return tg, bs, load
}

func requireNoFailures(t *testing.T, load *lbtest.Load) {
	t.Helper()
	res := load.Stop()
	if res.Failed != 0 {
		t.Fatalf("%d of %d requests failed: %v", res.Failed, res.OK+res.Failed, res.Errors)
	}
	if res.OK == 0 {
		t.Fatal("no request succeeded")
	}
}

func TestReliabilityDrain(t *testing.T) { bothServers(t, testReliabilityDrain) }

func testReliabilityDrain(t *testing.T, std bool) {
	cfg := quietTG("drain")
	cfg.DeregistrationDelay = time.Minute // must end early: load is short
	tg, bs, load := startReliabilityWith(t, cfg, 3, &lb.HTTPListener{StdServer: std})
	done, err := tg.Deregister(bs[0].Addr())
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(stepWait):
		t.Fatal("draining did not end when the target became idle")
	}
	before := bs[0].Requests.Load()
	load.WaitOK(t, stepOK, stepWait)
	if after := bs[0].Requests.Load(); after != before {
		t.Errorf("drained target got %d new requests", after-before)
	}
	bs[0].Close() // gone for good: nothing may reach it
	load.WaitOK(t, stepOK, stepWait)
	requireNoFailures(t, load)
}

func TestReliabilityReplaceAllTargets(t *testing.T) {
	cfg := quietTG("replace")
	cfg.DeregistrationDelay = time.Minute
	tg, bs, load := startReliability(t, cfg, 3)
	for i, old := range bs {
		nb := lbtest.NewBackend(t, fmt.Sprintf("new%d", i), nil)
		if err := tg.Register(lb.Target{Addr: nb.Addr()}); err != nil {
			t.Fatal(err)
		}
		load.WaitOK(t, stepOK, stepWait)
		done, err := tg.Deregister(old.Addr())
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
		case <-time.After(stepWait):
			t.Fatal("drain did not end")
		}
		old.Close()
		load.WaitOK(t, stepOK, stepWait)
	}
	requireNoFailures(t, load)
	for _, ts := range tg.Targets() {
		if !strings.HasPrefix(ts.Addr, "127.0.0.1:") || ts.Health != lb.HealthHealthy {
			t.Errorf("left over target %+v", ts)
		}
	}
	if n := len(tg.Targets()); n != 3 {
		t.Errorf("%d targets, want 3", n)
	}
}

func TestReliabilityFlappingHealth(t *testing.T) {
	cfg := quietTG("flap")
	tg, bs, load := startReliability(t, cfg, 3)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 12; i++ {
		b := bs[r.IntN(len(bs))]
		h := lb.HealthUnhealthy
		if i%2 == 1 {
			h = lb.HealthHealthy
		}
		tg.SetHealth(b.Addr(), h)
		load.WaitOK(t, stepOK/4, stepWait)
	}
	// Every target unhealthy: the group fails open and still serves.
	for _, b := range bs {
		tg.SetHealth(b.Addr(), lb.HealthUnhealthy)
	}
	if !tg.FailingOpen() {
		t.Error("not failing open with every target unhealthy")
	}
	load.WaitOK(t, stepOK, stepWait)
	requireNoFailures(t, load)
}

func TestReliabilityChangingWeights(t *testing.T) {
	tg, bs, load := startReliability(t, quietTG("weights"), 3)
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 12; i++ {
		for j, b := range bs {
			w := r.IntN(5)
			if j == i%3 && w == 0 {
				w = 1 // keep one target eligible
			}
			tg.SetWeight(b.Addr(), w)
		}
		load.WaitOK(t, stepOK/4, stepWait)
	}
	// A weight-zero target gets nothing new.
	tg.SetWeight(bs[0].Addr(), 0)
	tg.SetWeight(bs[1].Addr(), 1)
	load.WaitOK(t, 10, stepWait) // requests in flight on bs[0] finish
	before := bs[0].Requests.Load()
	load.WaitOK(t, stepOK, stepWait)
	if d := bs[0].Requests.Load() - before; d != 0 {
		t.Errorf("weight-0 target got %d requests", d)
	}
	requireNoFailures(t, load)
}

// bothServers runs f with lbkit's HTTP/1 server and with net/http's.
func bothServers(t *testing.T, f func(t *testing.T, std bool)) {
	for _, std := range []bool{false, true} {
		name := "lbkit"
		if std {
			name = "net-http"
		}
		t.Run(name, func(t *testing.T) { f(t, std) })
	}
}

func TestSlowHeadersCutOff(t *testing.T) { bothServers(t, testSlowHeadersCutOff) }

func testSlowHeadersCutOff(t *testing.T, std bool) {
	b := lbtest.NewBackend(t, "b", nil)
	tg := lbtest.NewHTTPTargetGroup(t, quietTG("slow"), b)
	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, &lb.HTTPListener{HeaderTimeout: 200 * time.Millisecond, StdServer: std})
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n")
	// The client trickles a header byte now and then; the listener must
	// close the connection anyway, long before this deadline.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	buf := make([]byte, 1)
	io.WriteString(conn, "X")
	_, err = conn.Read(buf)
	for err == nil {
		_, err = conn.Read(buf)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %v", time.Since(start))
	}
	if b.Requests.Load() != 0 {
		t.Error("an incomplete request reached the target")
	}
}

func TestAmbiguousFramingRejected(t *testing.T) { bothServers(t, testAmbiguousFramingRejected) }

func testAmbiguousFramingRejected(t *testing.T, std bool) {
	b := lbtest.NewBackend(t, "b", nil)
	tg := lbtest.NewHTTPTargetGroup(t, quietTG("desync"), b)
	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, &lb.HTTPListener{StdServer: std})
	addr := strings.TrimPrefix(url, "http://")
	tests := []struct {
		name string
		raw  string
		want []int // statuses of the responses, in order
	}{
		{"CL and TE", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []int{400}},
		{"TE and CL, odd case", "POST / HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\ncontent-LENGTH: 3\r\n\r\n0\r\n\r\n", []int{400}},
		{"two CL", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", []int{400}},
		{"chunked alone is fine", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", []int{200}},
		{"body that looks like headers is not a header",
			"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n") + "0\r\n\r\n" +
				"GET / HTTP/1.1\r\nHost: x\r\n\r\n", []int{200, 200}},
		{"pipelined: clean then ambiguous", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi" +
			"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []int{200, 400}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(conn, tt.raw)
			br := bufio.NewReader(conn)
			for i, want := range tt.want {
				res, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("response %d: %v", i, err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != want {
					t.Fatalf("response %d: status %d, want %d", i, res.StatusCode, want)
				}
			}
		})
	}
}

func chunk(data string) string { return fmt.Sprintf("%x\r\n%s\r\n", len(data), data) }
