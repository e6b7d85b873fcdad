// Command l4-bench measures lbkit's L4 proxies side by side with HAProxy
// (mode tcp, with option splice-auto and with splicing forced), NGINX
// (stream) and no proxy at all, on
// loopback, in one run, and prints the medians of the ratios.
//
// Every round runs each workload through each proxy in turn:
//
//   - bulk: one TCP stream uploading for -dur; MB/s at the sink, and bytes
//     per CPU-second of the proxy process (utime+stime from /proc/PID/stat).
//   - conn: -conc workers each doing connect, 64-byte request, 64-byte
//     reply, close; connections/s and connections per CPU-second.
//   - udp: -flows flows each keeping -window 64-byte datagrams in flight
//     to an echo server; replies per second (HAProxy has no UDP).
//
// The load generator and the servers run in this process; each proxy runs
// as its own process (lbkit as this binary with -role proxy), so its CPU
// time is its own. The machine is shared and noisy: compare ratios within
// a round, and read medians over -rounds.
//
//	go run ./bench/l4-bench -rounds 5 -dur 3s
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lbkit/lbkit/balancer"
	"github.com/lbkit/lbkit/lb"
)

var (
	role    = flag.String("role", "driver", "driver, or proxy (internal: run lbkit's proxy)")
	tcpMap  = flag.String("tcp", "", "proxy role: listen=target,... TCP pairs")
	udpMap  = flag.String("udp", "", "proxy role: listen=target,... UDP pairs")
	rounds  = flag.Int("rounds", 5, "rounds; medians are over rounds")
	dur     = flag.Duration("dur", 3*time.Second, "duration of each measurement")
	conc    = flag.Int("conc", 8, "concurrent workers for the connection-rate test")
	streams = flag.Int("streams", 1, "parallel streams for the bulk test")
	flows   = flag.Int("flows", 4, "UDP flows")
	window  = flag.Int("window", 16, "UDP datagrams in flight per flow")
	only    = flag.String("only", "bulk,conn,udp", "workloads to run")
	proxies = flag.String("proxies", "direct,lbkit,haproxy,haproxy-splice,nginx", "proxies to compare")
	cpuProf = flag.String("cpuprofile", "", "proxy role: write a CPU profile here until SIGTERM")
	procs   = flag.Int("lbkit-procs", 0, "GOMAXPROCS of the lbkit proxy process (0: Go's default, one per CPU)")
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	if *role == "proxy" {
		runLBKit()
		return
	}
	if err := drive(); err != nil {
		log.Fatal(err)
	}
}

// runLBKit is the lbkit proxy process: a TCPProxy or UDPProxy per pair,
// each with a one-target group using the flow hash, until killed.
func runLBKit() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	quiet := slog.New(slog.DiscardHandler)
	var wg sync.WaitGroup
	for pair := range strings.SplitSeq(*tcpMap, ",") {
		listen, target, ok := strings.Cut(pair, "=")
		if !ok {
			continue
		}
		tg := newGroup(target, quiet)
		// No TCP keepalive on accepted connections (Go enables it by
		// default; NLB and HAProxy do not): four fewer syscalls each.
		lc := net.ListenConfig{KeepAlive: -1}
		ln, err := lc.Listen(ctx, "tcp", listen)
		if err != nil {
			log.Fatal(err)
		}
		p := &lb.TCPProxy{TargetGroup: tg, Logger: quiet}
		wg.Go(func() {
			if err := p.Serve(ctx, ln); err != nil {
				log.Print(err)
			}
		})
	}
	for pair := range strings.SplitSeq(*udpMap, ",") {
		listen, target, ok := strings.Cut(pair, "=")
		if !ok {
			continue
		}
		tg := newGroup(target, quiet)
		a, err := net.ResolveUDPAddr("udp", listen)
		if err != nil {
			log.Fatal(err)
		}
		pc, err := net.ListenUDP("udp", a)
		if err != nil {
			log.Fatal(err)
		}
		p := &lb.UDPProxy{TargetGroup: tg, Logger: quiet}
		wg.Go(func() {
			if err := p.Serve(ctx, pc); err != nil {
				log.Print(err)
			}
		})
	}
	wg.Wait()
}

func newGroup(target string, l *slog.Logger) *lb.TargetGroup {
	tg, err := lb.NewTargetGroup(lb.TargetGroupConfig{Name: "bench", Algorithm: balancer.FlowHash{}, Logger: l})
	if err != nil {
		log.Fatal(err)
	}
	if err := tg.Register(lb.Target{Addr: target}); err != nil {
		log.Fatal(err)
	}
	return tg
}

// servers are the targets, in this process.
type servers struct {
	sink, echo, udp string
	sunk            atomic.Int64
}

func startServers(ctx context.Context) (*servers, error) {
	s := &servers{}
	sink, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	upc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	context.AfterFunc(ctx, func() { sink.Close(); echo.Close(); upc.Close() })
	s.sink, s.echo, s.udp = sink.Addr().String(), echo.Addr().String(), upc.LocalAddr().String()
	go acceptLoop(sink, func(c net.Conn) {
		buf := make([]byte, 256<<10)
		for {
			n, err := c.Read(buf)
			s.sunk.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	go acceptLoop(echo, func(c net.Conn) {
		buf := make([]byte, 64)
		if _, err := io.ReadFull(c, buf); err == nil {
			c.Write(buf)
		}
	})
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := upc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			upc.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	return s, nil
}

func acceptLoop(ln net.Listener, h func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() { defer c.Close(); h(c) }()
	}
}

// proxy is one system under test: where each workload connects, and the
// PID whose CPU time counts (0 for direct).
type proxy struct {
	name            string
	bulk, conn, udp string
	pid             int
	stop            func()
}

func freePort() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func freeUDPPort() string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().String()
}

func startProxy(name string, s *servers, dir string) (*proxy, error) {
	p := &proxy{name: name, stop: func() {}}
	if name == "direct" {
		p.bulk, p.conn, p.udp = s.sink, s.echo, s.udp
		return p, nil
	}
	p.bulk, p.conn, p.udp = freePort(), freePort(), freeUDPPort()
	var cmd *exec.Cmd
	switch name {
	case "lbkit":
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		cmd = exec.Command(self, "-role", "proxy",
			"-tcp", p.bulk+"="+s.sink+","+p.conn+"="+s.echo,
			"-udp", p.udp+"="+s.udp)
		if *cpuProf != "" {
			cmd.Args = append(cmd.Args, "-cpuprofile", *cpuProf)
		}
		if *procs > 0 {
			cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(*procs))
		}
	case "haproxy", "haproxy-splice":
		// haproxy: option splice-auto, as the issue asks; its heuristics
		// did not splice these workloads on HAProxy 2.6. haproxy-splice
		// forces splicing both ways, HAProxy's zero-copy best.
		splice := "option splice-auto"
		if name == "haproxy-splice" {
			splice = "option splice-request\n  option splice-response"
		}
		cfg := fmt.Sprintf(`global
  maxconn 4000
defaults
  mode tcp
  `+splice+`
  timeout connect 5s
  timeout client 60s
  timeout server 60s
listen bulk
  bind %s
  server s1 %s
listen conn
  bind %s
  server s1 %s
`, p.bulk, s.sink, p.conn, s.echo)
		path := filepath.Join(dir, name+".cfg")
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			return nil, err
		}
		p.udp = ""
		cmd = exec.Command("haproxy", "-db", "-f", path)
	case "nginx":
		cfg := fmt.Sprintf(`load_module /usr/lib/nginx/modules/ngx_stream_module.so;
daemon off;
master_process off;
worker_processes 1;
error_log stderr error;
pid %s/nginx.pid;
events { worker_connections 8000; }
stream {
  server { listen %s; proxy_pass %s; }
  server { listen %s; proxy_pass %s; }
  server { listen %s udp; proxy_pass %s; }
}
`, dir, p.bulk, s.sink, p.conn, s.echo, p.udp, s.udp)
		path := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			return nil, err
		}
		cmd = exec.Command("nginx", "-p", dir, "-c", path)
	default:
		return nil, fmt.Errorf("unknown proxy %q", name)
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p.pid = cmd.Process.Pid
	p.stop = func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.conn, time.Second)
		if err == nil {
			c.Write(make([]byte, 64))
			io.Copy(io.Discard, c)
			c.Close()
			return p, nil
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s did not start listening", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cpuTime returns the user+system CPU time of pid, from /proc/PID/stat.
func cpuTime(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	// After "pid (comm) ": state is f[0]; utime, stime are fields 14, 15.
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // CLK_TCK is 100 on Linux
}

type result struct {
	rate   float64 // MB/s, conn/s or datagrams/s
	perCPU float64 // the same per CPU-second of the proxy (0 for direct)
}

func measure(p *proxy, run func(ctx context.Context) int64) result {
	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	defer cancel()
	c0, t0 := cpuTime(p.pid), time.Now()
	n := run(ctx)
	c1, el := cpuTime(p.pid), time.Since(t0)
	r := result{rate: float64(n) / el.Seconds()}
	if cpu := (c1 - c0).Seconds(); cpu > 0 {
		r.perCPU = float64(n) / cpu
	}
	return r
}

func bulk(s *servers, addr string) func(ctx context.Context) int64 {
	return func(ctx context.Context) int64 {
		var wg sync.WaitGroup
		var conns []net.Conn
		for range *streams {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				log.Printf("bulk dial: %v", err)
				return 0
			}
			conns = append(conns, c)
		}
		start := s.sunk.Load()
		for _, c := range conns {
			wg.Go(func() {
				buf := make([]byte, 256<<10)
				context.AfterFunc(ctx, func() { c.SetWriteDeadline(time.Now()) })
				for ctx.Err() == nil {
					if _, err := c.Write(buf); err != nil {
						return
					}
				}
			})
		}
		wg.Wait()
		n := s.sunk.Load() - start
		for _, c := range conns {
			c.Close()
		}
		return n
	}
}

func connRate(addr string) func(ctx context.Context) int64 {
	return func(ctx context.Context) int64 {
		var n atomic.Int64
		var wg sync.WaitGroup
		for range *conc {
			wg.Go(func() {
				req, resp := make([]byte, 64), make([]byte, 64)
				for ctx.Err() == nil {
					c, err := net.DialTimeout("tcp", addr, 2*time.Second)
					if err != nil {
						continue
					}
					c.SetDeadline(time.Now().Add(2 * time.Second))
					if _, err := c.Write(req); err == nil {
						if _, err := io.ReadFull(c, resp); err == nil {
							n.Add(1)
						}
					}
					c.Close()
				}
			})
		}
		wg.Wait()
		return n.Load()
	}
}

func udpRate(addr string) func(ctx context.Context) int64 {
	return func(ctx context.Context) int64 {
		var n atomic.Int64
		var wg sync.WaitGroup
		ua, _ := net.ResolveUDPAddr("udp", addr)
		for range *flows {
			wg.Go(func() {
				c, err := net.DialUDP("udp", nil, ua)
				if err != nil {
					return
				}
				defer c.Close()
				pkt, buf := make([]byte, 64), make([]byte, 2048)
				for range *window {
					c.Write(pkt)
				}
				for ctx.Err() == nil {
					c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
					if _, err := c.Read(buf); err != nil {
						// Lost datagrams: refill the window.
						for range *window {
							c.Write(pkt)
						}
						continue
					}
					n.Add(1)
					c.Write(pkt)
				}
			})
		}
		wg.Wait()
		return n.Load()
	}
}

func drive() error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := startServers(ctx)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "l4-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	names := strings.Split(*proxies, ",")
	var ps []*proxy
	for _, name := range names {
		p, err := startProxy(name, s, dir)
		if err != nil {
			log.Printf("skipping %s: %v", name, err)
			continue
		}
		defer p.stop()
		ps = append(ps, p)
	}
	loads := strings.Split(*only, ",")
	// res[workload][proxy] is one result per round.
	res := map[string]map[string][]result{}
	for r := range *rounds {
		for _, w := range loads {
			if res[w] == nil {
				res[w] = map[string][]result{}
			}
			for _, p := range ps {
				var run func(context.Context) int64
				switch w {
				case "bulk":
					run = bulk(s, p.bulk)
				case "conn":
					run = connRate(p.conn)
				case "udp":
					if p.udp == "" {
						continue
					}
					run = udpRate(p.udp)
				default:
					return fmt.Errorf("unknown workload %q", w)
				}
				x := measure(p, run)
				if w == "bulk" {
					x.rate /= 1e6 // MB/s; perCPU stays bytes per CPU-second
				}
				res[w][p.name] = append(res[w][p.name], x)
				fmt.Fprintf(os.Stderr, "round %d %-4s %-8s rate %12.1f  per-CPU-s %14.0f\n", r+1, w, p.name, x.rate, x.perCPU)
			}
		}
	}
	report(res, loads, ps)
	return nil
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

// ratios returns, per round, a's value over b's.
func ratios(a, b []result, f func(result) float64) []float64 {
	var out []float64
	for i := range min(len(a), len(b)) {
		if f(b[i]) > 0 {
			out = append(out, f(a[i])/f(b[i]))
		}
	}
	return out
}

func report(res map[string]map[string][]result, loads []string, ps []*proxy) {
	units := map[string][2]string{
		"bulk": {"MB/s", "bytes/CPU-s"},
		"conn": {"conn/s", "conn/CPU-s"},
		"udp":  {"datagrams/s", "datagrams/CPU-s"},
	}
	rate := func(r result) float64 { return r.rate }
	per := func(r result) float64 { return r.perCPU }
	fmt.Printf("\n%d rounds of %v; medians (ratios are medians of per-round ratios)\n\n", *rounds, *dur)
	for _, w := range loads {
		u := units[w]
		fmt.Printf("%s:\n\n| proxy | %s | %s | ÷ direct (%s) | lbkit ÷ this (%s) | lbkit ÷ this (%s) |\n|---|---|---|---|---|---|\n", w, u[0], u[1], u[0], u[0], u[1])
		for _, p := range ps {
			rs := res[w][p.name]
			if len(rs) == 0 {
				continue
			}
			var rv, pv []float64
			for _, r := range rs {
				rv = append(rv, r.rate)
				pv = append(pv, r.perCPU)
			}
			fmt.Printf("| %s | %.1f | %.4g | %.2f | %.2f | %.2f |\n", p.name, median(rv), median(pv),
				median(ratios(rs, res[w]["direct"], rate)),
				median(ratios(res[w]["lbkit"], rs, rate)),
				median(ratios(res[w]["lbkit"], rs, per)))
		}
		fmt.Println()
	}
}
