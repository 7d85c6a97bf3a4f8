package sfu

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"classmeet/internal/testclock"
)

// The forwarding path without a network: a publication whose packets are
// handed in by the test, and down tracks that write to recorders.

func testPublication() *Publication {
	p := &Publication{
		ID: "p/camera", Participant: "p", Source: SourceCamera, Kind: webrtc.RTPCodecTypeVideo, done: make(chan struct{}),
		Codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96},
	}
	p.stats.clockRate = 90000
	p.subs.Store(&[]*Subscription{})
	p.lastPLI.Store(math.MaxInt64) // no PeerConnection to ask for keyframes
	return p
}

// writer records what a down track writes; hold, when set, makes it slow.
type writer struct {
	mu     sync.Mutex
	first  []byte
	n      atomic.Uint64
	hold   chan struct{}
	copied bool
}

func (w *writer) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	if w.hold != nil {
		<-w.hold
	}
	if w.n.Add(1) == 1 && w.copied {
		w.mu.Lock()
		w.first = append([]byte(nil), payload...)
		w.mu.Unlock()
	}
	return len(payload), nil
}

func (w *writer) Write(b []byte) (int, error) { return len(b), nil }

// subscribe makes a connected, bound down track of pub writing to w.
func subscribe(pub *Publication, w *writer) *DownTrack {
	d := newDownTrack(pub)
	d.bound, d.ssrc, d.pt, d.writer = true, 1234, 96, w
	d.connected.Store(true)
	go d.run()
	return d
}

// vp8 is a VP8 payload: the first packet of a keyframe, or of another frame.
func vp8(key bool) []byte {
	p := make([]byte, 1100)
	p[0] = 0x10 // S=1, partition 0
	if !key {
		p[1] = 0x01 // P=1: an interframe
	}
	return p
}

func packet(seq int, key bool) *Packet {
	return &Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: uint16(seq), Timestamp: uint32(seq * 3000), SSRC: 1},
		Payload: vp8(key), Arrival: testclock.Now(),
	}
}

// TestSlowSubscriberDoesNotHoldUpOthers: one subscriber stops taking
// packets; the publisher's hand-off never waits for it, the others get
// every packet, and the slow one's losses are counted as drops.
func TestSlowSubscriberDoesNotHoldUpOthers(t *testing.T) {
	pub := testPublication()
	slow := &writer{hold: make(chan struct{})}
	defer close(slow.hold)
	fast := []*writer{{}, {}}
	sd := subscribe(pub, slow)
	for _, w := range fast {
		subscribe(pub, w)
	}
	// Packets come as a publisher sends them, in bursts the fast ones keep
	// up with; the hand-off returns although the slow one never reads.
	const n = 3000
	for i := range n {
		pub.deliver(packet(i, i%30 == 0), webrtc.MimeTypeVP8, 96)
		if i%100 == 99 {
			for _, w := range fast {
				testclock.WaitFor(t, "the fast subscribers to keep up", 20*time.Second, func() bool { return w.n.Load() == uint64(i+1) })
			}
		}
	}
	if sd.sub.Dropped() == 0 {
		t.Error("the slow subscriber's queue overflowed without a drop counted")
	}
}

// TestSubscriberStartsAtAKeyframe: a video down track writes nothing until
// a keyframe comes, so the subscriber can decode from its first packet.
func TestSubscriberStartsAtAKeyframe(t *testing.T) {
	pub := testPublication()
	w := &writer{copied: true}
	d := subscribe(pub, w)
	for i := range 10 {
		pub.deliver(packet(i, false), webrtc.MimeTypeVP8, 96)
	}
	pub.deliver(packet(10, true), webrtc.MimeTypeVP8, 96)
	pub.deliver(packet(11, false), webrtc.MimeTypeVP8, 96)
	testclock.WaitFor(t, "the keyframe and what follows", 10*time.Second, func() bool { return w.n.Load() == 2 })
	w.mu.Lock()
	defer w.mu.Unlock()
	if !vp8Keyframe(w.first) {
		t.Error("the first packet written is not a keyframe's")
	}
	if d.skipped.Load() != 10 {
		t.Errorf("%d packets skipped before the keyframe, want 10", d.skipped.Load())
	}
}

// BenchmarkDeliver: one publisher packet handed to N down tracks, each
// rewriting and writing it; ns/op and allocs/op are per publisher packet.
func BenchmarkDeliver(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			pub := testPublication()
			ws := make([]*writer, n)
			ds := make([]*DownTrack, n)
			for i := range ws {
				ws[i] = &writer{}
				ds[i] = subscribe(pub, ws[i])
			}
			pkts := make([]*Packet, 1024)
			for i := range pkts {
				pkts[i] = packet(i, true)
			}
			// All delivered (written or dropped) up to packet i.
			caughtUp := func(i int) bool {
				for j, w := range ws {
					if w.n.Load()+ds[j].sub.Dropped() < uint64(i) {
						return false
					}
				}
				return true
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				pub.deliver(pkts[i%len(pkts)], webrtc.MimeTypeVP8, 96)
				if i%64 == 63 { // a burst, as a publisher's frame arrives, then the subscribers catch up
					for !caughtUp(i + 1) {
						runtime.Gosched()
					}
				}
			}
			for !caughtUp(b.N) {
				runtime.Gosched()
			}
			b.StopTimer()
			var dropped uint64
			for _, d := range ds {
				dropped += d.sub.Dropped()
			}
			b.ReportMetric(float64(dropped)/float64(b.N*n), "dropped/delivery")
			pub.end()
		})
	}
}
