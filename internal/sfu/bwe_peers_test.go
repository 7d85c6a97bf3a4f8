package sfu_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"classmeet/internal/netshape"
	"classmeet/internal/sfu"
	"classmeet/internal/testclock"
)

// loopback is where the Go peers are, as the relay sees them.
var loopback = netip.MustParseAddr("127.0.0.1")

// joinShaped joins a subscriber whose link to the SFU runs through a
// netshape relay on loopback (its offers name the relay instead of the
// SFU's port), so that the test can cap, delay and lose what reaches it.
func joinShaped(t *testing.T, s *sfu.SFU, room *sfu.Room, id string) (*goPeer, *netshape.Relay) {
	t.Helper()
	server := s.UDPAddr().(*net.UDPAddr)
	relay, err := netshape.New(&net.UDPAddr{IP: server.IP}, server)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = relay.Close() })
	from := fmt.Sprintf(" %s %d typ host", server.IP, server.Port)
	to := fmt.Sprintf(" %s %d typ host", server.IP, relay.Addr().Port)
	g := &goPeer{t: t, viaRelay: func(sdp string) string { return strings.ReplaceAll(sdp, from, to) }}
	return join(room, id, g, 0), relay
}

// capDown caps what reaches the relay's clients at rate bit/s (0: no cap).
func capDown(relay *netshape.Relay, rate int64) {
	relay.SetLink(loopback, netshape.Link{Rate: rate}, netshape.Link{})
}

// TestVideoFitsTheSubscribersLink: a publisher sends three layers (at about
// 70, 170 and 330 kbit/s on the wire); a subscriber shows it large through
// a link the test caps. Unlimited, it gets the top layer; capped at 300
// kbit/s, the middle one, and its stream keeps flowing with little loss;
// capped at 50 kbit/s, where not even the lowest fits, its video is paused
// (no more video arrives) and it is told so; with the cap lifted, video
// resumes and climbs back to the top layer. Measured from what arrives at
// the subscriber, behind the relay: keyframe sizes and payload bytes.
func TestVideoFitsTheSubscribersLink(t *testing.T) {
	s, room := newSFU(t)
	p := joinRoom(t, room, "p", false)
	sub, relay := joinShaped(t, s, room, "sub")
	sim := p.publishSimulcast()
	testclock.WaitFor(t, "three layers published", 60*time.Second, func() bool {
		pub := room.Peer("p").Publication(sfu.SourceCamera)
		return pub != nil && pub.Layers() == 3
	})
	sub.sizeTile("p", 1280, 720)
	sub.waitWidth("p", 320)
	r := sub.received("p", sfu.SourceCamera)

	capDown(relay, 300_000)
	sub.waitWidth("p", 160)
	// Once there, it stays: over 300 top-layer packets' time, frames keep
	// coming and almost nothing is missing after retransmissions.
	frames, first := r.frames.Load(), r.highest()
	top := sim.Sent[2].Load()
	testclock.WaitFor(t, "300 packets of the top layer", 60*time.Second, func() bool { return sim.Sent[2].Load() >= top+300 })
	if got := r.frames.Load() - frames; got < 100 {
		t.Errorf("capped at 300 kbit/s, %d frames arrived while the publisher sent 300 top-layer packets", got)
	}
	if w := r.width.Load(); w != 160 {
		t.Errorf("capped at 300 kbit/s, the keyframes are %d wide, want 160", w)
	}
	if last := r.highest() - 20; int16(last-first) > 0 {
		if n, all := r.missing(first, last), int(uint16(last-first)); n*100 > all {
			t.Errorf("capped at 300 kbit/s, %d of %d packets missing", n, all)
		}
	}

	capDown(relay, 50_000)
	testclock.WaitFor(t, "the subscriber to be told its video is paused", 20*time.Second, func() bool {
		ps := sub.paused.Load()
		return ps != nil && slices.Contains(*ps, sfu.TrackInfo{Participant: "p", Source: sfu.SourceCamera})
	})
	// What was queued drains; then no more video arrives.
	testclock.WaitFor(t, "the queue to drain", 10*time.Second, func() bool {
		b := r.bytes.Load()
		top := sim.Sent[2].Load()
		testclock.WaitFor(t, "60 top-layer packets", 60*time.Second, func() bool { return sim.Sent[2].Load() >= top+60 })
		return r.bytes.Load() == b
	})
	bytes := r.bytes.Load()
	top = sim.Sent[2].Load()
	testclock.WaitFor(t, "300 packets of the top layer", 60*time.Second, func() bool { return sim.Sent[2].Load() >= top+300 })
	if got := r.bytes.Load() - bytes; got > 0 {
		t.Errorf("paused, the subscriber still received %d bytes of video", got)
	}

	capDown(relay, 0)
	testclock.WaitFor(t, "the subscriber to be told its video resumed", 40*time.Second, func() bool {
		ps := sub.paused.Load()
		return ps != nil && len(*ps) == 0
	})
	testclock.WaitFor(t, "the top layer again", 40*time.Second, func() bool { return r.width.Load() == 320 })
}

// publishMic sends 20 ms Opus frames of size bytes as the peer's
// microphone until the test ends.
func (g *goPeer) publishMic(size int) {
	g.t.Helper()
	g.newPublisher()
	mic, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, string(sfu.SourceMicrophone), g.peer.ID())
	if err != nil {
		g.t.Fatal(err)
	}
	if _, err := g.pub.AddTrack(mic); err != nil {
		g.t.Fatal(err)
	}
	offer, err := g.pub.CreateOffer(nil)
	if err != nil || gathered(g.pub, offer) != nil {
		g.t.Fatal("publisher offer", err)
	}
	mid := g.pub.GetTransceivers()[0].Mid()
	if err := g.peer.HandleOffer(g.pub.LocalDescription().SDP, map[string]sfu.Source{mid: sfu.SourceMicrophone}); err != nil {
		g.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.t.Cleanup(cancel)
	frame := make([]byte, size)
	g.pub.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			go sendOpus(ctx, mic, frame)
		}
	})
}

// TestMutedMicrophonesTakeNoBandwidth: six participants a host muted keep
// sending their microphones (a browser's muted track still sends), about
// 90 kbit/s each, which the SFU forwards to no one. A subscriber capped at
// 300 kbit/s receives none of it, so its link has room for the camera's
// middle layer, as it would without them: its video is not paused for
// sound it is never sent. Measured at the subscriber.
func TestMutedMicrophonesTakeNoBandwidth(t *testing.T) {
	s, room := newSFU(t)
	p := joinRoom(t, room, "p", false)
	for i := range 6 {
		m := joinRoom(t, room, fmt.Sprintf("m%d", i), false)
		m.peer.SetForwarding(sfu.SourceMicrophone, false)
		m.publishMic(160)
	}
	sub, relay := joinShaped(t, s, room, "sub")
	sim := p.publishSimulcast()
	testclock.WaitFor(t, "three layers published", 60*time.Second, func() bool {
		pub := room.Peer("p").Publication(sfu.SourceCamera)
		return pub != nil && pub.Layers() == 3
	})
	testclock.WaitFor(t, "the microphones to be published", 60*time.Second, func() bool {
		for i := range 6 {
			pub := room.Peer(fmt.Sprintf("m%d", i)).Publication(sfu.SourceMicrophone)
			if pub == nil || pub.Received() < 50 {
				return false
			}
		}
		return true
	})
	sub.sizeTile("p", 1280, 720)
	sub.waitWidth("p", 320)

	capDown(relay, 300_000)
	sub.waitWidth("p", 160)
	r := sub.received("p", sfu.SourceCamera)
	bytes, top := r.bytes.Load(), sim.Sent[2].Load()
	testclock.WaitFor(t, "300 packets of the top layer", 60*time.Second, func() bool { return sim.Sent[2].Load() >= top+300 })
	if sub.everPaused.Load() {
		t.Error("the subscriber was told its video is paused for microphones it is not sent")
	}
	if got := r.bytes.Load() - bytes; got == 0 {
		t.Error("no video arrived")
	}
}
