package turnserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"classmeet/internal/auth"
	"classmeet/internal/config"
	"classmeet/internal/testclock"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, valid around
// the test clock's date.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := testclock.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestWelcomeListsTheRelayOverTLS: with a certificate, the welcome lists
// the relay on UDP, TCP and TLS, then the configured servers; the
// credentials it carries make an allocation over TLS, and the configured
// TURN server gets credentials from the shared secret.
func TestWelcomeListsTheRelayOverTLS(t *testing.T) {
	sfu := listen(t, "127.0.0.1:0")
	certFile, keyFile, pool := selfSigned(t)
	s, err := New(Config{
		Listen: "127.0.0.1:0", TLSListen: "127.0.0.1:0", TLSCert: certFile, TLSKey: keyFile,
		PublicIP: net.IPv4(127, 0, 0, 1), RelayMinPort: 42000, RelayMaxPort: 42999, Realm: "127.0.0.1",
		Secret: testSecret, Peers: []netip.AddrPort{sfu.addr().AddrPort()}, Now: testclock.Now, Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rtc := config.RTC{ICEServers: []string{"turn:turn.school.example:3478"}, TURNSecret: testSecret}
	servers := ICEServers(rtc, s, testclock.Now)("p1")
	if len(servers) != 2 {
		t.Fatalf("ice servers %+v, want the relay and the configured one", servers)
	}
	relay, ext := servers[0], servers[1]
	port := func(a net.Addr) string { _, p, _ := net.SplitHostPort(a.String()); return p }
	want := []string{
		"turn:127.0.0.1:" + port(s.UDPAddr()) + "?transport=udp", "turn:127.0.0.1:" + port(s.TCPAddr()) + "?transport=tcp",
		"turns:127.0.0.1:" + port(s.TLSAddr()) + "?transport=tcp",
	}
	if !slices.Equal(relay.URLs, want) {
		t.Errorf("relay URLs %v, want %v", relay.URLs, want)
	}
	if ext.URLs[0] != "turn:turn.school.example:3478" || ext.Credential != auth.TURNPassword(testSecret, ext.Username) {
		t.Errorf("configured server %+v", ext)
	}

	conn, err := tls.Dial("tcp", s.TLSAddr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", Time: testclock.Now})
	if err != nil {
		t.Fatal(err)
	}
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: s.TLSAddr().String(), TURNServerAddr: s.TLSAddr().String(),
		Username: relay.Username, Password: relay.Credential, Realm: "127.0.0.1", Conn: turn.NewSTUNConn(conn),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	rc, err := c.Allocate()
	if err != nil {
		t.Fatalf("allocation over TLS with the welcome's credentials: %v", err)
	}
	defer rc.Close()
	if _, err := rc.WriteTo([]byte("media"), sfu.addr()); err != nil {
		t.Fatal(err)
	}
	testclock.WaitFor(t, "the SFU to get a packet relayed from TLS", 60*time.Second, func() bool { return sfu.got.Load() == 1 })
}

func TestNoRelayNoServers(t *testing.T) {
	if got := ICEServers(config.RTC{}, nil, testclock.Now)("p1"); got != nil {
		t.Errorf("ice servers %+v with nothing configured", got)
	}
}
