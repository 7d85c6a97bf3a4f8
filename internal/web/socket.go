package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"classmeet/internal/auth"
	"classmeet/internal/live"
	"classmeet/internal/meeting"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
)

// Limits on a participant's WebSocket.
const (
	firstMessageWait = 10 * time.Second
	writeWait        = 10 * time.Second
	outQueue         = 2048 // a burst of chat from a full class fits
	msgRate          = 40   // messages a second, sustained
	msgBurst         = 120  // ICE candidates come in bursts
	floodLimit       = 400  // messages refused for rate before the socket closes
)

// closeRefused closes a socket whose join or resume was refused, or that
// misbehaved: the client must not resume after it.
const closeRefused websocket.StatusCode = 4403

// socket is a participant's signaling WebSocket. The first message must be
// a join (with a join token) or a resume (with the resume secret); every
// later message goes to the live meeting.
func (h *handler) socket(w http.ResponseWriter, r *http.Request) {
	meetingID, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.canStart(r, meetingID); err != nil {
		h.fail(w, r, err)
		return
	}
	release, ok := h.pending.take(h.source(r))
	if !ok {
		tooManyPending(w)
		return
	}
	defer release()
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: []string{h.cfg.PublicURL.Host}})
	if err != nil {
		return // Accept answered (403 for a foreign Origin)
	}
	c.SetReadLimit(meeting.MaxMessageBytes)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn := &socketConn{c: c, counts: h.signals, wake: make(chan struct{}, 1), closing: make(chan struct{}), done: make(chan struct{})}
	go conn.writeLoop(ctx)

	sess, seq, err := h.openSession(ctx, c, meetingID, conn)
	release() // joined or refused: no longer waiting
	if err != nil {
		conn.refuse(err, seq)
		<-conn.done // the refusal is sent before the socket closes
		return
	}
	defer sess.Disconnected()
	h.readLoop(ctx, c, conn, sess, seq)
	select {
	case <-conn.closing: // we are closing: let the writer send what is queued first
		select {
		case <-conn.done:
		case <-time.After(writeWait):
		}
	default:
	}
}

// canStart checks, before the upgrade, that the database answers when the
// meeting is not live yet and the join will have to load it: without the
// database the client gets 503 and Retry-After, not a socket that waits.
func (h *handler) canStart(r *http.Request, meetingID uuid.UUID) error {
	if h.hub.Running(meetingID) {
		return nil
	}
	return h.store.Ping(r.Context())
}

// openSession reads the first message and joins or resumes with it.
func (h *handler) openSession(ctx context.Context, c *websocket.Conn, meetingID uuid.UUID, conn *socketConn) (*live.Session, uint64, error) {
	rctx, cancel := context.WithTimeout(ctx, firstMessageWait)
	defer cancel()
	typ, data, err := c.Read(rctx)
	if err != nil {
		return nil, 0, refusal("no_join", "no join message arrived")
	}
	if typ != websocket.MessageText {
		return nil, 0, refusal("bad_message", "messages are JSON text")
	}
	msg, err := meeting.DecodeClient(data)
	if err != nil {
		return nil, 0, refusal("bad_message", err.Error())
	}
	h.signals.received(msg)
	var sess *live.Session
	switch m := msg.(type) {
	case *meeting.Join:
		// Checking the token and loading the meeting may not wait longer
		// for the database than a request would.
		jctx, cancel := context.WithTimeout(ctx, h.cfg.DBTimeout)
		var a meeting.Arrival
		if a, err = h.arrival(jctx, m.Token, meetingID); err == nil {
			sess, err = h.hub.Join(jctx, meetingID, a, conn)
		}
		if err == nil {
			h.signInEndedMeanwhile(jctx, a)
		}
		cancel()
	case *meeting.Resume:
		sess, err = h.hub.Resume(meetingID, m.Resume, m.KeepMedia, conn)
	default:
		return nil, msg.Sequence(), refusal("bad_message", "the first message must be join or resume")
	}
	if errors.Is(err, live.ErrMeetingGone) {
		err = refusal("meeting_gone", "this meeting was cancelled")
	}
	if errors.Is(err, context.DeadlineExceeded) || store.Unavailable(err) {
		err = refusal("unavailable", "classmeet cannot reach its database right now: try again in a few seconds")
	}
	return sess, msg.Sequence(), err
}

// arrival checks a join token for this meeting, and that whoever it was
// issued to may still come in: what happened since it was issued counts.
func (h *handler) arrival(ctx context.Context, token string, meetingID uuid.UUID) (meeting.Arrival, error) {
	claims, err := h.joinTokens.Verify(token, meetingID, h.now())
	if err != nil {
		return meeting.Arrival{}, refusal("bad_token", "this join token has expired or is not for this meeting: reload the page")
	}
	if err := h.mayEnter(ctx, claims); err != nil {
		return meeting.Arrival{}, err
	}
	// One join per token, for its whole life: the participant id is its jti.
	err = h.store.UseJoinToken(ctx, claims.ParticipantID, claims.ExpiresAt)
	if errors.Is(err, store.ErrTokenUsed) {
		return meeting.Arrival{}, refusal("already_joined", "this join token was already used: reload the page to join again")
	}
	if err != nil {
		return meeting.Arrival{}, err
	}
	role := meeting.Role(claims.Role)
	if !role.Valid() {
		return meeting.Arrival{}, refusal("bad_token", "unknown role")
	}
	a := meeting.Arrival{
		ID: claims.ParticipantID.String(), Name: claims.Name, Role: role,
		InviteeName: claims.InviteeName, Identity: claims.Identity,
	}
	if claims.InviteeID != uuid.Nil {
		a.InviteeID = claims.InviteeID.String()
	}
	if id, ok := strings.CutPrefix(claims.Identity, "user:"); ok {
		a.UserID, a.AuthSession = id, claims.SessionID.String()
	}
	return a, nil
}

// mayEnter checks the token's holder against the database, as it is now
// (the room may have been emptied and forgotten since a ban, say): an
// invitee's link must still open the meeting, a teacher's sign-in must
// still be live (not signed out, not ended by a password change, the
// account not disabled).
func (h *handler) mayEnter(ctx context.Context, c auth.JoinClaims) error {
	if c.InviteeID != uuid.Nil {
		return h.inviteeMayEnter(ctx, c)
	}
	id, ok := strings.CutPrefix(c.Identity, "user:")
	if !ok {
		return nil
	}
	u, err := h.store.SessionUser(ctx, c.SessionID, h.now())
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.ID.String() != id) {
		return refusal("revoked", "your sign-in has ended: sign in again to join")
	}
	if err != nil {
		return err
	}
	return h.reopen(ctx, c.MeetingID, u)
}

// signInEndedMeanwhile takes a host out again whose sign-in ended between
// the check of their token and their join: the announcement of its end
// found nobody to take out then.
func (h *handler) signInEndedMeanwhile(ctx context.Context, a meeting.Arrival) {
	sid, err := uuid.Parse(a.AuthSession)
	if err != nil {
		return
	}
	if _, err := h.store.SessionUser(ctx, sid, h.now()); errors.Is(err, store.ErrNotFound) {
		h.hub.Revoke(store.Revocation{Session: sid})
	}
}

// reopen opens a meeting its host ended, as the host comes back to it:
// their invitees may then join again.
func (h *handler) reopen(ctx context.Context, meetingID uuid.UUID, host store.User) error {
	reopened, err := h.store.ReopenMeeting(ctx, meetingID, h.now())
	if reopened {
		err = h.store.Audit(ctx, store.AuditEntry{
			At: h.now(), Kind: store.AuditMeeting, MeetingID: &meetingID, ActorID: "user:" + host.ID.String(), ActorName: host.Name,
			ActorRole: string(host.Role), Action: "reopened meeting",
		})
	}
	return err
}

// readLoop passes each message to the meeting, in order, refusing malformed,
// replayed and too frequent ones. A sustained flood closes the socket.
func (h *handler) readLoop(ctx context.Context, c *websocket.Conn, conn *socketConn, sess *live.Session, lastSeq uint64) {
	limit := rate.NewLimiter(msgRate, msgBurst)
	refused, lastWarning := 0, time.Time{}
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return // closed, or a frame over the read limit (closed with 1009)
		}
		if !limit.Allow() {
			refused++
			if refused > floodLimit {
				conn.refuse(refusal("flooding", "too many messages"), 0)
				return
			}
			if time.Since(lastWarning) > time.Second {
				lastWarning = time.Now()
				conn.Send(&meeting.Error{Code: "rate_limited", Message: "too many messages: some were dropped"})
			}
			continue
		}
		if typ != websocket.MessageText {
			conn.Send(&meeting.Error{Code: "bad_message", Message: "messages are JSON text"})
			continue
		}
		msg, err := meeting.DecodeClient(data)
		if err != nil {
			conn.Send(&meeting.Error{Code: "bad_message", Message: err.Error()})
			continue
		}
		if seq := msg.Sequence(); seq <= lastSeq {
			conn.Send(&meeting.Error{Code: "bad_seq", Message: "seq must increase with every message", InReplyTo: seq})
			continue
		}
		lastSeq = msg.Sequence()
		h.signals.received(msg)
		sess.Handle(msg)
	}
}

func refusal(code, msg string) error { return &meeting.Refusal{Code: code, Message: msg} }

// socketConn is live.Conn on a WebSocket: messages queue and one writer
// sends them, numbered, so the meeting never waits for a slow client. A
// client too slow to drain its queue is disconnected; it may resume.
type socketConn struct {
	c      *websocket.Conn
	counts *SignalCounts
	// The queue grows as it fills (up to outQueue messages) rather than
	// taking its whole size up front: most of a class's connections hold a
	// few messages at a time, and a lecture has hundreds of them.
	mu      sync.Mutex
	queue   []meeting.ServerMessage
	wake    chan struct{} // a message was queued
	closing chan struct{}
	once    sync.Once
	status  websocket.StatusCode
	reason  string
	done    chan struct{} // closed when the writer has stopped
}

func (s *socketConn) Send(m meeting.ServerMessage) {
	s.mu.Lock()
	full := len(s.queue) >= outQueue
	if !full {
		s.queue = append(s.queue, m)
	}
	s.mu.Unlock()
	if full {
		s.closeWith(websocket.StatusTryAgainLater, "too slow")
		return
	}
	select {
	case s.wake <- struct{}{}:
	default: // the writer is already woken
	}
}

// take empties the queue, returning what it held; buf is reused for the
// next messages.
func (s *socketConn) take(buf []meeting.ServerMessage) []meeting.ServerMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	taken := s.queue
	clear(buf)
	s.queue = buf[:0]
	return taken
}

func (s *socketConn) Close(reason string) { s.closeWith(websocket.StatusNormalClosure, reason) }

func (s *socketConn) closeWith(status websocket.StatusCode, reason string) {
	s.once.Do(func() {
		s.status, s.reason = status, reason
		close(s.closing)
	})
}

// refuse tells the client why, then closes so it does not try to resume.
func (s *socketConn) refuse(err error, seq uint64) {
	var r *meeting.Refusal
	if !errors.As(err, &r) {
		r = &meeting.Refusal{Code: "internal", Message: "the server could not let you in; try again"}
	}
	s.Send(&meeting.Error{Code: r.Code, Message: r.Message, InReplyTo: seq})
	s.closeWith(closeRefused, r.Code)
}

// writeLoop sends queued messages until the connection closes; on Close it
// first sends what was queued before it.
func (s *socketConn) writeLoop(ctx context.Context) {
	defer close(s.done)
	var seq uint64
	write := func(m meeting.ServerMessage) bool {
		seq++
		b, err := meeting.EncodeServer(m, seq)
		if err != nil {
			return true
		}
		s.counts.sent(m)
		wctx, cancel := context.WithTimeout(ctx, writeWait)
		defer cancel()
		return s.c.Write(wctx, websocket.MessageText, b) == nil
	}
	// writeAll sends what is queued, in order; false if a write failed.
	var spare []meeting.ServerMessage
	writeAll := func() bool {
		batch := s.take(spare)
		for _, m := range batch {
			if !write(m) {
				return false
			}
		}
		spare = batch
		return true
	}
	for {
		select {
		case <-ctx.Done():
			s.c.CloseNow()
			return
		case <-s.wake:
			if !writeAll() {
				s.c.CloseNow()
				return
			}
		case <-s.closing:
			if !writeAll() {
				s.c.CloseNow()
				return
			}
			_ = s.c.Close(s.status, s.reason)
			return
		}
	}
}

// inviteeMayEnter refuses an invitee whose link stopped opening the
// meeting after their join token was issued: banned, withdrawn, uninvited.
func (h *handler) inviteeMayEnter(ctx context.Context, c auth.JoinClaims) error {
	inv, err := h.store.InvitationFor(ctx, c.InviteeID)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && inv.Meeting.ID != c.MeetingID):
		return refusal("bad_token", "this link no longer opens the meeting")
	case err != nil:
		return err
	case c.Link != auth.LinkFingerprint(inv.Invitee.LinkNonce):
		return refusal("link_withdrawn", "the teacher replaced the link this join came from: ask them for the new one")
	}
	err = schedule.CheckJoin(inv, h.cfg.LinkValidity, h.now())
	switch {
	case err == nil || errors.Is(err, schedule.ErrLocked): // the meeting decides who enters a locked room
		return nil
	case errors.Is(err, schedule.ErrRemoved):
		return refusal("removed", "you were removed from this meeting")
	case errors.Is(err, schedule.ErrMeetingCancelled):
		return refusal("meeting_gone", "this meeting was cancelled")
	case errors.Is(err, schedule.ErrMeetingEnded):
		return refusal("meeting_ended", "the host ended this meeting")
	}
	return refusal("bad_token", err.Error())
}
