package sfu_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"classmeet/internal/sfu"
	"classmeet/internal/testclient"
	"classmeet/internal/testclock"
)

// publishSimulcast sends the peer's camera in three layers (80×60, 160×120,
// 320×240) until the test ends.
func (g *goPeer) publishSimulcast() *testclient.Simulcast {
	g.t.Helper()
	g.newPublisher()
	sim, err := testclient.AddSimulcastCamera(g.pub, g.peer.ID())
	if err != nil {
		g.t.Fatal(err)
	}
	g.offerCamera(func(ctx context.Context) { sim.Send(ctx, g.pub) })
	return sim
}

// sizeTile reports the size g shows p's camera at, once g receives it.
func (g *goPeer) sizeTile(from string, w, h int) {
	g.t.Helper()
	testclock.WaitFor(g.t, "the camera to size", 60*time.Second, func() bool {
		return g.peer.SetVideoSize(from, sfu.SourceCamera, w, h) == nil
	})
}

// waitWidth waits until g decodes keyframes of from's camera w pixels wide.
func (g *goPeer) waitWidth(from string, w uint32) {
	g.t.Helper()
	testclock.WaitFor(g.t, "keyframes of the right width", 60*time.Second, func() bool {
		return g.received(from, sfu.SourceCamera).width.Load() == w
	})
}

// TestSimulcastLayerPerTileSize: a publisher sends its camera in three
// layers; a subscriber that shows it as a thumbnail receives the lowest
// (80×60 keyframes, the least data), one that shows it large the top
// (320×240), measured from what arrives. When the large tile shrinks to a
// thumbnail, that subscriber's stream moves down to the lowest layer without
// a gap in its sequence numbers.
func TestSimulcastLayerPerTileSize(t *testing.T) {
	room := newSFURoom(t)
	p := joinRoom(t, room, "p", false)
	small := joinRoom(t, room, "small", false)
	large := joinRoom(t, room, "large", false)
	sim := p.publishSimulcast()
	testclock.WaitFor(t, "three layers published", 60*time.Second, func() bool {
		pub := room.Peer("p").Publication(sfu.SourceCamera)
		return pub != nil && pub.Layers() == 3
	})
	small.sizeTile("p", 80, 60)
	large.sizeTile("p", 1280, 720)
	small.waitWidth("p", 80)
	large.waitWidth("p", 320)

	// Bitrate: over the same stretch of the publisher's top layer, the
	// thumbnail gets well under half of what the large tile gets.
	rs, rl := small.received("p", sfu.SourceCamera), large.received("p", sfu.SourceCamera)
	bs, bl, top := rs.bytes.Load(), rl.bytes.Load(), sim.Sent[2].Load()
	testclock.WaitFor(t, "300 packets of the top layer", 60*time.Second, func() bool { return sim.Sent[2].Load() >= top+300 })
	ds, dl := rs.bytes.Load()-bs, rl.bytes.Load()-bl
	if dl == 0 || ds*2 > dl {
		t.Errorf("the thumbnail received %d bytes while the large tile received %d", ds, dl)
	}
	if w := rs.width.Load(); w != 80 {
		t.Errorf("the thumbnail's keyframes are %d wide", w)
	}

	// The large tile becomes a thumbnail: down to the lowest layer.
	first := rl.highest()
	large.sizeTile("p", 80, 60)
	large.waitWidth("p", 80)
	testclock.WaitFor(t, "packets after the switch", 60*time.Second, func() bool { return int16(rl.highest()-first) > 200 })
	if n := rl.missing(first, rl.highest()-50); n > 3 {
		t.Errorf("%d sequence numbers missing across the switch", n)
	}
}

// TestSimulcastHostileSizes: size reports for a video the peer does not
// receive (its own, someone absent, a microphone), absurd sizes and a flood
// of sizes flipping back and forth are refused or come to nothing: the
// thumbnail keeps its layer and its media.
func TestSimulcastHostileSizes(t *testing.T) {
	room := newSFURoom(t)
	p := joinRoom(t, room, "p", false)
	s := joinRoom(t, room, "s", false)
	p.publishSimulcast()
	s.sizeTile("p", 80, 60)
	s.waitWidth("p", 80)

	for _, c := range []struct {
		from string
		src  sfu.Source
		w, h int
		want error
	}{
		{"s", sfu.SourceCamera, 80, 60, sfu.ErrNoSuchTrack},      // its own
		{"nobody", sfu.SourceCamera, 80, 60, sfu.ErrNoSuchTrack}, // not here
		{"p", sfu.SourceMicrophone, 80, 60, sfu.ErrNoSuchTrack},  // not video
		{"p", sfu.SourceScreen, 80, 60, sfu.ErrNoSuchTrack},      // not published
		{"p", sfu.SourceCamera, -1, 60, sfu.ErrBadVideoSize},
		{"p", sfu.SourceCamera, 80, 1 << 30, sfu.ErrBadVideoSize},
	} {
		if err := s.peer.SetVideoSize(c.from, c.src, c.w, c.h); !errors.Is(err, c.want) {
			t.Errorf("%s/%s %dx%d: %v, want %v", c.from, c.src, c.w, c.h, err, c.want)
		}
	}
	for i := range 20000 {
		if i%2 == 0 {
			_ = s.peer.SetVideoSize("p", sfu.SourceCamera, 4000, 3000)
		} else {
			_ = s.peer.SetVideoSize("p", sfu.SourceCamera, 80, 60)
		}
	}
	got := s.received("p", sfu.SourceCamera)
	keys := got.keyframes.Load()
	testclock.WaitFor(t, "three more keyframes", 60*time.Second, func() bool { return got.keyframes.Load() >= keys+3 })
	if w := got.width.Load(); w != 80 {
		t.Errorf("after a flood of sizes ending small, keyframes %d wide", w)
	}
}
