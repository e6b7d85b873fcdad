package lbtest_test

import (
	"testing"
	"time"

	"github.com/lbkit/lbkit/lb"
	"github.com/lbkit/lbkit/lb/lbtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBackendsAndLoad(t *testing.T) {
	bs := lbtest.NewBackends(t, 2)
	tg := lbtest.NewHTTPTargetGroup(t, lb.TargetGroupConfig{Name: "t"}, bs...)
	url := lbtest.StartProxy(t, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, nil)
	load := lbtest.StartLoad(t, url, 2)
	load.WaitOK(t, 50, 10*time.Second)
	res := load.Stop()
	if res.Failed != 0 || res.OK < 50 {
		t.Fatalf("load: %+v", res)
	}
	if bs[0].Requests.Load() == 0 || bs[1].Requests.Load() == 0 {
		t.Errorf("requests per backend: %d, %d", bs[0].Requests.Load(), bs[1].Requests.Load())
	}
	if r := bs[0].LastRequest(); r == nil || r.Header.Get("X-Forwarded-For") != "127.0.0.1" {
		t.Errorf("last request: %+v", r)
	}
	if c := lbtest.Certificate(t, "a.example"); c.Leaf.Subject.CommonName != "a.example" {
		t.Errorf("certificate CN %q", c.Leaf.Subject.CommonName)
	}
}
