package dsr

import (
	"net"
	"net/netip"
)

// VXLANMAC is the MAC that [ConfigureVXLAN] gives a backend's vxlan device
// by default, derived from the backend's address: 02:44 (locally
// administered, unicast) followed by the four address bytes. Deriving it
// lets the balancer address a backend's vxlan device with no agent and no
// MAC configuration; a [Forwarder] in ModeVXLAN uses it for backends whose
// MAC is nil.
func VXLANMAC(backend netip.Addr) net.HardwareAddr {
	a := backend.As4()
	return net.HardwareAddr{0x02, 0x44, a[0], a[1], a[2], a[3]}
}
