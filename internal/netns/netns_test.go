package netns

import (
	"net"
	"strings"
	"testing"

	"github.com/lbkit/lbkit/internal/testenv"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestTwoNamespacesOverABridge(t *testing.T) {
	testenv.MustBeRoot(t, "creates network namespaces")
	testenv.MustHaveProgram(t, "ip", "iproute2")
	sw, a, b := New(t, "sw"), New(t, "a"), New(t, "b")
	sw.MustIP(t, "link", "add", "br0", "type", "bridge")
	sw.MustIP(t, "link", "set", "br0", "up")
	Veth(t, a, "eth0", sw, "p-a")
	Veth(t, b, "eth0", sw, "p-b")
	a.MustIP(t, "addr", "add", "10.9.0.1/24", "dev", "eth0")
	b.MustIP(t, "addr", "add", "10.9.0.2/24", "dev", "eth0")
	if out := sw.MustIP(t, "link", "show", "master", "br0"); !strings.Contains(out, "p-a") || !strings.Contains(out, "p-b") {
		t.Fatalf("ports not on the bridge: %s", out)
	}

	var ln net.Listener
	if err := b.Do(func() (err error) { ln, err = net.Listen("tcp", "10.9.0.2:0"); return }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, err = c.Write([]byte("hi"))
			c.Close()
		}
		accepted <- err
	}()
	var conn net.Conn
	if err := a.Do(func() (err error) { conn, err = net.Dial("tcp", ln.Addr().String()); return }); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if _, err := conn.Read(buf); err != nil || string(buf) != "hi" {
		t.Fatalf("read %q, %v", buf, err)
	}
	conn.Close()
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}
}
