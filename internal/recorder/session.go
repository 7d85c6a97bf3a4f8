package recorder

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/store"
)

// Session is one recording of a meeting, from start to stop. The meeting
// offers it every published track and tells it every participant's answer
// to being recorded; it records the tracks of those who accepted, each into
// a file of its own. Its methods never block on I/O, except Stop.
type Session struct {
	r         *Recorder
	ID        uuid.UUID
	MeetingID uuid.UUID
	StartedAt time.Time
	log       *slog.Logger
	// skew is the recorder's clock minus the real one. Packets arrive
	// stamped by the real clock; adding skew places them on the recording's
	// (zero unless a test's clock stands in for the real one).
	skew time.Duration

	q queue

	// people is everyone's latest answer: Offer reads it to subscribe at once.
	mu     sync.Mutex
	people map[string]consent

	// ended is closed once the session has stopped; err, set before, is
	// why it stopped of itself (a file could not be written), or nil.
	ended chan struct{}
	err   error

	// Owned by the session's goroutine.
	tracks   map[Track]*recTrack
	segments map[string]int // participant/source: segments so far
	stopped  bool
	cut      bool // a file was cut short by a write failure, then repaired
}

// consent is a participant's answer.
type consent struct {
	name     string
	accepted bool
}

// recTrack is a track offered to the session, and its writer while one
// records it.
type recTrack struct {
	t      Track
	sub    Subscription // made as the track was offered, if it is recorded from its start
	w      *writer
	row    store.RecordingFile
	result chan result // the writer's, read exactly once
}

func newSession(r *Recorder, id, meetingID uuid.UUID, at time.Time) *Session {
	s := &Session{
		r: r, ID: id, MeetingID: meetingID, StartedAt: at, skew: r.now().Sub(time.Now()).Round(time.Millisecond),
		log:    r.log.With("recording_id", id.String(), "meeting_id", meetingID.String()),
		tracks: map[Track]*recTrack{}, people: map[string]consent{}, segments: map[string]int{},
		ended: make(chan struct{}),
	}
	s.q.init()
	go s.q.run()
	return s
}

// Offer tells the session of a published track. It is recorded while its
// participant has accepted; offering the same track again does nothing.
// Offered as the track is published, before its first packet, the
// recording of someone who agreed starts with that packet.
func (s *Session) Offer(t Track) {
	var sub Subscription
	if s.answer(t.Participant()).accepted {
		if _, err := codecOf(t.Codec()); err == nil {
			sub = t.Subscribe(queuePackets)
		}
	}
	s.q.do(func() { s.offer(t, sub) })
}

// Consent records a participant's answer, given at at. Accepting starts
// the recording of their tracks; declining (or withdrawing) stops it.
func (s *Session) Consent(participant, name string, accepted bool, at time.Time) {
	s.mu.Lock()
	s.people[participant] = consent{name: name, accepted: accepted}
	s.mu.Unlock()
	s.q.do(func() { s.consent(participant, name, accepted, at) })
}

// answer is a participant's latest answer.
func (s *Session) answer(participant string) consent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.people[participant]
}

// Stop ends the recording: every file is closed with what arrived before
// the call, and nothing is written after it returns. The files are then
// made playable and uploaded in the background. Stopping a session that
// stopped of itself does nothing.
func (s *Session) Stop(at time.Time) {
	s.q.do(func() { s.stop(at) })
	<-s.ended
}

// Done is closed once the session has stopped, by Stop or of itself.
func (s *Session) Done() <-chan struct{} { return s.ended }

// Err is why the session stopped of itself: a file could not be written
// (ErrSpoolFull when the disk is full). What was written is kept, and the
// recording is stored as partial. Nil while it runs and after a Stop.
func (s *Session) Err() error {
	select {
	case <-s.ended:
		return s.err
	default:
		return nil
	}
}

// fail stops the whole recording after a write failure: one file cut
// short means the others soon will be, and a recording that silently
// misses its end is worse than one that says it stopped.
func (s *Session) fail(err error) {
	if s.stopped {
		return
	}
	s.err = spoolErr(err)
	s.log.Error("recording stopped: a file could not be written", "err", err)
	s.stop(s.r.now())
}

func (s *Session) offer(t Track, sub Subscription) {
	if s.stopped || s.tracks[t] != nil {
		if sub != nil {
			sub.Close()
		}
		return
	}
	for old := range s.tracks {
		if s.tracks[old].w == nil && ended(old) {
			delete(s.tracks, old)
		}
	}
	rt := &recTrack{t: t, sub: sub}
	s.tracks[t] = rt
	if s.answer(t.Participant()).accepted {
		s.record(rt)
	} else if sub != nil {
		sub.Close()
		rt.sub = nil
	}
}

// ended reports whether a track has ended.
func ended(t Track) bool {
	select {
	case <-t.Done():
		return true
	default:
		return false
	}
}

func (s *Session) consent(participant, name string, accepted bool, at time.Time) {
	if s.stopped {
		return
	}
	pid, err := uuid.Parse(participant)
	if err != nil {
		s.log.Warn("consent from a participant without a uuid", "participant_id", participant)
		return
	}
	_ = s.r.persist("store consent", func(ctx context.Context) error {
		return s.r.store.SetConsent(ctx, store.Consent{
			RecordingID: s.ID, ParticipantID: pid, ParticipantName: name, Accepted: accepted, AnsweredAt: at,
		})
	})
	for _, rt := range s.tracks {
		if s.stopped {
			return // a file failed as it closed: the recording is over
		}
		if rt.t.Participant() != participant {
			continue
		}
		switch {
		case accepted && rt.w == nil:
			s.record(rt)
		case !accepted && rt.w != nil:
			s.finishTrack(rt, true)
		}
	}
}

// record starts a writer for the track: a new file, a new segment.
func (s *Session) record(rt *recTrack) {
	sub := rt.sub
	rt.sub = nil
	fail := func() {
		if sub != nil {
			sub.Close()
		}
	}
	c, err := codecOf(rt.t.Codec())
	if err != nil {
		s.log.Warn("track not recorded", "participant_id", rt.t.Participant(), "source", rt.t.Source(), "err", err)
		fail()
		return
	}
	pid, err := uuid.Parse(rt.t.Participant())
	if err != nil {
		fail()
		return
	}
	key := rt.t.Participant() + "/" + rt.t.Source()
	s.segments[key]++
	fileID := uuid.New()
	name := s.ID.String() + "/" + fileID.String() + c.ext()
	now := s.r.now()
	rt.row = store.RecordingFile{
		ID: fileID, RecordingID: s.ID, ParticipantID: &pid, ParticipantName: s.answer(rt.t.Participant()).name,
		Kind: rt.t.Kind(), Source: rt.t.Source(), Codec: c.String(), Segment: s.segments[key],
		ObjectKey: objectKey(s.MeetingID, s.ID, fileID, c.ext()), SpoolName: name, State: store.FileWriting, StartedAt: &now,
	}
	if err := s.r.persist("add recording file", func(ctx context.Context) error { return s.r.store.AddRecordingFile(ctx, rt.row) }); err != nil {
		fail()
		return
	}
	f, err := s.r.spool.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o640)
	if err != nil {
		fail()
		_ = s.r.persist("remove recording file", func(ctx context.Context) error { return s.r.store.DeleteRecordingFile(ctx, rt.row.ID) })
		s.fail(err)
		return
	}
	rt.w = newWriter(rt.t, c, f)
	rt.w.sub = sub
	rt.result = make(chan result, 1)
	s.log.Info("recording track", "participant_id", rt.t.Participant(), "source", rt.t.Source(), "segment", rt.row.Segment, "file_id", fileID)
	go func() {
		rt.result <- rt.w.run()
		s.q.do(func() {
			if s.tracks[rt.t] == rt && rt.w != nil {
				s.finishTrack(rt, false)
			}
		})
	}()
}

// finishTrack stops a track's writer (if stop) and stores what it wrote.
// A writer that failed leaves a file that may end mid-frame: it is
// repaired, kept, and the whole recording stopped.
func (s *Session) finishTrack(rt *recTrack, stop bool) {
	if stop {
		rt.w.halt()
	}
	rt.w = nil
	res := <-rt.result
	row := rt.row
	if res.err != nil {
		s.log.Error("recording a track failed", "file_id", row.ID, "err", res.err)
		if !res.empty {
			s.keepRepaired(row, res)
		}
		s.fail(res.err)
		return
	}
	if res.empty {
		s.dropFile(row)
		return
	}
	if st, err := s.r.spool.Stat(row.SpoolName); err == nil {
		row.SizeBytes = st.Size()
	}
	s.keepFile(row, res)
	s.log.Info("track recorded", "file_id", row.ID, "duration", res.duration, "frames", res.stats.Frames,
		"lost", res.stats.Lost, "dropped", res.stats.Dropped)
}

// keepFile records a spooled file as the writer left it, placed on the
// recording's clock, ready for upload.
func (s *Session) keepFile(row store.RecordingFile, res result) {
	start := res.start.Add(s.skew)
	row.StartedAt, row.DurationMS, row.Frames = &start, res.duration.Milliseconds(), res.stats.Frames
	row.Stats, _ = json.Marshal(res.stats)
	row.State = store.FileSpooled
	_ = s.r.persist("update recording file", func(ctx context.Context) error { return s.r.store.UpdateRecordingFile(ctx, row) })
}

// dropFile removes a file that holds nothing (no keyframe came, or the
// track ended at once).
func (s *Session) dropFile(row store.RecordingFile) {
	_ = s.r.spool.Remove(row.SpoolName)
	_ = s.r.persist("remove empty recording file", func(ctx context.Context) error { return s.r.store.DeleteRecordingFile(ctx, row.ID) })
}

// keepRepaired keeps what a failed writer wrote, cut back to its last
// whole frame or page; the recording is marked as cut short.
func (s *Session) keepRepaired(row store.RecordingFile, res result) {
	s.cut = true
	got, err := s.r.repairTrack(row.SpoolName, row.Kind)
	if err != nil || got.frames <= 0 {
		s.log.Warn("nothing of a failed track could be kept", "file_id", row.ID, "err", err)
		s.dropFile(row)
		return
	}
	row.SizeBytes = got.size
	res.duration, res.stats.Frames = got.duration, got.frames
	s.keepFile(row, res)
	s.log.Info("failed track repaired and kept", "file_id", row.ID, "duration", got.duration, "frames", got.frames)
}

func (s *Session) stop(at time.Time) {
	if s.stopped {
		return
	}
	s.stopped = true
	// Stop every writer at once, then collect them.
	var active []*recTrack
	for _, rt := range s.tracks {
		if rt.w != nil {
			rt.w.halt()
			active = append(active, rt)
		}
	}
	for _, rt := range active {
		s.finishTrack(rt, false)
	}
	s.tracks = nil
	// A recording cut short by a write failure is stored as partial.
	_ = s.r.persist("stop recording", func(ctx context.Context) error {
		return s.r.store.SetRecordingState(ctx, s.ID, store.RecordingUploading, &at, s.cut)
	})
	s.log.Info("recording stopped", "cut_short", s.cut)
	s.r.ended(s)
	s.q.close()
	close(s.ended)
}

// queue runs functions one at a time, in order, on one goroutine; do never
// blocks, so a caller on the media path is never held up.
type queue struct {
	mu     sync.Mutex
	fns    []func()
	wake   chan struct{}
	closed bool
}

func (q *queue) init() { q.wake = make(chan struct{}, 1) }

func (q *queue) do(fn func()) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.fns = append(q.fns, fn)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// close drops what is queued and anything queued later; called from a
// queued function, it ends run.
func (q *queue) close() {
	q.mu.Lock()
	q.closed, q.fns = true, nil
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue) run() {
	for range q.wake {
		for {
			q.mu.Lock()
			if len(q.fns) == 0 {
				closed := q.closed
				q.mu.Unlock()
				if closed {
					return
				}
				break
			}
			fn := q.fns[0]
			q.fns = q.fns[1:]
			q.mu.Unlock()
			fn()
		}
	}
}
