package sfu

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Source is what a published track carries.
type Source string

const (
	SourceMicrophone  Source = "microphone"
	SourceCamera      Source = "camera"
	SourceScreen      Source = "screen"
	SourceScreenAudio Source = "screen_audio"
)

// Valid reports whether s is a known source.
func (s Source) Valid() bool {
	switch s {
	case SourceMicrophone, SourceCamera, SourceScreen, SourceScreenAudio:
		return true
	}
	return false
}

// Kind is the media a source carries: a microphone or a screen's sound is
// audio, a camera or a screen is video. A track labelled with a source must
// carry that kind, whatever its client claims.
func (s Source) Kind() webrtc.RTPCodecType {
	switch s {
	case SourceMicrophone, SourceScreenAudio:
		return webrtc.RTPCodecTypeAudio
	case SourceCamera, SourceScreen:
		return webrtc.RTPCodecTypeVideo
	}
	return 0
}

// Packet is one RTP packet as it arrived from a publisher. Subscribers share
// it and must not modify it.
type Packet struct {
	Header  rtp.Header
	Payload []byte
	Arrival time.Time
	// Keyframe marks the first packet of a keyframe: a decoder can start here.
	Keyframe bool
	// Resync marks the first packet after the publication was paused: a
	// subscriber should continue its outgoing stream without a gap.
	Resync bool
	// Layer is the simulcast layer the packet came on, 0 (the lowest, or
	// the only one) to MaxLayers-1.
	Layer int
}

// SenderReport is the publisher's latest mapping of RTP time to wall time.
type SenderReport struct {
	NTPTime uint64 // 64-bit NTP timestamp
	RTPTime uint32
	At      time.Time // when it arrived
}

// Publication is one track a participant publishes, in one layer or, with
// simulcast, up to MaxLayers. Each layer's read loop is the only reader of
// its remote track. It writes each packet to every down track itself, with
// no hand-off to another goroutine (a down track whose link can block queues
// instead: see DownTrack.forward), and hands a copy to every queued
// subscription (the recorder) without ever waiting for one. Each down track
// picks the layer it forwards; a subscription takes the best one.
type Publication struct {
	ID          string // unique in the room: participant and source
	Participant string
	Source      Source
	Codec       webrtc.RTPCodecParameters
	Kind        webrtc.RTPCodecType

	pc *webrtc.PeerConnection

	layers    [MaxLayers]atomic.Pointer[layer]
	simulcast atomic.Bool  // a layer came with a rid: subscribers choose
	firstAt   atomic.Int64 // arrival of the first packet of any layer, Unix ns
	downs     atomic.Pointer[[]*DownTrack]
	subs      atomic.Pointer[[]*Subscription]
	subsMu    sync.Mutex // guards changes to downs, subs and layers
	reading   int        // layers whose read loop runs; under subsMu
	paused    atomic.Bool
	foreign   atomic.Uint64 // packets of another payload type, never forwarded
	counters  *Counters     // the SFU's, or nil
	batch     *batchConn    // the SFU's UDP socket, or nil
	downLoss  *downLoss     // what an audio track's subscribers lose, or nil
	done      chan struct{}
}

func newPublication(participant string, source Source, track *webrtc.TrackRemote, pc *webrtc.PeerConnection) *Publication {
	p := &Publication{
		ID: participant + "/" + string(source), Participant: participant, Source: source,
		Codec: track.Codec(), Kind: track.Kind(), pc: pc, done: make(chan struct{}),
	}
	p.init()
	return p
}

func (p *Publication) init() {
	p.subs.Store(&[]*Subscription{})
	p.downs.Store(&[]*DownTrack{})
}

// addLayer takes one more of the publisher's encodings (track may be nil in
// tests); nil if the publication ended, the rid is unknown or its layer is
// taken already, or a second layer is offered for audio. The caller starts
// its read loop (readLayer).
func (p *Publication) addLayer(rid string, track *webrtc.TrackRemote) *layer {
	i, ok := layerIndex(rid)
	if !ok || (rid != "" && p.Kind != webrtc.RTPCodecTypeVideo) {
		return nil
	}
	p.subsMu.Lock()
	defer p.subsMu.Unlock()
	select {
	case <-p.done:
		return nil
	default:
	}
	if p.layers[i].Load() != nil || (p.reading > 0 && (rid == "") != !p.simulcast.Load()) {
		return nil // a layer twice, or simulcast and one plain track mixed
	}
	l := newLayer(i, p.Kind, p.Codec.ClockRate)
	if track != nil {
		l.track, l.ssrc = track, uint32(track.SSRC())
	}
	if rid != "" {
		p.simulcast.Store(true)
	}
	if p.reading == 0 {
		p.counters.published(p.Kind, 1)
	}
	p.reading++
	p.layers[i].Store(l)
	return l
}

// Subscribe attaches a new subscriber with a queue of `queue` packets. A
// video subscriber starts at a keyframe, so one is requested.
func (p *Publication) Subscribe(queue int) *Subscription {
	s := &Subscription{pub: p, ch: make(chan *Packet, queue), done: make(chan struct{}), layer: -1}
	p.subsMu.Lock()
	select {
	case <-p.done:
		close(s.ch) // the publication already ended; nobody will send
	default:
		added(&p.subs, s)
	}
	p.subsMu.Unlock()
	p.RequestKeyframe()
	return s
}

func (p *Publication) unsubscribe(s *Subscription) {
	p.subsMu.Lock()
	defer p.subsMu.Unlock()
	removed(&p.subs, s)
	s.closeOnce.Do(func() { close(s.done) })
}

// attach and detach add and remove a down track the read loop writes to.
func (p *Publication) attach(d *DownTrack) {
	p.subsMu.Lock()
	added(&p.downs, d)
	p.subsMu.Unlock()
}

func (p *Publication) detach(d *DownTrack) {
	p.subsMu.Lock()
	removed(&p.downs, d)
	p.subsMu.Unlock()
}

// added and removed replace a copy-on-write list the read loop reads
// without a lock; the caller holds subsMu.
func added[T comparable](list *atomic.Pointer[[]T], v T) {
	old := *list.Load()
	next := append(append(make([]T, 0, len(old)+1), old...), v)
	list.Store(&next)
}

func removed[T comparable](list *atomic.Pointer[[]T], v T) {
	old := *list.Load()
	next := make([]T, 0, len(old))
	for _, o := range old {
		if o != v {
			next = append(next, o)
		}
	}
	list.Store(&next)
}

// SetPaused stops (true) or resumes forwarding: what the publisher sends
// while paused reaches no subscriber. Resuming asks for a keyframe.
func (p *Publication) SetPaused(paused bool) {
	if p.paused.Swap(paused) && !paused {
		for i := range p.layers {
			if l := p.layers[i].Load(); l != nil {
				l.resync.Store(true)
			}
		}
		p.RequestKeyframe()
	}
}

// Paused reports whether forwarding is stopped.
func (p *Publication) Paused() bool { return p.paused.Load() }

// RequestKeyframe asks the publisher for a keyframe in every layer, at
// most once per keyframeGap each.
func (p *Publication) RequestKeyframe() {
	for i := range p.layers {
		p.requestLayerKeyframe(i)
	}
}

// requestLayerKeyframe asks for a keyframe in one layer, unless the last
// request was too recent (keyframeGap).
func (p *Publication) requestLayerKeyframe(i int) {
	if l := p.videoLayer(i); l != nil {
		l.requestKeyframe(p.pc, p.counters)
	}
}

// awaitLayerKeyframe asks for a keyframe in one layer for a subscriber
// that cannot go on without one: now, or when keyframeGap allows.
func (p *Publication) awaitLayerKeyframe(i int) {
	if l := p.videoLayer(i); l != nil {
		l.awaitKeyframe(p.pc, p.counters)
	}
}

// videoLayer is layer i of a video publication, read from a track of a
// connection that keyframes can be asked for on; nil if not.
func (p *Publication) videoLayer(i int) *layer {
	if p.Kind != webrtc.RTPCodecTypeVideo || p.pc == nil || i < 0 || i >= MaxLayers {
		return nil
	}
	if l := p.layers[i].Load(); l != nil && l.track != nil {
		return l
	}
	return nil
}

// LastSenderReport is the publisher's latest RTCP sender report of its
// best layer (the one the recorder takes), or nil.
func (p *Publication) LastSenderReport() *SenderReport {
	for i := MaxLayers - 1; i >= 0; i-- {
		if l := p.layers[i].Load(); l != nil {
			if sr := l.lastSR.Load(); sr != nil {
				return sr
			}
		}
	}
	return nil
}

// Received counts the RTP packets read from the publisher, in every layer.
func (p *Publication) Received() uint64 {
	var n uint64
	for i := range p.layers {
		if l := p.layers[i].Load(); l != nil {
			n += l.received.Load()
		}
	}
	return n
}

// Layers counts the layers the publisher sends now.
func (p *Publication) Layers() int {
	n := 0
	for i := range p.layers {
		if p.layers[i].Load() != nil {
			n++
		}
	}
	return n
}

// bestLayer is the highest layer that is live at now, or -1.
func (p *Publication) bestLayer(now time.Time) int {
	for i := MaxLayers - 1; i >= 0; i-- {
		if l := p.layers[i].Load(); l != nil && l.live(now) {
			return i
		}
	}
	return -1
}

// Done is closed when the publication ends.
func (p *Publication) Done() <-chan struct{} { return p.done }

// readLayer is one layer's read loop; it returns when the track ends. The
// publication ends with its last layer.
func (p *Publication) readLayer(l *layer) {
	defer p.layerEnded(l)
	mime, pt := p.Codec.MimeType, uint8(p.Codec.PayloadType)
	buf := make([]byte, mtu) // read here, kept in the ring: nothing allocated per packet
	for {
		n, _, err := l.track.Read(buf)
		if err != nil {
			return
		}
		p.arrived(l, buf[:n], time.Now(), mime, pt)
	}
}

// arrived takes one packet as read from the layer's track: stored and
// fanned out, or, if it carries only padding, skipped by every down track.
func (p *Publication) arrived(l *layer, raw []byte, at time.Time, mime string, pt uint8) {
	if pkt := l.ring.store(raw, at); pkt != nil {
		p.deliver(l, pkt, mime, pt)
	} else if pad, ok := paddingOnly(raw, l.index, pt); ok {
		p.skipPadding(pad)
	}
}

// paddingOnly reads a packet that carries nothing but padding (a browser
// probing its own uplink); false for anything else.
func paddingOnly(raw []byte, layer int, pt uint8) (*Packet, bool) {
	var h rtp.Header
	n, err := h.Unmarshal(raw)
	if err != nil || !h.Padding || h.PayloadType != pt || n >= len(raw) || int(raw[len(raw)-1]) != len(raw)-n {
		return nil, false
	}
	return &Packet{Header: rtp.Header{SequenceNumber: h.SequenceNumber, Timestamp: h.Timestamp}, Layer: layer}, true
}

// skipPadding tells every down track and subscription that a
// padding-only packet is not forwarded: each numbers the packets after it
// one less, so the subscriber sees no gap to ask retransmissions for (the
// ring does not keep it, and could not answer), and the recorder none to
// wait for and count lost.
func (p *Publication) skipPadding(pad *Packet) {
	for _, d := range *p.downs.Load() {
		d.forward(pad)
	}
	for _, s := range *p.subs.Load() {
		s.skip(pad)
	}
}

// deliver writes one packet read from the publisher to every down track and
// hands a copy to every queued subscription: the forwarding path's fan-out,
// measured by BenchmarkDeliver.
func (p *Publication) deliver(l *layer, pkt *Packet, mime string, pt uint8) {
	if pkt.Header.PayloadType != pt {
		p.foreign.Add(1) // another codec than the track's: perhaps another kind of media
		return
	}
	l.received.Add(1)
	l.meter(len(pkt.Payload)+wireOverhead, pkt.Arrival)
	l.stats.packet(pkt.Header.SequenceNumber, pkt.Header.Timestamp, pkt.Arrival)
	l.lastAt.Store(pkt.Arrival.UnixNano())
	if p.firstAt.Load() == 0 {
		p.firstAt.CompareAndSwap(0, pkt.Arrival.UnixNano())
	}
	if p.paused.Load() {
		return
	}
	pkt.Keyframe = startsKeyframe(mime, pkt.Payload)
	pkt.Resync = l.resync.Swap(false)
	pkt.Layer = l.index
	if pkt.Keyframe {
		l.keyframe(mime, pkt.Payload, pkt.Arrival.UnixNano())
	}
	p.batch.begin()
	downs := *p.downs.Load()
	for i, d := range downs {
		prefetchAhead(downs, i)
		d.forward(pkt)
	}
	p.batch.flush()
	if subs := *p.subs.Load(); len(subs) > 0 {
		if p.simulcast.Load() {
			for _, s := range subs {
				s.pushLayer(pkt) // each takes one layer, rewritten for it
			}
			return
		}
		for _, s := range subs {
			s.pushPlain(pkt)
		}
	}
}

// readReports keeps the publisher's latest sender report of each layer.
func (p *Publication) readReports(r *webrtc.RTPReceiver, rid string) {
	for {
		read := r.ReadRTCP
		if rid != "" {
			read = func() ([]rtcp.Packet, interceptor.Attributes, error) { return r.ReadSimulcastRTCP(rid) }
		}
		pkts, _, err := read()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			sr, ok := pkt.(*rtcp.SenderReport)
			if !ok {
				continue
			}
			for i := range p.layers {
				if l := p.layers[i].Load(); l != nil && l.ssrc == sr.SSRC {
					l.lastSR.Store(&SenderReport{NTPTime: sr.NTPTime, RTPTime: sr.RTPTime, At: time.Now()})
				}
			}
		}
	}
}

// layerEnded forgets a layer whose track ended; the last one ends the
// publication.
func (p *Publication) layerEnded(l *layer) {
	p.subsMu.Lock()
	defer p.subsMu.Unlock()
	p.layers[l.index].CompareAndSwap(l, nil)
	if p.reading--; p.reading == 0 {
		p.end()
	}
}

// end closes every subscription's queue; the caller holds subsMu. Only the
// read loops send on the queues, and they have stopped, so closing them is
// safe. Down tracks are detached by their peers when the room hears the
// publication ended.
func (p *Publication) end() {
	select {
	case <-p.done:
		return
	default:
	}
	close(p.done)
	p.counters.published(p.Kind, -1)
	for _, s := range *p.subs.Load() {
		close(s.ch)
	}
	p.subs.Store(&[]*Subscription{})
}

// Subscription is one subscriber's bounded queue of a publication's packets.
// When the subscriber falls behind, packets are dropped and counted: a slow
// subscriber never delays the publisher or anyone else.
type Subscription struct {
	pub       *Publication
	ch        chan *Packet // closed by the read loop when the publication ends
	done      chan struct{}
	closeOnce sync.Once
	dropped   atomic.Uint64

	// Of a simulcast publication a subscription takes the best layer,
	// rewritten as one continuous stream; layerMu serialises the layers'
	// read loops.
	layerMu sync.Mutex
	layer   int // -1 until the first keyframe
	rw      *rewriter
	// Of a one-layer publication it takes the packets as they came, but
	// numbered past the publisher's padding (not queued): shift is how
	// many padding packets were taken out, next the sequence number
	// after the newest packet.
	shift, next uint16
	started     bool
}

func (s *Subscription) push(p *Packet) {
	select {
	case s.ch <- p:
	default:
		s.dropped.Add(1)
		s.pub.counters.droppedFull()
	}
}

// Recv waits for the next packet; false means the subscription or the
// publication ended.
func (s *Subscription) Recv() (*Packet, bool) {
	select {
	case p, ok := <-s.ch:
		return p, ok
	case <-s.done:
		return nil, false
	}
}

// Packets is the queue itself, for a subscriber that waits on other things
// too. It is closed when the publication ends (not on Close).
func (s *Subscription) Packets() <-chan *Packet { return s.ch }

// Dropped counts packets dropped because the queue was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Publication is what this subscription receives.
func (s *Subscription) Publication() *Publication { return s.pub }

// Close detaches the subscription; Recv returns false from now on.
func (s *Subscription) Close() { s.pub.unsubscribe(s) }

// pushLayer queues a simulcast packet if it is of the layer this
// subscription takes: the best one live, changed only at a keyframe of
// the new one, whose mapping then continues the stream without a gap. The
// layers' first packets arrive one by one: it starts on a lower layer only
// once the top one had time to show up, so a recording starts at its best
// (its file header has the first keyframe's picture size).
func (s *Subscription) pushLayer(pkt *Packet) {
	s.layerMu.Lock()
	defer s.layerMu.Unlock()
	best := s.pub.bestLayer(pkt.Arrival)
	resync := pkt.Resync
	switch {
	case pkt.Layer == s.layer:
		if best > s.layer {
			s.pub.requestLayerKeyframe(best) // a better layer came (back)
		}
	case pkt.Layer == best && pkt.Keyframe && (s.layer >= 0 || best == MaxLayers-1 || s.pub.settled(pkt.Arrival)):
		s.layer, resync = best, true
	default:
		if pkt.Layer == best {
			s.pub.requestLayerKeyframe(best)
		}
		return
	}
	c := pkt.clone()
	if s.rw == nil {
		s.rw = newRewriter(s.pub.Codec.ClockRate, c.Header.SequenceNumber, c.Header.Timestamp)
	}
	seq, ts, ok := s.rw.rewrite(c.Header.SequenceNumber, c.Header.Timestamp, c.Arrival, resync)
	if !ok {
		return
	}
	c.Header.SequenceNumber, c.Header.Timestamp, c.Resync = seq, ts, resync
	s.push(c)
}

// pushPlain queues a copy of a one-layer publication's packet (the ring
// reuses pkt's slot; a queue outlives that), numbered past the
// publisher's padding (see skip). A gap the publisher left, or a pause,
// stays a gap: the recorder must see that packets are missing.
func (s *Subscription) pushPlain(pkt *Packet) {
	s.layerMu.Lock()
	defer s.layerMu.Unlock()
	seq := pkt.Header.SequenceNumber
	if !s.started || int16(seq-s.next) >= 0 {
		s.next, s.started = seq+1, true
	}
	c := pkt.clone()
	c.Header.SequenceNumber = seq - s.shift
	s.push(c)
}

// skip takes note of a padding-only packet of the publisher's, which is
// not queued: if it is the next in order, the packets after it are
// numbered one less.
func (s *Subscription) skip(pad *Packet) {
	s.layerMu.Lock()
	defer s.layerMu.Unlock()
	seq := pad.Header.SequenceNumber
	switch {
	case !s.pub.simulcast.Load():
		if s.started && seq == s.next {
			s.shift, s.next = s.shift+1, seq+1
		}
	case s.rw != nil && pad.Layer == s.layer:
		s.rw.drop(seq)
	}
}

// settled reports whether the publication has sent for long enough
// (layerGone) that a layer not live by now is not merely late.
func (p *Publication) settled(now time.Time) bool {
	first := p.firstAt.Load()
	return first != 0 && now.UnixNano()-first >= int64(layerGone)
}
