package sfu

import (
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// MaxLayers is how many simulcast layers one publication takes: a browser
// sends a camera as q, h and f (a quarter, half and full resolution).
const MaxLayers = 3

// layerGone is how long a layer may send nothing before subscribers stop
// counting on it: a browser short of bandwidth stops sending its top
// layer without ending the track.
const layerGone = time.Second

// layerIndex maps a simulcast rid to its layer, lowest first: a track
// without a rid (a screen share, a client that does not simulcast) is the
// one layer 0. Other rids are refused.
func layerIndex(rid string) (int, bool) {
	switch rid {
	case "", "q":
		return 0, true
	case "h":
		return 1, true
	case "f":
		return 2, true
	}
	return 0, false
}

// layer is one encoding of a publication: its own RTP stream, read by its
// own loop into its own ring, with its own statistics and keyframes.
type layer struct {
	index int
	track *webrtc.TrackRemote // nil in tests
	ssrc  uint32

	ring          *packetRing
	stats         inbound // written by the layer's read loop only
	received      atomic.Uint64
	lastPLI       atomic.Int64 // when a keyframe was last asked for, Unix ns
	pliDue        atomic.Bool  // a request waits for keyframeGap to end (awaitKeyframe)
	waitAt        atomic.Int64 // when a subscriber last began waiting, if after keyAt; Unix ns
	keyAt         atomic.Int64 // arrival of the latest keyframe, Unix ns
	lastAt        atomic.Int64 // arrival of the latest packet, Unix ns
	resync        atomic.Bool  // the next packet is the first after a pause
	width, height atomic.Uint32
	lastSR        atomic.Pointer[SenderReport]

	// The layer's bitrate, on the wire: bytes counted by the read loop
	// since meterFrom, and the latest measure in bit/s.
	meterBytes int64
	meterFrom  int64
	bps        atomic.Uint64
}

// meterPeriod is how often a layer's bitrate is measured.
const meterPeriod = 500 * time.Millisecond

// meter counts a packet of size bytes that arrived at at; the read loop's
// alone.
func (l *layer) meter(size int, at time.Time) {
	now := at.UnixNano()
	if l.meterFrom == 0 {
		l.meterFrom = now
	}
	l.meterBytes += int64(size)
	if elapsed := now - l.meterFrom; elapsed >= int64(meterPeriod) {
		bps := uint64(l.meterBytes * 8 * int64(time.Second) / elapsed)
		if old := l.bps.Load(); old != 0 {
			bps = (bps + 3*old) / 4 // smoothed over the last two seconds or so: keyframes come every few
		}
		l.bps.Store(bps)
		l.meterBytes, l.meterFrom = 0, now
	}
}

func newLayer(index int, kind webrtc.RTPCodecType, clockRate uint32) *layer {
	size := audioRing
	if kind == webrtc.RTPCodecTypeVideo {
		size = videoRing
	}
	l := &layer{index: index, ring: newPacketRing(size)}
	l.stats.clockRate = clockRate
	return l
}

// live reports whether the layer sent something in the last layerGone.
func (l *layer) live(now time.Time) bool {
	at := l.lastAt.Load()
	return at != 0 && now.UnixNano()-at < int64(layerGone)
}

// keyframeGap is the least time between two keyframe requests to one
// layer: a keyframe costs the publisher several times a frame's bits, and
// a class joining at once would otherwise ask for dozens a second.
const keyframeGap = 300 * time.Millisecond

// rtcpWriter takes a layer's keyframe requests: the publisher's
// PeerConnection.
type rtcpWriter interface {
	WriteRTCP([]rtcp.Packet) error
}

// requestKeyframe sends a PLI for this layer's SSRC, unless one went less
// than keyframeGap ago.
func (l *layer) requestKeyframe(w rtcpWriter, c *Counters) {
	l.askKeyframe(w, c, time.Now().UnixNano())
}

// askKeyframe sends the PLI if the gap since the last one allows it at
// now (Unix ns), and reports whether it did.
func (l *layer) askKeyframe(w rtcpWriter, c *Counters, now int64) bool {
	last := l.lastPLI.Load()
	if now-last < int64(keyframeGap) || !l.lastPLI.CompareAndSwap(last, now) {
		return false
	}
	if w.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: l.ssrc}}) == nil {
		c.pliSent() // not once the publisher's connection closed
	}
	return true
}

// awaitKeyframe asks for a keyframe for a subscriber that waits on one:
// now, or, when the last request went less than keyframeGap ago, as soon
// as the gap ends, unless a keyframe of the layer comes after the last
// subscriber began waiting. (Asking again only with the subscriber's next
// packet added up to a frame's time to every joiner's wait.)
func (l *layer) awaitKeyframe(w rtcpWriter, c *Counters) {
	if wait, ok := l.await(w, c, time.Now().UnixNano()); ok {
		time.AfterFunc(wait, func() { l.due(w, c, time.Now().UnixNano()) })
	}
}

// await asks for a keyframe at now (Unix ns), or notes that a subscriber
// waits for one; ok: the request is deferred, and due must be called
// after wait. One request at most is deferred for each gap.
func (l *layer) await(w rtcpWriter, c *Counters, now int64) (wait time.Duration, ok bool) {
	if l.askKeyframe(w, c, now) {
		return 0, false
	}
	if l.keyAt.Load() >= l.waitAt.Load() { // the last waiter's keyframe came: this one waits anew
		l.waitAt.Store(now)
	}
	if l.pliDue.Load() || !l.pliDue.CompareAndSwap(false, true) {
		return 0, false
	}
	// Bounded by the gap: a clock set back would otherwise hold the request.
	return min(max(time.Duration(l.lastPLI.Load()+int64(keyframeGap)-now), 0), keyframeGap), true
}

// due sends, at now, the request await deferred, unless a keyframe of the
// layer arrived since the last subscriber began waiting; it reports
// whether it did.
func (l *layer) due(w rtcpWriter, c *Counters, now int64) bool {
	l.pliDue.Store(false)
	return l.keyAt.Load() < l.waitAt.Load() && l.askKeyframe(w, c, now)
}

// layerSet is what a subscriber can choose from now: the resolution of
// each live layer (0x0 if none of its keyframes was seen yet).
type layerSet struct {
	live          [MaxLayers]bool
	width, height [MaxLayers]uint32
}

// layerSet reads the publication's layers as they are at now.
func (p *Publication) layerSet(now time.Time) layerSet {
	var s layerSet
	for i := range p.layers {
		if l := p.layers[i].Load(); l != nil && l.live(now) {
			s.live[i] = true
			s.width[i], s.height[i] = l.width.Load(), l.height.Load()
		}
	}
	return s
}

// keyframe notes a keyframe of this layer that arrived at at (Unix ns),
// and the picture size it carries.
func (l *layer) keyframe(mime string, payload []byte, at int64) {
	l.keyAt.Store(at)
	if w, h, ok := vp8KeyframeSize(mime, payload); ok {
		l.width.Store(uint32(w))
		l.height.Store(uint32(h))
	}
}
