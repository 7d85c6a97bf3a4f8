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
	lastPLI       atomic.Int64
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

// requestKeyframe sends a PLI for this layer's SSRC, at most every 300 ms.
func (l *layer) requestKeyframe(pc *webrtc.PeerConnection, c *Counters) {
	if pc == nil || l.track == nil {
		return
	}
	now := time.Now().UnixNano()
	last := l.lastPLI.Load()
	if now-last < int64(300*time.Millisecond) || !l.lastPLI.CompareAndSwap(last, now) {
		return
	}
	c.pliSent()
	_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: l.ssrc}})
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

// keyframe notes the picture size a keyframe of this layer carries.
func (l *layer) keyframe(mime string, payload []byte) {
	if w, h, ok := vp8KeyframeSize(mime, payload); ok {
		l.width.Store(uint32(w))
		l.height.Store(uint32(h))
	}
}
