// Package testenv lets tests state what they need from the machine — a
// program such as haproxy, root privileges for network namespaces — and skip
// with a message that names what is missing.
//
// A skip is never silent, and in CI it is not allowed at all: when the
// environment variable LBKIT_REQUIRE_ALL is set to 1 (as .ci/run and
// "make test" set it after installing the system packages), a missing
// requirement fails the test instead of skipping it.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// StrictEnv is the environment variable that turns skips into failures.
const StrictEnv = "LBKIT_REQUIRE_ALL"

// Strict reports whether missing requirements fail tests instead of
// skipping them.
func Strict() bool { return os.Getenv(StrictEnv) == "1" }

// MustHaveProgram returns the path of program, or skips (fails when Strict)
// the test with a message naming it and the package that provides it.
func MustHaveProgram(t testing.TB, program, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		missing(t, "program %q not found in PATH (install the Debian package %q, or run `make deps` as root)", program, debianPackage)
	}
	return path
}

// MustBeRoot skips (fails when Strict) the test unless it runs as root, as
// network namespaces, veth pairs and raw sockets need.
func MustBeRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "needs root: %s", why)
	}
}

func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if Strict() {
		t.Fatalf(format+" ("+StrictEnv+"=1 forbids skipping)", args...)
	}
	t.Skipf(format, args...)
}
