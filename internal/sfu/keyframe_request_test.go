package sfu

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
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
// a thousand waits in one gap are one request, and nobody waiting, none.
func TestWaitingSubscriberIsAskedForWhenTheGapEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLayer(0, webrtc.RTPCodecTypeVideo, 90000)
		w, c := &plis{}, &Counters{}
		l.awaitKeyframe(w, c)
		if got := w.n.Load(); got != 1 {
			t.Fatalf("the first wait sent %d requests, want 1", got)
		}
		for range 1000 {
			l.awaitKeyframe(w, c)
		}
		time.Sleep(keyframeGap - time.Millisecond)
		synctest.Wait()
		if got := w.n.Load(); got != 1 {
			t.Errorf("%d requests before the gap ended, want 1", got)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if got := w.n.Load(); got != 2 {
			t.Errorf("%d requests when the gap ended, want 2", got)
		}
		time.Sleep(10 * keyframeGap)
		synctest.Wait()
		if got := w.n.Load(); got != 2 {
			t.Errorf("%d requests with nobody waiting since, want 2", got)
		}
		if got := c.PLIsSent.Load(); got != 2 {
			t.Errorf("counted %d requests sent, want 2", got)
		}
	})
}

// TestDeferredRequestYieldsToAKeyframe: a request deferred to the end of
// the gap is not sent if a keyframe of the layer came after the last
// subscriber began waiting (whoever waited has one), and is sent if a
// subscriber began waiting after that keyframe, as in a class joining.
func TestDeferredRequestYieldsToAKeyframe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLayer(0, webrtc.RTPCodecTypeVideo, 90000)
		w, c := &plis{}, &Counters{}
		keyframe := func() { l.keyframe("video/vp8", nil, time.Now().UnixNano()) }

		l.awaitKeyframe(w, c) // asked at once
		time.Sleep(10 * time.Millisecond)
		l.awaitKeyframe(w, c) // waits for the gap
		time.Sleep(90 * time.Millisecond)
		keyframe()
		time.Sleep(keyframeGap)
		synctest.Wait()
		if got := w.n.Load(); got != 1 {
			t.Fatalf("%d requests, want 1: a keyframe came after the only wait", got)
		}

		l.awaitKeyframe(w, c) // past the gap: asked at once
		time.Sleep(10 * time.Millisecond)
		l.awaitKeyframe(w, c) // waits
		time.Sleep(40 * time.Millisecond)
		keyframe()
		time.Sleep(50 * time.Millisecond)
		l.awaitKeyframe(w, c) // began waiting after the keyframe
		time.Sleep(keyframeGap)
		synctest.Wait()
		if got := w.n.Load(); got != 3 {
			t.Errorf("%d requests, want 3: one joiner began waiting after the keyframe", got)
		}
	})
}
