package dsr

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// These helpers change the host's network configuration in the network
// namespace of the calling OS thread (use runtime.LockOSThread if the
// program switches namespaces). They need CAP_NET_ADMIN and are
// idempotent: running one twice changes nothing the second time.

// BackendConfig configures a backend host for DSR.
type BackendConfig struct {
	// VIPs are added as /32 addresses on the loopback device, so the
	// backend accepts packets to them and answers from them. Required.
	VIPs []netip.Addr
	// Interfaces whose ARP sysctls are set besides "all" (the kernel uses
	// the maximum of "all" and the interface's value for arp_ignore and
	// arp_announce, and of rp_filter). Nil means every interface.
	Interfaces []string
}

// ConfigureBackend prepares a DSR backend (IPVS-DR "real server" rules):
//
//   - each VIP/32 on "lo": the backend owns the VIP, so its sockets
//     answer from it and replies go straight to the client;
//   - arp_ignore=1: answer ARP only for addresses of the receiving
//     interface, so the backend never claims the VIP on the segment (the
//     balancer, or the client's route, must receive it);
//   - arp_announce=2: never use the VIP as the source of ARP requests;
//   - rp_filter=0: packets arrive for the VIP on an interface (or a vxlan
//     device) that strict reverse-path filtering would reject.
func ConfigureBackend(cfg BackendConfig) error {
	if len(cfg.VIPs) == 0 {
		return ErrNoVIP
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		return fmt.Errorf("dsr: %w", err)
	}
	for _, v := range cfg.VIPs {
		if !v.Is4() {
			return fmt.Errorf("%w: VIP %v", ErrNotIPv4, v)
		}
	}
	for _, v := range cfg.VIPs {
		if err := addAddr(lo.Index, netip.PrefixFrom(v, 32)); err != nil {
			return err
		}
	}
	ifaces := cfg.Interfaces
	if ifaces == nil {
		all, err := net.Interfaces()
		if err != nil {
			return fmt.Errorf("dsr: %w", err)
		}
		for _, i := range all {
			ifaces = append(ifaces, i.Name)
		}
	}
	for _, i := range append([]string{"all", "default"}, ifaces...) {
		for _, kv := range [][2]string{{"arp_ignore", "1"}, {"arp_announce", "2"}, {"rp_filter", "0"}} {
			if err := Sysctl("net/ipv4/conf/"+i+"/"+kv[0], kv[1]); err != nil {
				return err
			}
		}
	}
	return nil
}

// VXLANConfig configures a backend's vxlan device for ModeVXLAN.
type VXLANConfig struct {
	// Name of the device; "" means "dsr-vxlan".
	Name string
	// VNI must match the balancer's Config.VNI; 0 means DefaultVNI.
	VNI uint32
	// Local is the backend's own address, the outer destination the
	// balancer sends to (Backend.Addr). Required.
	Local netip.Addr
	// Port is the UDP port; 0 means VXLANPort (4789).
	Port uint16
	// MAC of the device; nil means VXLANMAC(Local), which the balancer
	// assumes when Backend.MAC is nil.
	MAC net.HardwareAddr
}

// ConfigureVXLAN creates the backend's vxlan device (the kernel
// decapsulates; no agent runs), brings it up and turns rp_filter off on
// it. Call ConfigureBackend as well for the VIP and ARP sysctls. An
// existing device of the same name is left as it is.
func ConfigureVXLAN(cfg VXLANConfig) error {
	if !cfg.Local.Is4() {
		return fmt.Errorf("%w: local %v", ErrNotIPv4, cfg.Local)
	}
	name := cmpOr(cfg.Name, "dsr-vxlan")
	vni := cfg.VNI
	if vni == 0 {
		vni = DefaultVNI
	}
	port := cfg.Port
	if port == 0 {
		port = VXLANPort
	}
	mac := cfg.MAC
	if mac == nil {
		mac = VXLANMAC(cfg.Local)
	}
	if _, err := net.InterfaceByName(name); err != nil {
		if err := addVXLAN(name, vni, cfg.Local, port, 0, mac); err != nil {
			return err
		}
	}
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return fmt.Errorf("dsr: %w", err)
	}
	if err := setLinkUp(ifc.Index); err != nil {
		return err
	}
	return Sysctl("net/ipv4/conf/"+name+"/rp_filter", "0")
}

// PrepareBalancer sets the balancer host's sysctls: IPv4 forwarding on, so
// the kernel routes VIP packets into the forwarder's TUN device; and
// rp_filter off on "all" and ingress, so the clients' packets are not
// dropped by reverse-path filtering on unusual topologies.
func PrepareBalancer(ingress string) error {
	if err := Sysctl("net/ipv4/ip_forward", "1"); err != nil {
		return err
	}
	for _, i := range []string{"all", ingress} {
		if i == "" {
			continue
		}
		if err := Sysctl("net/ipv4/conf/"+i+"/rp_filter", "0"); err != nil {
			return err
		}
	}
	return nil
}

// Sysctl writes value to /proc/sys/<key> ("net/ipv4/ip_forward" or
// "net.ipv4.ip_forward"), in the calling thread's network namespace.
func Sysctl(key, value string) error {
	if strings.Contains(key, "..") {
		return errors.New("dsr: bad sysctl key " + strconv.Quote(key))
	}
	if !strings.Contains(key, "/") {
		key = strings.ReplaceAll(key, ".", "/")
	}
	path := filepath.Join("/proc/sys", key)
	if cur, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(cur)) == value {
		return nil
	}
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("dsr: sysctl %s=%s: %w", key, value, err)
	}
	return nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
