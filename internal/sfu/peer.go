package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// Signal is a message for the peer's client.
type Signal struct {
	Type string // "offer", "answer" or "video_paused"
	PC   string // "pub" (the client sends) or "sub" (the client receives)
	SDP  string
	// Tracks tells, with a subscriber offer, whose media each m-line
	// (by mid) carries.
	Tracks map[string]TrackInfo
	// Paused lists, with "video_paused", the videos the subscriber's link
	// is too weak for now (all of them, or none).
	Paused []TrackInfo
}

// TrackInfo names the participant and source behind a subscribed track.
type TrackInfo struct {
	Participant string `json:"participant"`
	Source      Source `json:"source"`
}

// The two PeerConnections of a peer: the client offers on "pub" and the
// server answers; the server offers on "sub" and the client answers. Each
// side only ever offers on its own, so offers never collide.
const (
	PCPublish   = "pub"
	PCSubscribe = "sub"
)

// Peer is one participant's media: what it publishes and what it receives.
type Peer struct {
	id     string
	room   *Room
	signal func(Signal)
	log    *slog.Logger
	sub    *webrtc.PeerConnection

	mu       sync.Mutex
	pub      *webrtc.PeerConnection
	fec      *lossFeedback     // pub's (see fec.go), set with it
	sources  map[string]Source // mid -> source, from the client's latest offer
	pubs     map[Source]*Publication
	receiver map[Source]*webrtc.RTPReceiver
	downs    map[string]*downTrackSender // by publication id
	stopped  map[Source]bool             // sources a host stopped: not forwarded
	videoOff bool                        // the client receives audio only
	closed   bool

	// Subscriber negotiation: one offer out at a time; changes made while
	// it is out are offered once it is answered.
	offering       bool
	pending        bool
	iceRestart     bool
	subCandidates  []webrtc.ICECandidateInit
	everNegotiated bool
	candidates     map[string]int    // client candidates taken, per PeerConnection, this ICE generation
	ufrags         map[string]string // the client's ICE username fragment, per PeerConnection
	first          *firstFrame       // from joining to the first media packet written to it

	// link is the subscriber connection's bandwidth estimate; paused is
	// the allocation's (see allocate; one goroutine's), probing is set
	// while a probe's padding goes out.
	link    *link
	wire    *wire       // how the subscriber's media leaves (see wire)
	paused  []TrackInfo // video held back for a weak link, as last told
	probing atomic.Bool
}

// MaxCandidates is how many ICE candidates a client may send for one of its
// PeerConnections in one ICE generation (an ICE restart, which drops the
// candidates held, starts a new one). A browser sends a handful per
// gathering; this bounds the memory a hostile client can make the server hold.
const MaxCandidates = 100

type downTrackSender struct {
	track  *DownTrack
	sender *webrtc.RTPSender
}

func newPeer(r *Room, id string, signal func(Signal)) (*Peer, error) {
	l := newLink()
	log := r.log.With("participant_id", id)
	w := r.sfu.newWire(l, log)
	sub, err := r.sfu.newSubscribePC(w)
	if err != nil {
		return nil, fmt.Errorf("sfu: subscriber PeerConnection: %w", err)
	}
	p := &Peer{
		id: id, room: r, signal: signal, log: log, sub: sub,
		pubs: map[Source]*Publication{}, receiver: map[Source]*webrtc.RTPReceiver{}, downs: map[string]*downTrackSender{},
		stopped: map[Source]bool{}, candidates: map[string]int{}, ufrags: map[string]string{},
		first: newFirstFrame(r.sfu.counters), link: l, wire: w,
	}
	sub.OnConnectionStateChange(p.subscriberState)
	sub.SCTP().Transport().ICETransport().OnSelectedCandidatePairChange(func(*webrtc.ICECandidatePair) {
		p.subscriberState(sub.ConnectionState())
	})
	r.sfu.reports.add(p)
	return p, nil
}

// subscriberState starts and stops the down tracks with the connection,
// and points the wire at the link's selected pair.
func (p *Peer) subscriberState(s webrtc.PeerConnectionState) {
	connected, tcp := p.subscriberLink()
	if connected {
		p.wire.connect(p.sub.SCTP().Transport().ICETransport())
	}
	for _, d := range p.DownTracks() {
		d.setConnected(connected, tcp)
	}
}

// subscriberLink is whether the subscriber PeerConnection is connected,
// and whether over TCP (where a write can block until the client reads).
func (p *Peer) subscriberLink() (connected, tcp bool) {
	if p.sub.ConnectionState() != webrtc.PeerConnectionStateConnected {
		return false, false
	}
	pair, err := p.sub.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	return true, err == nil && pair != nil && pair.Local.Protocol == webrtc.ICEProtocolTCP
}

// sendReports sends the subscriber a sender report for each of its tracks
// that has sent something.
func (p *Peer) sendReports(now time.Time) {
	var reports []rtcp.Packet
	for _, d := range p.DownTracks() {
		if sr, ok := d.senderReport(now); ok {
			reports = append(reports, sr)
		}
	}
	if len(reports) > 0 {
		_ = p.sub.WriteRTCP(reports)
	}
}

// OwnSRTP is whether the server encrypts what the peer receives itself,
// on its wire (see wire), rather than through pion: true once the peer's
// subscriber link is connected, unless the client took the DTLS server's
// role.
func (p *Peer) OwnSRTP() bool { return p.wire.own() }

// ID is the participant's id.
func (p *Peer) ID() string { return p.id }

// Publications lists what the peer publishes now.
func (p *Peer) Publications() []*Publication {
	p.mu.Lock()
	defer p.mu.Unlock()
	pubs := make([]*Publication, 0, len(p.pubs))
	for _, pub := range p.pubs {
		pubs = append(pubs, pub)
	}
	return pubs
}

// Publication returns what the peer publishes from source, or nil.
func (p *Peer) Publication(source Source) *Publication {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pubs[source]
}

// DownTracks lists what the peer receives now.
func (p *Peer) DownTracks() []*DownTrack {
	p.mu.Lock()
	defer p.mu.Unlock()
	ds := make([]*DownTrack, 0, len(p.downs))
	for _, d := range p.downs {
		ds = append(ds, d.track)
	}
	return ds
}

// HandleOffer answers the client's offer on its publishing PeerConnection.
// tracks maps the mid of each offered track to the source it carries; a
// source missing from a renegotiation has stopped.
func (p *Peer) HandleOffer(sdp string, tracks map[string]Source) error {
	if err := checkLabels(sdp, tracks); err != nil {
		return err
	}
	p.newGeneration(PCPublish, sdp)
	pc, removed, err := p.publishPC(tracks)
	if err != nil {
		return err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return fmt.Errorf("sfu: offer: %w", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("sfu: answer: %w", err)
	}
	if err := p.setLocal(pc, answer); err != nil {
		return err
	}
	for _, r := range removed {
		_ = r.Stop() // its publication's read loop ends and subscribers let go
	}
	p.signal(Signal{Type: "answer", PC: PCPublish, SDP: pc.LocalDescription().SDP})
	return nil
}

// publishPC returns the publishing PeerConnection, making it on first use,
// and records the offered sources, returning receivers of those dropped.
func (p *Peer) publishPC(tracks map[string]Source) (*webrtc.PeerConnection, []*webrtc.RTPReceiver, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, nil, ErrClosed
	}
	if p.pub == nil {
		p.fec = newLossFeedback()
		pc, err := p.room.sfu.newPublishPC(p.fec)
		if err != nil {
			return nil, nil, fmt.Errorf("sfu: publisher PeerConnection: %w", err)
		}
		pc.OnTrack(p.onTrack)
		p.pub = pc
	}
	p.sources = tracks
	offered := map[Source]bool{}
	for _, s := range tracks {
		offered[s] = true
	}
	var removed []*webrtc.RTPReceiver
	for s, r := range p.receiver {
		if !offered[s] {
			removed = append(removed, r)
			delete(p.receiver, s)
		}
	}
	return p.pub, removed, nil
}

// setLocal sets a local description and waits for the host candidates (a
// few milliseconds on the muxed ports) so they travel inside the SDP.
func (p *Peer) setLocal(pc *webrtc.PeerConnection, sd webrtc.SessionDescription) error {
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(sd); err != nil {
		return fmt.Errorf("sfu: set local %s: %w", sd.Type, err)
	}
	select {
	case <-gathered:
	case <-time.After(2 * time.Second):
		p.log.Warn("ICE gathering did not complete; sending what there is")
	}
	return nil
}

// onTrack starts a publication for a track the client sends, or adds a
// simulcast layer (a track with a rid) to the one its m-line started.
func (p *Peer) onTrack(track *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	p.mu.Lock()
	mid := ""
	for _, t := range p.pub.GetTransceivers() {
		if t.Receiver() == recv {
			mid = t.Mid()
		}
	}
	source, ok := p.sources[mid]
	if !ok || !source.Valid() || p.closed || p.receiver[source] != nil && p.receiver[source] != recv {
		p.mu.Unlock()
		p.log.Warn("ignoring a track the client did not describe", "kind", track.Kind().String(), "mid", mid)
		return
	}
	if !fitsSource(source, track.Kind(), track.Codec()) {
		p.mu.Unlock()
		p.log.Warn("ignoring a track that does not carry its label's media", "source", source, "kind", track.Kind().String(), "codec", track.Codec().MimeType)
		return
	}
	if pub := p.pubs[source]; pub != nil && p.receiver[source] == recv {
		p.mu.Unlock()
		p.addLayer(pub, track, recv)
		return
	}
	pub := newPublication(p.id, source, track, p.pub)
	pub.counters, pub.batch = p.room.sfu.counters, p.room.sfu.batch
	pub.downLoss = p.fec.watch(uint32(track.SSRC()), track.Kind())
	pub.SetPaused(p.stopped[source])
	l := pub.addLayer(track.RID(), track)
	if l == nil {
		p.mu.Unlock()
		p.log.Warn("ignoring a track in a layer it cannot be", "source", source, "rid_len", len(track.RID()))
		return
	}
	p.pubs[source], p.receiver[source] = pub, recv
	p.mu.Unlock()

	p.log.Debug("publishing", "source", source, "codec", pub.Codec.MimeType)
	go pub.readReports(recv, track.RID())
	// Subscribers (and the recorder) attach before the first packet is
	// forwarded, so none of them misses the start of the track.
	p.room.published(pub)
	go pub.readLayer(l)
	go func() {
		<-pub.Done()
		p.mu.Lock()
		if p.pubs[source] == pub {
			delete(p.pubs, source)
		}
		p.mu.Unlock()
		p.fec.forget(pub.downLoss)
		p.room.unpublished(pub)
	}()
}

// addLayer starts reading one more simulcast layer of a publication; a
// layer it cannot take (a rid twice or unknown, a fourth layer, a layer of
// audio) is ignored, and what it carries reaches no one.
func (p *Peer) addLayer(pub *Publication, track *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	l := pub.addLayer(track.RID(), track)
	if l == nil {
		p.log.Warn("ignoring a track in a layer it cannot be", "source", pub.Source, "rid_len", len(track.RID()))
		return
	}
	p.log.Debug("simulcast layer", "source", pub.Source, "layer", l.index)
	go pub.readReports(recv, track.RID())
	go pub.readLayer(l)
}

// subscribe adds a down track for pub; false if there was nothing to do.
func (p *Peer) subscribe(pub *Publication) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.downs[pub.ID] != nil {
		return false
	}
	dt := newDownTrack(pub, p.link, p.wire)
	dt.first = p.first
	sender, err := p.sub.AddTrack(dt)
	if err != nil {
		dt.stop()
		p.log.Warn("cannot subscribe", "publication", pub.ID, "err", err)
		return false
	}
	for _, t := range p.sub.GetTransceivers() {
		if t.Sender() == sender {
			_ = t.SetCodecPreferences(preferredCodecs(pub.Codec))
		}
	}
	dt.sender = sender
	dt.setVideoOff(p.videoOff)
	p.downs[pub.ID] = &downTrackSender{track: dt, sender: sender}
	dt.setConnected(p.subscriberLink())
	go dt.readRTCP()
	return true
}

// unsubscribe removes pub's down track; false if there was none.
func (p *Peer) unsubscribe(pub *Publication) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.downs[pub.ID]
	if d == nil {
		return false
	}
	delete(p.downs, pub.ID)
	d.track.stop()
	if p.closed {
		return false
	}
	if err := p.sub.RemoveTrack(d.sender); err != nil {
		p.log.Debug("remove track", "err", err)
	}
	return true
}

// preferredCodecs limits a subscribed m-line to the publisher's codec.
func preferredCodecs(c webrtc.RTPCodecParameters) []webrtc.RTPCodecParameters {
	for _, known := range codecs {
		if strings.EqualFold(known.params.MimeType, c.MimeType) &&
			fmtpParam(known.params.SDPFmtpLine, "profile-level-id") == fmtpParam(c.SDPFmtpLine, "profile-level-id") {
			return []webrtc.RTPCodecParameters{known.params}
		}
	}
	for _, known := range codecs {
		if strings.EqualFold(known.params.MimeType, c.MimeType) {
			return []webrtc.RTPCodecParameters{known.params}
		}
	}
	return nil
}

// SetForwarding starts or stops forwarding a source of this peer's to
// everyone, now and for any later publication of it (a renegotiation, a
// reconnect): what the client keeps sending reaches no one.
func (p *Peer) SetForwarding(source Source, on bool) {
	p.mu.Lock()
	p.stopped[source] = !on
	pub := p.pubs[source]
	p.mu.Unlock()
	if pub != nil {
		pub.SetPaused(!on)
	}
}

// SetVideoSize takes the size the client shows another participant's video
// at (0x0: not shown), for the layer it is sent. A video the peer does not
// receive (not published, its own, or of someone it cannot see) is refused.
func (p *Peer) SetVideoSize(participant string, source Source, width, height int) error {
	if width < 0 || height < 0 || width > MaxTileSide || height > MaxTileSide {
		return fmt.Errorf("%w: %dx%d", ErrBadVideoSize, width, height)
	}
	p.mu.Lock()
	d := p.downs[participant+"/"+string(source)]
	p.mu.Unlock()
	if d == nil || d.track.kind != webrtc.RTPCodecTypeVideo {
		return ErrNoSuchTrack
	}
	d.track.setTileSize(uint32(width), uint32(height))
	return nil
}

// SetReceiveVideo turns off (audio only) or back on every video this peer
// receives, now and from publications still to come; audio flows on.
func (p *Peer) SetReceiveVideo(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.videoOff = !on
	for _, d := range p.downs {
		d.track.setVideoOff(!on)
	}
}

// RestartICE sends a new subscriber offer with fresh ICE credentials (the
// client restarts its publisher side itself with an offer).
func (p *Peer) RestartICE() {
	p.mu.Lock()
	p.iceRestart = true
	p.mu.Unlock()
	p.negotiate()
}

// negotiate offers the subscriber PeerConnection's current tracks, unless an
// offer is already out, in which case it is offered again once answered.
func (p *Peer) negotiate() {
	p.mu.Lock()
	if p.closed || (len(p.downs) == 0 && !p.everNegotiated) {
		p.mu.Unlock()
		return
	}
	if p.offering {
		p.pending = true
		p.mu.Unlock()
		return
	}
	p.offering, p.everNegotiated = true, true
	restart := p.iceRestart
	p.iceRestart = false
	p.mu.Unlock()

	if err := p.offer(restart); err != nil {
		if !errors.Is(err, webrtc.ErrConnectionClosed) {
			p.log.Warn("subscriber offer failed", "err", err)
		}
		p.mu.Lock()
		p.offering = false
		p.mu.Unlock()
	}
}

func (p *Peer) offer(restart bool) error {
	offer, err := p.sub.CreateOffer(&webrtc.OfferOptions{ICERestart: restart})
	if err != nil {
		return err
	}
	if err := p.setLocal(p.sub, offer); err != nil {
		return err
	}
	tracks := map[string]TrackInfo{}
	for _, t := range p.sub.GetTransceivers() {
		if t.Sender() == nil || t.Mid() == "" {
			continue
		}
		if dt, ok := t.Sender().Track().(*DownTrack); ok {
			pub := dt.Publication()
			tracks[t.Mid()] = TrackInfo{Participant: pub.Participant, Source: pub.Source}
		}
	}
	p.log.Debug("offering", "tracks", len(tracks), "ice_restart", restart)
	p.signal(Signal{Type: "offer", PC: PCSubscribe, SDP: p.sub.LocalDescription().SDP, Tracks: tracks})
	return nil
}

// HandleAnswer applies the client's answer to the latest subscriber offer.
func (p *Peer) HandleAnswer(sdp string) error {
	p.mu.Lock()
	if !p.offering {
		p.mu.Unlock()
		return errors.New("sfu: an answer, but no offer is waiting for one")
	}
	p.mu.Unlock()
	if err := p.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return fmt.Errorf("sfu: answer: %w", err)
	}
	p.newGeneration(PCSubscribe, sdp)
	p.mu.Lock()
	cands := p.subCandidates
	p.subCandidates = nil
	p.offering = false
	again := p.pending
	p.pending = false
	p.mu.Unlock()
	for _, c := range cands {
		_ = p.sub.AddICECandidate(c)
	}
	if again {
		p.negotiate()
	}
	return nil
}

// newGeneration starts counting the client's candidates for pc afresh when
// its description carries new ICE credentials: the restart dropped the
// candidates the server held.
func (p *Peer) newGeneration(pc, sdp string) {
	u := iceUfrag(sdp)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ufrags[pc] != u {
		p.ufrags[pc], p.candidates[pc] = u, 0
	}
}

// iceUfrag is the first ICE username fragment in an SDP, or "".
func iceUfrag(sdp string) string {
	for line := range strings.Lines(sdp) {
		if u, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "a=ice-ufrag:"); ok {
			return u
		}
	}
	return ""
}

// HandleCandidate adds a client ICE candidate to one of the PeerConnections.
func (p *Peer) HandleCandidate(pc string, c webrtc.ICECandidateInit) error {
	if c.Candidate == "" {
		return nil // end of candidates
	}
	if pc != PCPublish && pc != PCSubscribe {
		return fmt.Errorf("sfu: unknown PeerConnection %q", pc)
	}
	p.mu.Lock()
	p.candidates[pc]++
	over := p.candidates[pc] > MaxCandidates
	p.mu.Unlock()
	if over {
		return fmt.Errorf("%w (%d for %q)", ErrTooManyCandidates, MaxCandidates, pc)
	}
	switch pc {
	case PCPublish:
		p.mu.Lock()
		pub := p.pub
		p.mu.Unlock()
		if pub == nil || pub.RemoteDescription() == nil {
			return errors.New("sfu: a publishing candidate before the offer")
		}
		return pub.AddICECandidate(c)
	case PCSubscribe:
		p.mu.Lock()
		if p.sub.RemoteDescription() == nil || p.offering {
			p.subCandidates = append(p.subCandidates, c)
			p.mu.Unlock()
			return nil
		}
		p.mu.Unlock()
		return p.sub.AddICECandidate(c)
	}
	return fmt.Errorf("sfu: unknown PeerConnection %q", pc)
}

// Close ends the peer: its publications end (others stop receiving them),
// its down tracks stop, and both PeerConnections close.
func (p *Peer) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	downs := p.downs
	p.downs = map[string]*downTrackSender{}
	pub := p.pub
	p.mu.Unlock()

	p.room.left(p)
	p.room.sfu.reports.remove(p)
	for _, d := range downs {
		d.track.stop()
	}
	if pub != nil {
		_ = pub.Close()
	}
	_ = p.sub.Close()
	p.wire.close()
}
