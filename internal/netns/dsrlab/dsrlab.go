// Package dsrlab builds the DSR namespace topology of
// shared/research/proxyproto-dsr.md §6 for the DSR example and benchmarks:
//
//	c 10.0.0.1 ──┐
//	lb 10.0.0.2 ─┤ br0 (namespace sw)   c routes the VIP via lb
//	b1..bN .11…  ┘                      backends hold the VIP on lo
//
// The forwarder itself is left to the caller (create it inside Lab.LB.Do).
// Everything lives in namespaces it creates; Close deletes them.
package dsrlab

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/lbkit/lbkit/internal/netns"
	"github.com/lbkit/lbkit/lb/dsr"
)

// VIP is the lab's virtual IP.
var VIP = netip.MustParseAddr("10.0.0.100")

// Client and Balancer are the client's and the balancer's addresses.
var (
	Client   = netip.MustParseAddr("10.0.0.1")
	Balancer = netip.MustParseAddr("10.0.0.2")
)

// Lab is a built topology.
type Lab struct {
	SW, C, LB *netns.NS
	B         []*netns.NS  // backends b1…bN
	Addrs     []netip.Addr // their addresses, 10.0.0.11…
	all       []*netns.NS
}

// Build creates the topology with n backends configured for mode (VIP on
// lo, ARP sysctls, and a vxlan device in ModeVXLAN) and the balancer's
// sysctls (forwarding on, no ICMP redirects). On error it cleans up.
func Build(n int, mode dsr.Mode) (_ *Lab, err error) {
	l := &Lab{}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	mk := func(label string) (*netns.NS, error) {
		ns, err := netns.Create(label)
		if err == nil {
			l.all = append(l.all, ns)
		}
		return ns, err
	}
	if l.SW, err = mk("sw"); err != nil {
		return nil, err
	}
	if l.C, err = mk("c"); err != nil {
		return nil, err
	}
	if l.LB, err = mk("lb"); err != nil {
		return nil, err
	}
	steps := [][]string{{"link", "add", "br0", "type", "bridge"}, {"link", "set", "br0", "up"}}
	for _, s := range steps {
		if _, err := l.SW.IP(s...); err != nil {
			return nil, err
		}
	}
	if err := netns.Connect(l.C, "eth0", l.SW, "p-c"); err != nil {
		return nil, err
	}
	if err := netns.Connect(l.LB, "eth0", l.SW, "p-lb"); err != nil {
		return nil, err
	}
	cmds := []struct {
		ns   *netns.NS
		args []string
	}{
		{l.C, []string{"addr", "add", Client.String() + "/24", "dev", "eth0"}},
		{l.LB, []string{"addr", "add", Balancer.String() + "/24", "dev", "eth0"}},
		{l.C, []string{"route", "add", VIP.String() + "/32", "via", Balancer.String()}},
	}
	for _, c := range cmds {
		if _, err := c.ns.IP(c.args...); err != nil {
			return nil, err
		}
	}
	_, _ = l.SW.Exec("bridge", "link", "set", "dev", "p-lb", "flood", "off")
	for i := range n {
		b, err := mk(fmt.Sprintf("b%d", i+1))
		if err != nil {
			return nil, err
		}
		if err := netns.Connect(b, "eth0", l.SW, fmt.Sprintf("p-b%d", i+1)); err != nil {
			return nil, err
		}
		addr := netip.AddrFrom4([4]byte{10, 0, 0, byte(11 + i)})
		if _, err := b.IP("addr", "add", addr.String()+"/24", "dev", "eth0"); err != nil {
			return nil, err
		}
		err = b.Do(func() error {
			if err := dsr.ConfigureBackend(dsr.BackendConfig{VIPs: []netip.Addr{VIP}}); err != nil {
				return err
			}
			if mode == dsr.ModeVXLAN {
				return dsr.ConfigureVXLAN(dsr.VXLANConfig{Local: addr})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		l.B, l.Addrs = append(l.B, b), append(l.Addrs, addr)
	}
	err = l.LB.Do(func() error {
		if err := dsr.PrepareBalancer("eth0"); err != nil {
			return err
		}
		for _, i := range []string{"all", "eth0"} {
			if err := dsr.Sysctl("net/ipv4/conf/"+i+"/send_redirects", "0"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Close deletes every namespace of the lab.
func (l *Lab) Close() error {
	var errs []error
	for _, ns := range l.all {
		errs = append(errs, ns.Delete())
	}
	l.all = nil
	return errors.Join(errs...)
}
