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
	sd := newDownTrack(pub)
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
	testclock.WaitFor(t, "the resend to block on the subscriber's link", 20*time.Second, func() bool {
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
	testclock.WaitFor(t, "every packet at the other subscriber", 20*time.Second, func() bool {
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
