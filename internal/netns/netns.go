// Package netns creates throwaway Linux network namespaces for tests, and
// runs Go code inside them.
//
// Typical usage in a test (as root; skip otherwise with testenv.MustBeRoot):
//
//	sw := netns.New(t, "sw")            // deleted by t.Cleanup, even on failure
//	sw.MustIP(t, "link", "add", "br0", "type", "bridge")
//	c := netns.New(t, "c")
//	netns.Veth(t, c, "eth0", sw, "p-c") // c:eth0 <-> sw:p-c, both up
//	c.MustIP(t, "addr", "add", "10.0.0.1/24", "dev", "eth0")
//	var conn net.Conn
//	err := c.Do(func() (err error) { conn, err = net.Dial("tcp", "10.0.0.2:80"); return })
//
// Sockets, TUN devices and netlink requests made inside Do belong to the
// namespace for their whole life, whichever goroutine uses them later.
//
// Names are unique per process and run ("lbk-<pid>-<n>-<label>"), so
// parallel test binaries never collide; namespaces left behind by a killed
// test binary are deleted by the next New. It shells out to iproute2's
// "ip" for topology (the tests' own language, as in kselftest) and uses
// setns(2) for Do. It does not manage processes inside namespaces.
package netns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

const prefix = "lbk-"

// NS is a network namespace created by New.
type NS struct {
	Name string
}

var (
	counter   atomic.Uint64
	purgeOnce sync.Once
)

// New creates a namespace with loopback up, labelled label (for humans),
// and deletes it when the test ends, pass or fail.
func New(t testing.TB, label string) *NS {
	t.Helper()
	n, err := Create(label)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Delete(); err != nil {
			t.Error(err)
		}
	})
	return n
}

// Create is New for programs (examples, benchmarks drivers): the caller
// must call Delete.
func Create(label string) (*NS, error) {
	purgeOnce.Do(purgeStale)
	n := &NS{Name: fmt.Sprintf("%s%d-%d-%s", prefix, os.Getpid(), counter.Add(1), label)}
	if out, err := exec.Command("ip", "netns", "add", n.Name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %w: %s", n.Name, err, out)
	}
	if _, err := n.IP("link", "set", "lo", "up"); err != nil {
		n.Delete()
		return nil, err
	}
	return n, nil
}

// Delete deletes the namespace (its interfaces go with it once no socket
// holds it).
func (n *NS) Delete() error {
	if out, err := exec.Command("ip", "netns", "del", n.Name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns del %s: %w: %s", n.Name, err, out)
	}
	return nil
}

// purgeStale deletes namespaces of earlier test processes that are gone.
func purgeStale() {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(strings.SplitN(rest, "-", 2)[0])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); errors.Is(err, os.ErrNotExist) {
			_ = exec.Command("ip", "netns", "del", e.Name()).Run()
		}
	}
}

// IP runs "ip -n <ns> args..." and returns its combined output.
func (n *NS) IP(args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"-n", n.Name}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip -n %s %s: %w: %s", n.Name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// MustIP is IP that fails the test on error.
func (n *NS) MustIP(t testing.TB, args ...string) string {
	t.Helper()
	out, err := n.IP(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Do runs fn on an OS thread switched into the namespace, then switches
// back. fn must not start goroutines that expect to be in the namespace
// (they are not), but what it creates stays in it.
func (n *NS) Do(fn func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open(fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	target, err := os.Open("/run/netns/" + n.Name)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns %s: %w", n.Name, err)
	}
	defer func() {
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// The thread is in the wrong namespace: keep it locked so the
			// runtime discards it when this goroutine ends.
			return
		}
		runtime.UnlockOSThread()
	}()
	return fn()
}

// Exec runs a program inside the namespace ("ip netns exec").
func (n *NS) Exec(name string, args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s in %s: %w: %s", name, strings.Join(args, " "), n.Name, err, out)
	}
	return string(out), nil
}

// Veth connects a:aName to b:bName with a veth pair and brings both ends
// up. If b has a bridge "br0", bName is enslaved to it. It fails the test
// on error; Connect is the same for programs.
func Veth(t testing.TB, a *NS, aName string, b *NS, bName string) {
	t.Helper()
	if err := Connect(a, aName, b, bName); err != nil {
		t.Fatal(err)
	}
}

// Connect is Veth returning its error.
func Connect(a *NS, aName string, b *NS, bName string) error {
	out, err := exec.Command("ip", "link", "add", aName, "netns", a.Name, "type", "veth", "peer", "name", bName, "netns", b.Name).CombinedOutput()
	if err != nil {
		return fmt.Errorf("veth %s:%s-%s:%s: %w: %s", a.Name, aName, b.Name, bName, err, out)
	}
	if _, err := b.IP("link", "show", "br0"); err == nil {
		if _, err := b.IP("link", "set", bName, "master", "br0"); err != nil {
			return err
		}
	}
	if _, err := a.IP("link", "set", aName, "up"); err != nil {
		return err
	}
	_, err = b.IP("link", "set", bName, "up")
	return err
}
