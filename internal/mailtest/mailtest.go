// Package mailtest runs a real SMTP server on loopback for tests: STARTTLS
// with a certificate made for the test, every message it accepted, and a
// way to take it down and bring it back on the same port.
package mailtest

import (
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
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"classmeet/internal/config"
)

// From is the sender address Config gives.
const From = "evenings@school.example"

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte // as received: headers and MIME body
	TLS  bool   // whether it came over an encrypted connection
	User string // who signed in with SMTP AUTH, if anyone
}

// Server is an SMTP server on loopback.
type Server struct {
	t     testing.TB
	addr  string
	tls   *tls.Config // the server's; nil when it offers no STARTTLS
	roots *x509.CertPool

	user, pass string // required credentials, if any
	implicit   bool   // TLS from the first byte (port 465 style)

	mu     sync.Mutex
	srv    *smtp.Server
	ln     net.Listener
	msgs   []Message
	refuse map[string]bool
}

// Option changes a Server.
type Option func(*Server)

// WithoutTLS makes the server offer no STARTTLS.
func WithoutTLS() Option { return func(s *Server) { s.tls = nil } }

// WithAuth makes the server require SMTP AUTH PLAIN (over TLS) with these
// credentials.
func WithAuth(user, pass string) Option { return func(s *Server) { s.user, s.pass = user, pass } }

// WithImplicitTLS makes the server speak TLS from the first byte, as on
// port 465, instead of offering STARTTLS.
func WithImplicitTLS() Option { return func(s *Server) { s.implicit = true } }

// Start starts a server offering STARTTLS, stopped when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, refuse: map[string]bool{}}
	s.tls, s.roots = selfSigned(t)
	for _, o := range opts {
		o(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

// Config is classmeet's SMTP configuration for this server, with the
// default (mandatory STARTTLS) policy, or implicit TLS if the server
// speaks it.
func (s *Server) Config() config.SMTP {
	_, port, _ := net.SplitHostPort(s.addr)
	p, _ := strconv.Atoi(port)
	c := config.SMTP{Host: "127.0.0.1", Port: p, From: From, FromName: "Parents' evenings", TLS: config.SMTPStartTLS}
	if s.implicit {
		c.TLS = config.SMTPImplicitTLS
	}
	return c
}

// ClientTLS is a client TLS configuration trusting the server's certificate.
func (s *Server) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: s.roots, MinVersion: tls.VersionTLS12}
}

// Messages is every message accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Refuse makes the server refuse mail to addr for good (550).
func (s *Server) Refuse(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse[addr] = true
}

// Accept makes the server take mail to addr again.
func (s *Server) Accept(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.refuse, addr)
}

// Stop takes the server down: connections are refused until Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv != nil {
		// The listener is closed here too: Serve may not have taken it yet.
		_ = ln.Close()
		_ = srv.Close()
	}
}

// Restart brings a stopped server back on the same port.
func (s *Server) Restart() {
	s.t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("mailtest: listen again on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

func (s *Server) serve(ln net.Listener) {
	if s.implicit {
		ln = tls.NewListener(ln, s.tls)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, encrypted := c.TLSConnectionState()
		ss := &session{s: s, tls: encrypted}
		if s.user != "" {
			return &authSession{ss}, nil
		}
		return ss, nil
	}))
	srv.Domain = "mail.test"
	if !s.implicit {
		srv.TLSConfig = s.tls
	}
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	srv.ErrorLog = discard{}
	s.mu.Lock()
	s.srv, s.ln = srv, ln
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.t.Logf("mailtest: serve: %v", err)
		}
	}()
}

type session struct {
	s    *Server
	tls  bool
	user string
	msg  Message
}

func (ss *session) Reset()        { ss.msg = Message{TLS: ss.tls, User: ss.user} }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.user != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.msg = Message{From: from, TLS: ss.tls, User: ss.user}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	refused := ss.s.refuse[to]
	ss.s.mu.Unlock()
	if refused {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.msg.Data = b
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, ss.msg)
	ss.s.mu.Unlock()
	return nil
}

// authSession is a session that offers AUTH PLAIN.
type authSession struct{ *session }

func (as *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (as *authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != as.s.user || pass != as.s.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "wrong credentials"}
		}
		as.user = user
		return nil
	}), nil
}

type discard struct{}

func (discard) Printf(string, ...any) {}
func (discard) Println(...any)        {}

// selfSigned makes a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// Valid from long before to long after any CLASSMEET_TEST_NOW: the
	// certificate is checked against the real clock.
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailtest"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool
}
