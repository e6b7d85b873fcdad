// Command dsr runs a direct-server-return load balancer on this machine,
// in network namespaces it creates (root needed), and shows what DSR means:
// the client talks to the VIP, each reply comes from the VIP straight from
// a backend, and the backend sees the client's real address.
//
//	sudo go run ./examples/dsr              # L2 mode, 9 requests, then clean up
//	sudo go run ./examples/dsr -mode vxlan  # backends decapsulate VXLAN
//	sudo go run ./examples/dsr -serve       # keep running; Ctrl-C cleans up
//
// Topology (internal/netns/dsrlab): client c 10.0.0.1, balancer lb
// 10.0.0.2, backends b1–b3 10.0.0.11–13 on one bridge; the client routes
// the VIP 10.0.0.100 via the balancer, which routes it into its TUN.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/lbkit/lbkit/internal/netns/dsrlab"
	"github.com/lbkit/lbkit/lb/dsr"
)

func main() {
	mode := flag.String("mode", "l2", "encapsulation: l2 or vxlan")
	requests := flag.Int("requests", 9, "requests to send, each on a new connection")
	serve := flag.Bool("serve", false, "keep running after the requests, until interrupted")
	flag.Parse()
	if err := run(*mode, *requests, *serve); err != nil {
		log.Fatal(err)
	}
}

func run(modeName string, requests int, serve bool) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root: it creates network namespaces, a TUN device and raw sockets")
	}
	mode := dsr.ModeL2
	switch modeName {
	case "l2":
	case "vxlan":
		mode = dsr.ModeVXLAN
	default:
		return fmt.Errorf("unknown -mode %q", modeName)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	lab, err := dsrlab.Build(3, mode)
	if err != nil {
		return err
	}
	defer lab.Close()
	fmt.Printf("topology: client %v, balancer %v, backends %v, VIP %v (%s mode)\n", dsrlab.Client, dsrlab.Balancer, lab.Addrs, dsrlab.VIP, mode)

	// The forwarder's TUN and sockets are created in the balancer's namespace.
	var fw *dsr.Forwarder
	err = lab.LB.Do(func() (err error) {
		fw, err = dsr.NewForwarder(dsr.ForwarderConfig{
			Config:    dsr.Config{VIPs: []netip.Addr{dsrlab.VIP}, Mode: mode},
			Interface: "eth0",
			Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
		return err
	})
	if err != nil {
		return err
	}
	defer fw.Close()
	runDone := make(chan error, 1)
	fwCtx, cancelFw := context.WithCancel(ctx)
	go func() { runDone <- fw.Run(fwCtx) }()
	defer func() { cancelFw(); <-runDone }()

	var backends []dsr.Backend
	for _, a := range lab.Addrs {
		backends = append(backends, dsr.Backend{Addr: a, Weight: 1})
	}
	if err := fw.SetBackends(ctx, backends); err != nil {
		return err
	}

	// Each backend serves HTTP on the VIP, which it holds on lo.
	for i, b := range lab.B {
		name := fmt.Sprintf("b%d", i+1)
		var ln net.Listener
		if err := b.Do(func() (err error) { ln, err = net.Listen("tcp4", dsrlab.VIP.String()+":80"); return }); err != nil {
			return err
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %s\n", name, r.RemoteAddr)
		}), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
	}

	// The client dials from its namespace, a new connection per request.
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (c net.Conn, err error) {
			err = lab.C.Do(func() error { c, err = dialer.DialContext(ctx, network, addr); return err })
			return c, err
		},
	}}
	for range requests {
		var peer string
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { peer = i.Conn.RemoteAddr().String() }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), "GET", "http://"+dsrlab.VIP.String()+"/", nil)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		f := strings.Fields(string(body))
		if len(f) != 2 {
			return fmt.Errorf("unexpected reply %q", body)
		}
		fmt.Printf("GET http://%v/  peer %s  answered by %s, which saw the client as %s\n", dsrlab.VIP, peer, f[0], f[1])
		if want := dsrlab.VIP.String() + ":80"; peer != want {
			return fmt.Errorf("the reply came from %s, not the VIP %s", peer, want)
		}
		if !strings.HasPrefix(f[1], dsrlab.Client.String()+":") {
			return fmt.Errorf("the backend saw %s, not the client %v", f[1], dsrlab.Client)
		}
	}
	s := fw.Stats()
	fmt.Printf("forwarder: %d packets in, %d frames out, %d flows; per backend:", s.Received, s.Sent, s.FlowsCreated)
	for _, b := range s.Backends {
		fmt.Printf(" %v=%d", b.Addr, b.Packets)
	}
	fmt.Println("\nreplies never crossed the balancer: it only forwards what clients send to the VIP.")
	if serve {
		fmt.Printf("serving; from another shell: ip netns exec %s curl http://%v/   (Ctrl-C to stop)\n", lab.C.Name, dsrlab.VIP)
		<-ctx.Done()
	}
	return nil
}
