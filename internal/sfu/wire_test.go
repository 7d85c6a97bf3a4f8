package sfu

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// The keys the wire derives from what it sees of a handshake are the ones
// pion derives from the DTLS connection itself, for each cipher suite and
// SRTP profile the server may end up with.
func TestWireDerivesTheHandshakesSRTPKeys(t *testing.T) {
	cases := []struct {
		suite   dtls.CipherSuiteID
		profile dtls.SRTPProtectionProfile
	}{
		{dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, dtls.SRTP_AEAD_AES_128_GCM},
		{dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, dtls.SRTP_AEAD_AES_256_GCM},
		{dtls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, dtls.SRTP_AES128_CM_HMAC_SHA1_80},
	}
	for _, c := range cases {
		t.Run(dtls.CipherSuiteName(c.suite), func(t *testing.T) {
			var k keyCapture
			server := dtlsHandshake(t, c.suite, c.profile, &k)
			keys, ok := k.srtpKeys()
			if !ok {
				t.Fatal("no keys derived from the handshake")
			}
			state, _ := server.ConnectionState()
			cfg := srtp.Config{Profile: keys.profile}
			if err := cfg.ExtractSessionKeysFromDTLS(&state, false); err != nil {
				t.Fatal(err)
			}
			if keys.profile != srtp.ProtectionProfile(c.profile) {
				t.Fatalf("profile %v, want %v", keys.profile, c.profile)
			}
			if !bytes.Equal(keys.key, cfg.Keys.LocalMasterKey) || !bytes.Equal(keys.salt, cfg.Keys.LocalMasterSalt) {
				t.Fatalf("derived key %x salt %x, pion's %x %x", keys.key, keys.salt, cfg.Keys.LocalMasterKey, cfg.Keys.LocalMasterSalt)
			}
			if !bytes.Equal(keys.remoteKey, cfg.Keys.RemoteMasterKey) || !bytes.Equal(keys.remoteSalt, cfg.Keys.RemoteMasterSalt) {
				t.Fatalf("derived client key %x salt %x, pion's %x %x", keys.remoteKey, keys.remoteSalt, cfg.Keys.RemoteMasterKey, cfg.Keys.RemoteMasterSalt)
			}
		})
	}
}

// A handshake in which the server is the DTLS client gives the wire no
// keys: its packets then go through pion's path.
func TestWireHasNoKeysAsTheDTLSClient(t *testing.T) {
	var k keyCapture
	a, b := udpPair(t)
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	profiles := []dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_128_GCM}
	done := make(chan error, 1)
	go func() {
		srv, err := dtls.Server(b, a.LocalAddr(), &dtls.Config{
			Certificates: []tls.Certificate{cert}, SRTPProtectionProfiles: profiles, InsecureSkipVerify: true,
		})
		if err == nil {
			err = srv.HandshakeContext(context.Background())
		}
		done <- err
	}()
	// The capture sits on the client's side, as when the subscriber
	// answered "setup:passive".
	cli, err := dtls.Client(a, b.LocalAddr(), &dtls.Config{
		Certificates: []tls.Certificate{cert}, SRTPProtectionProfiles: profiles, InsecureSkipVerify: true,
		KeyLogWriter: &k, ServerHelloMessageHook: k.serverHello,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.HandshakeContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, ok := k.srtpKeys(); ok {
		t.Fatal("keys derived without the server's random")
	}
}

// dtlsHandshake runs a DTLS handshake over a pipe with the capture on the
// server's side and returns the server's connection.
func dtlsHandshake(t *testing.T, suite dtls.CipherSuiteID, profile dtls.SRTPProtectionProfile, k *keyCapture) *dtls.Conn {
	t.Helper()
	a, b := udpPair(t)
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() {
		cli, err := dtls.Client(a, b.LocalAddr(), &dtls.Config{
			Certificates: []tls.Certificate{cert}, CipherSuites: []dtls.CipherSuiteID{suite},
			SRTPProtectionProfiles: []dtls.SRTPProtectionProfile{profile}, InsecureSkipVerify: true,
		})
		if err == nil {
			err = cli.HandshakeContext(ctx)
		}
		done <- err
	}()
	srv, err := dtls.Server(b, a.LocalAddr(), &dtls.Config{
		Certificates: []tls.Certificate{cert}, CipherSuites: []dtls.CipherSuiteID{suite},
		SRTPProtectionProfiles: []dtls.SRTPProtectionProfile{profile}, InsecureSkipVerify: true,
		ClientAuth: dtls.RequireAnyClientCert, KeyLogWriter: k, ServerHelloMessageHook: k.serverHello,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.HandshakeContext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// udpPair is two UDP sockets on loopback, closed with the test.
func udpPair(t *testing.T) (a, b *net.UDPConn) {
	t.Helper()
	var err error
	if a, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	if b, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// A stream on the wire stays decryptable past its sequence numbers'
// wraps, as is a resend from before the last wrap, whichever the profile:
// the receiver is pion's SRTP context.
func TestWireKeepsAStreamPastTheSequenceWrap(t *testing.T) {
	for _, profile := range []srtp.ProtectionProfile{
		srtp.ProtectionProfileAeadAes128Gcm, srtp.ProtectionProfileAeadAes256Gcm, srtp.ProtectionProfileAes128CmHmacSha1_80,
	} {
		t.Run(profile.String(), func(t *testing.T) {
			keyLen, _ := profile.KeyLen()
			saltLen, _ := profile.SaltLen()
			key, salt := bytes.Repeat([]byte{7}, keyLen), bytes.Repeat([]byte{9}, saltLen)
			send, recv := udpPair(t)
			w := newWire(newBatchConn(send), nil, nil, nil, nil)
			w.useKeys(srtpKeys{key: key, salt: salt, remoteKey: key, remoteSalt: salt, profile: profile})
			o := w.newOut()
			o.udp = recv.LocalAddr().(*net.UDPAddr).AddrPort()
			w.out.Store(o)
			in, err := srtp.CreateContext(key, salt, profile)
			if err != nil {
				t.Fatal(err)
			}
			var st srtpStream
			payload := bytes.Repeat([]byte{0xab}, 1000)
			buf, plain := make([]byte, mtu), make([]byte, mtu)
			var scratch []byte
			// A packet that never comes fails the test, rather than hanging it.
			watchdog := time.AfterFunc(2*time.Minute, func() { recv.Close() })
			defer watchdog.Stop()
			sendOne := func(seq uint16) {
				t.Helper()
				h := rtp.Header{Version: 2, PayloadType: 96, SSRC: 1234, SequenceNumber: seq, Timestamp: uint32(seq) * 3000}
				if _, ok, err := w.writeRTP(&h, payload, &st, &scratch); !ok || err != nil {
					t.Fatalf("sequence number %d: written %v, %v", seq, ok, err)
				}
				n, err := recv.Read(buf)
				if err != nil {
					t.Fatalf("sequence number %d: %v", seq, err)
				}
				var got rtp.Header
				out, err := in.DecryptRTP(plain, buf[:n], &got)
				if err != nil {
					t.Fatalf("sequence number %d: %v", seq, err)
				}
				if got.SequenceNumber != seq || !bytes.Equal(out[len(out)-len(payload):], payload) {
					t.Fatalf("sequence number %d: decrypted %d", seq, got.SequenceNumber)
				}
			}
			const first, packets = 65000, 70000
			for i := range packets {
				if seq := uint16(first + i); seq != 65530 {
					sendOne(seq)
				}
			}
			if roc, _ := in.ROC(1234); roc != (first+packets-1)/65536 {
				t.Fatalf("the receiver's rollover counter is %d after the wraps, want %d", roc, (first+packets-1)/65536)
			}
			sendOne(65530) // a resend of a packet from before the last wrap
		})
	}
}

// BenchmarkSeal: a 1,200-byte packet with the transport-wide extension,
// sealed by the wire (AEAD-AES-128-GCM) and by pion's SRTP context, which
// the wire replaced; neither allocates.
func BenchmarkSeal(b *testing.B) {
	key, salt := bytes.Repeat([]byte{7}, 16), bytes.Repeat([]byte{9}, 12)
	payload := bytes.Repeat([]byte{0xab}, 1200)
	h := rtp.Header{Version: 2, PayloadType: 96, SSRC: 1234, Timestamp: 90000}
	_ = h.SetExtension(3, []byte{0, 1})
	buf := make([]byte, mtu+64)
	b.Run("wire", func(b *testing.B) {
		g, err := newSRTPGCM(key, salt)
		if err != nil {
			b.Fatal(err)
		}
		var st srtpStream
		b.ReportAllocs()
		for i := range b.N {
			h.SequenceNumber = uint16(i)
			if _, err := g.seal(buf, &h, payload, st.rollover(h.SequenceNumber), &st); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pion", func(b *testing.B) {
		ctx, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes128Gcm)
		if err != nil {
			b.Fatal(err)
		}
		scratch := rtp.Header{Extensions: make([]rtp.Extension, 0, 4)}
		b.ReportAllocs()
		for i := range b.N {
			h.SequenceNumber = uint16(i)
			n, _ := h.MarshalTo(buf)
			n += copy(buf[n:], payload)
			if _, err := ctx.EncryptRTP(buf, buf[:n], &scratch); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The client's TWCC feedback, alone in its SRTCP packet, is opened and
// read by the wire; anything else (feedback in a compound with a report,
// a packet altered on the way, sealed with another key, or replayed) is
// left to pion untouched, and so is one packet a second.
func TestWireReadsTheClientsFeedback(t *testing.T) {
	key, salt := bytes.Repeat([]byte{3}, 16), bytes.Repeat([]byte{5}, 12)
	l := newLink()
	now := time.Unix(1_700_000_000, 0)
	for range 10 {
		l.stamp(1200, now)
	}
	w := newWire(nil, nil, l, nil, nil)
	w.passedAt = now // what goes on to pion once a second is another test's
	w.useKeys(srtpKeys{key: key, salt: salt, remoteKey: key, remoteSalt: salt, profile: srtp.ProtectionProfileAeadAes128Gcm})
	client, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		t.Fatal(err)
	}
	seal := func(plain []byte) []byte {
		t.Helper()
		out, err := client.EncryptRTCP(nil, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	fb := rawFeedback(0, 10, []uint16{tccSmallDelta<<13 | 10}, bytes.Repeat([]byte{4}, 10))
	binary.BigEndian.PutUint32(fb[4:], 42) // the sender's SSRC
	rr, err := (&rtcp.ReceiverReport{SSRC: 42}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tampered := seal(fb)
	tampered[10] ^= 1
	other, err := srtp.CreateContext(bytes.Repeat([]byte{4}, 16), salt, srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.EncryptRTCP(nil, fb, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string][]byte{
		"a compound": seal(append(append([]byte{}, rr...), fb...)), "altered": tampered, "another key": foreign,
	} {
		if w.feedback(p, now) {
			t.Errorf("%s: taken by the wire", name)
		}
	}
	if l.sent[0].reported() {
		t.Fatal("a packet was reported arrived by feedback the wire did not take")
	}
	sealed := seal(fb)
	if !w.feedback(sealed, now) {
		t.Fatal("the feedback was left to pion")
	}
	for i := range 10 {
		if !l.sent[i].reported() {
			t.Fatalf("packet %d not reported arrived", i)
		}
	}
	if w.feedback(sealed, now) {
		t.Error("a replayed packet was taken by the wire")
	}
	// A second on, one packet goes on to pion, whose ICE agent hears the
	// client is there by it; the next is the wire's again.
	now = now.Add(time.Second)
	if w.feedback(seal(fb), now) || !w.feedback(seal(fb), now) {
		t.Error("not one feedback packet a second was passed on to pion")
	}
}

// BenchmarkDeliverOnTheWire: one packet stored in the ring and fanned out
// to 100 subscribers' wires, each sealing it into the batch, which one
// sendmmsg sends (to a loopback socket nobody reads: the kernel's part is
// in the figure). Nothing is allocated.
func BenchmarkDeliverOnTheWire(b *testing.B) {
	pub := testPublication()
	send, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer send.Close()
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	pub.batch = newBatchConn(send)
	key, salt := bytes.Repeat([]byte{7}, 16), bytes.Repeat([]byte{9}, 12)
	for range 100 {
		w := newWire(pub.batch, nil, nil, nil, nil)
		w.useKeys(srtpKeys{key: key, salt: salt, remoteKey: key, remoteSalt: salt, profile: srtp.ProtectionProfileAeadAes128Gcm})
		o := w.newOut()
		o.udp = sink.LocalAddr().(*net.UDPAddr).AddrPort()
		w.out.Store(o)
		d := subscribe(pub, &writer{})
		d.wire = w
	}
	raws := rawPackets(b, 1024)
	at := time.Unix(1_700_000_000, 0)
	warmUp(pub, raws, at)
	before := pub.batch.packets.Load() + pub.batch.dropped.Load()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		pub.arrived(pub.layers[0].Load(), raws[i%len(raws)], at, webrtc.MimeTypeVP8, 96)
	}
	b.StopTimer()
	if sent := pub.batch.packets.Load() + pub.batch.dropped.Load() - before; sent < uint64(b.N*100) {
		b.Fatalf("%d packets sent, want %d", sent, b.N*100)
	}
}

// A wire finds its ICE-TCP link's connection by the interface address the
// agent asked the mux for, even when the candidate carries the public
// address the server is announced under (1:1 NAT); with several such
// addresses, it cannot tell, and says so rather than making a connection
// of its own.
func TestWireFindsTheAgentsTCPConnection(t *testing.T) {
	var m tcpMuxRecorder
	m.ips = map[string][]net.IP{
		"one":  {net.ParseIP("10.0.0.5"), net.ParseIP("fd00::5")},
		"many": {net.ParseIP("10.0.0.5"), net.ParseIP("192.168.1.5")},
	}
	for _, c := range []struct {
		ufrag, address, want string
	}{
		{"one", "10.0.0.5", "10.0.0.5"},
		{"one", "203.0.113.7", "10.0.0.5"}, // announced under a public address
		{"one", "2001:db8::7", "fd00::5"},
		{"many", "192.168.1.5", "192.168.1.5"},
		{"many", "203.0.113.7", ""},
		{"none", "10.0.0.5", ""},
		{"one", "not-an-address", ""},
	} {
		ip, ok := m.localIP(c.ufrag, c.address)
		if got := map[bool]string{true: ip.String(), false: ""}[ok]; got != c.want {
			t.Errorf("%s at %s: %q, want %q", c.ufrag, c.address, got, c.want)
		}
	}
}

// The replay window takes each index once, late ones within 64 of the
// highest, and nothing older.
func TestReplayWindow(t *testing.T) {
	var r replayWindow
	for _, c := range []struct {
		index uint32
		want  bool
	}{
		{100, true}, {100, false}, {101, true}, {99, true}, {99, false},
		{200, true}, {137, true}, {136, false}, {150, true}, {150, false}, {201, true}, {1000, true}, {999, true}, {936, false},
	} {
		if got := r.accept(c.index); got != c.want {
			t.Errorf("index %d: taken %v, want %v", c.index, got, c.want)
		}
	}
}

// TestDualStackSocketHandsFeedbackToItsWire: a server listening on every
// address reads an IPv4 client's packets from a v4-mapped address, and
// still hands its feedback to the client's wire (which knows the client
// by its plain IPv4 address) rather than to pion.
func TestDualStackSocketHandsFeedbackToItsWire(t *testing.T) {
	dual, err := net.ListenUDP("udp", &net.UDPAddr{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dual.Close() })
	b := newBatchConn(dual)
	client := listenUDP(t)

	key, salt := bytes.Repeat([]byte{3}, 16), bytes.Repeat([]byte{5}, 12)
	l := newLink()
	now := l.born // the socket reads feedback at the time it comes: sent just now
	for range 10 {
		l.stamp(1200, now)
	}
	w := newWire(nil, nil, l, nil, nil)
	w.passedAt = now.Add(time.Hour) // nothing goes on to pion in this test
	w.useKeys(srtpKeys{key: key, salt: salt, remoteKey: key, remoteSalt: salt, profile: srtp.ProtectionProfileAeadAes128Gcm})
	b.route(client.LocalAddr().(*net.UDPAddr).AddrPort(), w)
	ctx, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		t.Fatal(err)
	}
	fb := rawFeedback(0, 10, []uint16{tccSmallDelta<<13 | 10}, bytes.Repeat([]byte{4}, 10))
	sealed, err := ctx.EncryptRTCP(nil, fb, nil)
	if err != nil {
		t.Fatal(err)
	}
	server := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(dual.LocalAddr().(*net.UDPAddr).Port))
	for _, p := range [][]byte{sealed, []byte("not RTCP, for pion")} {
		if _, err := client.WriteToUDPAddrPort(p, server); err != nil {
			t.Fatal(err)
		}
	}
	// A packet that never comes fails the test, rather than hanging it.
	watchdog := time.AfterFunc(time.Minute, func() { dual.Close() })
	defer watchdog.Stop()
	buf := make([]byte, 1500)
	n, from, err := b.ReadFromAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	if string(buf[:n]) != "not RTCP, for pion" {
		t.Fatalf("pion was handed %d bytes from %v, want the feedback taken by the wire", n, from)
	}
	for i := range 10 {
		if !l.sent[i].reported() {
			t.Fatalf("packet %d not reported arrived", i)
		}
	}
}
