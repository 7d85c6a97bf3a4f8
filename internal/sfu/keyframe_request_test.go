package sfu

import (
	"sync/atomic"
	"testing"
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

// ms is a time in the tests below, Unix ns: t0 plus d milliseconds.
func ms(d int64) int64 { return 1_000_000_000_000 + d*int64(time.Millisecond) }

// TestWaitingSubscriberIsAskedForWhenTheGapEnds: a subscriber that waits
// for a keyframe less than keyframeGap after the last request has its
// request deferred to the gap's end, and sent then; a thousand waits in
// one gap are one request.
func TestWaitingSubscriberIsAskedForWhenTheGapEnds(t *testing.T) {
	l := newLayer(0, webrtc.RTPCodecTypeVideo, 90000)
	w, c := &plis{}, &Counters{}
	if _, deferred := l.await(w, c, ms(0)); deferred || w.n.Load() != 1 {
		t.Fatalf("the first wait: deferred %v, %d requests; want asked at once", deferred, w.n.Load())
	}
	wait, deferred := l.await(w, c, ms(100))
	if !deferred || wait != keyframeGap-100*time.Millisecond {
		t.Fatalf("a wait 100 ms after the request: deferred %v by %v, want by %v", deferred, wait, keyframeGap-100*time.Millisecond)
	}
	for i := range int64(1000) {
		if _, again := l.await(w, c, ms(100+i/10)); again {
			t.Fatalf("wait %d in the same gap deferred a second request", i)
		}
	}
	if got := w.n.Load(); got != 1 {
		t.Fatalf("%d requests before the gap ended, want 1", got)
	}
	if !l.due(w, c, ms(300)) || w.n.Load() != 2 {
		t.Errorf("the deferred request was not sent when the gap ended (%d requests)", w.n.Load())
	}
	if got := c.PLIsSent.Load(); got != 2 {
		t.Errorf("counted %d requests sent, want 2", got)
	}
	if _, deferred := l.await(w, c, ms(350)); !deferred {
		t.Error("a wait in the next gap was not deferred: the deferred one did not free the next")
	}
}

// TestDeferredRequestYieldsToAKeyframe: a deferred request is not sent if
// a keyframe of the layer came after the last subscriber began waiting
// (whoever waited has one), and is sent if a subscriber began waiting
// after that keyframe, as in a class joining.
func TestDeferredRequestYieldsToAKeyframe(t *testing.T) {
	l := newLayer(0, webrtc.RTPCodecTypeVideo, 90000)
	w, c := &plis{}, &Counters{}
	l.await(w, c, ms(0)) // asked at once
	if _, deferred := l.await(w, c, ms(10)); !deferred {
		t.Fatal("a wait within the gap was not deferred")
	}
	l.keyframe("video/vp8", nil, ms(100))
	if l.due(w, c, ms(300)) || w.n.Load() != 1 {
		t.Fatalf("%d requests, want 1: a keyframe came after the only wait", w.n.Load())
	}

	l.await(w, c, ms(400)) // past the gap: asked at once
	if _, deferred := l.await(w, c, ms(410)); !deferred {
		t.Fatal("a wait within the second gap was not deferred")
	}
	l.keyframe("video/vp8", nil, ms(450))
	l.await(w, c, ms(500)) // began waiting after the keyframe
	if !l.due(w, c, ms(700)) || w.n.Load() != 3 {
		t.Errorf("%d requests, want 3: a joiner began waiting after the keyframe", w.n.Load())
	}
}
