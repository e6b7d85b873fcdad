package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestProxyProtocolExample(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	s := out.String()
	t.Log(s)
	// The server saw the client's address (127.0.0.2 and its port), not
	// the load balancer's.
	m := regexp.MustCompile(`client (127\.0\.0\.2:\d+) → load balancer → server, which answered: hello (\S+)`).FindStringSubmatch(s)
	if m == nil || m[1] != m[2] {
		t.Errorf("server did not see the client's address: %q", s)
	}
	if !strings.Contains(s, "no header: connection closed") {
		t.Errorf("direct connection not refused: %q", s)
	}
}
