package sfu

import (
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Counters are the SFU's running totals, for metrics. The media path only
// adds to them (one atomic add, no allocation); a scrape reads them. Every
// method is safe on a nil *Counters, so forwarding code built without an SFU
// (the forwarding tests and benchmarks) counts nothing.
type Counters struct {
	Rooms           atomic.Int64 // rooms open
	AudioTracks     atomic.Int64 // publications being read now
	VideoTracks     atomic.Int64
	PacketsSent     atomic.Uint64 // RTP packets written to subscribers
	BytesSent       atomic.Uint64 // their RTP header and payload bytes
	DroppedFull     atomic.Uint64 // packets a subscriber's full queue dropped
	DroppedWaitKey  atomic.Uint64 // video packets skipped until a keyframe
	NACKsReceived   atomic.Uint64 // NACK messages from subscribers
	Retransmissions atomic.Uint64 // packets resent in answer to them
	PLIsSent        atomic.Uint64 // keyframe requests sent to publishers
	PLIsReceived    atomic.Uint64 // keyframe requests (PLI, FIR) from subscribers
	// TWCC feedback messages from subscribers, read by their link's wire
	// off the socket (see wire.feedback) or passed on by pion.
	FeedbackOnWire, FeedbackViaPion atomic.Uint64
	FirstFrame                      FirstFrameHistogram
}

// Counters are the SFU's running totals.
func (s *SFU) Counters() *Counters { return s.counters }

// sent counts a packet written to a subscriber.
func (c *Counters) sent(h *rtp.Header, payload []byte) {
	if c != nil {
		c.PacketsSent.Add(1)
		c.BytesSent.Add(uint64(h.MarshalSize() + len(payload)))
	}
}

func (c *Counters) feedback(onWire bool) {
	switch {
	case c == nil:
	case onWire:
		c.FeedbackOnWire.Add(1)
	default:
		c.FeedbackViaPion.Add(1)
	}
}

func (c *Counters) droppedFull() {
	if c != nil {
		c.DroppedFull.Add(1)
	}
}

func (c *Counters) droppedWaitKey() {
	if c != nil {
		c.DroppedWaitKey.Add(1)
	}
}

func (c *Counters) nackReceived() {
	if c != nil {
		c.NACKsReceived.Add(1)
	}
}

func (c *Counters) retransmitted() {
	if c != nil {
		c.Retransmissions.Add(1)
	}
}

func (c *Counters) pliSent() {
	if c != nil {
		c.PLIsSent.Add(1)
	}
}

func (c *Counters) pliReceived() {
	if c != nil {
		c.PLIsReceived.Add(1)
	}
}

// tracks is the gauge of publications of a kind.
func (c *Counters) tracks(kind webrtc.RTPCodecType) *atomic.Int64 {
	if kind == webrtc.RTPCodecTypeVideo {
		return &c.VideoTracks
	}
	return &c.AudioTracks
}

// published counts a publication starting (+1) or ending (-1).
func (c *Counters) published(kind webrtc.RTPCodecType, delta int64) {
	if c != nil {
		c.tracks(kind).Add(delta)
	}
}

// roomOpened counts a room opening (+1) or closing (-1).
func (c *Counters) roomOpened(delta int64) {
	if c != nil {
		c.Rooms.Add(delta)
	}
}

// FirstFrameBuckets are the upper bounds, in seconds, of the join to first
// frame histogram: a join should reach its first media well under a second.
var FirstFrameBuckets = [...]float64{0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10}

// FirstFrameHistogram is how long peers waited, from joining the room to the
// first media packet written to them: a count per bucket (the last counts
// those over every bound), their sum in microseconds, and their number.
type FirstFrameHistogram struct {
	Buckets  [len(FirstFrameBuckets) + 1]atomic.Uint64
	SumMicro atomic.Uint64
	Count    atomic.Uint64
}

func (h *FirstFrameHistogram) observe(d time.Duration) {
	i := 0
	for i < len(FirstFrameBuckets) && d.Seconds() > FirstFrameBuckets[i] {
		i++
	}
	h.Buckets[i].Add(1)
	h.SumMicro.Add(uint64(d.Microseconds()))
	h.Count.Add(1)
}

// firstFrame times one peer's wait for its first media packet.
type firstFrame struct {
	c      *Counters
	joined time.Time
	done   atomic.Bool
}

func newFirstFrame(c *Counters) *firstFrame { return &firstFrame{c: c, joined: time.Now()} }

// written is told of every packet written to the peer; the first is timed.
func (f *firstFrame) written() {
	if f == nil || f.c == nil || f.done.Load() || !f.done.CompareAndSwap(false, true) {
		return
	}
	f.c.FirstFrame.observe(time.Since(f.joined))
}
