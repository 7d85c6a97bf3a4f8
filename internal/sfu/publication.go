package sfu

import (
	"sync"
	"sync/atomic"
	"time"

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
}

// SenderReport is the publisher's latest mapping of RTP time to wall time.
type SenderReport struct {
	NTPTime uint64 // 64-bit NTP timestamp
	RTPTime uint32
	At      time.Time // when it arrived
}

// Publication is one track a participant publishes. Its read loop is the
// only reader of the remote track. It writes each packet to every down track
// itself, with no hand-off to another goroutine (a down track whose link can
// block queues instead: see DownTrack.forward), and hands a copy to every
// queued subscription (the recorder) without ever waiting for one.
type Publication struct {
	ID          string // unique in the room: participant and source
	Participant string
	Source      Source
	Codec       webrtc.RTPCodecParameters
	Kind        webrtc.RTPCodecType

	track *webrtc.TrackRemote
	pc    *webrtc.PeerConnection

	ring     *packetRing
	downs    atomic.Pointer[[]*DownTrack]
	subs     atomic.Pointer[[]*Subscription]
	subsMu   sync.Mutex // guards changes to downs and subs
	paused   atomic.Bool
	resync   atomic.Bool
	lastPLI  atomic.Int64
	lastSR   atomic.Pointer[SenderReport]
	received atomic.Uint64
	foreign  atomic.Uint64 // packets of another payload type, never forwarded
	counters *Counters     // the SFU's, or nil
	batch    *batchConn    // the SFU's UDP socket, or nil
	stats    inbound       // written by the read loop only
	done     chan struct{}
}

func newPublication(participant string, source Source, track *webrtc.TrackRemote, pc *webrtc.PeerConnection) *Publication {
	p := &Publication{
		ID: participant + "/" + string(source), Participant: participant, Source: source,
		Codec: track.Codec(), Kind: track.Kind(), track: track, pc: pc, done: make(chan struct{}),
	}
	p.init()
	return p
}

func (p *Publication) init() {
	p.stats.clockRate = p.Codec.ClockRate
	size := audioRing
	if p.Kind == webrtc.RTPCodecTypeVideo {
		size = videoRing
	}
	p.ring = newPacketRing(size)
	p.subs.Store(&[]*Subscription{})
	p.downs.Store(&[]*DownTrack{})
}

// Subscribe attaches a new subscriber with a queue of `queue` packets. A
// video subscriber starts at a keyframe, so one is requested.
func (p *Publication) Subscribe(queue int) *Subscription {
	s := &Subscription{pub: p, ch: make(chan *Packet, queue), done: make(chan struct{})}
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
		p.resync.Store(true)
		p.RequestKeyframe()
	}
}

// Paused reports whether forwarding is stopped.
func (p *Publication) Paused() bool { return p.paused.Load() }

// RequestKeyframe asks the publisher for a keyframe, at most every 300 ms.
func (p *Publication) RequestKeyframe() {
	if p.Kind != webrtc.RTPCodecTypeVideo {
		return
	}
	now := time.Now().UnixNano()
	last := p.lastPLI.Load()
	if now-last < int64(300*time.Millisecond) || !p.lastPLI.CompareAndSwap(last, now) {
		return
	}
	p.counters.pliSent()
	_ = p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(p.track.SSRC())}})
}

// LastSenderReport is the publisher's latest RTCP sender report, or nil.
func (p *Publication) LastSenderReport() *SenderReport { return p.lastSR.Load() }

// Received counts the RTP packets read from the publisher.
func (p *Publication) Received() uint64 { return p.received.Load() }

// Done is closed when the publication ends.
func (p *Publication) Done() <-chan struct{} { return p.done }

// forward is the publication's read loop; it returns when the track ends.
func (p *Publication) forward() {
	defer p.end()
	p.counters.published(p.Kind, 1)
	defer p.counters.published(p.Kind, -1)
	mime, pt := p.Codec.MimeType, uint8(p.Codec.PayloadType)
	buf := make([]byte, mtu) // read here, kept in the ring: nothing allocated per packet
	for {
		n, _, err := p.track.Read(buf)
		if err != nil {
			return
		}
		if pkt := p.ring.store(buf[:n], time.Now()); pkt != nil {
			p.deliver(pkt, mime, pt)
		}
	}
}

// deliver writes one packet read from the publisher to every down track and
// hands a copy to every queued subscription: the forwarding path's fan-out,
// measured by BenchmarkDeliver.
func (p *Publication) deliver(pkt *Packet, mime string, pt uint8) {
	if pkt.Header.PayloadType != pt {
		p.foreign.Add(1) // another codec than the track's: perhaps another kind of media
		return
	}
	p.received.Add(1)
	p.stats.packet(pkt.Header.SequenceNumber, pkt.Header.Timestamp, pkt.Arrival)
	if p.paused.Load() {
		return
	}
	pkt.Keyframe = startsKeyframe(mime, pkt.Payload)
	pkt.Resync = p.resync.Swap(false)
	p.batch.begin()
	for _, d := range *p.downs.Load() {
		d.forward(pkt)
	}
	p.batch.flush()
	if subs := *p.subs.Load(); len(subs) > 0 {
		c := pkt.clone() // the ring reuses pkt's slot; a queue outlives that
		for _, s := range subs {
			s.push(c)
		}
	}
}

// readReports keeps the publisher's latest sender report.
func (p *Publication) readReports(r *webrtc.RTPReceiver) {
	for {
		pkts, _, err := r.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			if sr, ok := pkt.(*rtcp.SenderReport); ok && sr.SSRC == uint32(p.track.SSRC()) {
				p.lastSR.Store(&SenderReport{NTPTime: sr.NTPTime, RTPTime: sr.RTPTime, At: time.Now()})
			}
		}
	}
}

// end closes every subscription's queue. Only the read loop sends on the
// queues, and it has stopped, so closing them is safe. Down tracks are
// detached by their peers when the room hears the publication ended.
func (p *Publication) end() {
	p.subsMu.Lock()
	defer p.subsMu.Unlock()
	select {
	case <-p.done:
		return
	default:
	}
	close(p.done)
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
