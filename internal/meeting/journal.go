package meeting

import (
	"context"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/store"
)

// Effects that keep a record of the meeting: attendance, the audit log, the
// chat, the lock and bans. The driver hands them to its Journal.

// Arrived: someone arrived (lobby or room).
type Arrived struct {
	Who, Name         string
	Role              Role
	InviteeID, UserID string
	At                time.Time
}

// EnteredRoom: someone was let into the room.
type EnteredRoom struct {
	Who string
	At  time.Time
}

// Departed: someone left, was denied, removed, lost, or the meeting ended.
type Departed struct {
	Who    string
	At     time.Time
	Reason string
}

// StillThere: everyone in the meeting was still there at At. The driver
// records it every half minute, so that visits a crash leaves open are
// closed at the last time they were known to be going.
type StillThere struct{ At time.Time }

// RoleChanged: someone's role changed.
type RoleChanged struct {
	Who  string
	Role Role
}

// Audited: an entry for the audit log.
type Audited struct {
	At                   time.Time
	ActorID, ActorName   string
	Action               string
	TargetID, TargetName string
	Detail               string
}

// ChatSaved: a chat message to keep.
type ChatSaved struct{ Entry ChatEntry }

// ChatRemoved: a chat message a host deleted.
type ChatRemoved struct {
	ID, By string
	At     time.Time
}

// LockSaved: the meeting was locked or unlocked.
type LockSaved struct{ Locked bool }

// Banned: an invitee was removed for good from this meeting.
type Banned struct{ InviteeID string }

// EndSaved: the host ended the meeting for everyone; it stays ended (no
// invitee may join) until the host opens it again.
type EndSaved struct{ At time.Time }

func (Arrived) effect()     {}
func (EnteredRoom) effect() {}
func (Departed) effect()    {}
func (RoleChanged) effect() {}
func (StillThere) effect()  {}
func (Audited) effect()     {}
func (ChatSaved) effect()   {}
func (ChatRemoved) effect() {}
func (LockSaved) effect()   {}
func (Banned) effect()      {}
func (EndSaved) effect()    {}

// audit records that actor did action (to target, if any). A nil actor is
// classmeet itself (automatic admission, say).
func (s *State) audit(fx *effects, now time.Time, actor *participant, action string, target *participant, detail string) {
	a := Audited{At: now, Action: action, Detail: detail, ActorName: "classmeet"}
	if actor != nil {
		a.ActorID, a.ActorName = actor.ID, actor.Name
	}
	if target != nil {
		a.TargetID, a.TargetName = target.ID, target.Name
	}
	fx.add(a)
}

// OutboxJournal keeps the record in the database through an outbox, so a
// short outage loses nothing and stalls nobody.
type OutboxJournal struct{ Outbox *store.Outbox }

// Keep queues the database write an effect stands for.
func (j OutboxJournal) Keep(meetingID uuid.UUID, e Effect) {
	o := j.Outbox
	switch e := e.(type) {
	case Arrived:
		a := store.Attendance{ParticipantID: parseUUID(e.Who), MeetingID: meetingID, Name: e.Name, Role: string(e.Role), JoinedAt: e.At}
		a.InviteeID, a.UserID = optUUID(e.InviteeID), optUUID(e.UserID)
		o.Add("attendance", func(ctx context.Context, s *store.Store) error { return s.Arrived(ctx, a) })
	case EnteredRoom:
		o.Add("attendance", func(ctx context.Context, s *store.Store) error { return s.EnteredRoom(ctx, parseUUID(e.Who), e.At) })
	case Departed:
		o.Add("attendance", func(ctx context.Context, s *store.Store) error {
			return s.Departed(ctx, parseUUID(e.Who), e.At, e.Reason)
		})
	case StillThere:
		o.Add("attendance", func(ctx context.Context, s *store.Store) error { return s.StillThere(ctx, meetingID, e.At) })
	case RoleChanged:
		o.Add("attendance", func(ctx context.Context, s *store.Store) error {
			return s.RoleChanged(ctx, parseUUID(e.Who), string(e.Role))
		})
	case Audited:
		a := store.AuditEntry{At: e.At, MeetingID: &meetingID, ActorID: e.ActorID, ActorName: e.ActorName, Action: e.Action,
			TargetID: e.TargetID, TargetName: e.TargetName, Detail: e.Detail}
		o.Add("audit", func(ctx context.Context, s *store.Store) error { return s.Audit(ctx, a) })
	case ChatSaved:
		m := chatRow(meetingID, e.Entry)
		o.Add("chat", func(ctx context.Context, s *store.Store) error { return s.AddChat(ctx, m) })
	case ChatRemoved:
		o.Add("chat", func(ctx context.Context, s *store.Store) error {
			return s.DeleteChat(ctx, meetingID, parseUUID(e.ID), e.By, e.At)
		})
	case LockSaved:
		o.Add("lock", func(ctx context.Context, s *store.Store) error { return s.SetMeetingLocked(ctx, meetingID, e.Locked) })
	case EndSaved:
		o.Add("end", func(ctx context.Context, s *store.Store) error { return s.EndMeeting(ctx, meetingID, e.At) })
	case Decided:
		d := store.Decision{MeetingID: meetingID, Identity: e.Identity, Stopped: e.Stopped, Allowed: e.Allowed, Role: string(e.Role), Waits: e.Waits, DecidedAt: e.At}
		o.Add("decision", func(ctx context.Context, s *store.Store) error { return s.SaveDecision(ctx, d) })
	case Banned:
		o.Add("ban", func(ctx context.Context, s *store.Store) error {
			return s.BanInvitee(ctx, meetingID, parseUUID(e.InviteeID))
		})
	}
}

func chatRow(meetingID uuid.UUID, e ChatEntry) store.ChatMessage {
	at, _ := time.Parse(time.RFC3339Nano, e.At)
	return store.ChatMessage{
		ID: parseUUID(e.ID), MeetingID: meetingID, SenderID: parseUUID(e.From), SenderName: e.FromName,
		SenderRole: string(e.FromRole), Recipients: e.To, Body: e.Text, SentAt: at,
	}
}

func parseUUID(s string) uuid.UUID {
	id, _ := uuid.Parse(s)
	return id
}

func optUUID(s string) *uuid.UUID {
	if s == "" {
		return nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return nil
	}
	return &id
}
