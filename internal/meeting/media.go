package meeting

import (
	"sync"

	"github.com/pion/webrtc/v4"

	"classmeet/internal/sfu"
)

// mediaWorker owns one participant's media peer. Media work (making the
// peer, applying SDP) takes milliseconds, so it runs here, in order, and
// never under the meeting's lock. The peer lives exactly as long as the worker.
type mediaWorker struct {
	room *room
	who  string
	ops  chan ClientMessage
	quit chan struct{}
	once sync.Once
}

func (r *room) startWorker(who string) *mediaWorker {
	w := &mediaWorker{room: r, who: who, ops: make(chan ClientMessage, 256), quit: make(chan struct{})}
	go w.run()
	return w
}

// do queues a media message; the caller holds the room's lock.
func (w *mediaWorker) do(m ClientMessage) {
	select {
	case w.ops <- m:
	default:
		if c := w.room.conns[w.who]; c != nil {
			c.Send(&Error{Code: "rate_limited", Message: "too many media messages at once", InReplyTo: m.header().Seq})
		}
	}
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
		w.room.sendTo(w.who, &Error{Code: "media_failed", Message: "the server could not set up your media"})
		<-w.quit
		return
	}
	defer peer.Close()
	for {
		select {
		case <-w.quit:
			return
		case m := <-w.ops:
			if err := w.handle(peer, m); err != nil {
				w.room.log.Debug("media message failed", "participant_id", w.who, "err", err)
				w.room.sendTo(w.who, &Error{Code: "media_failed", Message: err.Error(), InReplyTo: m.header().Seq})
			}
		}
	}
}

func (w *mediaWorker) handle(peer MediaPeer, m ClientMessage) error {
	switch m := m.(type) {
	case *Offer:
		tracks := make(map[string]sfu.Source, len(m.Tracks))
		for id, s := range m.Tracks {
			tracks[id] = sfu.Source(s)
		}
		return peer.HandleOffer(m.SDP, tracks)
	case *Answer:
		return peer.HandleAnswer(m.SDP)
	case *Candidate:
		c := m.Candidate
		return peer.HandleCandidate(m.PC, webrtc.ICECandidateInit{
			Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment,
		})
	case *RestartICE:
		peer.RestartICE()
	}
	return nil
}

// signal carries the SFU's offers and answers to the participant. A stopped
// worker's peer may still be finishing; its messages are dropped.
func (w *mediaWorker) signal(s sfu.Signal) {
	if w.stopped() {
		return
	}
	switch s.Type {
	case "offer":
		w.room.sendTo(w.who, &ServerOffer{PC: s.PC, SDP: s.SDP, Tracks: s.Tracks})
	case "answer":
		w.room.sendTo(w.who, &ServerAnswer{PC: s.PC, SDP: s.SDP})
	}
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
