package lb

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lbkit/lbkit/internal/testenv"
)

// TestTCPProxyUsesSplice proves the zero-copy claim: with strace attached
// to this test process, the bytes of a transfer through the proxy move by
// splice(2) (each byte twice: socket to pipe, pipe to socket), not through
// read/write buffers in the proxy.
func TestTCPProxyUsesSplice(t *testing.T) {
	strace := testenv.MustHaveProgram(t, "strace", "strace")
	testenv.MustBeRoot(t, "strace attaches to the test process")
	target := startL4Target(t, shaHandler)
	addr := serveTCP(t, &TCPProxy{TargetGroup: newTestTG(t, TargetGroupConfig{}, target.addr)})

	out := t.TempDir() + "/strace.out"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, strace, "-f", "-qq", "-e", "trace=splice", "-o", out, "-p", strconv.Itoa(os.Getpid()))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Signal(os.Interrupt)
	waitFor(t, 20*time.Second, "strace to attach", func() bool {
		b, _ := os.ReadFile("/proc/self/status")
		return strings.Contains(string(b), "TracerPid:\t") && !strings.Contains(string(b), "TracerPid:\t0\n")
	})

	const n = 8 << 20
	payload := make([]byte, n)
	rand.Read(payload)
	c := dialTCP(t, addr)
	defer c.Close()
	go func() {
		c.Write(payload)
		c.CloseWrite()
	}()
	sum, err := io.ReadAll(c)
	want := sha256.Sum256(payload)
	if err != nil || string(sum) != string(want[:]) {
		t.Fatalf("digest through the proxy = %x, %v; want %x", sum, err, want)
	}
	c.Close()
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()

	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Complete calls end in "= N"; with several threads strace also
	// splits calls into "splice(... <unfinished ...>" and
	// "<... splice resumed>...) = N".
	re := regexp.MustCompile(`splice.*\) += (\d+)`)
	var calls, moved int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			v, _ := strconv.ParseInt(m[1], 10, 64)
			calls++
			moved += v
		}
	}
	t.Logf("splice: %d calls moved %d bytes for a %d-byte upload", calls, moved, n)
	if moved < 2*n {
		t.Fatalf("splice moved %d bytes, want at least %d (socket→pipe→socket for every byte)", moved, 2*n)
	}
}
