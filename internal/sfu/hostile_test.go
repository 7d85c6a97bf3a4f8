package sfu

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"classmeet/internal/testclock"
)

// Hostile subscribers against the forwarding path, without a network.

// stallingWriter is a subscriber's link that takes `after` packets and then
// blocks every write until released: a client on ICE-TCP that stopped
// reading while it still sends NACKs.
type stallingWriter struct {
	after   uint64
	n       atomic.Uint64
	mu      sync.Mutex
	seqs    []uint16 // of the packets it took
	once    sync.Once
	stalled chan struct{} // closed when a write first blocks
	release chan struct{}
}

func newStallingWriter(after uint64) *stallingWriter {
	return &stallingWriter{after: after, stalled: make(chan struct{}), release: make(chan struct{})}
}

func (w *stallingWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	if w.n.Add(1) > w.after {
		w.once.Do(func() { close(w.stalled) })
		<-w.release
		return len(payload), nil
	}
	w.mu.Lock()
	w.seqs = append(w.seqs, h.SequenceNumber)
	w.mu.Unlock()
	return len(payload), nil
}

func (w *stallingWriter) Write(b []byte) (int, error) { return len(b), nil }

// TestBlockedResendDoesNotStallThePublication: a subscriber whose link
// blocks asks for a packet again; the resend waits on its link, and the
// publication's read loop, which comes round the ring to that packet's
// slot, must not wait for it: the other subscribers get every packet.
func TestBlockedResendDoesNotStallThePublication(t *testing.T) {
	pub := testPublication()
	slow := newStallingWriter(10)
	defer close(slow.release)
	sd := newDownTrack(pub, nil, nil)
	sd.bound, sd.ssrc, sd.pt, sd.writer = true, 99, 96, slow
	sd.connected.Store(true)
	defer sd.stop()
	fast := &writer{}
	subscribe(pub, fast)
	for i := range 10 {
		arrive(t, pub, i, i == 0)
	}
	sd.setConnected(true, true) // its link turns out to block: queued from now on
	slow.mu.Lock()
	seq := slow.seqs[5]
	slow.mu.Unlock()
	go sd.resend(seq)
	testclock.WaitFor(t, "the resend to block on the subscriber's link", 60*time.Second, func() bool {
		select {
		case <-slow.stalled:
			return true
		default:
			return false
		}
	})

	const n = 3 * videoRing
	go func() { // the read loop, coming round the ring twice and more
		l := pub.layers[0].Load()
		for i := 10; i < 10+n; i++ {
			p := packet(i, false)
			raw, _ := (&rtp.Packet{Header: p.Header, Payload: p.Payload}).Marshal()
			if stored := l.ring.store(raw, p.Arrival); stored != nil {
				pub.deliver(l, stored, webrtc.MimeTypeVP8, 96)
			}
		}
	}()
	testclock.WaitFor(t, "every packet at the other subscriber", 60*time.Second, func() bool {
		return fast.n.Load() == 10+n
	})
}

// TestStoppedDownTrackStartsNoQueue: the subscriber's link reports itself
// connected over TCP just as the track stops (it left, or was
// unsubscribed, while its PeerConnection's state changed): no queue and
// no goroutine outlive the track.
func TestStoppedDownTrackStartsNoQueue(t *testing.T) {
	pub := testPublication()
	base := runtime.NumGoroutine()
	for range 20 {
		d := subscribe(pub, &writer{})
		d.stop()
		d.setConnected(true, true) // a state change that read the track list before the stop
	}
	testclock.WaitFor(t, "the goroutines back to where they were", 10*time.Second, func() bool {
		return runtime.NumGoroutine() <= base
	})
}

// TestRingRefusesHostileHeaders: RTP a modified client crafts to make the
// read loop parse past its slot (CSRC counts, extension lengths and
// padding counts larger than the packet, padding only, more than an MTU)
// is refused, not forwarded, and never panics. Passed when written: it
// pins the rule down.
func TestRingRefusesHostileHeaders(t *testing.T) {
	hdr := func(b0, b1 byte) []byte {
		return []byte{b0, b1, 0x00, 0x07, 0, 0, 0, 1, 0, 0, 0, 9}
	}
	tests := []struct {
		name string
		raw  []byte
	}{
		{"short", []byte{0x80, 96, 0, 1}},
		{"fifteen CSRCs, none there", append(hdr(0x8f, 96), 1, 2, 3, 4)},
		{"extension longer than the packet", append(hdr(0x90, 96), 0xbe, 0xde, 0xff, 0xff, 1, 2, 3, 4)},
		{"padding larger than the payload", append(hdr(0xa0, 96), 1, 2, 200)},
		{"padding only", append(hdr(0xa0, 96), 0, 0, 3)},
		{"header only", hdr(0x80, 96)},
		{"more than an MTU", append(hdr(0x80, 96), make([]byte, mtu)...)},
	}
	r := newPacketRing(videoRing)
	for _, tt := range tests {
		if p := r.store(tt.raw, testclock.Now()); p != nil {
			t.Errorf("%s: stored as a packet to forward (payload %d bytes)", tt.name, len(p.Payload))
		}
	}
	if s := r.lookup(7); s != nil {
		s.mu.RUnlock()
		t.Error("a refused packet can be resent from the ring")
	}
	good := append(hdr(0x80, 96), 0x10, 0, 0)
	if p := r.store(good, testclock.Now()); p == nil || len(p.Payload) != 3 {
		t.Fatal("a plain packet was refused")
	}
}
