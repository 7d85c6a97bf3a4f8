package sfu_test

import (
	"context"
	"encoding/binary"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"classmeet/internal/sfu"
	"classmeet/internal/testclient"
	"classmeet/internal/testclock"
)

// Go peers against the SFU directly: each peer's offers and answers go
// straight to its sfu.Peer, with no signaling server between.

// goPeer is one participant: a publishing and a subscribing PeerConnection.
type goPeer struct {
	t    *testing.T
	peer *sfu.Peer
	pub  *webrtc.PeerConnection
	sub  *webrtc.PeerConnection

	mu     sync.Mutex
	tracks map[string]sfu.TrackInfo // mid -> whose, from the SFU's offers
	got    map[sfu.TrackInfo]*received
	// asleep: never read what arrives, like a subscriber that fell behind.
	asleep bool
	// viaRelay, if set, rewrites the SFU's offers so that the subscriber
	// reaches it through a relay (see joinShaped).
	viaRelay func(sdp string) string
	// paused is the latest video_paused list the SFU sent.
	paused atomic.Pointer[[]sfu.TrackInfo]
	// everPaused: a video_paused named some video, at some time.
	everPaused atomic.Bool
	// dtlsServer: the subscriber answers as the DTLS server.
	dtlsServer bool
	// joined is closed once peer is set: a peer joining a room with
	// publications in it is offered them before Join returns.
	joined chan struct{}
}

type received struct {
	packets, frames atomic.Uint64
	firstKey        atomic.Bool
	// bytes of payload, keyframes, and the picture size of the latest
	// keyframe (from its VP8 frame header)
	bytes, keyframes atomic.Uint64
	width, height    atomic.Uint32

	mu     sync.Mutex
	seqs   map[uint16]bool // every sequence number that arrived
	last   uint16          // the newest of them, in sequence-number order
	lastTS uint32          // the RTP timestamp of the latest packet
	sr     *rtcp.SenderReport
}

func (r *received) senderReport() (*rtcp.SenderReport, uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sr, r.lastTS
}

func (r *received) arrived(seq uint16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seqs == nil {
		r.seqs, r.last = map[uint16]bool{}, seq
	}
	r.seqs[seq] = true
	if int16(seq-r.last) > 0 {
		r.last = seq
	}
}

// readReports keeps the latest sender report for the track.
func (r *received) readReports(recv *webrtc.RTPReceiver, ssrc uint32) {
	for {
		pkts, _, err := recv.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			if sr, ok := p.(*rtcp.SenderReport); ok && sr.SSRC == ssrc {
				r.mu.Lock()
				r.sr = sr
				r.mu.Unlock()
			}
		}
	}
}

// missing counts the sequence numbers in [from, to] that never arrived.
func (r *received) missing(from, to uint16) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for s := from; s != to+1; s++ {
		if !r.seqs[s] {
			n++
		}
	}
	return n
}

// highest is the newest sequence number that arrived.
func (r *received) highest() uint16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

func newSFURoom(t *testing.T) *sfu.Room {
	_, r := newSFU(t)
	return r
}

// newSFU starts an SFU on loopback with one room in it.
func newSFU(t *testing.T) (*sfu.SFU, *sfu.Room) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	s, err := sfu.New(sfu.Config{BindIP: "127.0.0.1", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	r := s.NewRoom(log)
	t.Cleanup(r.Close)
	return s, r
}

func joinRoom(t *testing.T, room *sfu.Room, id string, asleep bool) *goPeer {
	return joinLossy(t, room, id, asleep, 0)
}

// joinLossy joins a peer whose link loses recvLoss of the RTP sent to it.
func joinLossy(t *testing.T, room *sfu.Room, id string, asleep bool, recvLoss float64) *goPeer {
	t.Helper()
	return join(room, id, &goPeer{t: t, asleep: asleep}, recvLoss)
}

// join joins g, as it is set up, as participant id.
func join(room *sfu.Room, id string, g *goPeer, recvLoss float64) *goPeer {
	t := g.t
	t.Helper()
	g.tracks, g.got, g.joined = map[string]sfu.TrackInfo{}, map[sfu.TrackInfo]*received{}, make(chan struct{})
	var closeSub func()
	var err error
	newPC := func() (*webrtc.PeerConnection, func(), error) {
		return testclient.LossyLoopbackPeerConnection(recvLoss)
	}
	if g.dtlsServer {
		newPC = testclient.DTLSServerLoopbackPeerConnection
	}
	if g.sub, closeSub, err = newPC(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeSub)
	g.sub.OnTrack(g.onTrack)
	if g.peer, err = room.Join(id, g.signal); err != nil {
		t.Fatal(err)
	}
	close(g.joined)
	t.Cleanup(g.peer.Close)
	return g
}

// signal takes the SFU's answers and offers; it answers an offer at once,
// from another goroutine, as a client's network would.
func (g *goPeer) signal(s sfu.Signal) {
	switch {
	case s.Type == "answer" && s.PC == sfu.PCPublish:
		_ = g.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: s.SDP})
	case s.Type == "video_paused":
		g.paused.Store(&s.Paused)
		if len(s.Paused) > 0 {
			g.everPaused.Store(true)
		}
	case s.Type == "offer" && s.PC == sfu.PCSubscribe:
		if g.viaRelay != nil {
			s.SDP = g.viaRelay(s.SDP)
		}
		g.mu.Lock()
		for mid, info := range s.Tracks {
			g.tracks[mid] = info
		}
		g.mu.Unlock()
		go func() {
			if err := g.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: s.SDP}); err != nil {
				return
			}
			answer, err := g.sub.CreateAnswer(nil)
			if err != nil || gathered(g.sub, answer) != nil {
				return
			}
			<-g.joined
			_ = g.peer.HandleAnswer(g.sub.LocalDescription().SDP)
		}()
	}
}

func gathered(pc *webrtc.PeerConnection, sd webrtc.SessionDescription) error {
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(sd); err != nil {
		return err
	}
	<-done
	return nil
}

// publishCamera sends the VP8 fixture as the peer's camera until the test ends.
func (g *goPeer) publishCamera() *atomic.Uint64 {
	g.t.Helper()
	tr, sender := g.addCamera()
	var keyframe atomic.Bool
	go func() { // keyframe requests from the SFU, as an encoder hears them
		for {
			if _, _, err := sender.ReadRTCP(); err != nil {
				return
			}
			keyframe.Store(true)
		}
	}()
	var sent atomic.Uint64
	g.offerCamera(func(ctx context.Context) { _ = testclient.Camera(ctx, tr, &sent, &keyframe, nil) })
	return &sent
}

// newPublisher makes the peer's publishing PeerConnection, on loopback,
// closed when the test ends.
func (g *goPeer) newPublisher() {
	g.t.Helper()
	var closePub func()
	var err error
	if g.pub, closePub, err = testclient.LoopbackPeerConnection(); err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(closePub)
}

// addCamera makes the publishing PeerConnection with one VP8 track on it.
func (g *goPeer) addCamera() (*webrtc.TrackLocalStaticRTP, *webrtc.RTPSender) {
	g.t.Helper()
	g.newPublisher()
	tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", "p")
	if err != nil {
		g.t.Fatal(err)
	}
	sender, err := g.pub.AddTrack(tr)
	if err != nil {
		g.t.Fatal(err)
	}
	return tr, sender
}

// offerCamera offers the publishing PeerConnection's first m-line as the
// camera and, once it connects, runs send (on its own goroutine) until the
// test ends.
func (g *goPeer) offerCamera(send func(ctx context.Context)) {
	g.t.Helper()
	offer, err := g.pub.CreateOffer(nil)
	if err != nil || gathered(g.pub, offer) != nil {
		g.t.Fatal("publisher offer", err)
	}
	mid := g.pub.GetTransceivers()[0].Mid()
	if err := g.peer.HandleOffer(g.pub.LocalDescription().SDP, map[string]sfu.Source{mid: sfu.SourceCamera}); err != nil {
		g.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.t.Cleanup(cancel)
	g.pub.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			go send(ctx)
		}
	})
}

// onTrack counts what arrives and whether the first whole frame was a keyframe.
func (g *goPeer) onTrack(track *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	g.mu.Lock()
	var info sfu.TrackInfo
	for _, tr := range g.sub.GetTransceivers() {
		if tr.Receiver() == recv {
			info = g.tracks[tr.Mid()]
		}
	}
	r := &received{}
	g.got[info] = r
	g.mu.Unlock()
	go r.readReports(recv, uint32(track.SSRC()))
	if g.asleep {
		return
	}
	sb := samplebuilder.New(256, &codecs.VP8Packet{}, 90000)
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		r.packets.Add(1)
		r.bytes.Add(uint64(len(pkt.Payload)))
		r.arrived(pkt.SequenceNumber)
		r.mu.Lock()
		r.lastTS = pkt.Timestamp
		r.mu.Unlock()
		sb.Push(pkt)
		for s := sb.Pop(); s != nil; s = sb.Pop() {
			if r.frames.Add(1) == 1 {
				r.firstKey.Store(len(s.Data) > 0 && s.Data[0]&0x01 == 0)
			}
			if len(s.Data) >= 10 && s.Data[0]&0x01 == 0 {
				r.width.Store(uint32(binary.LittleEndian.Uint16(s.Data[6:]) & 0x3fff))
				r.height.Store(uint32(binary.LittleEndian.Uint16(s.Data[8:]) & 0x3fff))
				r.keyframes.Add(1)
			}
		}
	}
}

func (g *goPeer) received(from string, src sfu.Source) *received {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r := g.got[sfu.TrackInfo{Participant: from, Source: src}]; r != nil {
		return r
	}
	return &received{}
}

// TestPeersThroughTheSFU: a publisher's camera reaches two subscribers over
// the network; one of them never reads what arrives, and the other still
// receives all but a handful of packets and decodes from a keyframe.
func TestPeersThroughTheSFU(t *testing.T) {
	room := newSFURoom(t)
	p := joinRoom(t, room, "p", false)
	awake := joinRoom(t, room, "awake", false)
	joinRoom(t, room, "asleep", true)
	sent := p.publishCamera()

	testclock.WaitFor(t, "the first frames at the awake subscriber", 60*time.Second, func() bool {
		return awake.received("p", sfu.SourceCamera).frames.Load() > 30
	})
	if !awake.received("p", sfu.SourceCamera).firstKey.Load() {
		t.Error("the first frame the subscriber decoded was not a keyframe")
	}
	// From here on, what is sent arrives.
	base, got := sent.Load(), awake.received("p", sfu.SourceCamera).packets.Load()
	testclock.WaitFor(t, "300 more packets sent", 60*time.Second, func() bool { return sent.Load() >= base+300 })
	testclock.WaitFor(t, "them at the awake subscriber", 60*time.Second, func() bool {
		return awake.received("p", sfu.SourceCamera).packets.Load()-got >= 290
	})
}

// TestNacksRepairLossToASubscriber: the link to one subscriber loses 5 % of
// the media; its NACKs are answered from the publication's ring, so of a
// stretch of 600 packets it ends up missing almost none, while the
// subscriber on a clean link is unaffected.
func TestNacksRepairLossToASubscriber(t *testing.T) {
	room := newSFURoom(t)
	p := joinRoom(t, room, "p", false)
	lossy := joinLossy(t, room, "lossy", false, 0.05)
	clean := joinRoom(t, room, "clean", false)
	p.publishCamera()

	got := lossy.received("p", sfu.SourceCamera)
	testclock.WaitFor(t, "the first frames at the lossy subscriber", 60*time.Second, func() bool {
		got = lossy.received("p", sfu.SourceCamera)
		return got.frames.Load() > 30
	})
	from := got.highest() + 1
	testclock.WaitFor(t, "600 more packets", 60*time.Second, func() bool { return int16(got.highest()-from) > 700 })
	// Repairs of the stretch [from, from+600) have had 100 packets' time.
	missing := got.missing(from, from+599)
	if missing > 6 {
		t.Errorf("%d of 600 packets never arrived at the lossy subscriber (5 %% lost on the way): NACKs not answered", missing)
	}
	c := clean.received("p", sfu.SourceCamera)
	if c.packets.Load() == 0 {
		t.Error("the clean subscriber received nothing")
	}
}

// TestSubscribersHearSenderReports: the SFU sends each subscriber sender
// reports for what it forwards (a receiver needs them to put audio and
// video in step): counts as sent and an RTP time on the stream's clock,
// within a second of the media that arrived.
func TestSubscribersHearSenderReports(t *testing.T) {
	room := newSFURoom(t)
	p := joinRoom(t, room, "p", false)
	s := joinRoom(t, room, "s", false)
	p.publishCamera()
	got := s.received("p", sfu.SourceCamera)
	testclock.WaitFor(t, "a sender report after 30 frames", 60*time.Second, func() bool {
		got = s.received("p", sfu.SourceCamera)
		sr, _ := got.senderReport()
		return got.frames.Load() > 30 && sr != nil && sr.PacketCount > 30
	})
	sr, ts := got.senderReport()
	if d := int32(sr.RTPTime - ts); d < -90000 || d > 90000 {
		t.Errorf("the report's RTP time %d is %d ticks from the stream's (%d)", sr.RTPTime, d, ts)
	}
	if uint64(sr.PacketCount) > got.packets.Load()+100 {
		t.Errorf("the report counts %d packets sent; %d arrived", sr.PacketCount, got.packets.Load())
	}
}

// TestCandidatesOnlyWhereTheServerListens: a server bound to one address
// announces its ICE candidates, UDP and TCP, on that address alone; one
// listening on every address announces TCP candidates on the same
// addresses as UDP ones. A bound server once announced a TCP candidate on
// each of the machine's addresses, where nothing listened, and kept a
// reader and its buffer for each, for every participant.
func TestCandidatesOnlyWhereTheServerListens(t *testing.T) {
	t.Run("bound", func(t *testing.T) {
		got := offeredCandidates(t, newSFURoom(t))
		for _, c := range got {
			if c.address != "127.0.0.1" {
				t.Errorf("a %s candidate on %s, where the server does not listen", c.transport, c.address)
			}
		}
		if len(byTransport(got, "udp")) == 0 || len(byTransport(got, "tcp")) == 0 {
			t.Errorf("offered %v; want UDP and TCP candidates", got)
		}
	})
	t.Run("every address", func(t *testing.T) {
		log := slog.New(slog.DiscardHandler)
		s, err := sfu.New(sfu.Config{Log: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		room := s.NewRoom(log)
		t.Cleanup(room.Close)
		got := offeredCandidates(t, room)
		udp, tcp := byTransport(got, "udp"), byTransport(got, "tcp")
		if len(udp) == 0 {
			t.Skip("this machine has no address but loopback, which a server on every address does not announce")
		}
		if !slices.Equal(udp, tcp) {
			t.Errorf("UDP candidates on %v, TCP ones on %v; want the same addresses", udp, tcp)
		}
		t.Logf("candidates on %v", udp)
	})
}

type offered struct{ transport, address string }

// offeredCandidates offers room a camera and returns the candidates of
// the server's answer.
func offeredCandidates(t *testing.T, room *sfu.Room) []offered {
	t.Helper()
	answers := make(chan string, 1)
	peer, err := room.Join("p", func(s sfu.Signal) {
		if s.Type == "answer" && s.PC == sfu.PCPublish {
			answers <- s.SDP
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peer.Close)
	g := &goPeer{t: t, peer: peer}
	g.addCamera()
	offer, err := g.pub.CreateOffer(nil)
	if err != nil || gathered(g.pub, offer) != nil {
		t.Fatal("publisher offer", err)
	}
	if err := peer.HandleOffer(g.pub.LocalDescription().SDP, map[string]sfu.Source{g.pub.GetTransceivers()[0].Mid(): sfu.SourceCamera}); err != nil {
		t.Fatal(err)
	}
	testclock.WaitFor(t, "the server's answer", 60*time.Second, func() bool { return len(answers) > 0 })
	var got []offered
	for _, line := range strings.Split(<-answers, "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "a=candidate:"))
		if strings.HasPrefix(line, "a=candidate:") && len(f) >= 6 && f[1] == "1" {
			got = append(got, offered{transport: strings.ToLower(f[2]), address: f[4]})
		}
	}
	return got
}

// byTransport is the sorted, distinct addresses of the candidates of one
// transport.
func byTransport(cs []offered, transport string) []string {
	var out []string
	for _, c := range cs {
		if c.transport == transport {
			out = append(out, c.address)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
