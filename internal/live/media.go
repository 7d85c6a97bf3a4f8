package live

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"classmeet/internal/meeting"
	"classmeet/internal/sfu"
)

// mediaWorker owns one participant's media peer. Media work (making the
// peer, applying SDP) takes milliseconds, so it runs here, in order, and
// never under the meeting's lock. The peer lives exactly as long as the worker.
type mediaWorker struct {
	room *room
	who  string
	ops  chan mediaOp
	quit chan struct{}
	once sync.Once
	peer atomic.Pointer[MediaPeer]

	mu  sync.Mutex
	off map[string]bool // kinds not forwarded
}

// mediaOp is one piece of media work; seq names the message it answers, if any.
type mediaOp struct {
	seq uint64
	do  func(MediaPeer) error
}

func (r *room) startWorker(who string) *mediaWorker {
	w := &mediaWorker{room: r, who: who, ops: make(chan mediaOp, 256), quit: make(chan struct{}), off: map[string]bool{}}
	go w.run()
	return w
}

// do queues a media message; the caller holds the room's lock.
func (w *mediaWorker) do(m meeting.ClientMessage) {
	w.queue(mediaOp{seq: m.Sequence(), do: func(p MediaPeer) error { return handleMedia(p, m) }})
}

// forward changes what of the participant's media is forwarded, at once: a
// host's stop never waits in (or is dropped from) the queue of media work,
// which the client's own messages can fill. The worker keeps which kinds
// are stopped and applies them to every source that carries them, so a
// stopped kind stays stopped under any label.
func (w *mediaWorker) forward(kind string, on bool) {
	w.mu.Lock()
	w.off[kind] = !on
	w.mu.Unlock()
	w.applyForwarding()
}

// applyForwarding sets each source of the peer, once there is one, from the
// kinds stopped now.
func (w *mediaWorker) applyForwarding() {
	p := w.peer.Load()
	if p == nil {
		return // run applies them when it has made the peer
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, src := range allSources {
		(*p).SetForwarding(src, !w.stopsAny(kindsOf(src)))
	}
}

var allSources = []sfu.Source{sfu.SourceMicrophone, sfu.SourceCamera, sfu.SourceScreen, sfu.SourceScreenAudio}

// kindsOf names the stops that cover a source: muting stops every sound a
// participant sends, their screen's included; stopping video stops every
// picture, their screen's included; stopping a screen share stops the
// screen and its sound.
func kindsOf(src sfu.Source) []string {
	switch src {
	case sfu.SourceMicrophone:
		return []string{meeting.KindAudio}
	case sfu.SourceCamera:
		return []string{meeting.KindVideo}
	case sfu.SourceScreen:
		return []string{meeting.KindScreen, meeting.KindVideo}
	}
	return []string{meeting.KindScreen, meeting.KindAudio}
}

func (w *mediaWorker) stopsAny(kinds []string) bool {
	for _, k := range kinds {
		if w.off[k] {
			return true
		}
	}
	return false
}

func (w *mediaWorker) queue(op mediaOp) {
	select {
	case w.ops <- op:
	default:
		if c := w.room.conns[w.who]; c != nil {
			c.Send(&meeting.Error{Code: "rate_limited", Message: "too many media messages at once", InReplyTo: op.seq})
		}
	}
}

// quality is the participant's connection quality, once its peer exists.
func (w *mediaWorker) quality() (sfu.Quality, bool) {
	p := w.peer.Load()
	if p == nil {
		return sfu.Quality{}, false
	}
	return (*p).Quality(), true
}

func (w *mediaWorker) stop() { w.once.Do(func() { close(w.quit) }) }

func (w *mediaWorker) stopped() bool {
	select {
	case <-w.quit:
		return true
	default:
		return false
	}
}

func (w *mediaWorker) run() {
	peer, err := w.room.media.Join(w.who, w.signal)
	if err != nil {
		w.room.log.Warn("media peer failed", "participant_id", w.who, "err", err)
		w.room.sendTo(w.who, &meeting.Error{Code: "media_failed", Message: "the server could not set up your media"})
		<-w.quit
		return
	}
	defer peer.Close()
	w.peer.Store(&peer)
	w.applyForwarding() // before any offer is taken: nothing stopped slips out
	for {
		select {
		case <-w.quit:
			return
		case op := <-w.ops:
			if err := op.do(peer); err != nil {
				w.room.log.Debug("media message failed", "participant_id", w.who, "err", err)
				w.room.sendTo(w.who, &meeting.Error{Code: "media_failed", Message: err.Error(), InReplyTo: op.seq})
			}
		}
	}
}

func handleMedia(peer MediaPeer, m meeting.ClientMessage) error {
	switch m := m.(type) {
	case *meeting.Offer:
		tracks := make(map[string]sfu.Source, len(m.Tracks))
		for id, s := range m.Tracks {
			tracks[id] = sfu.Source(s)
		}
		return peer.HandleOffer(m.SDP, tracks)
	case *meeting.Answer:
		return peer.HandleAnswer(m.SDP)
	case *meeting.Candidate:
		c := m.Candidate
		return peer.HandleCandidate(m.PC, webrtc.ICECandidateInit{
			Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment,
		})
	case *meeting.RestartICE:
		peer.RestartICE()
	case *meeting.VideoSize:
		err := peer.SetVideoSize(m.Participant, sfu.Source(m.Source), m.Width, m.Height)
		if errors.Is(err, sfu.ErrNoSuchTrack) {
			return nil // a tile of a track that just ended, or never was: nothing to size
		}
		return err
	case *meeting.ReceiveVideo:
		peer.SetReceiveVideo(*m.On)
	}
	return nil
}

// signal carries the SFU's offers, answers and paused videos to the participant. A stopped
// worker's peer may still be finishing; its messages are dropped.
func (w *mediaWorker) signal(s sfu.Signal) {
	if w.stopped() {
		return
	}
	switch s.Type {
	case "offer":
		w.room.sendTo(w.who, &meeting.ServerOffer{PC: s.PC, SDP: s.SDP, Tracks: trackInfos(s.Tracks)})
	case "answer":
		w.room.sendTo(w.who, &meeting.ServerAnswer{PC: s.PC, SDP: s.SDP})
	case "video_paused":
		tracks := make([]meeting.TrackInfo, 0, len(s.Paused))
		for _, t := range s.Paused {
			tracks = append(tracks, meeting.TrackInfo{Participant: t.Participant, Source: string(t.Source)})
		}
		w.room.sendTo(w.who, &meeting.VideoPaused{Tracks: tracks})
	}
}

// trackInfos says in the protocol's words whose media each m-line carries.
func trackInfos(ts map[string]sfu.TrackInfo) map[string]meeting.TrackInfo {
	out := make(map[string]meeting.TrackInfo, len(ts))
	for mid, t := range ts {
		out[mid] = meeting.TrackInfo{Participant: t.Participant, Source: string(t.Source)}
	}
	return out
}

// SFURoom adapts an SFU room to MediaRoom.
type SFURoom struct{ *sfu.Room }

// Join adds the participant's peer to the SFU room.
func (r SFURoom) Join(participant string, signal func(sfu.Signal)) (MediaPeer, error) {
	p, err := r.Room.Join(participant, signal)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// sendQuality tells everyone in the room how everyone's connection is, and
// hosts the figures.
func (r *room) sendQuality() {
	r.mu.Lock()
	workers := make(map[string]*mediaWorker, len(r.workers))
	for id, w := range r.workers {
		workers[id] = w
	}
	r.mu.Unlock()
	levels, details := map[string]string{}, map[string]meeting.QualityDetail{}
	for id, w := range workers {
		q, ok := w.quality()
		if !ok || !q.Known {
			continue
		}
		levels[id] = q.Level()
		details[id] = meeting.QualityDetail{
			Level: q.Level(), Loss: q.Loss,
			RTTMs: float64(q.RTT) / float64(time.Millisecond), JitterMs: float64(q.Jitter) / float64(time.Millisecond),
		}
	}
	if len(levels) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Everyone's levels go to everyone: N² entries. They are sent when they
	// change and otherwise only every qualityRefresh ticks; hosts get their
	// figures, which move all the time, at every tick.
	fp := fingerprint(levels)
	r.qualityTicks++
	refresh := r.qualityTicks%qualityRefresh == 0
	sent := make(map[string]string, len(r.qualitySent))
	for _, p := range r.state.InRoom() {
		c := r.conns[p.ID]
		if c == nil || p.Presence != meeting.PresenceRoom {
			continue
		}
		host := p.Role.Can(meeting.ActSeeQuality)
		if !host && !refresh && r.qualitySent[p.ID] == fp {
			sent[p.ID] = fp
			continue
		}
		m := &meeting.Quality{Levels: levels}
		if host {
			m.Details = details
		}
		c.Send(m)
		sent[p.ID] = fp
	}
	r.qualitySent = sent
}

// qualityRefresh is how many quality ticks may pass without telling a
// participant the levels when they have not changed.
const qualityRefresh = 5

// fingerprint names a set of levels, the same for the same set.
func fingerprint(levels map[string]string) string {
	ids := slices.Sorted(maps.Keys(levels))
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(id)
		b.WriteByte('=')
		b.WriteString(levels[id])
		b.WriteByte(';')
	}
	return b.String()
}
