package sfu

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/prf"
	"github.com/pion/dtls/v3/pkg/protocol/extension"
	"github.com/pion/dtls/v3/pkg/protocol/handshake"
	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// wire is how a subscriber's media leaves the server: each packet is
// encrypted here, with the SRTP keys of the subscriber's own DTLS
// handshake, and queued on the SFU's batched UDP socket (or written to the
// link's ICE-TCP connection). That is one encryption and one copy per
// packet, past pion's write layers (the track writer, the SRTP session and
// its lock, the mux endpoint, the ICE connection and candidate pair, the
// UDP mux's address check), which cost as much as the encryption itself on
// the forwarding path (docs/performance.md).
//
// pion does not give a PeerConnection's SRTP keys away, so the wire takes
// what it needs to derive them, as pion does, from the handshake itself
// (keyCapture): the master secret, as pion writes it to a key log, and the
// two randoms. Nothing of it leaves the process. Until the handshake is
// done, and for good if its keys cannot be derived (the server was not
// the DTLS server, or the cipher suite is unknown), packets go through
// pion's path instead: every packet of one link takes the same path, so
// the two never share an SSRC's rollover counter.
type wire struct {
	keys  keyCapture
	batch *batchConn
	tcp   ice.TCPMux

	mu      sync.Mutex
	started bool
	ctx     *srtp.Context // nil: pion's path
	udp     netip.AddrPort
	tcpConn net.PacketConn // the ICE-TCP connection, while the link runs over TCP
	tcpTo   net.Addr
	buf     []byte
	scratch rtp.Header // EncryptRTP's parse of the header: no allocation
}

func newWire(batch *batchConn, tcp ice.TCPMux) *wire {
	return &wire{batch: batch, tcp: tcp, buf: make([]byte, mtu+64), scratch: rtp.Header{Extensions: make([]rtp.Extension, 0, 4)}}
}

// settings gives the subscriber PeerConnection's setting engine what the
// wire needs to see of its handshake.
func (w *wire) settings(se *webrtc.SettingEngine) {
	se.SetDTLSKeyLogWriter(&w.keys)
	se.SetDTLSServerHelloMessageHook(w.keys.serverHello)
}

// connect is told the link's selected candidate pair each time the
// subscriber connects or its pair changes; localUfrag is the link's ICE
// username fragment (which names its ICE-TCP connection).
func (w *wire) connect(pair *webrtc.ICECandidatePair, localUfrag string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.started {
		w.started = true
		if key, salt, profile, ok := w.keys.srtpKeys(); ok {
			if ctx, err := srtp.CreateContext(key, salt, profile); err == nil {
				w.ctx = ctx
			}
		}
	}
	w.setRoute(pair, localUfrag)
}

// setRoute points the wire at the pair's remote end; the caller holds w.mu.
func (w *wire) setRoute(pair *webrtc.ICECandidatePair, localUfrag string) {
	w.udp = netip.AddrPort{}
	if w.tcpConn != nil {
		_ = w.tcpConn.Close() // our reference to it; pion holds its own
		w.tcpConn, w.tcpTo = nil, nil
	}
	if w.ctx == nil || pair == nil || pair.Local == nil || pair.Remote == nil {
		return
	}
	remote, err := netip.ParseAddr(pair.Remote.Address)
	if err != nil {
		return
	}
	to := netip.AddrPortFrom(remote.Unmap(), pair.Remote.Port)
	switch pair.Local.Protocol {
	case webrtc.ICEProtocolUDP:
		w.udp = to
	case webrtc.ICEProtocolTCP:
		local, err := netip.ParseAddr(pair.Local.Address)
		if err != nil || w.tcp == nil {
			return
		}
		// The connection the ICE agent took for this ufrag and address:
		// GetConnByUfrag hands out a counted reference to it.
		conn, err := w.tcp.GetConnByUfrag(localUfrag, local.Is6(), net.IP(local.AsSlice()))
		if err != nil {
			return
		}
		w.tcpConn, w.tcpTo = conn, net.TCPAddrFromAddrPort(to)
	}
}

// own is whether the link's packets are encrypted here.
func (w *wire) own() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ctx != nil
}

// close lets go of the ICE-TCP connection, if the wire holds one.
func (w *wire) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tcpConn != nil {
		_ = w.tcpConn.Close()
		w.tcpConn, w.tcpTo = nil, nil
	}
}

// errNoRoute: the link has keys but no pair to send on (not connected).
var errNoRoute = errors.New("sfu: the subscriber's link has no route")

// writeRTP sends one packet on the wire; ok is false if the link's packets
// go through pion's path (written then by the caller).
func (w *wire) writeRTP(h *rtp.Header, payload []byte) (n int, ok bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctx == nil {
		return 0, false, nil
	}
	hn, err := h.MarshalTo(w.buf)
	if err != nil {
		return 0, true, err
	}
	if hn+len(payload) > mtu {
		return 0, true, errPacketTooLarge
	}
	size := hn + copy(w.buf[hn:], payload)
	// In place: the buffer has room for the tag.
	out, err := w.ctx.EncryptRTP(w.buf, w.buf[:size], &w.scratch)
	if err != nil {
		return 0, true, err
	}
	switch {
	case w.udp.IsValid():
		n, err = w.batch.WriteToAddrPort(out, w.udp)
	case w.tcpConn != nil:
		n, err = w.tcpConn.WriteTo(out, w.tcpTo)
	default:
		err = errNoRoute
	}
	return n, true, err
}

var errPacketTooLarge = errors.New("sfu: packet larger than the MTU")

// keyCapture collects, from one DTLS handshake in which the server is the
// DTLS server, what RFC 5705's exporter needs to derive the SRTP keys
// (RFC 5764): the master secret and the client's random (pion's key log
// line) and the server's random, cipher suite and SRTP profile (its
// ServerHello).
type keyCapture struct {
	mu           sync.Mutex
	clientRandom []byte
	masterSecret []byte
	serverRandom []byte
	suite        uint16
	profile      srtp.ProtectionProfile
}

// Write takes the key log: "CLIENT_RANDOM <client random> <master secret>".
func (k *keyCapture) Write(p []byte) (int, error) {
	sc := bufio.NewScanner(bytes.NewReader(p))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != "CLIENT_RANDOM" {
			continue
		}
		cr, err1 := hex.DecodeString(f[1])
		ms, err2 := hex.DecodeString(f[2])
		if err1 != nil || err2 != nil || len(cr) != handshake.RandomLength {
			continue
		}
		k.mu.Lock()
		k.clientRandom, k.masterSecret = cr, ms
		k.mu.Unlock()
	}
	return len(p), nil
}

// serverHello notes the ServerHello the server sends, unchanged.
func (k *keyCapture) serverHello(m handshake.MessageServerHello) handshake.Message {
	k.mu.Lock()
	defer k.mu.Unlock()
	r := m.Random.MarshalFixed()
	k.serverRandom = r[:]
	k.suite, k.profile = 0, 0
	if m.CipherSuiteID != nil {
		k.suite = *m.CipherSuiteID
	}
	for _, e := range m.Extensions {
		if u, ok := e.(*extension.UseSRTP); ok && len(u.ProtectionProfiles) == 1 {
			k.profile = srtp.ProtectionProfile(u.ProtectionProfiles[0])
		}
	}
	return &m
}

// srtpKeys derives the server's SRTP master key and salt; false if the
// handshake did not give all that needs (the server was the DTLS client,
// say) or used a cipher suite whose PRF is unknown here.
func (k *keyCapture) srtpKeys() (key, salt []byte, profile srtp.ProtectionProfile, ok bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.masterSecret == nil || k.serverRandom == nil || k.profile == 0 {
		return nil, nil, 0, false
	}
	h, ok := prfHash(k.suite)
	if !ok {
		return nil, nil, 0, false
	}
	keyLen, err1 := k.profile.KeyLen()
	saltLen, err2 := k.profile.SaltLen()
	if err1 != nil || err2 != nil {
		return nil, nil, 0, false
	}
	seed := append(append([]byte("EXTRACTOR-dtls_srtp"), k.clientRandom...), k.serverRandom...)
	m, err := prf.PHash(k.masterSecret, seed, 2*(keyLen+saltLen), h)
	if err != nil {
		return nil, nil, 0, false
	}
	// client key, server key, client salt, server salt: the server's.
	key = m[keyLen : 2*keyLen]
	salt = m[2*keyLen+saltLen:]
	return key, salt, k.profile, true
}

// prfHash is the TLS 1.2 PRF's hash for a cipher suite pion offers:
// SHA-384 for the suites named so, SHA-256 for the others.
func prfHash(suite uint16) (func() hash.Hash, bool) {
	name := dtls.CipherSuiteName(dtls.CipherSuiteID(suite))
	if !strings.HasPrefix(name, "TLS_") {
		return nil, false
	}
	if strings.HasSuffix(name, "_SHA384") {
		return sha512.New384, true
	}
	return sha256.New, true
}
