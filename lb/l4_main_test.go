package lb

import (
	"net/netip"
	"strconv"
)

func mustAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func itoa(i int) string { return strconv.Itoa(i) }
