package live

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/meeting"
	"classmeet/internal/recorder"
	"classmeet/internal/sfu"
)

// recWorker drives the recorder for one recording of a live meeting.
// Starting a recording waits for the database and stopping one for the
// files to close, so that happens here, in order, never under the
// meeting's lock.
type recWorker struct {
	room *room
	id   uuid.UUID
	ops  chan func()
	done chan struct{} // closed once the recording has stopped
	// stopping is set, under the room's lock, once stop is queued.
	stopping bool

	session *recorder.Session // owned by run
	unwatch func()
}

// startRecording starts a worker for a recording the state just started;
// the caller holds the room's lock.
func (r *room) startRecording(e meeting.RecordingStarted) *recWorker {
	w := &recWorker{room: r, id: uuid.MustParse(e.ID), ops: make(chan func(), 1024), done: make(chan struct{})}
	go w.run()
	w.queue(func() { w.start(e) })
	return w
}

func (w *recWorker) run() {
	for op := range w.ops {
		op()
	}
	close(w.done)
}

func (w *recWorker) queue(op func()) {
	if w.stopping {
		return
	}
	select {
	case w.ops <- op:
	default:
		w.room.log.Error("recording worker queue full; an answer to the recording was not passed on")
	}
}

func (w *recWorker) start(e meeting.RecordingStarted) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := w.room.hub.cfg.Recorder.Start(ctx, w.id, w.room.uuid, e.ByName, e.At)
	if err != nil {
		w.room.log.Error("recording did not start", "err", err)
		why := "the recording could not start: the server cannot store it right now. Try again in a minute."
		if errors.Is(err, recorder.ErrSpoolFull) {
			why = "the recording could not start: the server's space for recordings is almost full. Ask the school's administrator to free some space."
		}
		w.failed(e.ID, why)
		return
	}
	w.session = s
	w.unwatch = w.room.media.Watch(s.Offer)
	go w.watch(s, e.ID)
}

// watch waits for the session to end; one that stopped of itself (a file
// could not be written) is reported to the meeting, which turns REC off.
func (w *recWorker) watch(s *recorder.Session, id string) {
	<-s.Done()
	err := s.Err()
	if err == nil {
		return
	}
	why := "the recording stopped: the server could not write it. What was recorded until then is kept."
	if errors.Is(err, recorder.ErrSpoolFull) {
		why = "the recording stopped: the server's space for recordings is full. What was recorded until then is kept; ask the school's administrator to free some space."
	}
	w.failed(id, why)
}

// failed tells the meeting its recording is off, and why.
func (w *recWorker) failed(id, why string) {
	w.room.mu.Lock()
	defer w.room.mu.Unlock()
	if !w.room.dead {
		w.room.apply(w.room.state.RecordingFailed(w.room.hub.cfg.Now(), id, why))
	}
}

// consent passes an answer on; the caller holds the room's lock.
func (w *recWorker) consent(e meeting.ConsentGiven) {
	w.queue(func() {
		if w.session != nil {
			w.session.Consent(e.Who, e.Name, e.Accepted, e.At)
		}
	})
}

// stop ends the recording; the caller holds the room's lock. done is
// closed once every file is closed.
func (w *recWorker) stop(at time.Time) {
	w.queue(func() {
		if w.unwatch != nil {
			w.unwatch()
		}
		if w.session != nil {
			w.session.Stop(at)
		}
		close(w.ops)
	})
	w.stopping = true
}

// Watch offers the recorder every publication of the room.
func (r SFURoom) Watch(fn func(recorder.Track)) func() {
	return r.Room.Watch(func(p *sfu.Publication) { fn(publicationTrack{p}) })
}

// publicationTrack is an SFU publication as the recorder sees it.
type publicationTrack struct{ *sfu.Publication }

func (t publicationTrack) Participant() string { return t.Publication.Participant }
func (t publicationTrack) Source() string      { return string(t.Publication.Source) }
func (t publicationTrack) Kind() string        { return t.Publication.Kind.String() }
func (t publicationTrack) Codec() string       { return t.Publication.Codec.MimeType }
func (t publicationTrack) ClockRate() uint32   { return t.Publication.Codec.ClockRate }

func (t publicationTrack) Subscribe(n int) recorder.Subscription { return t.Publication.Subscribe(n) }

func (t publicationTrack) SenderReport() (uint32, time.Time, bool) {
	sr := t.LastSenderReport()
	if sr == nil {
		return 0, time.Time{}, false
	}
	return sr.RTPTime, sr.At, true
}
