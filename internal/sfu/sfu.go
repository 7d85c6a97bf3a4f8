// Package sfu forwards media between the participants of a meeting: each
// publisher's tracks are read once and fanned out to every subscriber through
// its own down track, on pion/webrtc.
package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/transport/v4/stdnet"
	"github.com/pion/webrtc/v4"
)

// Config is how the SFU meets the network.
type Config struct {
	// BindIP is the address ICE listens on; empty means every interface.
	BindIP string
	// UDPPort and TCPPort carry all media (0: any free port).
	UDPPort, TCPPort int
	// PublicIPs replace the host candidates' addresses (1:1 NAT).
	PublicIPs []string
	Log       *slog.Logger
}

// SFU owns the sockets and the pion API every PeerConnection is made with.
type SFU struct {
	// The PeerConnections clients receive on are made with subME and se
	// (see newSubscribePC), those they publish on with pubME, pubIR and se
	// (see newPublishPC).
	subME *webrtc.MediaEngine
	pubME *webrtc.MediaEngine
	pubIR *interceptor.Registry
	se    webrtc.SettingEngine
	log   *slog.Logger
	udp   net.PacketConn
	tcp   net.Listener
	mux   []interface{ Close() error }

	counters *Counters
	reports  *reporter
	batch    *batchConn // the UDP socket, batching each fan-out's writes
	tcpMux   *tcpMuxRecorder
}

// tcpWriteBuffer bounds what waits to go out on one ICE-TCP link: about
// half a second of a 10-person meeting's video.
const tcpWriteBuffer = 1 << 20

// New opens the ICE sockets and prepares the pion API.
func New(cfg Config) (*SFU, error) {
	s := &SFU{log: cfg.Log, counters: &Counters{}}
	bind := net.ParseIP(cfg.BindIP)
	if cfg.BindIP != "" && bind == nil {
		return nil, fmt.Errorf("sfu: bind address %q is not an IP address", cfg.BindIP)
	}
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: bind, Port: cfg.UDPPort})
	if err != nil {
		return nil, fmt.Errorf("sfu: listen UDP %s: %w", net.JoinHostPort(cfg.BindIP, strconv.Itoa(cfg.UDPPort)), err)
	}
	tcp, err := net.ListenTCP("tcp", &net.TCPAddr{IP: bind, Port: cfg.TCPPort})
	if err != nil {
		udp.Close()
		return nil, fmt.Errorf("sfu: listen TCP %s: %w", net.JoinHostPort(cfg.BindIP, strconv.Itoa(cfg.TCPPort)), err)
	}
	growBuffers(udp)
	s.udp, s.tcp = udp, tcp
	logs := pionLogs{log: cfg.Log}
	s.batch = newBatchConn(udp)
	// The machine's interfaces and addresses are read once, here, for the
	// UDP mux and every ICE agent: an agent read them again for itself, in
	// a netlink dump per interface on each join, and kept the copy.
	// Candidates are on the addresses the server had when it started.
	ifaces, err := stdnet.NewNet()
	if err != nil {
		udp.Close()
		tcp.Close()
		return nil, fmt.Errorf("sfu: read the network interfaces: %w", err)
	}
	udpMux := ice.NewUDPMuxDefault(ice.UDPMuxParams{Logger: logs.NewLogger("udpmux"), UDPConn: s.batch, Net: ifaces})
	// A write to a TCP link goes into a bounded buffer that its own goroutine
	// drains, and fails when that is full: a client that stops reading must
	// not block a writer holding a down track's lock (which the sender
	// reports of everyone, and its own leaving, then wait for). Packets
	// read wait for the ICE agent in a queue of 8: every participant's
	// agent has one per address it announces (all the machine's, when the
	// server listens on every one), used or not, and a full one only makes
	// the TCP reader wait (nothing is lost).
	tcpMux := &tcpMuxRecorder{TCPMuxDefault: ice.NewTCPMuxDefault(ice.TCPMuxParams{
		Listener: tcp, Logger: logs.NewLogger("tcpmux"), ReadBufferSize: 8, WriteBufferSize: tcpWriteBuffer,
	})}
	s.mux, s.tcpMux = []interface{ Close() error }{udpMux, tcpMux}, tcpMux

	se := webrtc.SettingEngine{LoggerFactory: logs}
	se.SetNet(ifaces)
	se.SetLite(true) // the server answers connectivity checks; browsers make them
	se.SetICEUDPMux(udpMux)
	se.SetICETCPMux(tcpMux)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6})
	se.SetIncludeLoopbackCandidate(bind != nil && bind.IsLoopback())
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AEAD_AES_256_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if len(cfg.PublicIPs) > 0 {
		se.SetNAT1To1IPs(cfg.PublicIPs, webrtc.ICECandidateTypeHost)
	}

	pubME, subME := &webrtc.MediaEngine{}, &webrtc.MediaEngine{}
	if err := errors.Join(registerCodecs(pubME), registerCodecs(subME)); err != nil {
		s.Close()
		return nil, err
	}
	// Subscribers number what they are sent for their TWCC feedback, from
	// which each one's bandwidth is estimated (see link).
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if err := subME.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: transportCCURI}, kind); err != nil {
			s.Close()
			return nil, err
		}
	}
	ir := &interceptor.Registry{}
	if err := registerInterceptors(pubME, ir); err != nil {
		s.Close()
		return nil, err
	}
	s.pubME, s.subME, s.pubIR, s.se = pubME, subME, ir, se
	s.reports = newReporter()
	return s, nil
}

// newWire makes a subscriber's wire (see wire).
func (s *SFU) newWire(l *link, log *slog.Logger) *wire {
	return newWire(s.batch, s.tcpMux, l, s.counters, log)
}

// newSubscribePC makes a PeerConnection for a client to receive on: no
// interceptor on the packet path (down tracks answer NACKs and send
// reports themselves), and its handshake seen by its wire.
func (s *SFU) newSubscribePC(w *wire) (*webrtc.PeerConnection, error) {
	se := s.se
	w.settings(&se)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(s.subME), webrtc.WithInterceptorRegistry(&interceptor.Registry{}), webrtc.WithSettingEngine(se))
	return api.NewPeerConnection(webrtc.Configuration{})
}

// newPublishPC makes a PeerConnection for a client to publish on, with the
// shared interceptors and, before them (so it sees the receiver reports
// they write), the peer's own lossFeedback.
func (s *SFU) newPublishPC(fb *lossFeedback) (*webrtc.PeerConnection, error) {
	ir := &interceptor.Registry{}
	ir.Add(fb)
	ir.Add(chainFactory{s.pubIR})
	api := webrtc.NewAPI(webrtc.WithMediaEngine(s.pubME), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(s.se))
	return api.NewPeerConnection(webrtc.Configuration{})
}

// UDPAddr and TCPAddr are where media arrives (for logs and tests).
func (s *SFU) UDPAddr() net.Addr { return s.udp.LocalAddr() }
func (s *SFU) TCPAddr() net.Addr { return s.tcp.Addr() }

// Close closes the sockets. Rooms must be closed first.
func (s *SFU) Close() error {
	if s.reports != nil {
		s.reports.close()
	}
	var errs []error
	for _, m := range s.mux {
		errs = append(errs, m.Close())
	}
	if s.udp != nil {
		_ = s.udp.Close()
	}
	if s.tcp != nil {
		_ = s.tcp.Close()
	}
	return errors.Join(errs...)
}
