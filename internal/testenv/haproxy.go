package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Socket is a listening TCP socket on a free 127.0.0.1 port, made for a
// child process such as HAProxy to inherit. Because the test holds the
// socket from the start, no parallel test can take the port between
// choosing it and the child binding it.
type Socket struct {
	Port int      // the port it listens on
	file *os.File // the listening socket
}

// Addr is the socket's address, 127.0.0.1:Port.
func (s Socket) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// ListenSockets opens n listening sockets for StartHAProxy. They are closed
// when the test ends.
func ListenSockets(t testing.TB, n int) []Socket {
	t.Helper()
	socks := make([]Socket, n)
	for i := range socks {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f, err := ln.(*net.TCPListener).File() // a dup: stays listening after Close
		ln.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		socks[i] = Socket{Port: ln.Addr().(*net.TCPAddr).Port, file: f}
	}
	return socks
}

// HAProxyBind is what a configuration's bind line names for socks[i]:
// HAProxy's "fd@N" form for an inherited socket.
func HAProxyBind(i int) string { return fmt.Sprintf("fd@%d", 3+i) }

// StartHAProxy checks config and runs haproxy in the foreground until the
// test ends, with socks inherited so that its bind lines can name them with
// HAProxyBind. Connections to the sockets queue in the kernel until HAProxy
// accepts them, so callers need not wait for it to start. Its output is
// logged if the test fails. Skips (fails under LBKIT_REQUIRE_ALL=1) when
// haproxy is not installed.
func StartHAProxy(t testing.TB, config string, socks []Socket) {
	t.Helper()
	bin := MustHaveProgram(t, "haproxy", "haproxy")
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	files := make([]*os.File, len(socks))
	for i, s := range socks {
		files[i] = s.file
	}
	check := exec.Command(bin, "-c", "-q", "-f", path)
	check.ExtraFiles = files
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s\nconfiguration:\n%s", err, out, config)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-db", "-f", path)
	cmd.ExtraFiles = files
	var logs lockedBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("haproxy output:\n%s", logs.String())
		}
	})
}

// lockedBuffer is written by the child's output copier and read by the
// test's cleanup.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
