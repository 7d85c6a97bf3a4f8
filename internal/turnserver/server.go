// Package turnserver is the TURN relay classmeet can run itself (pion/turn),
// for parents whose networks let only TCP, or TLS on 443, out. It serves
// TURN on UDP and TCP on one port, and over TLS where a certificate is
// given; it accepts only the short-lived credentials minted per join, and
// relays to the SFU's media addresses and nowhere else.
package turnserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
)

// DefaultMaxAllocations is how many relays one participant may hold at
// once: two PeerConnections, three TURN URLs, a few local addresses, and
// the leftovers of a reconnect.
const DefaultMaxAllocations = 24

// Config says where the relay listens and what it relays to.
type Config struct {
	Listen    string // host:port for TURN over UDP and TCP (port 0: any free one, the same for both)
	TLSListen string // host:port for TURN over TLS; "" for none
	TLSCert   string // certificate file for TLSListen
	TLSKey    string // key file for TLSListen
	// PublicIP is the relay address handed to clients.
	PublicIP net.IP
	// RelayMinPort and RelayMaxPort bound the relay ports (inclusive).
	RelayMinPort, RelayMaxPort int
	Realm                      string
	// Secret checks credentials (see Credentials).
	Secret string
	// Peers are the only addresses relays exchange packets with: the SFU's
	// UDP media addresses (see SFUPeers).
	Peers []netip.AddrPort
	// MaxAllocations bounds the relays per participant (0: DefaultMaxAllocations).
	MaxAllocations int
	Now            func() time.Time
	Log            *slog.Logger
}

// Server is a running relay.
type Server struct {
	turn    *turn.Server
	secret  string
	realm   string
	now     func() time.Time
	log     *slog.Logger
	udp     net.Addr
	tcp     net.Addr
	tls     net.Addr
	refused atomic.Uint64
	made    sync.Map // network of the client's connection ("udp", "tcp") -> *atomic.Uint64 allocations made
}

// New starts the relay.
func New(cfg Config) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxAllocations == 0 {
		cfg.MaxAllocations = DefaultMaxAllocations
	}
	s := &Server{secret: cfg.Secret, realm: cfg.Realm, now: cfg.Now, log: cfg.Log}
	udp, tcp, err := listenBoth(cfg.Listen)
	if err != nil {
		return nil, err
	}
	s.udp, s.tcp = udp.LocalAddr(), tcp.Addr()
	listeners := []net.Listener{tcp}
	if cfg.TLSListen != "" {
		tl, err := listenTLS(cfg.TLSListen, cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			udp.Close()
			tcp.Close()
			return nil, err
		}
		s.tls = tl.Addr()
		listeners = append(listeners, tl)
	}
	s.turn, err = turn.NewServer(s.serverConfig(cfg, udp, listeners))
	if err != nil {
		udp.Close()
		for _, l := range listeners {
			l.Close()
		}
		return nil, fmt.Errorf("turnserver: start: %w", err)
	}
	return s, nil
}

func (s *Server) serverConfig(cfg Config, udp net.PacketConn, listeners []net.Listener) turn.ServerConfig {
	host, _, _ := net.SplitHostPort(s.udp.String())
	q := &quota{max: cfg.MaxAllocations, n: map[string]int{}}
	p := newPeers(cfg.Peers)
	gen := &relayGenerator{
		inner: &turn.RelayAddressGeneratorPortRange{
			RelayAddress: cfg.PublicIP, Address: host,
			MinPort: uint16(cfg.RelayMinPort), MaxPort: uint16(cfg.RelayMaxPort), MaxRetries: 30,
		},
		peers: p, quota: q, refused: &s.refused, min: cfg.RelayMinPort, max: cfg.RelayMaxPort,
	}
	permit := func(_ net.Addr, peer net.IP) bool {
		if !p.allowsIP(peer) {
			s.refused.Add(1)
			return false
		}
		return true
	}
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	sc := turn.ServerConfig{
		Realm: cfg.Realm, AuthHandler: s.authHandler, QuotaHandler: q.allow, LoggerFactory: quiet,
		EventHandler:      turn.EventHandler{OnAllocationCreated: s.allocationMade},
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: udp, RelayAddressGenerator: gen, PermissionHandler: permit}},
	}
	for _, l := range listeners {
		sc.ListenerConfigs = append(sc.ListenerConfigs, turn.ListenerConfig{Listener: l, RelayAddressGenerator: gen, PermissionHandler: permit})
	}
	return sc
}

// listenBoth opens the UDP and the TCP listener on one port; with port 0,
// on a free port both have.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range 20 {
		udp, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("turnserver: listen udp %s: %w", addr, err)
		}
		host, _, _ := net.SplitHostPort(addr)
		port := udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			return udp, tcp, nil
		}
		udp.Close()
		lastErr = err
		if _, p, _ := net.SplitHostPort(addr); p != "0" {
			break
		}
	}
	return nil, nil, fmt.Errorf("turnserver: listen tcp %s: %w", addr, lastErr)
}

func listenTLS(addr, certFile, keyFile string) (net.Listener, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("turnserver: TLS certificate: %w", err)
	}
	l, err := tls.Listen("tcp", addr, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return nil, fmt.Errorf("turnserver: listen tls %s: %w", addr, err)
	}
	return l, nil
}

// Close stops the relay and every allocation.
func (s *Server) Close() error {
	if err := s.turn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("turnserver: close: %w", err)
	}
	return nil
}

// UDPAddr and TCPAddr are where TURN is served (one port); TLSAddr is
// where TURN over TLS is, or nil.
func (s *Server) UDPAddr() net.Addr { return s.udp }
func (s *Server) TCPAddr() net.Addr { return s.tcp }
func (s *Server) TLSAddr() net.Addr { return s.tls }

// Refused counts packets and permissions refused because their peer was not the SFU.
func (s *Server) Refused() uint64 { return s.refused.Load() }

// allocationMade counts by the network of the server's end of the client's
// connection: pion's protocol argument always says UDP.
func (s *Server) allocationMade(_, dst net.Addr, _, _, _ string, _ net.Addr, _ int) {
	n, _ := s.made.LoadOrStore(dst.Network(), new(atomic.Uint64))
	n.(*atomic.Uint64).Add(1)
}

// AllocationsMade counts the relays made for clients that reached the
// server over this network ("udp" or "tcp", TLS included).
func (s *Server) AllocationsMade(transport string) uint64 {
	if n, ok := s.made.Load(transport); ok {
		return n.(*atomic.Uint64).Load()
	}
	return 0
}

// Allocations is how many relays are open.
func (s *Server) Allocations() int { return s.turn.AllocationCount() }

// URLs are the relay's TURN URLs for browsers, naming it by the realm
// (the public host, which a turns: certificate is for): UDP, TCP, and TLS
// when configured.
func (s *Server) URLs() []string {
	host := s.realm
	port := func(a net.Addr) string { _, p, _ := net.SplitHostPort(a.String()); return p }
	urls := []string{
		"turn:" + net.JoinHostPort(host, port(s.udp)) + "?transport=udp",
		"turn:" + net.JoinHostPort(host, port(s.tcp)) + "?transport=tcp",
	}
	if s.tls != nil {
		urls = append(urls, "turns:"+net.JoinHostPort(host, port(s.tls))+"?transport=tcp")
	}
	return urls
}

// SFUPeers are the addresses the SFU receives media at: its UDP address,
// on every local address when it listens on all of them, and on the
// public addresses it announces (1:1 NAT) at the same port.
func SFUPeers(udp net.Addr, publicIPs []string) ([]netip.AddrPort, error) {
	u, ok := udp.(*net.UDPAddr)
	if !ok {
		return nil, fmt.Errorf("turnserver: SFU address %v is not UDP", udp)
	}
	port := uint16(u.Port)
	var ips []netip.Addr
	if u.IP.IsUnspecified() || u.IP == nil {
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			return nil, fmt.Errorf("turnserver: local addresses: %w", err)
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok {
					ips = append(ips, ip.Unmap())
				}
			}
		}
	} else if ip, ok := netip.AddrFromSlice(u.IP); ok {
		ips = append(ips, ip.Unmap())
	}
	for _, p := range publicIPs {
		if ip, err := netip.ParseAddr(p); err == nil {
			ips = append(ips, ip.Unmap())
		}
	}
	out := make([]netip.AddrPort, 0, len(ips))
	for _, ip := range ips {
		out = append(out, netip.AddrPortFrom(ip, port))
	}
	return out, nil
}
