package sfu

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"classmeet/internal/testclock"
)

// plis counts the keyframe requests a layer writes to its publisher.
type plis struct{ n atomic.Int32 }

func (p *plis) WriteRTCP(pkts []rtcp.Packet) error {
	for _, k := range pkts {
		if _, ok := k.(*rtcp.PictureLossIndication); ok {
			p.n.Add(1)
		}
	}
	return nil
}

// TestWaitingSubscriberIsAskedForWhenTheGapEnds: a subscriber that waits
// for a keyframe less than keyframeGap after the last request gets its
// request sent when the gap ends, with no packet of its own to ask again;
// a thousand waits in one gap are not a thousand requests.
func TestWaitingSubscriberIsAskedForWhenTheGapEnds(t *testing.T) {
	l := newLayer(0, webrtc.RTPCodecTypeVideo, 90000)
	w, c := &plis{}, &Counters{}
	l.awaitKeyframe(w, c)
	if got := w.n.Load(); got != 1 {
		t.Fatalf("the first wait sent %d requests, want 1", got)
	}
	for range 1000 {
		l.awaitKeyframe(w, c)
	}
	testclock.WaitFor(t, "the request when the gap ends", 20*time.Second, func() bool { return w.n.Load() >= 2 })
	if got := w.n.Load(); got > 10 {
		t.Errorf("1,001 waits sent %d requests", got)
	}
	if got := c.PLIsSent.Load(); got != uint64(w.n.Load()) {
		t.Errorf("counted %d requests sent, the publisher had %d", got, w.n.Load())
	}
}

// TestDeferredRequestYieldsToAKeyframe: a deferred request is dropped if
// a keyframe of the layer came after it was asked for (whoever waited has
// one), and sent if none did, once the gap allows.
func TestDeferredRequestYieldsToAKeyframe(t *testing.T) {
	gap := int64(keyframeGap)
	l := newLayer(0, webrtc.RTPCodecTypeVideo, 90000)
	w, c := &plis{}, &Counters{}
	const t0 = int64(1_000_000_000_000)
	if !l.askKeyframe(w, c, t0) {
		t.Fatal("the first request was not sent")
	}
	if l.askKeyframe(w, c, t0+gap-1) {
		t.Fatal("a request within the gap was sent")
	}
	l.keyframe("video/vp8", nil, t0+gap/2) // arrives after the wait at t0+gap/3
	if l.askDue(w, c, t0+gap/3, t0+gap) {
		t.Error("the deferred request was sent after a keyframe came")
	}
	if !l.askDue(w, c, t0+gap/2+1, t0+gap) { // asked after that keyframe
		t.Error("the deferred request was not sent, and no keyframe came since")
	}
	if got := w.n.Load(); got != 2 {
		t.Errorf("the publisher heard %d requests, want 2", got)
	}
}
