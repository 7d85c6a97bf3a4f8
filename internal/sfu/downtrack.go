package sfu

import (
	"encoding/binary"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// DownTrack sends one publication to one subscriber. It is a pion TrackLocal
// written by the publication's read loop itself (no goroutine hop per
// packet), rewritten so the subscriber sees one continuous stream whatever
// the publisher does. It answers the subscriber's NACKs from the
// publication's ring: it keeps only which outgoing sequence number carried
// which incoming one.
type DownTrack struct {
	// The fields every forwarded packet of a single-layer publication
	// reads or writes come first, side by side, in six cache lines: the
	// read loop fans a packet out to every subscriber in turn, so each
	// track's state is cold by its turn, and every line it spans costs a
	// miss (prefetchAhead asks for these lines ahead; docs/performance.md).
	// A simulcast publication's packets also read the layer's fields below.

	// connected is whether the subscriber's PeerConnection is connected:
	// packets written before that are silently lost, so none are sent.
	connected atomic.Bool
	// videoOff is the subscriber's choice to receive no video (audio only).
	videoOff atomic.Bool
	// restart is set when the subscriber connects again or turns video back
	// on: the next video packet out must be a keyframe (of the layer chosen
	// afresh) and starts a new mapping of sequence numbers and timestamps.
	restart atomic.Bool
	// capLayer is the highest layer the subscriber's link can take, from
	// its bandwidth estimate (see Peer.allocate); -1: none, so its video is
	// paused (audio first).
	capLayer atomic.Int32
	// queue is set while the subscriber's link can block a write (ICE over
	// TCP): its packets then go through a bounded queue and a goroutine of
	// their own, so it never holds up the read loop and everyone else.
	queue atomic.Pointer[downQueue]

	// mu guards the write path: the fields below that are neither atomic
	// nor set when the track is made, and the writer.
	mu       sync.Mutex
	bound    bool
	needKey  bool
	resync   bool // the next packet out starts a new mapping (after video was off)
	midFrame bool // the last video packet sent was not the last of its frame
	pt       uint8
	twccID   uint8 // the transport-wide extension's id (0: not negotiated)
	extBuf   [2]byte
	ssrc     uint32
	lastTS   uint32
	budget   int // retransmissions allowed now: earned by forwarding
	pub      *Publication
	rw       *rewriter    // rwState once the first packet went out (startRewriter)
	history  []sentPacket // by outgoing sequence number; video only (audio is never resent)
	// link is the subscriber's connection, which numbers every packet for
	// its TWCC feedback.
	link    *link
	wire    *wire       // how its packets leave (nil: pion's path)
	first   *firstFrame // the subscriber's wait for its first packet; nil once written (d.mu)
	kind    webrtc.RTPCodecType
	lastAt  time.Time
	srtp    srtpStream
	ext     [1]rtp.Extension
	h       rtp.Header // the rewritten header, reused: no allocation per packet
	rwState rewriter
	sent    atomic.Uint64
	octets  atomic.Uint64
	// aheadSent and aheadRecord are where the next packet's history and
	// link records will be: hints for the fan-out to prefetch
	// (prefetchAhead), never dereferenced.
	aheadSent, aheadRecord atomic.Uintptr

	id, streamID string
	codec        webrtc.RTPCodecCapability
	// stopped: the track is detached for good; it never queues again.
	stopped atomic.Bool
	writer  webrtc.TrackLocalWriter

	// Of a simulcast publication: the layer forwarded now (-1 before the
	// first), the choice of the next, the tile size the client reported,
	// and the VP8 ids rewritten across switches (into scratch).
	layer     int
	sel       selector
	tile      tileSize
	resized   bool // a size report the selector should follow at once
	vp8       vp8Munger
	scratch   []byte
	resendBuf []byte       // a resent packet's payload, copied out of the ring
	current   atomic.Int32 // layer, for the RTCP reader

	wireBuf []byte // a packet sealed for ICE-TCP, made on the first (UDP ones are sealed into the batch)
	padBuf  []byte
	// capRaised: the link was found to carry more; the climb it allows
	// needs no hold (the allocation has its own margin).
	capRaised atomic.Bool

	sender   *webrtc.RTPSender
	out      outbound      // what the subscriber reports receiving
	dropped  atomic.Uint64 // packets a full queue could not take
	skipped  atomic.Uint64 // video packets dropped while waiting for a keyframe
	keyReqs  atomic.Uint64
	nacked   atomic.Uint64 // sequence numbers the subscriber asked again
	resent   atomic.Uint64
	stopOnce sync.Once
}

// historySize is how many outgoing packets a down track remembers the
// source of (a power of two, at least the ring's size).
const historySize = videoRing

// maxBudget caps the retransmissions a subscriber can have in hand: it
// earns one for every two packets forwarded, so NACKs (which it chooses)
// can never make the server send more than half again what it forwards.
const maxBudget = 256

// sentPacket is what a down track sent under one outgoing sequence number.
type sentPacket struct {
	valid    bool
	resends  uint8
	layer    uint8
	out, src uint16
	tsOffset uint32 // outgoing minus incoming RTP timestamp
	vp8      vp8Offsets
}

func newDownTrack(pub *Publication, l *link, w *wire) *DownTrack {
	d := &DownTrack{
		link:     l,
		wire:     w,
		id:       string(pub.Source) + "." + pub.Participant,
		streamID: pub.Participant,
		codec:    pub.Codec.RTPCodecCapability,
		kind:     pub.Kind,
		pub:      pub,
		needKey:  pub.Kind == webrtc.RTPCodecTypeVideo,
		layer:    -1,
		sel:      newSelector(),
	}
	if pub.Kind == webrtc.RTPCodecTypeVideo {
		d.history = make([]sentPacket, historySize)
		d.resendBuf = make([]byte, mtu)
	}
	d.capLayer.Store(MaxLayers - 1)
	pub.attach(d)
	pub.RequestKeyframe()
	return d
}

// Bind is called by pion once negotiation chose a codec for this track.
func (d *DownTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, ok := matchCodec(d.codec, ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	d.mu.Lock()
	d.bound, d.ssrc, d.pt, d.writer = true, uint32(ctx.SSRC()), uint8(codec.PayloadType), ctx.WriteStream()
	d.twccID = 0
	for _, e := range ctx.HeaderExtensions() {
		if e.URI == transportCCURI && e.ID > 0 && e.ID < 15 {
			d.twccID = uint8(e.ID)
		}
	}
	d.mu.Unlock()
	d.pub.RequestKeyframe() // the subscriber can decode from the next one
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
func (d *DownTrack) Publication() *Publication { return d.pub }

// forward is called by the publication's read loop for every packet.
func (d *DownTrack) forward(p *Packet) {
	if !d.connected.Load() || d.videoOff.Load() || d.capLayer.Load() < 0 {
		return
	}
	if q := d.queue.Load(); q != nil {
		select {
		case q.ch <- p.clone():
		default:
			d.dropped.Add(1)
			d.pub.counters.droppedFull()
		}
		return
	}
	d.mu.Lock()
	d.send(p)
	d.mu.Unlock()
}

// send rewrites and writes one packet (or takes note of a padding-only
// one not forwarded: no payload); the caller holds d.mu.
func (d *DownTrack) send(p *Packet) {
	if !d.bound {
		return
	}
	if len(p.Payload) == 0 {
		if d.rw != nil && (!d.pub.simulcast.Load() || p.Layer == d.layer) {
			d.rw.drop(p.Header.SequenceNumber)
		}
		return
	}
	// Loaded first: a swap on every packet would be a write to shared
	// memory on the hot path.
	if d.restart.Load() && d.restart.Swap(false) && d.kind == webrtc.RTPCodecTypeVideo {
		// The keyframe is numbered next after the last packet sent, so the
		// packets skipped until it comes are no gap for the subscriber to
		// ask for.
		d.needKey, d.resync, d.layer = true, true, -1
	}
	simulcast, switched := d.pub.simulcast.Load(), false
	if simulcast {
		var ok bool
		if switched, ok = d.follow(p); !ok {
			return
		}
	}
	if d.needKey && !p.Keyframe {
		d.skipped.Add(1)
		d.pub.counters.droppedWaitKey()
		d.pub.awaitLayerKeyframe(p.Layer) // at most one request per keyframeGap
		return
	}
	d.needKey = false
	if d.rw == nil {
		d.startRewriter(p.Header.SequenceNumber, p.Header.Timestamp)
	}
	seq, ts, ok := d.rw.rewrite(p.Header.SequenceNumber, p.Header.Timestamp, p.Arrival, p.Resync || switched || d.resync)
	if !ok {
		return
	}
	d.resync = false
	payload, offsets := p.Payload, vp8Offsets{}
	if simulcast {
		payload, offsets = d.munge(p.Payload, switched)
	}
	if d.history != nil {
		d.history[seq%historySize] = sentPacket{
			valid: true, layer: uint8(p.Layer), out: seq, src: p.Header.SequenceNumber, tsOffset: ts - p.Header.Timestamp, vp8: offsets,
		}
		d.aheadSent.Store(hint(&d.history[(seq+1)%historySize]))
	}
	if _, err := d.write(&p.Header, seq, ts, payload, p.Arrival); err != nil {
		return
	}
	d.sent.Add(1)
	d.octets.Add(uint64(len(p.Payload)))
	d.pub.counters.sent(&d.h, p.Payload)
	if d.first != nil {
		d.first.written()
		d.first = nil // timed: not touched again on every packet
	}
	d.lastTS, d.lastAt = ts, p.Arrival
	d.midFrame = d.kind == webrtc.RTPCodecTypeVideo && !p.Header.Marker
	if d.sent.Load()%2 == 0 && d.budget < maxBudget {
		d.budget++
	}
}

// startRewriter maps the track's outgoing numbers from the first packet
// out, kept in the track itself (no line of its own to miss); the caller
// holds d.mu.
func (d *DownTrack) startRewriter(firstSeq uint16, firstTS uint32) {
	d.rwState = *newRewriter(d.codec.ClockRate, firstSeq, firstTS)
	d.rw = &d.rwState
}

// write sends src's payload under this track's SSRC, payload type and the
// given sequence number and timestamp, numbered for TWCC as sent at at;
// the caller holds d.mu.
func (d *DownTrack) write(src *rtp.Header, seq uint16, ts uint32, payload []byte, at time.Time) (int, error) {
	d.h = *src
	d.h.SSRC, d.h.PayloadType, d.h.SequenceNumber, d.h.Timestamp = d.ssrc, d.pt, seq, ts
	d.h.CSRC = nil
	d.stamp(len(payload), at)
	return d.writeRTP(payload)
}

// writeRTP sends d.h and payload: on the link's wire, or through pion if
// the link's packets go that way; the caller holds d.mu.
func (d *DownTrack) writeRTP(payload []byte) (int, error) {
	if d.wire != nil {
		if n, ok, err := d.wire.writeRTP(&d.h, payload, &d.srtp, &d.wireBuf); ok {
			return n, err
		}
	}
	return d.writer.WriteRTP(&d.h, payload)
}

// stamp gives the header in d.h its transport-wide sequence number (or no
// extension, if TWCC was not negotiated); the caller holds d.mu.
func (d *DownTrack) stamp(size int, at time.Time) {
	if d.twccID == 0 || d.link == nil {
		d.h.Extension, d.h.Extensions, d.h.ExtensionProfile = false, nil, 0
		return
	}
	seq, next := d.link.stampNext(size+wireOverhead, at)
	d.aheadRecord.Store(next)
	d.extBuf[0], d.extBuf[1] = byte(seq>>8), byte(seq)
	// Set into the track's own one-element slice: nothing allocated.
	d.h.Extension, d.h.ExtensionProfile, d.h.Extensions = false, 0, d.ext[:0]
	_ = d.h.SetExtension(d.twccID, d.extBuf[:])
}

// pad sends one padding-only packet (a probe's) under the next sequence
// number, which no media packet then takes, if a frame is not half sent;
// false if the track cannot pad at all. A track whose packets the link
// does not number (its m-line was answered without the extension) cannot
// pad: the probe would never count its
// padding as sent, and would send on each tick all it was due since it
// began (dozens of times its target), nor ever hear what arrived.
func (d *DownTrack) pad(now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.bound || d.history == nil || d.twccID == 0 || d.link == nil {
		return false
	}
	if d.midFrame && d.capLayer.Load() >= 0 && !d.videoOff.Load() {
		// Not between the packets of one frame: a receiver assembles a
		// frame from consecutive sequence numbers, and one taken by
		// padding would leave it undecodable until the next keyframe.
		// The probe pads after the frame's last packet instead.
		return true
	}
	if d.rw == nil {
		d.startRewriter(uint16(now.UnixNano()), uint32(now.UnixNano()>>8))
	}
	seq, ts := d.rw.skip()
	d.history[seq%historySize] = sentPacket{} // a NACK for it is not answered
	if d.padBuf == nil {
		d.padBuf = make([]byte, padSize)
		d.padBuf[padSize-1] = padSize
	}
	d.h = rtp.Header{Version: 2, Padding: true, SSRC: d.ssrc, PayloadType: d.pt, SequenceNumber: seq, Timestamp: ts}
	d.stamp(padSize, now)
	_, err := d.writeRTP(d.padBuf)
	return err == nil
}

// resend answers a NACK for one outgoing sequence number from the
// publication's ring, if it still holds the packet, the subscriber has
// budget left, and that packet was not already sent twice again.
func (d *DownTrack) resend(seq uint16) {
	d.nacked.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.history == nil {
		return
	}
	e := &d.history[seq%historySize]
	if d.videoOff.Load() || d.capLayer.Load() < 0 {
		return // its video stopped: it starts again at a keyframe
	}
	if !d.bound || !e.valid || e.out != seq || e.resends >= 2 || d.budget == 0 {
		return
	}
	l := d.pub.layers[e.layer].Load()
	if l == nil {
		return
	}
	slot := l.ring.lookup(e.src)
	if slot == nil {
		return
	}
	// Copied out, and the slot let go before the write: a write can block
	// (ICE-TCP), and the read loop must never wait for one to store into
	// this slot when it comes round the ring.
	h, payload := slot.pkt.Header, d.resendBuf[:copy(d.resendBuf, slot.pkt.Payload)]
	slot.mu.RUnlock()
	if e.vp8 != (vp8Offsets{}) {
		if desc, ok := parseVP8(payload); ok {
			payload = rewriteVP8(d.scratch, payload, desc, e.vp8)
		}
	}
	if _, err := d.write(&h, seq, h.Timestamp+e.tsOffset, payload, time.Now()); err == nil {
		e.resends++
		d.budget--
		d.resent.Add(1)
		d.pub.counters.retransmitted()
	}
}

// senderReport is the report for what this track sent, mapping its RTP
// time to now; false if it has sent nothing yet.
func (d *DownTrack) senderReport(now time.Time) (*rtcp.SenderReport, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.bound || d.lastAt.IsZero() {
		return nil, false
	}
	rtpTime := d.lastTS
	if elapsed := now.Sub(d.lastAt); elapsed > 0 {
		rtpTime += uint32(uint64(elapsed) * uint64(d.codec.ClockRate) / uint64(time.Second))
	}
	return &rtcp.SenderReport{
		SSRC: d.ssrc, NTPTime: ntpTime(now), RTPTime: rtpTime,
		PacketCount: uint32(d.sent.Load()), OctetCount: uint32(d.octets.Load()),
	}, true
}

// setConnected is told when the subscriber's PeerConnection connects or
// loses its connection, and whether its link runs over TCP.
func (d *DownTrack) setConnected(connected, overTCP bool) {
	d.setQueued(connected && overTCP)
	if d.connected.Swap(connected) == connected || !connected {
		return
	}
	d.restart.Store(true)
	d.pub.RequestKeyframe()
}

// downQueue is a down track's bounded queue while its link can block.
type downQueue struct {
	ch   chan *Packet
	quit chan struct{}
}

// setQueued starts or stops queueing this track's packets.
func (d *DownTrack) setQueued(on bool) {
	if on == (d.queue.Load() != nil) {
		return
	}
	if !on {
		if q := d.queue.Swap(nil); q != nil {
			close(q.quit)
		}
		return
	}
	q := &downQueue{ch: make(chan *Packet, 512), quit: make(chan struct{})}
	if !d.queue.CompareAndSwap(nil, q) {
		return
	}
	// A state change can come as the track stops (its peer read the list
	// of tracks before): whichever of the two takes q back closes it, so
	// no goroutine outlives the track.
	if d.stopped.Load() {
		if d.queue.CompareAndSwap(q, nil) {
			close(q.quit)
		}
		return
	}
	go func() {
		for {
			select {
			case p := <-q.ch:
				d.mu.Lock()
				d.send(p)
				d.mu.Unlock()
			case <-q.quit:
				return
			}
		}
	}()
}

// readRTCP answers the subscriber's NACKs, passes its keyframe requests
// to the publisher and its TWCC feedback to the link. Feedback, which
// comes ten times a second or more, is read where it lies; the rest, a
// few packets a second, is parsed by pion.
func (d *DownTrack) readRTCP() {
	buf := make([]byte, mtu)
	for {
		n, _, err := d.sender.Read(buf)
		if err != nil {
			return
		}
		d.mu.Lock()
		ssrc := d.ssrc
		d.mu.Unlock()
		for b := buf[:n]; len(b) >= 4; {
			size := 4 * (int(binary.BigEndian.Uint16(b[2:])) + 1)
			if size > len(b) {
				break
			}
			pkt := b[:size]
			b = b[size:]
			if pkt[1] == rtcpTransportFeedback && pkt[0]&0x1f == rtcpFormatTWCC {
				if d.link != nil {
					d.link.feedback(pkt, time.Now())
					d.pub.counters.feedback(false)
				}
				continue
			}
			parsed, err := rtcp.Unmarshal(pkt)
			if err != nil {
				continue
			}
			for _, p := range parsed {
				d.handleRTCP(p, ssrc)
			}
		}
	}
}

// The RTCP packet type and format of TWCC feedback (RFC 4585, draft-holmer-rmcat-transport-wide-cc-extensions).
const (
	rtcpTransportFeedback = 205
	rtcpFormatTWCC        = 15
)

// handleRTCP acts on one RTCP packet from the subscriber of the track
// whose SSRC is ssrc.
func (d *DownTrack) handleRTCP(pkt rtcp.Packet, ssrc uint32) {
	switch pkt := pkt.(type) {
	case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
		d.keyReqs.Add(1)
		d.pub.counters.pliReceived()
		d.pub.requestLayerKeyframe(int(d.current.Load()))
	case *rtcp.TransportLayerNack:
		if pkt.MediaSSRC != ssrc {
			return
		}
		d.pub.counters.nackReceived()
		for _, pair := range pkt.Nacks {
			pair.Range(func(seq uint16) bool {
				d.resend(seq)
				return true
			})
		}
	case *rtcp.ReceiverReport:
		for _, r := range pkt.Reports {
			if r.SSRC == ssrc {
				now := time.Now()
				d.out.report(r, d.codec.ClockRate, now)
				d.pub.downLoss.report(d, r.FractionLost, now)
			}
		}
	}
}

// stop detaches the track from its publication: nothing more is written.
func (d *DownTrack) stop() {
	d.stopOnce.Do(func() {
		d.stopped.Store(true)
		d.pub.detach(d)
		d.setQueued(false)
	})
}

// Stats are a down track's counters.
type DownTrackStats struct {
	Sent, Dropped, SkippedForKeyframe, KeyframeRequests, Nacked, Resent uint64
}

// Stats reads the counters.
func (d *DownTrack) Stats() DownTrackStats {
	return DownTrackStats{
		Sent: d.sent.Load(), Dropped: d.dropped.Load(), SkippedForKeyframe: d.skipped.Load(),
		KeyframeRequests: d.keyReqs.Load(), Nacked: d.nacked.Load(), Resent: d.resent.Load(),
	}
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

// follow decides whether a packet of a simulcast publication is forwarded:
// the down track keeps to its layer until a keyframe of the layer its
// selector targets arrives, and switches there (switched). The first
// packet after a switch is always a keyframe of the new layer.
func (d *DownTrack) follow(p *Packet) (switched, ok bool) {
	set := d.pub.layerSet(p.Arrival)
	capped := int(d.capLayer.Load())
	raised := d.capRaised.Load() && d.capRaised.Swap(false)
	want := chooseLayer(layerInputs{tile: d.tile, layers: set, maxLayer: max(capped, 0)})
	// Until the first packet goes out, the choice follows the layers as
	// they appear; after, at once only what must not wait: a link that
	// cannot carry the layer any more is one.
	immediate := d.layer < 0 || d.resized || d.tile.hidden() || (d.sel.target >= 0 && !set.live[d.sel.target]) ||
		(d.sel.target > capped && want < d.sel.target) ||
		(raised && want > d.sel.target)
	d.resized = false
	target := d.sel.update(want, immediate, p.Arrival)
	switch {
	case p.Layer == d.layer: // the current layer, until the target's keyframe
		return false, true
	case p.Layer != target:
		return false, false
	case p.Keyframe:
		d.layer = target
		d.current.Store(int32(target))
		return true, true
	}
	d.pub.awaitLayerKeyframe(target)
	return false, false
}

// munge rewrites a simulcast VP8 packet's picture id and TL0PICIDX so
// they continue across layer switches; the caller holds d.mu.
func (d *DownTrack) munge(payload []byte, switched bool) ([]byte, vp8Offsets) {
	if !strings.EqualFold(d.codec.MimeType, webrtc.MimeTypeVP8) {
		return payload, vp8Offsets{}
	}
	desc, ok := parseVP8(payload)
	if !ok {
		return payload, vp8Offsets{}
	}
	o := d.vp8.next(desc, switched)
	if o != (vp8Offsets{}) && d.scratch == nil {
		d.scratch = make([]byte, mtu)
	}
	return rewriteVP8(d.scratch, payload, desc, o), o
}

// MaxTileSide bounds a reported tile size, in device pixels.
const MaxTileSide = 16384

// setTileSize takes the size a subscriber shows this video at (0x0:
// hidden). The first report, and the first after a hidden tile, is
// followed at once; later ones after they held for holdFor.
func (d *DownTrack) setTileSize(width, height uint32) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.tile.reported || d.tile.hidden() {
		d.resized = true
	}
	d.tile = tileSize{width: width, height: height, reported: true}
}

// Layer is the simulcast layer forwarded now (0 without simulcast), -1
// before the first packet.
func (d *DownTrack) Layer() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.pub.simulcast.Load() && d.rw != nil {
		return 0
	}
	return d.layer
}

// setVideoOff stops (true) or resumes writing this video to the
// subscriber, who chose to receive audio only. Its packets are skipped
// while off; on resuming the track waits for a keyframe of the layer its
// selector picks now, and the stream carries on without a gap.
func (d *DownTrack) setVideoOff(off bool) {
	if d.kind != webrtc.RTPCodecTypeVideo || d.videoOff.Swap(off) == off || off {
		return
	}
	d.restart.Store(true)
	d.pub.RequestKeyframe()
}
