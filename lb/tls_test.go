package lb

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// testPKI is a CA and leaf certificates made at run time for the TLS tests.
type testPKI struct {
	ca    *x509.Certificate
	caKey *ecdsa.PrivateKey
	pool  *x509.CertPool
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "lbkit test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &testPKI{ca: ca, caKey: key, pool: pool}
}

// leaf issues a certificate for names (DNS names, or IPs).
func (p *testPKI) leaf(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func serveTLS(t testing.TB, p *TLSProxy) string {
	t.Helper()
	if p.Logger == nil {
		p.Logger = quietLog
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// tlsEcho dials addr with cfg, sends msg, half-closes and returns the
// reply and the connection state.
func tlsEcho(addr string, cfg *tls.Config, msg string) (string, tls.ConnectionState, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: cfg}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return "", tls.ConnectionState{}, err
	}
	defer c.Close()
	tc := c.(*tls.Conn)
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := tc.Write([]byte(msg)); err != nil {
		return "", tc.ConnectionState(), err
	}
	tc.CloseWrite()
	b, err := io.ReadAll(tc)
	return string(b), tc.ConnectionState(), err
}

func TestTLSProxySNIAndALPN(t *testing.T) {
	pki := newTestPKI(t)
	target := startL4Target(t, echoHandler)
	certA, certB := pki.leaf(t, "a.test"), pki.leaf(t, "b.test")
	for _, tc := range []struct {
		name       string
		policy     ALPNPolicy
		serverName string
		offer      []string
		wantCN     string
		wantProto  string
		wantErr    bool
	}{
		{"default cert, no ALPN", "", "unknown.test", []string{"h2", "http/1.1"}, "a.test", "", false},
		{"SNI picks b", ALPNNone, "b.test", nil, "b.test", "", false},
		{"HTTP2Preferred", ALPNHTTP2Preferred, "a.test", []string{"http/1.1", "h2"}, "a.test", "h2", false},
		{"HTTP2Optional", ALPNHTTP2Optional, "a.test", []string{"h2", "http/1.1"}, "a.test", "http/1.1", false},
		{"HTTP2Optional with an h2-only client", ALPNHTTP2Optional, "a.test", []string{"h2"}, "a.test", "h2", false},
		{"HTTP1Only", ALPNHTTP1Only, "b.test", []string{"h2", "http/1.1"}, "b.test", "http/1.1", false},
		{"HTTP2Only", ALPNHTTP2Only, "a.test", []string{"h2", "http/1.1"}, "a.test", "h2", false},
		{"HTTP2Only refuses HTTP/1 clients", ALPNHTTP2Only, "a.test", []string{"http/1.1"}, "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			m, _ := NewL4Metrics(reg)
			p := &TLSProxy{
				TCPProxy:     TCPProxy{Name: "tls", TargetGroup: newTestTG(t, TargetGroupConfig{}, target.addr), Metrics: m},
				Certificates: []tls.Certificate{certA, certB},
				ALPNPolicy:   tc.policy,
			}
			addr := serveTLS(t, p)
			got, st, err := tlsEcho(addr, &tls.Config{RootCAs: pki.pool, ServerName: tc.serverName, NextProtos: tc.offer, InsecureSkipVerify: tc.serverName == "unknown.test"}, "hello")
			if tc.wantErr {
				if err == nil {
					t.Fatal("handshake succeeded, want a failure")
				}
				waitFor(t, 5*time.Second, "the client TLS error to be counted", func() bool {
					return testutil.ToFloat64(m.tlsErrors.WithLabelValues("tls", "client")) == 1
				})
				return
			}
			if err != nil || got != "hello" {
				t.Fatalf("echo through TLS = %q, %v", got, err)
			}
			if cn := st.PeerCertificates[0].Subject.CommonName; cn != tc.wantCN {
				t.Errorf("served certificate %q, want %q", cn, tc.wantCN)
			}
			if st.NegotiatedProtocol != tc.wantProto {
				t.Errorf("ALPN = %q, want %q", st.NegotiatedProtocol, tc.wantProto)
			}
		})
	}
}

// TestTLSProxyReencrypt: TLS to the listener, TLS again to a TLS target
// that checks the protocol the client negotiated reached it.
func TestTLSProxyReencrypt(t *testing.T) {
	pki := newTestPKI(t)
	targetCert := pki.leaf(t, "127.0.0.1")
	sawALPN := make(chan string, 1)
	target := startL4Target(t, func(c *net.TCPConn) {
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{targetCert}, NextProtos: []string{"h2", "http/1.1"}})
		if err := tc.Handshake(); err != nil {
			return
		}
		sawALPN <- tc.ConnectionState().NegotiatedProtocol
		io.Copy(tc, tc)
		tc.CloseWrite()
	})
	p := &TLSProxy{
		TCPProxy:     TCPProxy{TargetGroup: newTestTG(t, TargetGroupConfig{}, target.addr)},
		Certificates: []tls.Certificate{pki.leaf(t, "lb.test")},
		ALPNPolicy:   ALPNHTTP2Preferred,
		TargetTLS:    &tls.Config{RootCAs: pki.pool},
	}
	addr := serveTLS(t, p)
	got, st, err := tlsEcho(addr, &tls.Config{RootCAs: pki.pool, ServerName: "lb.test", NextProtos: []string{"h2"}}, "secret")
	if err != nil || got != "secret" {
		t.Fatalf("re-encrypted echo = %q, %v", got, err)
	}
	if st.NegotiatedProtocol != "h2" || <-sawALPN != "h2" {
		t.Fatalf("ALPN client side %q; the target must see the same", st.NegotiatedProtocol)
	}
}

func TestTLSProxyConfigErrors(t *testing.T) {
	tg := newTestTG(t, TargetGroupConfig{})
	pki := newTestPKI(t)
	for _, tc := range []struct {
		name string
		p    *TLSProxy
	}{
		{"no target group", &TLSProxy{Certificates: []tls.Certificate{pki.leaf(t, "x")}}},
		{"no certificate", &TLSProxy{TCPProxy: TCPProxy{TargetGroup: tg}}},
		{"bad ALPN policy", &TLSProxy{TCPProxy: TCPProxy{TargetGroup: tg}, Certificates: []tls.Certificate{pki.leaf(t, "x")}, ALPNPolicy: "HTTP3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.p.Serve(context.Background(), ln); !errors.Is(err, ErrL4Config) {
				t.Fatalf("Serve = %v, want ErrL4Config", err)
			}
		})
	}
}
