package testenv

import (
	"io"
	"net/http"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMustHaveProgramFindsSh(t *testing.T) {
	if got := MustHaveProgram(t, "sh", "dash"); got == "" {
		t.Fatal("MustHaveProgram(sh) returned an empty path")
	}
}

type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = true
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = true
}

func TestMissingProgramSkipsOrFails(t *testing.T) {
	for _, strict := range []string{"", "1"} {
		t.Run("strict="+strict, func(t *testing.T) {
			t.Setenv(StrictEnv, strict)
			r := &recorder{TB: t}
			MustHaveProgram(r, "lbkit-no-such-program", "none")
			if strict == "1" && !r.failed {
				t.Error("strict mode: missing program did not fail the test")
			}
			if strict == "" && !r.skipped {
				t.Error("missing program did not skip the test")
			}
		})
	}
}

func TestStartHAProxy(t *testing.T) {
	socks := ListenSockets(t, 1)
	StartHAProxy(t, `
defaults
	mode http
	timeout connect 5s
	timeout client 5s
	timeout server 5s
frontend fe
	bind `+HAProxyBind(0)+`
	http-request return status 200 content-type text/plain string "haproxy here"
`, socks)
	resp, err := http.Get("http://" + socks[0].Addr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "haproxy here" {
		t.Fatalf("haproxy answered %q", body)
	}
	http.DefaultClient.CloseIdleConnections()
}
