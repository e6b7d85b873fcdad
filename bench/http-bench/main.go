// Command http-bench measures HTTP reverse proxies side by side on
// loopback: lbkit's lb.HTTPProxy, a tuned httputil.ReverseProxy, HAProxy
// (mode http) and NGINX (upstream keepalive), all in front of the same
// three Go backends, under the same wrk load (keep-alive, 64 connections).
//
// For each proxy it reports requests per second, p50 and p99 latency, and
// requests per CPU-second of the proxy process (user+system time from
// /proc/PID/stat, summed over its children), which stays meaningful on a
// shared, noisy machine. It runs the proxies in interleaved rounds and
// prints the median of each figure and of the ratios to lbkit.
//
// Run it through ../http-bench.sh, which installs wrk, haproxy and nginx.
//
//	go run ./bench/http-bench -rounds 5 -duration 10s
//
// The same binary is the Go proxy process: "-serve lbkit" or "-serve
// httputil" runs just that proxy.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lbkit/lbkit/lb"
)

func main() {
	serve := flag.String("serve", "", "run only this proxy: lbkit or httputil")
	listen := flag.String("listen", "127.0.0.1:18080", "proxy listen address (-serve)")
	targets := flag.String("targets", "", "comma-separated backend addresses (-serve)")
	rounds := flag.Int("rounds", 5, "interleaved rounds")
	duration := flag.Duration("duration", 10*time.Second, "wrk duration per measurement")
	conns := flag.Int("c", 64, "wrk connections")
	threads := flag.Int("t", 2, "wrk threads")
	only := flag.String("proxies", "lbkit,httputil,haproxy,nginx", "proxies to measure")
	size := flag.Int("size", 64, "response body bytes")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the proxy to this file (-serve)")
	flag.Parse()
	if *serve != "" {
		if *cpuprofile != "" {
			f, err := os.Create(*cpuprofile)
			if err != nil {
				log.Fatal(err)
			}
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
		if err := runProxy(*serve, *listen, strings.Split(*targets, ",")); err != nil {
			log.Print(err)
		}
		return
	}
	if err := drive(*rounds, *duration, *conns, *threads, strings.Split(*only, ","), *size); err != nil {
		log.Fatal(err)
	}
}

// runProxy serves one Go proxy until SIGTERM.
func runProxy(kind, listen string, targets []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var h http.Handler
	switch kind {
	case "lbkit":
		tg, err := lb.NewHTTPTargetGroup(lb.TargetGroupConfig{Name: "bench"})
		if err != nil {
			return err
		}
		for _, t := range targets {
			if err := tg.Register(lb.Target{Addr: t}); err != nil {
				return err
			}
		}
		h = &lb.HTTPProxy{Router: lb.ForwardTo(tg), ErrorLog: slog.New(slog.DiscardHandler)}
	case "httputil":
		// The stdlib baseline, tuned as a careful user would: a large
		// keep-alive pool, no compression, round robin, X-Forwarded-*.
		tr := &http.Transport{
			MaxIdleConns: 4096, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 90 * time.Second,
			DisableCompression: true, ForceAttemptHTTP2: false,
			DialContext: (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		}
		var next atomic.Uint64
		h = &httputil.ReverseProxy{
			Transport: tr,
			Rewrite: func(pr *httputil.ProxyRequest) {
				t := targets[next.Add(1)%uint64(len(targets))]
				pr.Out.URL.Scheme, pr.Out.URL.Host = "http", t
				pr.Out.Host = pr.In.Host
				pr.SetXForwarded()
			},
			ErrorLog: log.New(io.Discard, "", 0),
		}
	default:
		return fmt.Errorf("unknown proxy %q", kind)
	}
	if kind == "lbkit" {
		l := &lb.HTTPListener{Addr: listen, Handler: h, ErrorLog: slog.New(slog.DiscardHandler)}
		return l.ListenAndServe(ctx)
	}
	srv := &http.Server{Addr: listen, Handler: h, ReadHeaderTimeout: 20 * time.Second, IdleTimeout: 60 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type result struct {
	proxy             string
	rps, p50, p99     float64 // p in ms
	cpu, reqPerCPUSec float64
	errors            int
}

func drive(rounds int, dur time.Duration, conns, threads int, proxies []string, size int) error {
	for _, p := range []string{"wrk"} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%s not found: run bench/http-bench.sh (installs wrk, haproxy, nginx)", p)
		}
	}
	body := strings.Repeat("x", size)
	var backends []string
	for i := 0; i < 3; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			io.WriteString(w, body)
		})}
		go srv.Serve(ln)
		backends = append(backends, ln.Addr().String())
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "http-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	const listen = "127.0.0.1:18080"
	all := map[string][]result{}
	for r := 0; r < rounds; r++ {
		for _, p := range proxies {
			cmd, err := startProxy(p, self, listen, backends, tmp)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			res, err := measure(p, cmd, listen, dur, conns, threads)
			stopProxy(cmd)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			fmt.Printf("round %d %-9s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  cpu %5.2f s  %8.0f req/CPU-s  errors %d\n",
				r+1, p, res.rps, res.p50, res.p99, res.cpu, res.reqPerCPUSec, res.errors)
			all[p] = append(all[p], res)
		}
	}
	report(proxies, all)
	return nil
}

func startProxy(kind, self, listen string, backends []string, tmp string) (*exec.Cmd, error) {
	var cmd *exec.Cmd
	switch kind {
	case "lbkit", "httputil":
		cmd = exec.Command(self, "-serve", kind, "-listen", listen, "-targets", strings.Join(backends, ","))
	case "lbkit-base":
		// An earlier build of this program (LBKIT_BASE), to measure a
		// change side by side with the code before it.
		base := os.Getenv("LBKIT_BASE")
		if base == "" {
			return nil, errors.New("lbkit-base needs LBKIT_BASE=path to an earlier http-bench build")
		}
		cmd = exec.Command(base, "-serve", "lbkit", "-listen", listen, "-targets", strings.Join(backends, ","))
	case "haproxy":
		var srv strings.Builder
		for i, b := range backends {
			fmt.Fprintf(&srv, "    server s%d %s\n", i, b)
		}
		cfg := fmt.Sprintf(`global
    nbthread 2
    maxconn 4096
defaults
    mode http
    timeout connect 10s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
    option forwardfor
    http-reuse always
frontend fe
    bind %s
    default_backend be
backend be
    balance roundrobin
%s`, listen, srv.String())
		path := filepath.Join(tmp, "haproxy.cfg")
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			return nil, err
		}
		cmd = exec.Command("haproxy", "-db", "-f", path)
	case "nginx":
		var srv strings.Builder
		for _, b := range backends {
			fmt.Fprintf(&srv, "        server %s;\n", b)
		}
		cfg := fmt.Sprintf(`worker_processes 2;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %[1]s;
    proxy_temp_path %[1]s;
    fastcgi_temp_path %[1]s;
    uwsgi_temp_path %[1]s;
    scgi_temp_path %[1]s;
    keepalive_requests 1000000;
    upstream be {
%[2]s        keepalive 256;
    }
    server {
        listen %[3]s;
        location / {
            proxy_pass http://be;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }
    }
}
`, tmp, srv.String(), listen)
		path := filepath.Join(tmp, "nginx.conf")
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			return nil, err
		}
		cmd = exec.Command("nginx", "-c", path, "-p", tmp)
	default:
		return nil, fmt.Errorf("unknown proxy %q", kind)
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", listen)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			stopProxy(cmd)
			return nil, fmt.Errorf("did not start listening on %s", listen)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Check it proxies.
	res, err := http.Get("http://" + listen + "/")
	if err != nil {
		stopProxy(cmd)
		return nil, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		stopProxy(cmd)
		return nil, fmt.Errorf("probe answered %s", res.Status)
	}
	return cmd, nil
}

func stopProxy(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// cpuTicks returns utime+stime of pid and its descendants, in clock ticks.
func cpuTicks(pid int) (int64, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	parent := map[int]int{}
	ticks := map[int]int64{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		// Fields after the command name (which may contain spaces).
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		parent[p] = ppid
		ticks[p] = ut + st
	}
	var total int64
	for p, t := range ticks {
		for q := p; q != 0; q = parent[q] {
			if q == pid {
				total += t
				break
			}
			if _, ok := parent[q]; !ok {
				break
			}
		}
	}
	return total, nil
}

const clkTck = 100 // sysconf(_SC_CLK_TCK) on Linux

var (
	reqsRe = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	latRe  = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
	errRe  = regexp.MustCompile(`(?:Non-2xx or 3xx responses|Socket errors):\s*(.*)`)
)

func measure(kind string, cmd *exec.Cmd, listen string, dur time.Duration, conns, threads int) (result, error) {
	url := "http://" + listen + "/"
	// Warm up: connection pools, JIT-free but caches and page faults.
	if out, err := exec.Command("wrk", "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", "2s", url).CombinedOutput(); err != nil {
		return result{}, fmt.Errorf("wrk warm-up: %v: %s", err, out)
	}
	before, err := cpuTicks(cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	out, err := exec.Command("wrk", "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", dur.String(), "--latency", url).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	after, err := cpuTicks(cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	res := result{proxy: kind, cpu: float64(after-before) / clkTck}
	m := reqsRe.FindSubmatch(out)
	if m == nil {
		return result{}, fmt.Errorf("no Requests/sec in wrk output: %s", out)
	}
	res.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	for _, lm := range latRe.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(lm[2]), 64)
		switch string(lm[3]) {
		case "us":
			v /= 1000
		case "s":
			v *= 1000
		}
		if string(lm[1]) == "50" {
			res.p50 = v
		} else {
			res.p99 = v
		}
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if em := errRe.FindStringSubmatch(sc.Text()); em != nil {
			for _, f := range strings.FieldsFunc(em[1], func(r rune) bool { return r < '0' || r > '9' }) {
				n, _ := strconv.Atoi(f)
				res.errors += n
			}
		}
	}
	if res.cpu > 0 {
		res.reqPerCPUSec = res.rps * dur.Seconds() / res.cpu
	}
	return res, nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func report(proxies []string, all map[string][]result) {
	fmt.Println()
	fmt.Println("| proxy | req/s | p50 ms | p99 ms | req/CPU-s |")
	fmt.Println("|---|---:|---:|---:|---:|")
	col := func(p string, f func(result) float64) float64 {
		var xs []float64
		for _, r := range all[p] {
			xs = append(xs, f(r))
		}
		return median(xs)
	}
	for _, p := range proxies {
		fmt.Printf("| %s | %.0f | %.2f | %.2f | %.0f |\n", p,
			col(p, func(r result) float64 { return r.rps }),
			col(p, func(r result) float64 { return r.p50 }),
			col(p, func(r result) float64 { return r.p99 }),
			col(p, func(r result) float64 { return r.reqPerCPUSec }))
	}
	base := all["lbkit"]
	if len(base) == 0 {
		return
	}
	fmt.Println()
	fmt.Println("Medians over rounds of per-round ratios (lbkit / other):")
	for _, p := range proxies {
		if p == "lbkit" || len(all[p]) != len(base) {
			continue
		}
		var cpuR, rpsR, p99R []float64
		for i, r := range all[p] {
			if r.reqPerCPUSec > 0 {
				cpuR = append(cpuR, base[i].reqPerCPUSec/r.reqPerCPUSec)
			}
			if r.rps > 0 {
				rpsR = append(rpsR, base[i].rps/r.rps)
			}
			if r.p99 > 0 {
				p99R = append(p99R, base[i].p99/r.p99)
			}
		}
		fmt.Printf("  vs %-9s req/CPU-s ×%.2f   req/s ×%.2f   p99 ×%.2f\n", p, median(cpuR), median(rpsR), median(p99R))
	}
}
