package main

import (
	"testing"

	"github.com/lbkit/lbkit/internal/testenv"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRun runs the example as a user would, in both modes: it fails if a
// reply does not come from the VIP or the backend does not see the client.
func TestRun(t *testing.T) {
	testenv.MustBeRoot(t, "the example builds network namespaces")
	testenv.MustHaveProgram(t, "ip", "iproute2")
	for _, mode := range []string{"l2", "vxlan"} {
		t.Run(mode, func(t *testing.T) {
			if err := run(mode, 6, false); err != nil {
				t.Fatal(err)
			}
		})
	}
}
