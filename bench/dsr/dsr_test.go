package dsrbench

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/lbkit/lbkit/internal/netns"
	"github.com/lbkit/lbkit/internal/netns/dsrlab"
	"github.com/lbkit/lbkit/internal/testenv"
	"github.com/lbkit/lbkit/lb/dsr"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// window is how long each measurement sends; DSR_WINDOW overrides it.
func window() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("DSR_WINDOW")); err == nil {
		return d
	}
	return 2 * time.Second
}

// senders is the number of UDP sending goroutines (DSR_SENDERS, default 1):
// on a 2-core machine one sender leaves the other core to the forwarding.
func senders() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("DSR_SENDERS"), &n); err == nil && n > 0 {
		return n
	}
	return 1
}

// BenchmarkEndToEnd runs, in one topology per forwarder configuration,
// each measurement twice in a row: through the kernel forwarding the VIP
// to b1 by a route (kernel-udp, kernel-tcp), then through the DSR
// forwarder in L2 mode with TUN ingress, L2 with a PACKET_MMAP ring,
// VXLAN, and VXLAN without segmentation offload, with b1 as its only
// backend):
//   - udp: 8 flows of 18-byte UDP payloads (64-byte frames) sent with
//     sendmmsg; packets/s counted on b1's eth0;
//   - tcp: one bulk TCP connection for the window; Gbit/s received on b1.
//
// Run with -benchtime=1x; each sub-benchmark sends for DSR_WINDOW (2s).
func BenchmarkEndToEnd(b *testing.B) {
	testenv.MustBeRoot(b, "builds network namespaces")
	testenv.MustHaveProgram(b, "ip", "iproute2")
	for _, cfg := range []struct {
		name      string
		mode      dsr.Mode
		ingress   dsr.Ingress
		noOffload bool
	}{
		{"dsr-l2", dsr.ModeL2, dsr.IngressTUN, false},
		{"dsr-l2-ring", dsr.ModeL2, dsr.IngressPacketRing, false},
		{"dsr-vxlan", dsr.ModeVXLAN, dsr.IngressTUN, false},
		{"dsr-vxlan-nooffload", dsr.ModeVXLAN, dsr.IngressTUN, true},
	} {
		mode := cfg.mode
		lab, err := dsrlab.Build(1, mode)
		if err != nil {
			b.Fatal(err)
		}
		func() {
			defer lab.Close()
			sink := startSinks(b, lab.B[0])
			defer sink.close()
			kernel := []string{"route", "replace", dsrlab.VIP.String() + "/32", "via", lab.Addrs[0].String(), "dev", "eth0"}
			// Kernel and forwarder alternate, each measured right after its
			// reference, so that a ratio compares neighbours in time. No
			// forwarder exists during a kernel measurement; a forwarder
			// routes the VIP to itself when it starts.
			for _, kind := range []string{"udp", "tcp"} {
				for _, viaKernel := range []bool{true, false} {
					name := kind
					if viaKernel {
						name = "kernel-" + kind
						lab.LB.MustIP(b, kernel...)
					}
					b.Run(cfg.name+"/"+name, func(b *testing.B) {
						if !viaKernel {
							stop := startForwarder(b, lab, dsr.ForwarderConfig{
								Config:    dsr.Config{VIPs: []netip.Addr{dsrlab.VIP}, Mode: cfg.mode},
								Interface: "eth0",
								Ingress:   cfg.ingress,
								NoOffload: cfg.noOffload,
								Logger:    slog.New(slog.DiscardHandler),
							})
							defer stop()
						}
						for range b.N {
							if kind == "udp" {
								sent, got := udpFlood(b, lab, window())
								b.ReportMetric(got, "rx-pps")
								b.ReportMetric(sent, "tx-pps")
							} else {
								b.ReportMetric(tcpBulk(b, lab, sink, window()), "Gbit/s")
							}
						}
					})
				}
			}
		}()
	}
}

// startForwarder creates and runs a forwarder in the lab's balancer with
// b1 as its only backend; stop closes it and logs its counters.
func startForwarder(b *testing.B, lab *dsrlab.Lab, cfg dsr.ForwarderConfig) (stop func()) {
	var fw *dsr.Forwarder
	if err := lab.LB.Do(func() (err error) { fw, err = dsr.NewForwarder(cfg); return }); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fw.Run(ctx) }()
	if err := fw.SetBackends(ctx, []dsr.Backend{{Addr: lab.Addrs[0], Weight: 1}}); err != nil {
		cancel()
		<-done
		fw.Close()
		b.Fatal(err)
	}
	return func() {
		s := fw.Stats()
		cancel()
		<-done
		fw.Close()
		b.Logf("forwarder: received %d sent %d send errors %d truncated %d ingress drops %d drops %v",
			s.Received, s.Sent, s.SendErrors, s.Truncated, s.IngressDrops, s.Drops)
	}
}

type sinks struct {
	udp   *net.UDPConn
	ln    net.Listener
	bytes atomic.Int64
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn // closed by close: a stream cut by a path change never ends by itself
}

// startSinks opens, on the backend, a UDP socket on VIP:9000 that never
// reads (packets are counted on the interface, so the receiving
// application is not the bottleneck) and a TCP listener on VIP:5201 that
// discards and counts.
func startSinks(b *testing.B, ns *netns.NS) *sinks {
	s := &sinks{}
	err := ns.Do(func() (err error) {
		if s.udp, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(dsrlab.VIP, 9000))); err != nil {
			return err
		}
		s.ln, err = net.Listen("tcp4", netip.AddrPortFrom(dsrlab.VIP, 5201).String())
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := s.ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				buf := make([]byte, 1<<20)
				for {
					n, err := c.Read(buf)
					s.bytes.Add(int64(n))
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return s
}

func (s *sinks) close() {
	s.udp.Close()
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func rxPackets(b *testing.B, ns *netns.NS) uint64 {
	out := ns.MustIP(b, "-s", "-j", "link", "show", "eth0")
	var v []struct {
		Stats64 struct {
			Rx struct {
				Packets uint64 `json:"packets"`
			} `json:"rx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || len(v) == 0 {
		b.Fatalf("ip -s -j link: %v: %s", err, out)
	}
	return v[0].Stats64.Rx.Packets
}

// udpFlood sends from the client for d with 2 senders × 4 connected
// sockets (8 flows), batches of 64 via sendmmsg, and returns the packets
// per second sent and received on the backend's interface.
func udpFlood(b *testing.B, lab *dsrlab.Lab, d time.Duration) (sentPPS, rxPPS float64) {
	var fds []int
	err := lab.C.Do(func() error {
		for range 8 {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			fds = append(fds, fd)
			if err := unix.Connect(fd, &unix.SockaddrInet4{Port: 9000, Addr: dsrlab.VIP.As4()}); err != nil {
				return err
			}
		}
		return nil
	})
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	if err != nil {
		b.Fatal(err)
	}
	before := rxPackets(b, lab.B[0])
	var sent atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for g := range senders() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload := make([]byte, 18)
			const batch = 64
			iov := unix.Iovec{Base: &payload[0], Len: uint64(len(payload))}
			msgs := make([]unix.Mmsghdr, batch)
			for i := range msgs {
				msgs[i].Hdr.Iov, msgs[i].Hdr.Iovlen = &iov, 1
			}
			for i := 0; time.Now().Before(deadline); i++ {
				fd := fds[(g*4+i%4)%len(fds)]
				r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])), batch, 0, 0, 0)
				if errno == 0 {
					sent.Add(int64(r))
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	time.Sleep(100 * time.Millisecond) // let queues drain before counting
	got := rxPackets(b, lab.B[0]) - before
	return float64(sent.Load()) / elapsed.Seconds(), float64(got) / elapsed.Seconds()
}

// tcpBulk sends one TCP stream from the client for d and returns Gbit/s
// received by the backend.
func tcpBulk(b *testing.B, lab *dsrlab.Lab, s *sinks, d time.Duration) float64 {
	var c net.Conn
	err := lab.C.Do(func() (err error) {
		c, err = net.DialTimeout("tcp4", netip.AddrPortFrom(dsrlab.VIP, 5201).String(), 5*time.Second)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	// Reset rather than drain what is still queued: the next measurement
	// may change the path under it.
	defer func() { c.(*net.TCPConn).SetLinger(0); c.Close() }()
	buf := make([]byte, 256<<10)
	before := s.bytes.Load()
	start := time.Now()
	_ = c.SetWriteDeadline(start.Add(d))
	for {
		if _, err := c.Write(buf); err != nil {
			break
		}
	}
	elapsed := time.Since(start)
	got := s.bytes.Load() - before
	return float64(got) * 8 / elapsed.Seconds() / 1e9
}
