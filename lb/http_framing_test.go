package lb

import (
	"slices"
	"testing"
)

// feedAll runs a framer over b split at the given cut points.
func feedAll(b []byte, cuts []int) framer {
	var f framer
	prev := 0
	for _, c := range cuts {
		if c > prev && c < len(b) {
			f.feed(b[prev:c])
			prev = c
		}
	}
	f.feed(b[prev:])
	return f
}

func TestFramer(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		requests  uint64
		ambiguous []uint64
		off       bool
	}{
		{"get", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1, nil, false},
		{"cl body", "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n", 2, nil, false},
		{"ambiguous second", "GET / HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 2, []uint64{1}, false},
		{"chunked with trailer", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1\r\n\r\n", 2, nil, false},
		{"leading empty lines", "\r\n\r\nGET / HTTP/1.1\r\n\r\n", 1, nil, false},
		{"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 0, nil, true},
		{"upgrade stops", "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\nContent-Length: 1\r\nTransfer-Encoding: x\r\n\r\n", 1, nil, true},
		{"bare LF", "GET / HTTP/1.1\nContent-Length: 1\nTransfer-Encoding: chunked\n\n0\n\n", 1, []uint64{0}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for cut := 0; cut <= len(tt.in); cut++ {
				f := feedAll([]byte(tt.in), []int{cut})
				if f.requests != tt.requests || !slices.Equal(f.ambiguous, tt.ambiguous) || (f.state == fsOff) != tt.off {
					t.Fatalf("cut %d: requests %d ambiguous %v off %v; want %d %v %v", cut, f.requests, f.ambiguous, f.state == fsOff, tt.requests, tt.ambiguous, tt.off)
				}
			}
		})
	}
}

// FuzzFramer: the framer reads untrusted bytes. However the stream is
// split across reads, it must reach the same verdicts, and it never
// reports more ambiguous requests than request heads.
func FuzzFramer(f *testing.F) {
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 7, 30)
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nff\r\n"), 3, 50)
	f.Add([]byte("GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 1, 2)
	f.Fuzz(func(t *testing.T, b []byte, c1, c2 int) {
		whole := feedAll(b, nil)
		split := feedAll(b, []int{c1 % (len(b) + 1), c2 % (len(b) + 1)})
		if whole.requests != split.requests || !slices.Equal(whole.ambiguous, split.ambiguous) || whole.state != split.state {
			t.Fatalf("split changes the verdict: %d %v %d vs %d %v %d", whole.requests, whole.ambiguous, whole.state, split.requests, split.ambiguous, split.state)
		}
		if uint64(len(whole.ambiguous)) > whole.requests {
			t.Fatalf("%d ambiguous of %d requests", len(whole.ambiguous), whole.requests)
		}
	})
}
