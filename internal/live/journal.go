package live

import (
	"context"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/meeting"
	"classmeet/internal/store"
)

// OutboxJournal keeps the record in the database through an outbox, so a
// short outage loses nothing and stalls nobody.
type OutboxJournal struct{ Outbox *store.Outbox }

// Keep queues the database write an effect stands for.
func (j OutboxJournal) Keep(meetingID uuid.UUID, e meeting.Effect) {
	o := j.Outbox
	switch e := e.(type) {
	case meeting.Arrived:
		a := store.Attendance{ParticipantID: parseUUID(e.Who), MeetingID: meetingID, Name: e.Name, Role: string(e.Role), JoinedAt: e.At}
		a.InviteeID, a.UserID = optUUID(e.InviteeID), optUUID(e.UserID)
		o.Add("attendance", func(ctx context.Context, s *store.Store) error { return s.Arrived(ctx, a) })
	case meeting.EnteredRoom:
		o.Add("attendance", func(ctx context.Context, s *store.Store) error { return s.EnteredRoom(ctx, parseUUID(e.Who), e.At) })
	case meeting.Departed:
		o.Add("attendance", func(ctx context.Context, s *store.Store) error {
			return s.Departed(ctx, parseUUID(e.Who), e.At, e.Reason)
		})
	case meeting.StillThere:
		o.Add("attendance", func(ctx context.Context, s *store.Store) error { return s.StillThere(ctx, meetingID, e.At) })
	case meeting.RoleChanged:
		o.Add("attendance", func(ctx context.Context, s *store.Store) error {
			return s.RoleChanged(ctx, parseUUID(e.Who), string(e.Role))
		})
	case meeting.Audited:
		a := store.AuditEntry{At: e.At, Kind: store.AuditRoom, MeetingID: &meetingID, ActorID: e.ActorID, ActorName: e.ActorName,
			ActorRole: e.ActorRole, Action: e.Action,
			TargetID: e.TargetID, TargetName: e.TargetName, Detail: e.Detail}
		o.Add("audit", func(ctx context.Context, s *store.Store) error { return s.Audit(ctx, a) })
	case meeting.ChatSaved:
		m := chatRow(meetingID, e.Entry)
		o.Add("chat", func(ctx context.Context, s *store.Store) error { return s.AddChat(ctx, m) })
	case meeting.ChatRemoved:
		o.Add("chat", func(ctx context.Context, s *store.Store) error {
			return s.DeleteChat(ctx, meetingID, parseUUID(e.ID), e.By, e.At)
		})
	case meeting.LockSaved:
		o.Add("lock", func(ctx context.Context, s *store.Store) error { return s.SetMeetingLocked(ctx, meetingID, e.Locked) })
	case meeting.EndSaved:
		o.Add("end", func(ctx context.Context, s *store.Store) error { return s.EndMeeting(ctx, meetingID, e.At) })
	case meeting.Decided:
		d := store.Decision{MeetingID: meetingID, Identity: e.Identity, Stopped: e.Stopped, Allowed: e.Allowed, Role: string(e.Role), Waits: e.Waits, DecidedAt: e.At}
		o.Add("decision", func(ctx context.Context, s *store.Store) error { return s.SaveDecision(ctx, d) })
	case meeting.AppointmentStarted:
		o.Add("appointment", func(ctx context.Context, s *store.Store) error {
			return s.AppointmentStarted(ctx, parseUUID(e.BookingID), e.At)
		})
	case meeting.AppointmentEnded:
		o.Add("appointment", func(ctx context.Context, s *store.Store) error {
			return s.AppointmentEnded(ctx, parseUUID(e.BookingID), e.At, e.How)
		})
	case meeting.RunningLate:
		o.Add("running late", func(ctx context.Context, s *store.Store) error { return s.RunningLate(ctx, meetingID, e.Minutes) })
	case meeting.Banned:
		o.Add("ban", func(ctx context.Context, s *store.Store) error {
			return s.BanInvitee(ctx, meetingID, parseUUID(e.InviteeID))
		})
	}
}

func chatRow(meetingID uuid.UUID, e meeting.ChatEntry) store.ChatMessage {
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
