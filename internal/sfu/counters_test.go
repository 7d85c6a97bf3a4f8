package sfu

import (
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// The counting interceptor tells a resend from a new packet by its sequence
// number (wrapping at 65535) and counts the NACKs read.
func TestCountingInterceptor(t *testing.T) {
	c := &Counters{}
	i := &countingInterceptor{c: c}
	var written int
	w := i.BindLocalStream(&interceptor.StreamInfo{}, interceptor.RTPWriterFunc(func(*rtp.Header, []byte, interceptor.Attributes) (int, error) {
		written++
		return 0, nil
	}))
	for _, seq := range []uint16{65533, 65534, 65535, 0, 1, 65535, 1, 2} { // resends: 65535 and 1
		if _, err := w.Write(&rtp.Header{SequenceNumber: seq}, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Retransmissions.Load(); got != 2 || written != 8 {
		t.Errorf("retransmissions %d, written %d; want 2 of 8", got, written)
	}

	raw, err := rtcp.Marshal([]rtcp.Packet{
		&rtcp.TransportLayerNack{MediaSSRC: 1, Nacks: []rtcp.NackPair{{PacketID: 5}}},
		&rtcp.PictureLossIndication{MediaSSRC: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := i.BindRTCPReader(interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		return copy(b, raw), a, nil
	}))
	if _, _, err := r.Read(make([]byte, 1500), nil); err != nil {
		t.Fatal(err)
	}
	if got := c.NACKsReceived.Load(); got != 1 {
		t.Errorf("NACKs received %d, want 1", got)
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
