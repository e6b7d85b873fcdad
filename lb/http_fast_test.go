package lb

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

var fastRequestSeeds = []string{
	"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /p/q.html?x=1&y=%20 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n",
	"GET /? HTTP/1.1\r\nHost: a\r\n\r\n",
	"HEAD /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	"GET /x HTTP/1.0\r\n\r\n",
	"DELETE /x HTTP/1.1\r\nhost: a\r\nx-forwarded-for: 1.2.3.4\r\nX-Forwarded-For: 5.6.7.8\r\nconnection: Keep-Alive, CLOSE\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: a\r\nX-Odd_Name: \t v \t\r\nEmpty:\r\n\r\n",
	"GET /%41 HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET //x HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET http://h/x HTTP/1.1\r\nHost: a\r\n\r\n",
	"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
	"GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
	"GET /x HTTP/1.1\nHost: a\n\n",
	"GET /x HTTP/1.1\r\nBad Name: a\r\n\r\n",
	"GET /x HTTP/1.1\r\nA: b\x00c\r\n\r\n",
	"GET /x HTTP/1.1\r\nPragma: no-cache\r\n\r\n",
	"GET /x HTTP/2.0\r\nHost: a\r\n\r\n",
	"get /x HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /x?a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n",
}

// FuzzReadRequestFast checks the fast request parser against
// http.ReadRequest: whatever it accepts, net/http accepts too, with the
// same fields and the same bytes consumed.
func FuzzReadRequestFast(f *testing.F) {
	for _, s := range fastRequestSeeds {
		f.Add(s)
	}
	ctx := context.WithValue(context.Background(), http.LocalAddrContextKey, "x")
	tmpl := (&http.Request{RemoteAddr: "1.2.3.4:5"}).WithContext(ctx)
	f.Fuzz(func(t *testing.T, in string) {
		br := bufio.NewReaderSize(strings.NewReader(in), 4096)
		br.Peek(len(in))
		got, ok := readRequestFast(br, tmpl, 1<<20)
		if !ok {
			if br.Buffered() != min(len(in), 4096) {
				t.Fatalf("declined but consumed input")
			}
			return
		}
		want, err := http.ReadRequest(bufio.NewReader(strings.NewReader(in)))
		if err != nil {
			t.Fatalf("fast path accepted what net/http rejects (%v): %q", err, in)
		}
		if got.Context() != ctx || got.RemoteAddr != tmpl.RemoteAddr {
			t.Fatalf("context or remote address not from the template")
		}
		if got.Method != want.Method || got.RequestURI != want.RequestURI || got.Proto != want.Proto ||
			got.ProtoMajor != want.ProtoMajor || got.ProtoMinor != want.ProtoMinor || got.Host != want.Host ||
			got.Close != want.Close || got.ContentLength != want.ContentLength || got.Body != want.Body ||
			got.TransferEncoding != nil || got.Trailer != nil {
			t.Fatalf("request differs:\nfast %+v\nnet/http %+v", got, want)
		}
		if *got.URL != *want.URL {
			t.Fatalf("URL differs: fast %#v, net/http %#v", got.URL, want.URL)
		}
		if !reflect.DeepEqual(got.Header, want.Header) {
			t.Fatalf("header differs: fast %v, net/http %v", got.Header, want.Header)
		}
		rest, _ := io.ReadAll(br)
		if !bytes.Equal(rest, []byte(in[len(in)-len(rest):])) || len(in)-len(rest) != bytes.Index([]byte(in), crlfcrlf)+4 {
			t.Fatalf("consumed %d bytes, head is %d", len(in)-len(rest), bytes.Index([]byte(in), crlfcrlf)+4)
		}
	})
}

var fastResponseSeeds = []string{
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
	"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\r\n",
	"HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\nx",
	"HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx",
	"HTTP/1.1 204 No Content\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
	"HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx",
	"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
	"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx",
	"HTTP/1.1 200 OK\r\n\r\nclose-delimited",
	"HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n",
}

// FuzzReadResponseFast checks the fast response parser against
// http.ReadResponse, body included.
func FuzzReadResponseFast(f *testing.F) {
	for _, s := range fastResponseSeeds {
		f.Add(s, false)
	}
	f.Add(fastResponseSeeds[0], true)
	f.Fuzz(func(t *testing.T, in string, head bool) {
		req := &http.Request{Method: http.MethodGet}
		if head {
			req.Method = http.MethodHead
		}
		br := bufio.NewReaderSize(strings.NewReader(in), 4096)
		br.Peek(len(in))
		got, ok := readResponseFast(br, req)
		if !ok {
			if br.Buffered() != min(len(in), 4096) {
				t.Fatalf("declined but consumed input")
			}
			return
		}
		wbr := bufio.NewReader(strings.NewReader(in))
		want, err := http.ReadResponse(wbr, req)
		if err != nil {
			t.Fatalf("fast path accepted what net/http rejects (%v): %q", err, in)
		}
		if got.Status != want.Status || got.StatusCode != want.StatusCode || got.Proto != want.Proto ||
			got.ProtoMajor != want.ProtoMajor || got.ProtoMinor != want.ProtoMinor || got.Close != want.Close ||
			got.ContentLength != want.ContentLength || got.Request != req || got.TransferEncoding != nil || got.Trailer != nil {
			t.Fatalf("response differs:\nfast %+v\nnet/http %+v", got, want)
		}
		if !reflect.DeepEqual(got.Header, want.Header) {
			t.Fatalf("header differs: fast %v, net/http %v", got.Header, want.Header)
		}
		gotBody, gerr := io.ReadAll(&fixedBody{br: br, left: got.ContentLength})
		wantBody, werr := io.ReadAll(want.Body)
		if !bytes.Equal(gotBody, wantBody) || (gerr == nil) != (werr == nil) {
			t.Fatalf("body differs: fast %q %v, net/http %q %v", gotBody, gerr, wantBody, werr)
		}
	})
}

// TestFastPathsTaken guards the fast paths against silently declining the
// common case (the benchmark's request and response).
func TestFastPathsTaken(t *testing.T) {
	tmpl := (&http.Request{}).WithContext(context.Background())
	in := "GET /bench?x=1 HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nUser-Agent: wrk\r\nAccept: */*\r\nX-Amzn-Trace-Id: Root=1-2\r\n\r\n"
	br := bufio.NewReader(strings.NewReader(in))
	br.Peek(1)
	if _, ok := readRequestFast(br, tmpl, 1<<20); !ok {
		t.Errorf("request declined: %q", in)
	}
	in = "HTTP/1.1 200 OK\r\nContent-Length: 64\r\nContent-Type: text/plain\r\nDate: Thu, 26 Nov 2026 18:00:00 GMT\r\n\r\n"
	br = bufio.NewReader(strings.NewReader(in))
	if !fillHead(br) {
		t.Fatal("fillHead found no head")
	}
	if _, ok := readResponseFast(br, &http.Request{Method: http.MethodGet}); !ok {
		t.Errorf("response declined: %q", in)
	}
}

func TestInternFieldAllocs(t *testing.T) {
	b := []byte("Content-Length")
	if n := testing.AllocsPerRun(100, func() {
		if k, ok := internField(b); !ok || k != "Content-Length" {
			t.Fatal("not interned")
		}
	}); n != 0 {
		t.Errorf("internField allocates %v times", n)
	}
	for _, k := range hopHeaders {
		if !isHopHeader(k) {
			t.Errorf("isHopHeader(%q) = false", k)
		}
	}
}
