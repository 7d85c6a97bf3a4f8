package sfu

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// DownTrack sends one publication to one subscriber. It is a pion TrackLocal
// whose packets come from its own Subscription, rewritten so the subscriber
// sees one continuous stream whatever the publisher does.
type DownTrack struct {
	id, streamID string
	codec        webrtc.RTPCodecCapability
	kind         webrtc.RTPCodecType
	sub          *Subscription

	// connected is whether the subscriber's PeerConnection is connected:
	// packets written before that are silently lost, so none are sent, and
	// a video track starts (again) at a keyframe once it is.
	connected atomic.Bool
	restart   atomic.Bool

	mu     sync.Mutex
	bound  bool
	ssrc   uint32
	pt     uint8
	writer webrtc.TrackLocalWriter
	sender *webrtc.RTPSender

	out      outbound // what the subscriber reports receiving
	sent     atomic.Uint64
	skipped  atomic.Uint64 // video packets dropped while waiting for a keyframe
	keyReqs  atomic.Uint64
	first    *firstFrame // the subscriber's wait for its first packet, or nil
	stopOnce sync.Once
}

func newDownTrack(pub *Publication) *DownTrack {
	return &DownTrack{
		id:       string(pub.Source) + "." + pub.Participant,
		streamID: pub.Participant,
		codec:    pub.Codec.RTPCodecCapability,
		kind:     pub.Kind,
		sub:      pub.Subscribe(512),
	}
}

// Bind is called by pion once negotiation chose a codec for this track.
func (d *DownTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, ok := matchCodec(d.codec, ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	d.mu.Lock()
	d.bound, d.ssrc, d.pt, d.writer = true, uint32(ctx.SSRC()), uint8(codec.PayloadType), ctx.WriteStream()
	d.mu.Unlock()
	d.sub.pub.RequestKeyframe() // the subscriber can decode from the next one
	return codec, nil
}

// Unbind is called by pion when the track stops being sent.
func (d *DownTrack) Unbind(webrtc.TrackLocalContext) error {
	d.mu.Lock()
	d.bound = false
	d.mu.Unlock()
	return nil
}

func (d *DownTrack) ID() string                { return d.id }
func (d *DownTrack) RID() string               { return "" }
func (d *DownTrack) StreamID() string          { return d.streamID }
func (d *DownTrack) Kind() webrtc.RTPCodecType { return d.kind }

// Publication is what this track carries.
func (d *DownTrack) Publication() *Publication { return d.sub.pub }

// run writes the subscription's packets until it ends.
func (d *DownTrack) run() {
	var rw *rewriter
	needKey := d.kind == webrtc.RTPCodecTypeVideo
	var h rtp.Header // one rewritten header, reused: no allocation per packet
	for {
		p, ok := d.sub.Recv()
		if !ok {
			return
		}
		d.mu.Lock()
		bound, ssrc, pt, w := d.bound, d.ssrc, d.pt, d.writer
		d.mu.Unlock()
		if !bound || !d.connected.Load() {
			continue
		}
		if d.restart.Swap(false) && d.kind == webrtc.RTPCodecTypeVideo {
			needKey = true
		}
		if needKey && !p.Keyframe {
			d.skipped.Add(1)
			d.sub.pub.counters.droppedWaitKey()
			d.sub.pub.RequestKeyframe() // throttled by the publication
			continue
		}
		needKey = false
		if rw == nil {
			rw = newRewriter(d.codec.ClockRate, p.Header.SequenceNumber, p.Header.Timestamp)
		}
		seq, ts, ok := rw.rewrite(p.Header.SequenceNumber, p.Header.Timestamp, p.Arrival, p.Resync)
		if !ok {
			continue
		}
		h = p.Header
		h.SSRC, h.PayloadType, h.SequenceNumber, h.Timestamp = ssrc, pt, seq, ts
		h.Extension, h.Extensions, h.ExtensionProfile = false, nil, 0
		h.CSRC = nil
		if _, err := w.WriteRTP(&h, p.Payload); err == nil {
			d.sent.Add(1)
			d.sub.pub.counters.sent(&h, p.Payload)
			d.first.written()
		}
	}
}

// setConnected is told when the subscriber's PeerConnection connects or
// loses its connection.
func (d *DownTrack) setConnected(connected bool) {
	if d.connected.Swap(connected) == connected || !connected {
		return
	}
	d.restart.Store(true)
	d.sub.pub.RequestKeyframe()
}

// readRTCP passes the subscriber's keyframe requests to the publisher. The
// NACK responder interceptor answers NACKs before they get here.
func (d *DownTrack) readRTCP() {
	for {
		pkts, _, err := d.sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt := pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				d.keyReqs.Add(1)
				d.sub.pub.counters.pliReceived()
				d.sub.pub.RequestKeyframe()
			case *rtcp.ReceiverReport:
				d.mu.Lock()
				ssrc := d.ssrc
				d.mu.Unlock()
				for _, r := range pkt.Reports {
					if r.SSRC == ssrc {
						d.out.report(r, d.codec.ClockRate, time.Now())
					}
				}
			}
		}
	}
}

// stop detaches the track from its publication; run returns.
func (d *DownTrack) stop() {
	d.stopOnce.Do(d.sub.Close)
}

// Stats are a down track's counters.
type DownTrackStats struct {
	Sent, Dropped, SkippedForKeyframe, KeyframeRequests uint64
}

// Stats reads the counters.
func (d *DownTrack) Stats() DownTrackStats {
	return DownTrackStats{Sent: d.sent.Load(), Dropped: d.sub.Dropped(), SkippedForKeyframe: d.skipped.Load(), KeyframeRequests: d.keyReqs.Load()}
}

// matchCodec finds the negotiated codec that carries what the publisher sends.
func matchCodec(want webrtc.RTPCodecCapability, have []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, bool) {
	var fallback *webrtc.RTPCodecParameters
	for i, c := range have {
		if !strings.EqualFold(c.MimeType, want.MimeType) || c.ClockRate != want.ClockRate {
			continue
		}
		if fmtpParam(c.SDPFmtpLine, "packetization-mode") != fmtpParam(want.SDPFmtpLine, "packetization-mode") ||
			fmtpParam(c.SDPFmtpLine, "profile-id") != fmtpParam(want.SDPFmtpLine, "profile-id") {
			continue
		}
		if fmtpParam(c.SDPFmtpLine, "profile-level-id") == fmtpParam(want.SDPFmtpLine, "profile-level-id") {
			return c, true
		}
		if fallback == nil {
			fallback = &have[i]
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return webrtc.RTPCodecParameters{}, false
}

func fmtpParam(fmtp, key string) string {
	for _, kv := range strings.Split(fmtp, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && strings.EqualFold(k, key) {
			return strings.ToLower(v)
		}
	}
	return ""
}
