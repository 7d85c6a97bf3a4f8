package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// LobbyPolicy says who waits in the lobby before a host admits them.
type LobbyPolicy string

const (
	LobbyEveryoneWaits    LobbyPolicy = "everyone_waits"
	LobbyInviteesAdmitted LobbyPolicy = "invitees_admitted"
)

// RecordingPolicy says whether a meeting may be recorded.
type RecordingPolicy string

const (
	RecordingNotAllowed    RecordingPolicy = "not_allowed"
	RecordingHostMayRecord RecordingPolicy = "host_may_record"
)

// RecordingAccess says who may download a meeting's recordings.
type RecordingAccess string

const (
	RecordingAccessHost     RecordingAccess = "host"     // the teacher (and administrators)
	RecordingAccessInvitees RecordingAccess = "invitees" // the invitees too, from their links
)

// UnmutePolicy says whether someone muted by a host may unmute themselves.
type UnmutePolicy string

const (
	UnmuteSelf UnmutePolicy = "self" // participants unmute themselves
	UnmuteAsk  UnmutePolicy = "ask"  // they raise a hand and a host allows them
)

// ScreenSharePolicy says who may share a screen.
type ScreenSharePolicy string

const (
	ScreenShareHosts    ScreenSharePolicy = "hosts"
	ScreenShareEveryone ScreenSharePolicy = "everyone"
)

// Meeting is a scheduled meeting, owned by the teacher who hosts it.
type Meeting struct {
	ID              uuid.UUID         `db:"id"`
	OwnerID         uuid.UUID         `db:"owner_id"`
	Title           string            `db:"title"`
	Description     string            `db:"description"`
	StartsAt        time.Time         `db:"starts_at"`
	DurationMinutes int               `db:"duration_minutes"`
	TimeZone        string            `db:"time_zone"`
	LobbyPolicy     LobbyPolicy       `db:"lobby_policy"`
	RecordingPolicy RecordingPolicy   `db:"recording_policy"`
	UnmutePolicy    UnmutePolicy      `db:"unmute_policy"`
	ScreenShare     ScreenSharePolicy `db:"screen_share_policy"`
	RecordingAccess RecordingAccess   `db:"recording_access"`
	Sequence        int               `db:"sequence"`
	CreatedAt       time.Time         `db:"created_at"`
	UpdatedAt       time.Time         `db:"updated_at"`
	CancelledAt     *time.Time        `db:"cancelled_at"`
	LockedAt        *time.Time        `db:"locked_at"`
	EndedAt         *time.Time        `db:"ended_at"`   // the host ended it for everyone, until they reopen it
	EveningID       *uuid.UUID        `db:"evening_id"` // a teacher's room on a parents' evening, or nil
}

// EndsAt is when the meeting is planned to end.
func (m Meeting) EndsAt() time.Time {
	return m.StartsAt.Add(time.Duration(m.DurationMinutes) * time.Minute)
}

// Cancelled reports whether the teacher cancelled the meeting.
func (m Meeting) Cancelled() bool { return m.CancelledAt != nil }

// Ended reports whether the host ended the meeting for everyone.
func (m Meeting) Ended() bool { return m.EndedAt != nil }

// MeetingPlan is what a teacher decides about a meeting.
type MeetingPlan struct {
	Title, Description string
	StartsAt           time.Time
	DurationMinutes    int
	TimeZone           string
	LobbyPolicy        LobbyPolicy
	RecordingPolicy    RecordingPolicy
	UnmutePolicy       UnmutePolicy
	ScreenShare        ScreenSharePolicy
	RecordingAccess    RecordingAccess
}

func (p MeetingPlan) unmute() UnmutePolicy {
	if p.UnmutePolicy == "" {
		return UnmuteSelf
	}
	return p.UnmutePolicy
}

func (p MeetingPlan) access() RecordingAccess {
	if p.RecordingAccess == "" {
		return RecordingAccessHost
	}
	return p.RecordingAccess
}

func (p MeetingPlan) screenShare() ScreenSharePolicy {
	if p.ScreenShare == "" {
		return ScreenShareHosts
	}
	return p.ScreenShare
}

// MeetingSummary is a meeting as the dashboard lists it.
type MeetingSummary struct {
	Meeting
	InviteeCount int `db:"invitee_count"`
}

const meetingColumns = `id, owner_id, title, description, starts_at, duration_minutes, time_zone,
	lobby_policy, recording_policy, unmute_policy, screen_share_policy, recording_access, sequence, created_at,
	updated_at, cancelled_at, locked_at, ended_at, evening_id`

// CreateMeeting schedules a meeting owned by ownerID.
func (s *Store) CreateMeeting(ctx context.Context, ownerID uuid.UUID, p MeetingPlan) (Meeting, error) {
	m, err := one[Meeting](s.pool.Query(ctx, `
		INSERT INTO meetings (id, owner_id, title, description, starts_at, duration_minutes, time_zone,
			lobby_policy, recording_policy, unmute_policy, screen_share_policy, recording_access)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING `+meetingColumns,
		uuid.New(), ownerID, p.Title, p.Description, p.StartsAt, p.DurationMinutes, p.TimeZone,
		p.LobbyPolicy, p.RecordingPolicy, p.unmute(), p.screenShare(), p.access()))
	if err != nil {
		return Meeting{}, fmt.Errorf("store: create meeting %q: %w", p.Title, err)
	}
	return m, nil
}

// OwnedMeeting returns a meeting if ownerID owns it. Someone else's meeting
// is ErrNotFound, exactly like a meeting that does not exist.
func (s *Store) OwnedMeeting(ctx context.Context, ownerID, id uuid.UUID) (Meeting, error) {
	m, err := one[Meeting](s.pool.Query(ctx,
		`SELECT `+meetingColumns+` FROM meetings WHERE id = $1 AND owner_id = $2`, id, ownerID))
	if err != nil {
		return Meeting{}, fmt.Errorf("store: meeting %s: %w", id, err)
	}
	return m, nil
}

// UpdateMeeting replaces the plan of a meeting ownerID owns and has not
// cancelled, and bumps its iCalendar sequence. A room of a parents' evening
// is not such a meeting: it changes with its evening (ErrNotFound here).
func (s *Store) UpdateMeeting(ctx context.Context, ownerID, id uuid.UUID, p MeetingPlan) (Meeting, error) {
	m, err := one[Meeting](s.pool.Query(ctx, `
		UPDATE meetings SET title = $3, description = $4, starts_at = $5, duration_minutes = $6,
			time_zone = $7, lobby_policy = $8, recording_policy = $9, unmute_policy = $10,
			screen_share_policy = $11, recording_access = $12, sequence = sequence + 1, updated_at = now()
		WHERE id = $1 AND owner_id = $2 AND cancelled_at IS NULL AND evening_id IS NULL RETURNING `+meetingColumns,
		id, ownerID, p.Title, p.Description, p.StartsAt, p.DurationMinutes, p.TimeZone, p.LobbyPolicy, p.RecordingPolicy,
		p.unmute(), p.screenShare(), p.access()))
	if err != nil {
		return Meeting{}, fmt.Errorf("store: update meeting %s: %w", id, err)
	}
	return m, nil
}

// CancelMeeting cancels a meeting ownerID owns. Cancelling twice is not an
// error. A room of a parents' evening is cancelled with its evening, or
// when its teacher leaves it, never on its own (ErrNotFound here).
func (s *Store) CancelMeeting(ctx context.Context, ownerID, id uuid.UUID) error {
	err := affected(s.pool.Exec(ctx, `
		UPDATE meetings SET cancelled_at = coalesce(cancelled_at, now()),
			sequence = sequence + CASE WHEN cancelled_at IS NULL THEN 1 ELSE 0 END, updated_at = now()
		WHERE id = $1 AND owner_id = $2 AND evening_id IS NULL`, id, ownerID))
	if err != nil {
		return fmt.Errorf("store: cancel meeting %s: %w", id, err)
	}
	return nil
}

// UpcomingMeetings lists ownerID's meetings that have not ended by now (by
// the clock, or by the host ending them), soonest first.
func (s *Store) UpcomingMeetings(ctx context.Context, ownerID uuid.UUID, now time.Time) ([]MeetingSummary, error) {
	ms, err := all[MeetingSummary](s.pool.Query(ctx, `
		SELECT `+meetingColumns+`, (SELECT count(*) FROM invitees i WHERE i.meeting_id = m.id) AS invitee_count
		FROM meetings m
		WHERE owner_id = $1 AND starts_at + duration_minutes * interval '1 minute' > $2 AND ended_at IS NULL
		ORDER BY starts_at, title`, ownerID, now))
	if err != nil {
		return nil, fmt.Errorf("store: upcoming meetings: %w", err)
	}
	return ms, nil
}

// PastMeetings lists up to limit of ownerID's meetings that ended by now (by
// the clock, or by the host ending them), latest first.
func (s *Store) PastMeetings(ctx context.Context, ownerID uuid.UUID, now time.Time, limit int) ([]MeetingSummary, error) {
	ms, err := all[MeetingSummary](s.pool.Query(ctx, `
		SELECT `+meetingColumns+`, (SELECT count(*) FROM invitees i WHERE i.meeting_id = m.id) AS invitee_count
		FROM meetings m
		WHERE owner_id = $1 AND (starts_at + duration_minutes * interval '1 minute' <= $2 OR ended_at IS NOT NULL)
		ORDER BY starts_at DESC, title LIMIT $3`, ownerID, now, limit))
	if err != nil {
		return nil, fmt.Errorf("store: past meetings: %w", err)
	}
	return ms, nil
}

// MeetingWithHost is a meeting with the name of the teacher who hosts it.
type MeetingWithHost struct {
	Meeting
	HostName string `db:"host_name"`
}

// MeetingWithHost returns any meeting, whoever owns it. Callers must have
// established the visitor's right to it (a valid join link, say).
func (s *Store) MeetingWithHost(ctx context.Context, id uuid.UUID) (MeetingWithHost, error) {
	m, err := one[MeetingWithHost](s.pool.Query(ctx, `
		SELECT m.id, m.owner_id, m.title, m.description, m.starts_at, m.duration_minutes, m.time_zone,
			m.lobby_policy, m.recording_policy, m.unmute_policy, m.screen_share_policy, m.recording_access,
			m.sequence, m.created_at, m.updated_at, m.cancelled_at, m.locked_at, m.ended_at, m.evening_id, u.name AS host_name
		FROM meetings m JOIN users u ON u.id = m.owner_id WHERE m.id = $1`, id))
	if err != nil {
		return MeetingWithHost{}, fmt.Errorf("store: meeting %s: %w", id, err)
	}
	return m, nil
}

// SetMeetingLocked locks (nobody new may knock) or unlocks a meeting.
func (s *Store) SetMeetingLocked(ctx context.Context, id uuid.UUID, locked bool) error {
	err := affected(s.pool.Exec(ctx, `
		UPDATE meetings SET locked_at = CASE WHEN $2 THEN coalesce(locked_at, now()) END WHERE id = $1`, id, locked))
	if err != nil {
		return fmt.Errorf("store: lock meeting %s: %w", id, err)
	}
	return nil
}

// EndMeeting records that the host ended the meeting for everyone at, and
// closes the attendance still open from before then. An end older than the
// latest reopening changes nothing.
func (s *Store) EndMeeting(ctx context.Context, id uuid.UUID, at time.Time) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE meetings SET ended_at = $2 WHERE id = $1 AND (reopened_at IS NULL OR reopened_at < $2)`, id, at)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE attendance SET left_at = $2, left_reason = 'meeting ended'
			WHERE meeting_id = $1 AND left_at IS NULL AND joined_at <= $2`, id, at)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: end meeting %s: %w", id, err)
	}
	return nil
}

// ReopenMeeting opens an ended meeting again (the host came back to it) and
// reports whether it had been ended.
func (s *Store) ReopenMeeting(ctx context.Context, id uuid.UUID, at time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE meetings SET ended_at = NULL, reopened_at = $2 WHERE id = $1 AND ended_at IS NOT NULL`, id, at)
	if err != nil {
		return false, fmt.Errorf("store: reopen meeting %s: %w", id, err)
	}
	return tag.RowsAffected() > 0, nil
}
