package lb

import (
	"errors"
	"net"
)

// writeProxyV2 writes a PROXY protocol v2 PROXY header for flow on c.
func writeProxyV2(c net.Conn, flow L4Flow) error {
	return errors.New("lb: PROXY protocol v2 not wired yet")
}
