package lb_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lbkit/lbkit/lb"
	"github.com/lbkit/lbkit/lb/lbtest"
)

// TestHTTP1Conformance sends raw HTTP/1.x exchanges through the proxy,
// with both HTTP/1 servers, and checks the framing of every response.
func TestHTTP1Conformance(t *testing.T) { bothServers(t, testHTTP1Conformance) }

func testHTTP1Conformance(t *testing.T, std bool) {
	b := lbtest.NewBackend(t, "b", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/stream": // no Content-Length: chunked to HTTP/1.1 clients
			w.Header().Set("Trailer", "X-Sum")
			for i := 0; i < 3; i++ {
				fmt.Fprintf(w, "part%d;", i)
				w.(http.Flusher).Flush()
			}
			w.Header().Set("X-Sum", "3")
		case "/echo":
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.Write(body)
		default:
			w.Header().Set("Content-Length", "2")
			io.WriteString(w, "ok")
		}
	}))
	tg := lbtest.NewHTTPTargetGroup(t, quietTG("h1"), b)
	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, &lb.HTTPListener{StdServer: std, MaxHeaderBytes: 4096})
	addr := strings.TrimPrefix(url, "http://")

	type want struct {
		status  int
		body    string
		chunked bool
		trailer string
		close   bool
	}
	tests := []struct {
		name string
		raw  string
		want []want
	}{
		{"keep-alive pipelined", "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", []want{{status: 200, body: "ok"}, {status: 200, body: "ok"}}},
		{"HEAD has no body", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", []want{{status: 200}, {status: 200, body: "ok"}}},
		{"chunked with trailer", "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", []want{{status: 200, body: "part0;part1;part2;", chunked: true, trailer: "3"}}},
		{"HTTP/1.0 stream ends with close", "GET /stream HTTP/1.0\r\nHost: x\r\n\r\n", []want{{status: 200, body: "part0;part1;part2;", close: true}}},
		{"POST body", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", []want{{status: 200, body: "hello"}}},
		{"chunked POST", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", []want{{status: 200, body: "abcde"}}},
		{"expect continue", "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi", []want{{status: 200, body: "hi"}}},
		{"connection close", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", []want{{status: 200, body: "ok", close: true}}},
		{"no host", "GET / HTTP/1.1\r\n\r\n", []want{{status: 400, close: true}}},
		{"garbage", "HELLO\r\n\r\n", []want{{status: 400, close: true}}},
		{"header too large", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 10000) + "\r\n\r\n", []want{{status: 431, close: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, tt.raw)
			br := bufio.NewReader(c)
			for i, w := range tt.want {
				method := "GET"
				if strings.HasPrefix(tt.raw, "HEAD") && i == 0 {
					method = "HEAD"
				}
				res, err := http.ReadResponse(br, &http.Request{Method: method})
				for err == nil && res.StatusCode == http.StatusContinue {
					res, err = http.ReadResponse(br, &http.Request{Method: method})
				}
				if err != nil {
					t.Fatalf("response %d: %v", i, err)
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil && !(w.close && w.status >= 400) { // an error answer may be cut by a reset
					t.Fatalf("response %d body: %v", i, err)
				}
				chunked := len(res.TransferEncoding) > 0 && res.TransferEncoding[0] == "chunked"
				if res.StatusCode != w.status || (w.body != "" && string(body) != w.body) || chunked != w.chunked || res.Trailer.Get("X-Sum") != w.trailer || res.Close != w.close {
					t.Fatalf("response %d: %d %q chunked=%v trailer=%q close=%v; want %+v", i, res.StatusCode, body, chunked, res.Trailer.Get("X-Sum"), res.Close, w)
				}
			}
		})
	}
}

// TestGracefulShutdown: a request in flight when the listener's context
// ends still completes; idle connections are closed; Serve returns nil.
func TestGracefulShutdown(t *testing.T) { bothServers(t, testGracefulShutdown) }

func testGracefulShutdown(t *testing.T, std bool) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	b := lbtest.NewBackend(t, "slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		io.WriteString(w, "done")
	}))
	tg := lbtest.NewHTTPTargetGroup(t, quietTG("gs"), b)
	proxy := &lb.HTTPProxy{Router: lb.ForwardTo(tg)}
	l := &lb.HTTPListener{Handler: proxy, StdServer: std}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- l.Serve(ctx, ln) }()
	defer proxy.CloseIdleConnections()

	// An idle keep-alive connection, and one with a request in flight.
	idle, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	busy := make(chan string, 1)
	go func() {
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		res, err := (&http.Client{Transport: tr}).Get("http://" + ln.Addr().String())
		if err != nil {
			busy <- err.Error()
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		busy <- string(body)
	}()
	<-started
	cancel()
	// The idle connection is closed by the shutdown.
	idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); err == nil {
		t.Error("idle connection got data")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Error("idle connection not closed by shutdown")
	}
	close(release)
	if got := <-busy; got != "done" {
		t.Errorf("in-flight request: %q", got)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// ALB's client_keep_alive: a connection older than ClientKeepAlive is
// closed after its next response.
func TestClientKeepAlive(t *testing.T) { bothServers(t, testClientKeepAlive) }

func testClientKeepAlive(t *testing.T, std bool) {
	b := lbtest.NewBackend(t, "b", nil)
	tg := lbtest.NewHTTPTargetGroup(t, quietTG("cka"), b)
	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, &lb.HTTPListener{StdServer: std, ClientKeepAlive: time.Nanosecond})
	res, _ := get(t, client(t), url)
	if !res.Close {
		t.Error("response to an old connection does not close it")
	}
}

// An idle keep-alive connection is closed after IdleTimeout.
func TestIdleTimeout(t *testing.T) { bothServers(t, testIdleTimeout) }

func testIdleTimeout(t *testing.T, std bool) {
	b := lbtest.NewBackend(t, "b", nil)
	tg := lbtest.NewHTTPTargetGroup(t, quietTG("idle"), b)
	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, &lb.HTTPListener{StdServer: std, IdleTimeout: 200 * time.Millisecond})
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for i := 0; i < 3; i++ {
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	start := time.Now()
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("unexpected data")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("idle connection still open after %v", time.Since(start))
	}
}
