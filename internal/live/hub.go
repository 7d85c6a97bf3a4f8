package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/pion/webrtc/v4"

	"classmeet/internal/meeting"
	"classmeet/internal/recorder"
	"classmeet/internal/sfu"
	"classmeet/internal/store"
)

// Conn is a participant's connection as the meeting sees it. Send must not
// block: it queues.
type Conn interface {
	Send(meeting.ServerMessage)
	Close(reason string)
}

// MediaRoom is a meeting's media in the SFU.
type MediaRoom interface {
	Join(participant string, signal func(sfu.Signal)) (MediaPeer, error)
	// Watch calls fn with every current and future published track until
	// stop is called: the recorder subscribes to them.
	Watch(fn func(recorder.Track)) (stop func())
	Close()
}

// MediaPeer is one participant's media.
type MediaPeer interface {
	HandleOffer(sdp string, tracks map[string]sfu.Source) error
	HandleAnswer(sdp string) error
	HandleCandidate(pc string, c webrtc.ICECandidateInit) error
	RestartICE()
	SetVideoSize(participant string, source sfu.Source, width, height int) error
	SetReceiveVideo(on bool)
	SetForwarding(source sfu.Source, on bool)
	Quality() sfu.Quality
	Close()
}

// Meetings finds the scheduled meeting behind a live one, and its chat so far.
type Meetings interface {
	MeetingWithHost(ctx context.Context, id uuid.UUID) (store.MeetingWithHost, error)
	Chat(ctx context.Context, meetingID uuid.UUID) ([]store.ChatMessage, error)
	Decisions(ctx context.Context, meetingID uuid.UUID) ([]store.Decision, error)
}

// Journal keeps the record of meetings (attendance, audit log, chat, lock,
// bans). Keep must not block: the live meeting waits for nobody.
type Journal interface {
	Keep(meetingID uuid.UUID, e meeting.Effect)
}

// HubConfig is what a Hub needs.
type HubConfig struct {
	Meetings Meetings
	NewMedia func(meetingID string) MediaRoom
	Journal  Journal
	// ICEServers are handed to a participant in its welcome.
	ICEServers func(participant string) []meeting.ICEServer
	Grace      time.Duration // how long a lost connection keeps its place
	// QualityEvery is how often everyone is told everyone's connection quality.
	QualityEvery time.Duration
	// StillThereEvery is how often the journal is told everyone in a
	// meeting is still there (30 s if zero): after a crash, attendance is
	// closed at the last such time.
	StillThereEvery time.Duration
	// Recorder records meetings; nil: recording is not available.
	Recorder *recorder.Recorder
	Log      *slog.Logger
	// Now stamps what happens in a meeting (attendance, chat, recordings);
	// time.Now unless a test's clock stands in for it.
	Now func() time.Time
	// Timetables finds the timetable of a parents' evening room; nil: no
	// meeting has one.
	Timetables Timetables
	// TimetableEvery is how often a live evening room reloads its
	// timetable, so bookings made or cancelled meanwhile count (20 s if zero).
	TimetableEvery time.Duration
}

// Hub holds the live meetings. Each runs its State under its own lock and
// carries out the effects: messages are queued on connections, media work is
// queued on each participant's media worker, so no lock is held across I/O.
type Hub struct {
	cfg     HubConfig
	mu      sync.Mutex
	rooms   map[string]*room
	residue map[string]meeting.Residue // of meetings emptied lately, by id
}

// NewHub returns a hub with no live meetings.
func NewHub(cfg HubConfig) *Hub {
	if cfg.ICEServers == nil {
		cfg.ICEServers = func(string) []meeting.ICEServer { return nil }
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.QualityEvery == 0 {
		cfg.QualityEvery = 2 * time.Second
	}
	if cfg.StillThereEvery == 0 {
		cfg.StillThereEvery = 30 * time.Second
	}
	if cfg.TimetableEvery == 0 {
		cfg.TimetableEvery = 20 * time.Second
	}
	return &Hub{cfg: cfg, rooms: map[string]*room{}, residue: map[string]meeting.Residue{}}
}

// Session is one connected participant, for its connection's handler.
type Session struct {
	room *room
	id   string
	conn Conn
}

// ID is the participant's id.
func (s *Session) ID() string { return s.id }

// Join brings a participant with a verified join token into a meeting.
func (h *Hub) Join(ctx context.Context, meetingID uuid.UUID, a meeting.Arrival, conn Conn) (*Session, error) {
	for {
		r, err := h.room(ctx, meetingID)
		if err != nil {
			return nil, err
		}
		if a.InviteeID != "" {
			r.learnBookings(ctx, a.Identity)
		}
		r.mu.Lock()
		if r.dead {
			r.mu.Unlock()
			continue // emptied while we looked; make a fresh one
		}
		fx, err := r.state.Join(h.cfg.Now(), a)
		if err != nil {
			r.mu.Unlock()
			return nil, err
		}
		r.conns[a.ID] = conn
		r.apply(fx)
		r.mu.Unlock()
		r.log.Info("participant joined", "participant_id", a.ID, "role", a.Role)
		return &Session{room: r, id: a.ID, conn: conn}, nil
	}
}

// Resume reattaches a reconnecting participant's new connection.
func (h *Hub) Resume(meetingID uuid.UUID, secret string, keepMedia bool, conn Conn) (*Session, error) {
	h.mu.Lock()
	r := h.rooms[meetingID.String()]
	h.mu.Unlock()
	if r == nil {
		return nil, &meeting.Refusal{Code: "resume_expired", Message: "the meeting is no longer running: join again"}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dead {
		return nil, &meeting.Refusal{Code: "resume_expired", Message: "the meeting is no longer running: join again"}
	}
	id, fx, err := r.state.Resume(h.cfg.Now(), secret, keepMedia)
	if err != nil {
		return nil, err
	}
	r.conns[id] = conn
	r.apply(fx)
	r.log.Info("participant resumed", "participant_id", id, "keep_media", keepMedia)
	return &Session{room: r, id: id, conn: conn}, nil
}

// Handle carries out one message from the session's participant; a refusal
// is sent back as an error naming the message.
func (s *Session) Handle(msg meeting.ClientMessage) {
	r := s.room
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conns[s.id] != s.conn {
		return // superseded by a newer connection
	}
	fx, err := r.state.Handle(r.hub.cfg.Now(), s.id, msg)
	var ref *meeting.Refusal
	switch {
	case errors.As(err, &ref):
		s.conn.Send(&meeting.Error{Code: ref.Code, Message: ref.Message, InReplyTo: msg.Sequence()})
		return
	case err != nil:
		s.conn.Send(&meeting.Error{Code: "internal", Message: "something went wrong", InReplyTo: msg.Sequence()})
		return
	}
	r.apply(fx)
}

// Disconnected tells the meeting the session's connection is gone.
func (s *Session) Disconnected() {
	r := s.room
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conns[s.id] != s.conn {
		return // a newer connection took over, or the participant left
	}
	delete(r.conns, s.id)
	r.apply(r.state.Disconnected(r.hub.cfg.Now(), s.id))
}

// room finds or starts the live meeting.
func (h *Hub) room(ctx context.Context, id uuid.UUID) (*room, error) {
	h.mu.Lock()
	r := h.rooms[id.String()]
	h.mu.Unlock()
	if r != nil {
		return r, nil
	}
	m, err := h.cfg.Meetings.MeetingWithHost(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.Cancelled()) {
		return nil, ErrMeetingGone
	}
	if err != nil {
		return nil, fmt.Errorf("meeting: load %s: %w", id, err)
	}
	// Without what hosts decided, people they stopped would be heard again.
	decisions, err := h.decisions(ctx, id)
	if err != nil {
		return nil, err
	}
	// Without its timetable, an evening room would let families in out of turn.
	tt, err := h.timetable(ctx, id)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := h.rooms[id.String()]; r != nil {
		return r, nil
	}
	res := h.residue[id.String()]
	delete(h.residue, id.String()) // the new state holds it now
	info := meeting.MeetingInfo{
		ID: id.String(), Title: m.Title, HostName: m.HostName,
		RecordingPolicy: string(m.RecordingPolicy), LobbyPolicy: string(m.LobbyPolicy),
	}
	log := h.cfg.Log.With("meeting_id", id.String())
	opts := meeting.Options{
		AutoAdmitInvitees: m.LobbyPolicy == store.LobbyInviteesAdmitted,
		Grace:             h.cfg.Grace,
		Policy:            meeting.Policy{Unmute: string(m.UnmutePolicy), ScreenShare: string(m.ScreenShare), Chat: true, Locked: m.LockedAt != nil},
		History:           h.history(ctx, id, log),
		Recording:         h.cfg.Recorder != nil,
		Residue:           res,
		Decisions:         decisions,
		Timetable:         tt,
	}
	r = &room{
		hub: h, id: id.String(), uuid: id, log: log, state: meeting.NewState(info, opts),
		conns: map[string]Conn{}, workers: map[string]*mediaWorker{}, stop: make(chan struct{}),
	}
	r.media = h.cfg.NewMedia(r.id)
	h.rooms[r.id] = r
	go r.every(h.cfg.QualityEvery, r.sendQuality)   // how everyone's connection is
	go r.every(h.cfg.StillThereEvery, r.stillThere) // so a crash closes visits at the last time known
	if tt != nil {
		go r.every(time.Second, r.tick)                     // families let in, warned, moved out on time
		go r.every(h.cfg.TimetableEvery, r.reloadTimetable) // bookings made or cancelled meanwhile
	}
	return r, nil
}

// history is the chat of the meeting's earlier sessions; without the
// database the meeting starts with none rather than not at all.
func (h *Hub) history(ctx context.Context, id uuid.UUID, log *slog.Logger) []meeting.ChatEntry {
	msgs, err := h.cfg.Meetings.Chat(ctx, id)
	if err != nil {
		log.Warn("chat history unavailable", "err", err)
		return nil
	}
	entries := make([]meeting.ChatEntry, 0, len(msgs))
	for _, m := range msgs {
		entries = append(entries, meeting.ChatEntry{
			ID: m.ID.String(), From: m.SenderID.String(), FromName: m.SenderName, FromRole: meeting.Role(m.SenderRole),
			To: m.Recipients, Text: m.Body, At: m.SentAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		})
	}
	return entries
}

// decisions loads what hosts decided about people earlier in the meeting.
func (h *Hub) decisions(ctx context.Context, id uuid.UUID) ([]meeting.Decided, error) {
	rows, err := h.cfg.Meetings.Decisions(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("meeting: load %s: %w", id, err)
	}
	ds := make([]meeting.Decided, 0, len(rows))
	for _, d := range rows {
		ds = append(ds, meeting.Decided{Identity: d.Identity, Stopped: d.Stopped, Allowed: d.Allowed, Role: meeting.Role(d.Role), Waits: d.Waits, At: d.DecidedAt})
	}
	return ds, nil
}

func (h *Hub) forget(r *room) {
	r.mu.Lock()
	res := r.state.Residue(h.cfg.Now())
	r.mu.Unlock()
	h.keepResidue(r.id, res)
	h.mu.Lock()
	if h.rooms[r.id] == r {
		delete(h.rooms, r.id)
	}
	h.mu.Unlock()
	r.putAway()
	r.log.Info("meeting emptied")
}

// putAway stops the room's loops and its media, once: a meeting that
// empties as the server shuts down is put away by both.
func (r *room) putAway() {
	r.away.Do(func() {
		close(r.stop)
		r.media.Close()
	})
}

// Recording reports whether a live meeting is being recorded, and since
// when: the pre-join page says so before anyone joins.
func (h *Hub) Recording(meetingID uuid.UUID) (bool, time.Time) {
	if h == nil {
		return false, time.Time{}
	}
	h.mu.Lock()
	r := h.rooms[meetingID.String()]
	h.mu.Unlock()
	if r == nil {
		return false, time.Time{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state.Recording()
}

// Running reports whether a meeting is live: a join to one that is not must
// first load it from the database.
func (h *Hub) Running(meetingID uuid.UUID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rooms[meetingID.String()] != nil
}

// Live reports how many meetings and participants are live (for tests and metrics).
func (h *Hub) Live() (meetings, participants int) {
	h.mu.Lock()
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()
	for _, r := range rooms {
		r.mu.Lock()
		participants += r.state.Count()
		r.mu.Unlock()
	}
	return len(rooms), participants
}

// Close ends every live meeting: connections close, media stops, and the
// record says everyone left and the recording stopped as the server shut
// down.
func (h *Hub) Close() {
	h.mu.Lock()
	rooms := h.rooms
	h.rooms = map[string]*room{}
	h.mu.Unlock()
	for _, r := range rooms {
		r.mu.Lock()
		r.dead = true
		for _, e := range r.state.Shutdown(h.cfg.Now()) {
			if _, ok := e.(meeting.RecordingStopped); !ok {
				r.journal(e) // the recording is stopped below, waited for
			}
		}
		for id, c := range r.conns {
			c.Send(&meeting.Error{Code: "server_shutdown", Message: "the server is restarting; reconnecting"})
			c.Close("server shutdown")
			delete(r.conns, id)
		}
		for id, w := range r.workers {
			w.stop()
			delete(r.workers, id)
		}
		rec := r.rec
		if rec != nil {
			rec.stop(h.cfg.Now())
			r.rec = nil
		}
		r.mu.Unlock()
		if rec != nil {
			<-rec.done // the files are closed before the media goes
		}
		r.putAway()
	}
}

// room is one live meeting.
type room struct {
	hub     *Hub
	id      string
	uuid    uuid.UUID
	stop    chan struct{} // closed when the meeting is put away
	away    sync.Once     // puts it away
	log     *slog.Logger
	mu      sync.Mutex
	state   *meeting.State
	conns   map[string]Conn
	workers map[string]*mediaWorker
	media   MediaRoom
	rec     *recWorker // the recording, while one is on
	dead    bool
	// The quality levels each participant was last sent (a fingerprint),
	// and the ticks so far: see sendQuality.
	qualitySent  map[string]string
	qualityTicks int
}

// apply carries out effects in order; the caller holds r.mu.
func (r *room) apply(fx []meeting.Effect) {
	for _, e := range fx {
		switch e := e.(type) {
		case meeting.Send:
			if w, ok := e.Msg.(*meeting.Welcome); ok {
				w.ICEServers = r.hub.cfg.ICEServers(e.To)
			}
			if c := r.conns[e.To]; c != nil {
				c.Send(e.Msg)
			}
		case meeting.Close:
			if c := r.conns[e.Who]; c != nil {
				c.Close(e.Reason)
				delete(r.conns, e.Who)
			}
		case meeting.StartMedia:
			if old := r.workers[e.Who]; old != nil {
				old.stop()
			}
			r.workers[e.Who] = r.startWorker(e.Who)
		case meeting.StopMedia:
			if w := r.workers[e.Who]; w != nil {
				w.stop()
				delete(r.workers, e.Who)
			}
		case meeting.ToMedia:
			if w := r.workers[e.Who]; w != nil {
				w.do(e.Msg)
			}
		case meeting.Forward:
			if w := r.workers[e.Who]; w != nil {
				w.forward(e.Kind, e.On)
			}
		case meeting.ExpireAfter:
			who := e.Who
			time.AfterFunc(e.After, func() { r.expire(who) })
		case meeting.RecordingStarted:
			r.rec = r.startRecording(e)
		case meeting.ConsentGiven:
			if r.rec != nil && r.rec.id.String() == e.RecordingID {
				r.rec.consent(e)
			}
		case meeting.RecordingStopped:
			if r.rec != nil && r.rec.id.String() == e.ID {
				r.rec.stop(e.At)
				r.rec = nil
			}
		case meeting.Emptied:
			r.dead = true
			go r.hub.forget(r)
		default:
			r.journal(e)
		}
	}
}

// stillThere records that everyone in the meeting is still there.
func (r *room) stillThere() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.dead {
		r.journal(meeting.StillThere{At: r.hub.cfg.Now()})
	}
}

// every calls fn every d until the meeting is put away.
func (r *room) every(d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			fn()
		}
	}
}

func (r *room) journal(e meeting.Effect) {
	if r.hub.cfg.Journal != nil {
		r.hub.cfg.Journal.Keep(r.uuid, e)
	}
}

func (r *room) expire(who string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.dead {
		r.apply(r.state.Expire(r.hub.cfg.Now(), who))
	}
}

// sendTo queues a message for a participant's current connection.
func (r *room) sendTo(who string, msg meeting.ServerMessage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.conns[who]; c != nil {
		c.Send(msg)
	}
}
