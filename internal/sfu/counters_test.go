package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// A resend from the ring is counted as a retransmission; what is
// forwarded is counted once, header and payload bytes.
func TestCountersSeeForwardingAndResends(t *testing.T) {
	c := &Counters{}
	pub := testPublication()
	pub.counters = c
	w := &writer{copied: true}
	d := subscribe(pub, w)
	for i := range 10 {
		arrive(t, pub, i, i == 0)
	}
	d.resend(w.written()[3].seq)
	if got := c.PacketsSent.Load(); got != 10 {
		t.Errorf("packets sent %d, want 10", got)
	}
	// Each packet: the RTP header, the TWCC extension (4 bytes of
	// extension header, 1 of id and length, 2 of sequence number, 1 of
	// padding), the payload.
	if got, want := c.BytesSent.Load(), uint64(10*(12+8+1100)); got != want {
		t.Errorf("bytes sent %d, want %d", got, want)
	}
	if got := c.Retransmissions.Load(); got != 1 {
		t.Errorf("retransmissions %d, want 1", got)
	}
}

// Counting on the media path allocates nothing, with counters or without.
func TestCountersAllocateNothing(t *testing.T) {
	h := &rtp.Header{Version: 2, SequenceNumber: 1}
	payload := make([]byte, 1000)
	for _, c := range []*Counters{{}, nil} {
		f := newFirstFrame(c)
		if n := testing.AllocsPerRun(100, func() {
			c.sent(h, payload)
			c.droppedFull()
			c.droppedWaitKey()
			c.pliSent()
			c.pliReceived()
			c.nackReceived()
			c.retransmitted()
			c.published(webrtc.RTPCodecTypeVideo, 1)
			f.written()
		}); n != 0 {
			t.Errorf("counters %v: %v allocations per packet", c != nil, n)
		}
	}
}

func TestFirstFrameHistogram(t *testing.T) {
	var h FirstFrameHistogram
	for _, d := range []time.Duration{40 * time.Millisecond, 250 * time.Millisecond, time.Minute} {
		h.observe(d)
	}
	if h.Buckets[0].Load() != 1 || h.Buckets[3].Load() != 1 || h.Buckets[len(FirstFrameBuckets)].Load() != 1 || h.Count.Load() != 3 {
		t.Errorf("buckets %v count %d", &h.Buckets, h.Count.Load())
	}
	if h.SumMicro.Load() != 60_290_000 {
		t.Errorf("sum %d µs", h.SumMicro.Load())
	}
}
