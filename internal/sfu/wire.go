package sfu

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
// link's ICE-TCP connection). With AEAD-AES-GCM (the profile offered
// first, and browsers' choice) a packet is sealed straight into the
// batch's slot: one encryption and no copy, past pion's write layers (the
// track writer, the SRTP session and its lock, the mux endpoint, the ICE
// connection and candidate pair, the UDP mux's address check), which cost
// as much as the encryption itself on the forwarding path
// (docs/performance.md). The wire also reads the subscriber's TWCC
// feedback off the socket (feedback).
//
// pion does not give a PeerConnection's SRTP keys away, so the wire takes
// what it needs to derive them, as pion does, from the handshake itself
// (keyCapture): the master secret, as pion writes it to a key log, and the
// two randoms; once derived, the secret is dropped. Nothing of it leaves
// the process. Until the handshake is
// done, and for good if its keys cannot be derived (the server was not
// the DTLS server, or the cipher suite is unknown), packets go through
// pion's path instead: every packet of one link takes the same path, so
// the two never share an SSRC's rollover counter.
type wire struct {
	// out is where and how the link's packets go; nil: through pion. Set
	// when the link connects and each time its pair changes; what seals
	// packets in it is set once, before the first. It and batch come
	// first: every packet reads them (see DownTrack).
	out   atomic.Pointer[wireOut]
	batch *batchConn

	keys     keyCapture
	tcp      *tcpMuxRecorder
	link     *link // takes the TWCC feedback the wire reads (see feedback)
	counters *Counters

	// in opens the client's SRTCP (AEAD-GCM profiles); inMu guards inBuf,
	// where it is opened.
	in    *srtcpGCM
	inMu  sync.Mutex
	inBuf []byte
	// replay: SRTCP indexes seen, per sender SSRC; passedAt: when
	// feedback last went on to pion (see feedback).
	replay   map[uint32]*replayWindow
	passedAt time.Time

	mu      sync.Mutex // connecting, and the AES-CM profile's context
	started bool
	closed  bool
	log     *slog.Logger
	gcm     *srtpGCM
	udp     netip.AddrPort // the route the batch knows the wire by
	ctx     *srtp.Context  // the profiles without AEAD: pion's context, under mu
	tcpConn net.PacketConn
	buf     []byte
	scratch rtp.Header // EncryptRTP's parse of the header: no allocation
}

// wireOut is the link's route and cipher.
type wireOut struct {
	gcm     srtpGCM // AEAD-AES-GCM, sealed here (a copy: no pointer to follow per packet); no aead: ctx
	ctx     *srtp.Context
	udp     netip.AddrPort // valid while the link runs over UDP
	tcpConn net.PacketConn // the ICE-TCP connection, while it runs over TCP
	tcpTo   net.Addr
}

func newWire(batch *batchConn, tcp *tcpMuxRecorder, l *link, c *Counters, log *slog.Logger) *wire {
	return &wire{batch: batch, tcp: tcp, link: l, counters: c, log: log}
}

// tcpMuxRecorder is the ICE-TCP mux as pion's agents see it, noting the
// local addresses each ufrag's connections were asked for: a wire finds
// its link's connection by them, since a candidate's address may be the
// public one it is announced under rather than the interface's.
type tcpMuxRecorder struct {
	// The mux itself, with its LocalAddr: an agent asks for it, and, bound
	// to one address, gathers ICE-TCP candidates for that address alone.
	// Hidden behind the ice.TCPMux interface, every agent announced a TCP
	// candidate for each address of the machine, which nothing listened
	// on, and kept a connection, a reader and its buffer for each.
	*ice.TCPMuxDefault
	mu  sync.Mutex
	ips map[string][]net.IP
}

func (m *tcpMuxRecorder) GetConnByUfrag(ufrag string, isIPv6 bool, local net.IP) (net.PacketConn, error) {
	m.mu.Lock()
	if m.ips == nil {
		m.ips = map[string][]net.IP{}
	}
	if !slices.ContainsFunc(m.ips[ufrag], local.Equal) {
		m.ips[ufrag] = append(m.ips[ufrag], local)
	}
	m.mu.Unlock()
	return m.TCPMuxDefault.GetConnByUfrag(ufrag, isIPv6, local)
}

func (m *tcpMuxRecorder) RemoveConnByUfrag(ufrag string) {
	m.mu.Lock()
	delete(m.ips, ufrag)
	m.mu.Unlock()
	m.TCPMuxDefault.RemoveConnByUfrag(ufrag)
}

// localIP is the local address the agent of ufrag took a connection for,
// for a candidate announced at address: that address if it is one, else
// the one address of its family; false if there is none, or several.
func (m *tcpMuxRecorder) localIP(ufrag, address string) (net.IP, bool) {
	if m == nil {
		return nil, false
	}
	want := net.ParseIP(address)
	if want == nil {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var found net.IP
	for _, ip := range m.ips[ufrag] {
		if ip.Equal(want) {
			return ip, true
		}
		if (ip.To4() == nil) == (want.To4() == nil) {
			if found != nil {
				return nil, false
			}
			found = ip
		}
	}
	return found, found != nil
}

// settings gives the subscriber PeerConnection's setting engine what the
// wire needs to see of its handshake.
func (w *wire) settings(se *webrtc.SettingEngine) {
	se.SetDTLSKeyLogWriter(&w.keys)
	se.SetDTLSServerHelloMessageHook(w.keys.serverHello)
}

// connect is told each time the subscriber connects or its selected
// candidate pair changes; it reads the pair itself, under w.mu, so the
// last call routes to the latest pair whatever order callbacks run in.
// If the first route cannot be found, no packet has been sealed yet and
// the link is left to pion for good; a route lost later is logged, and
// the link's packets are dropped until the next pair.
func (w *wire) connect(t *webrtc.ICETransport) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	pair, _ := t.GetSelectedCandidatePair()
	params, _ := t.GetLocalParameters()
	first := !w.started
	if first {
		w.started = true
		if keys, ok := w.keys.srtpKeys(); ok {
			w.useKeys(keys)
		}
		w.keys.forget()
	}
	if w.gcm == nil && w.ctx == nil {
		return
	}
	if w.setRoute(pair, params.UsernameFragment) {
		return
	}
	if first {
		w.gcm, w.ctx, w.in = nil, nil, nil
		w.out.Store(nil)
		return
	}
	if w.log != nil {
		w.log.Warn("sfu: no route for a subscriber's media on its new candidate pair", "pair", pair.String())
	}
}

// useKeys prepares the link's ciphers; the caller holds w.mu.
func (w *wire) useKeys(k srtpKeys) {
	switch k.profile {
	case srtp.ProtectionProfileAeadAes128Gcm, srtp.ProtectionProfileAeadAes256Gcm:
		g, err1 := newSRTPGCM(k.key, k.salt)
		in, err2 := newSRTCPGCM(k.remoteKey, k.remoteSalt)
		if err1 == nil && err2 == nil {
			w.gcm, w.in = g, in
			w.inBuf = make([]byte, mtu)
		}
	default:
		if ctx, err := srtp.CreateContext(k.key, k.salt, k.profile); err == nil {
			w.ctx, w.buf = ctx, make([]byte, sealedMax)
			w.scratch.Extensions = make([]rtp.Extension, 0, 4)
		}
	}
}

// setRoute points the wire at the pair's remote end; false if it found
// no way there. The caller holds w.mu.
func (w *wire) setRoute(pair *webrtc.ICECandidatePair, localUfrag string) bool {
	if w.tcpConn != nil {
		_ = w.tcpConn.Close() // our reference to it; pion holds its own
		w.tcpConn = nil
	}
	w.routeFeedback(netip.AddrPort{})
	o := w.newOut()
	defer w.out.Store(o)
	if pair == nil || pair.Local == nil || pair.Remote == nil {
		return false
	}
	remote, err := netip.ParseAddr(pair.Remote.Address)
	if err != nil {
		return false
	}
	to := netip.AddrPortFrom(remote.Unmap(), pair.Remote.Port)
	switch pair.Local.Protocol {
	case webrtc.ICEProtocolUDP:
		o.udp = to
		w.routeFeedback(to)
		return true
	case webrtc.ICEProtocolTCP:
		// The connection the ICE agent took for this ufrag and local
		// address (the interface's: the candidate may carry a public
		// one instead); GetConnByUfrag hands out a counted reference.
		local, ok := w.tcp.localIP(localUfrag, pair.Local.Address)
		if !ok {
			return false
		}
		conn, err := w.tcp.GetConnByUfrag(localUfrag, local.To4() == nil, local)
		if err != nil {
			return false
		}
		w.tcpConn, o.tcpConn, o.tcpTo = conn, conn, net.TCPAddrFromAddrPort(to)
		return true
	}
	return false
}

// newOut is a route for the wire's ciphers, with nowhere to go yet; the
// caller holds w.mu.
func (w *wire) newOut() *wireOut {
	o := &wireOut{ctx: w.ctx}
	if w.gcm != nil {
		o.gcm = *w.gcm
	}
	return o
}

// own is whether the link's packets are encrypted here.
func (w *wire) own() bool { return w.out.Load() != nil }

// close lets go of the ICE-TCP connection, if the wire holds one; the
// wire connects no more.
func (w *wire) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.tcpConn != nil {
		_ = w.tcpConn.Close()
		w.tcpConn = nil
	}
	w.routeFeedback(netip.AddrPort{})
	if w.out.Load() != nil {
		w.out.Store(w.newOut()) // no route
	}
}

// routeFeedback tells the batch which address the client's feedback comes
// from (none: invalid); the caller holds w.mu.
func (w *wire) routeFeedback(from netip.AddrPort) {
	if w.in == nil || w.link == nil || from == w.udp {
		return
	}
	if w.udp.IsValid() {
		w.batch.unroute(w.udp, w)
	}
	if w.udp = from; from.IsValid() {
		w.batch.route(from, w)
	}
}

// feedback takes an SRTCP packet from the client, as the socket read it,
// if it is nothing but TWCC feedback: it is opened and read here, where a
// packet through pion would be decrypted into a buffer, parsed whole by
// its SRTCP session to route it (allocating for every status and delta)
// and woken up for on the track's RTCP reader. Any other RTCP, a packet
// that does not open with the client's key, or one replayed, is left to
// pion: false. So is one a second: what pion's ICE agent receives on the
// pair is what tells it the client is still there, and a receiving
// client sends little else.
func (w *wire) feedback(p []byte, now time.Time) bool {
	w.inMu.Lock()
	defer w.inMu.Unlock()
	if now.Sub(w.passedAt) >= time.Second {
		w.passedAt = now
		return false
	}
	plain, ok := w.in.open(w.inBuf, p)
	if !ok || len(plain) < 8 || plain[1] != rtcpTransportFeedback || plain[0]&0x1f != rtcpFormatTWCC ||
		4*(int(binary.BigEndian.Uint16(plain[2:]))+1) != len(plain) {
		return false
	}
	ssrc := binary.BigEndian.Uint32(plain[4:])
	r := w.replay[ssrc]
	if r == nil {
		if len(w.replay) >= maxFeedbackSSRCs {
			return false
		}
		if w.replay == nil {
			w.replay = map[uint32]*replayWindow{}
		}
		r = &replayWindow{}
		w.replay[ssrc] = r
	}
	if !r.accept(binary.BigEndian.Uint32(p[len(p)-4:]) & 0x7fffffff) {
		return false // pion refuses it too
	}
	w.link.feedback(plain, now)
	w.counters.feedback(true)
	return true
}

// maxFeedbackSSRCs bounds the sender SSRCs a client's feedback is
// followed for (a browser uses one).
const maxFeedbackSSRCs = 4

// replayWindow takes each SRTCP index of one sender once, within the 64
// behind the highest (RFC 3711 3.3.2; pion's default window too).
type replayWindow struct {
	started bool
	top     uint32 // the highest index taken
	seen    uint64 // bit i: top-i was taken
}

// accept is whether index is new, and takes note of it.
func (r *replayWindow) accept(index uint32) bool {
	switch {
	case !r.started:
		r.started, r.top, r.seen = true, index, 1
		return true
	case index > r.top:
		if d := index - r.top; d < 64 {
			r.seen = r.seen<<d | 1
		} else {
			r.seen = 1
		}
		r.top = index
		return true
	case r.top-index >= 64 || r.seen&(1<<(r.top-index)) != 0:
		return false
	default:
		r.seen |= 1 << (r.top - index)
		return true
	}
}

// errNoRoute: the link has keys but no pair to send on (not connected).
var errNoRoute = errors.New("sfu: the subscriber's link has no route")

// writeRTP sends one packet of the stream st on the wire, sealed into the
// batch's next slot on UDP (sent at once if no fan-out is in progress) and
// into *scratch on ICE-TCP (made sealedMax bytes on first use); ok is false
// if the link's packets go through pion's path (written then by the
// caller). The caller holds st's track's lock: one writer per stream.
func (w *wire) writeRTP(h *rtp.Header, payload []byte, st *srtpStream, scratch *[]byte) (n int, ok bool, err error) {
	o := w.out.Load()
	switch {
	case o == nil:
		return 0, false, nil
	case o.gcm.aead == nil:
		return w.writeWithContext(o, h, payload)
	case !o.udp.IsValid() && o.tcpConn == nil:
		return 0, true, errNoRoute
	}
	roc := st.rollover(h.SequenceNumber)
	if o.udp.IsValid() {
		n, err = o.gcm.seal(w.batch.slot(), h, payload, roc, st)
		w.batch.fill(n, o.udp)
		return n, true, err
	}
	if *scratch == nil {
		*scratch = make([]byte, sealedMax)
	}
	if n, err = o.gcm.seal(*scratch, h, payload, roc, st); err != nil {
		return 0, true, err
	}
	n, err = w.send(o, (*scratch)[:n])
	return n, true, err
}

// send writes a sealed packet on the route o names: into the batch on UDP
// (sent at once if none is open), or to the ICE-TCP connection.
func (w *wire) send(o *wireOut, p []byte) (int, error) {
	switch {
	case o.udp.IsValid():
		return w.batch.WriteToAddrPort(p, o.udp)
	case o.tcpConn != nil:
		return o.tcpConn.WriteTo(p, o.tcpTo)
	default:
		return 0, errNoRoute
	}
}

// writeWithContext sends a packet of a profile without AEAD through
// pion's SRTP context, which keeps each stream's rollover counter itself.
func (w *wire) writeWithContext(o *wireOut, h *rtp.Header, payload []byte) (n int, ok bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	hn, err := h.MarshalTo(w.buf)
	if err != nil {
		return 0, true, err
	}
	if hn+len(payload)+srtpMaxTag > sealedMax {
		return 0, true, errPacketTooLarge
	}
	size := hn + copy(w.buf[hn:], payload)
	out, err := o.ctx.EncryptRTP(w.buf, w.buf[:size], &w.scratch) // in place: the buffer has room for the tag
	if err != nil {
		return 0, true, err
	}
	n, err = w.send(o, out)
	return n, true, err
}

// srtpStream is one outgoing stream's SRTP state: its rollover counter
// (how often its sequence numbers wrapped) and the nonce it seals with.
type srtpStream struct {
	started bool
	roc     uint32
	last    uint16 // the highest sequence number sent
	iv      [12]byte
}

// rollover is the rollover counter for a packet of sequence number seq
// (RFC 3711 3.3.1): the counter goes up when the numbers wrap; a resend
// from before the wrap takes the one before.
func (s *srtpStream) rollover(seq uint16) uint32 {
	if !s.started {
		s.started, s.last = true, seq
		return s.roc
	}
	if d := int16(seq - s.last); d > 0 {
		if seq < s.last {
			s.roc++
		}
		s.last = seq
		return s.roc
	}
	if seq > s.last && s.roc > 0 {
		return s.roc - 1
	}
	return s.roc
}

// srtpGCM seals SRTP packets with AEAD-AES-GCM (RFC 7714).
type srtpGCM struct {
	aead cipher.AEAD // safe for concurrent use
	salt [12]byte
}

// newSRTPGCM derives the session key and salt from the master key and
// salt (RFC 3711 4.3.1, AES-CM as its PRF: labels 0 and 2).
func newSRTPGCM(masterKey, masterSalt []byte) (*srtpGCM, error) {
	aead, salt, err := gcmSession(masterKey, masterSalt, 0, 2)
	if err != nil {
		return nil, err
	}
	return &srtpGCM{aead: aead, salt: salt}, nil
}

// gcmSession derives a session's AES-GCM key and 12-byte salt from the
// master key and salt, by the given labels (RFC 3711 4.3.1, AES-CM as
// the PRF).
func gcmSession(masterKey, masterSalt []byte, keyLabel, saltLabel byte) (cipher.AEAD, [12]byte, error) {
	var salt [12]byte
	if len(masterSalt) != 12 {
		return nil, salt, errors.New("sfu: an AEAD-GCM master salt is 12 bytes")
	}
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, salt, err
	}
	derive := func(label byte, n int) []byte {
		var in [16]byte
		copy(in[:], masterSalt)
		in[7] ^= label
		out := make([]byte, (n+15)/16*16)
		for i := 0; i*16 < n; i++ {
			binary.BigEndian.PutUint16(in[14:], uint16(i))
			block.Encrypt(out[i*16:], in[:])
		}
		return out[:n]
	}
	session, err := aes.NewCipher(derive(keyLabel, len(masterKey)))
	if err != nil {
		return nil, salt, err
	}
	aead, err := cipher.NewGCM(session)
	if err != nil {
		return nil, salt, err
	}
	copy(salt[:], derive(saltLabel, 12))
	return aead, salt, nil
}

// srtcpGCM opens SRTCP packets sealed with AEAD-AES-GCM (RFC 7714 9).
type srtcpGCM struct {
	aead cipher.AEAD
	salt [12]byte
	iv   [12]byte // under the wire's inMu
	aad  [12]byte
}

// newSRTCPGCM derives the SRTCP session key and salt (labels 3 and 5).
func newSRTCPGCM(masterKey, masterSalt []byte) (*srtcpGCM, error) {
	aead, salt, err := gcmSession(masterKey, masterSalt, 3, 5)
	if err != nil {
		return nil, err
	}
	return &srtcpGCM{aead: aead, salt: salt}, nil
}

// open decrypts an encrypted SRTCP packet into dst: its first 8 bytes in
// the clear, the rest sealed, the 16-byte tag, then the E flag and the
// 31-bit SRTCP index. False if it is not one, or does not open.
func (g *srtcpGCM) open(dst, p []byte) ([]byte, bool) {
	const tag = gcmTag
	if len(p) < 8+tag+4 || len(p) > len(dst)+tag+4 {
		return nil, false
	}
	trailer := p[len(p)-4:]
	if trailer[0]&0x80 == 0 {
		return nil, false // not encrypted: pion's to check
	}
	index := binary.BigEndian.Uint32(trailer) & 0x7fffffff
	g.iv = [12]byte{}
	copy(g.iv[2:6], p[4:8])
	binary.BigEndian.PutUint32(g.iv[8:], index)
	for i := range g.iv {
		g.iv[i] ^= g.salt[i]
	}
	copy(g.aad[:8], p[:8])
	copy(g.aad[8:], trailer)
	copy(dst, p[:8])
	out, err := g.aead.Open(dst[8:8], g.iv[:], p[8:len(p)-4], g.aad[:])
	if err != nil {
		return nil, false
	}
	return dst[:8+len(out)], true
}

// seal writes h and payload, sealed under roc, into dst; it returns the
// packet's length. The header is authenticated, the payload encrypted,
// and the tag follows it.
func (g *srtpGCM) seal(dst []byte, h *rtp.Header, payload []byte, roc uint32, st *srtpStream) (int, error) {
	hn, err := h.MarshalTo(dst)
	if err != nil {
		return 0, err
	}
	if hn+len(payload)+gcmTag > len(dst) {
		return 0, errPacketTooLarge
	}
	iv := &st.iv
	*iv = [12]byte{}
	binary.BigEndian.PutUint32(iv[2:], h.SSRC)
	binary.BigEndian.PutUint32(iv[6:], roc)
	binary.BigEndian.PutUint16(iv[10:], h.SequenceNumber)
	for i := range iv {
		iv[i] ^= g.salt[i]
	}
	return hn + len(g.aead.Seal(dst[hn:hn], iv[:], payload, dst[:hn])), nil
}

var errPacketTooLarge = errors.New("sfu: packet larger than the MTU")

// gcmTag is the AEAD tag's length in both GCM profiles (RFC 7714): a
// constant, so that sealing does not ask the cipher, a first touch of its
// memory per subscriber per packet.
const gcmTag = 16

// sealedMax is the largest packet the wire writes: a packet read into the
// ring (at most mtu bytes) with the transport-wide extension and the SRTP
// tag added.
const sealedMax = mtu + 64

// srtpMaxTag is the longest SRTP tag of the profiles offered.
const srtpMaxTag = 16

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

// forget drops the master secret once the keys are derived (or cannot
// be): the ciphers made from them are all the wire keeps.
func (k *keyCapture) forget() {
	k.mu.Lock()
	defer k.mu.Unlock()
	clear(k.masterSecret)
	k.masterSecret, k.clientRandom, k.serverRandom = nil, nil, nil
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

// srtpKeys are a link's SRTP master keys and salts, the server's own
// (what it sends) and the client's (what it receives).
type srtpKeys struct {
	key, salt             []byte
	remoteKey, remoteSalt []byte
	profile               srtp.ProtectionProfile
}

// srtpKeys derives the SRTP master keys and salts; false if the handshake
// did not give all that needs (the server was the DTLS client, say) or
// used a cipher suite whose PRF is unknown here.
func (k *keyCapture) srtpKeys() (srtpKeys, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.masterSecret == nil || k.serverRandom == nil || k.profile == 0 {
		return srtpKeys{}, false
	}
	h, ok := prfHash(k.suite)
	if !ok {
		return srtpKeys{}, false
	}
	keyLen, err1 := k.profile.KeyLen()
	saltLen, err2 := k.profile.SaltLen()
	if err1 != nil || err2 != nil {
		return srtpKeys{}, false
	}
	seed := append(append([]byte("EXTRACTOR-dtls_srtp"), k.clientRandom...), k.serverRandom...)
	m, err := prf.PHash(k.masterSecret, seed, 2*(keyLen+saltLen), h)
	if err != nil {
		return srtpKeys{}, false
	}
	// client key, server key, client salt, server salt.
	return srtpKeys{
		key: m[keyLen : 2*keyLen], salt: m[2*keyLen+saltLen:],
		remoteKey: m[:keyLen], remoteSalt: m[2*keyLen : 2*keyLen+saltLen],
		profile: k.profile,
	}, true
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
