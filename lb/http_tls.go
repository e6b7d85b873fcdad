package lb

import "crypto/tls"

// tlsVersionName spells a TLS version as ALB's access log does.
func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLSv1"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return "-"
}

func tlsCipherName(c uint16) string { return tls.CipherSuiteName(c) }
