package lb_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/lbkit/lbkit/lb"
	"github.com/lbkit/lbkit/lb/lbtest"
)

// BenchmarkHTTPProxy sends keep-alive GETs through lbkit's proxy and, in
// the same run, through a tuned httputil.ReverseProxy, to one loopback
// backend answering 64 bytes. Compare the two sub-benchmarks (ratios, not
// absolute times: client, proxy and backend share the machine). bench/
// measures proxies as separate processes with wrk.
func BenchmarkHTTPProxy(b *testing.B) {
	body := strings.Repeat("x", 64)
	backend := lbtest.NewBackend(b, "b", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "64")
		io.WriteString(w, body)
	}))
	tg := lbtest.NewHTTPTargetGroup(b, lb.TargetGroupConfig{Name: "bench"}, backend)
	lbURL := lbtest.StartProxy(b, &lb.HTTPProxy{Router: lb.ForwardTo(tg)}, nil)

	target, _ := url.Parse(backend.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 1024, DisableCompression: true}
	std := httptest.NewServer(rp)
	b.Cleanup(std.Close)

	for _, bc := range []struct{ name, url string }{{"lbkit", lbURL}, {"httputil", std.URL}} {
		b.Run(bc.name, func(b *testing.B) {
			tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					res, err := c.Get(bc.url)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
			})
		})
	}
}
