package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Attendance is one participant's visit to a meeting.
type Attendance struct {
	ParticipantID uuid.UUID  `db:"participant_id"`
	MeetingID     uuid.UUID  `db:"meeting_id"`
	InviteeID     *uuid.UUID `db:"invitee_id"`
	UserID        *uuid.UUID `db:"user_id"`
	Name          string     `db:"name"`
	Role          string     `db:"role"`
	JoinedAt      time.Time  `db:"joined_at"`
	AdmittedAt    *time.Time `db:"admitted_at"`
	LeftAt        *time.Time `db:"left_at"`
	LeftReason    string     `db:"left_reason"`
	// LastSeenAt is the last time the server recorded the visit as still
	// going (StillThere); a visit a crash left open is closed at it.
	LastSeenAt *time.Time `db:"last_seen_at"`
}

// InRoom is how long the participant was in the room (not the lobby); a
// visit still going counts until now.
func (a Attendance) InRoom(now time.Time) time.Duration {
	if a.AdmittedAt == nil {
		return 0
	}
	end := now
	if a.LeftAt != nil {
		end = *a.LeftAt
	}
	return max(0, end.Sub(*a.AdmittedAt))
}

// Arrived records someone arriving (in the lobby or the room).
func (s *Store) Arrived(ctx context.Context, a Attendance) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO attendance (participant_id, meeting_id, invitee_id, user_id, name, role, joined_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (participant_id) DO NOTHING`,
		a.ParticipantID, a.MeetingID, a.InviteeID, a.UserID, a.Name, a.Role, a.JoinedAt)
	if err != nil {
		return fmt.Errorf("store: attendance arrived: %w", err)
	}
	return nil
}

// EnteredRoom records when someone was let into the room (the first time).
func (s *Store) EnteredRoom(ctx context.Context, participant uuid.UUID, at time.Time) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE attendance SET admitted_at = coalesce(admitted_at, $2) WHERE participant_id = $1`, participant, at)
	if err != nil {
		return fmt.Errorf("store: attendance admitted: %w", err)
	}
	return nil
}

// Departed records someone leaving, and why: left, denied, removed, ended.
func (s *Store) Departed(ctx context.Context, participant uuid.UUID, at time.Time, reason string) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE attendance SET left_at = coalesce(left_at, $2), left_reason = CASE WHEN left_at IS NULL THEN $3 ELSE left_reason END
		WHERE participant_id = $1`, participant, at, reason)
	if err != nil {
		return fmt.Errorf("store: attendance departed: %w", err)
	}
	return nil
}

// RoleChanged records a participant's new role.
func (s *Store) RoleChanged(ctx context.Context, participant uuid.UUID, role string) error {
	_, err := s.pool.Exec(ctx, `UPDATE attendance SET role = $2 WHERE participant_id = $1`, participant, role)
	if err != nil {
		return fmt.Errorf("store: attendance role: %w", err)
	}
	return nil
}

// MeetingAttendance lists every visit to a meeting, in order of arrival.
func (s *Store) MeetingAttendance(ctx context.Context, meetingID uuid.UUID) ([]Attendance, error) {
	as, err := all[Attendance](s.pool.Query(ctx, `
		SELECT participant_id, meeting_id, invitee_id, user_id, name, role, joined_at, admitted_at, left_at, left_reason, last_seen_at
		FROM attendance WHERE meeting_id = $1 ORDER BY joined_at, participant_id`, meetingID))
	if err != nil {
		return nil, fmt.Errorf("store: attendance of %s: %w", meetingID, err)
	}
	return as, nil
}

// StillThere records that the meeting's open visits were still going at at.
func (s *Store) StillThere(ctx context.Context, meetingID uuid.UUID, at time.Time) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE attendance SET last_seen_at = greatest(last_seen_at, $2) WHERE meeting_id = $1 AND left_at IS NULL`, meetingID, at)
	if err != nil {
		return fmt.Errorf("store: attendance still there: %w", err)
	}
	return nil
}

// CloseAbandonedAttendance closes the visits a server that died left
// open, at the last time each was known to be going (its last StillThere,
// else its admission, else its arrival), and writes each to the audit
// log as "left (reason)". Only for meetings no longer live: at start,
// every meeting. It returns how many it closed.
func (s *Store) CloseAbandonedAttendance(ctx context.Context, reason string) (int, error) {
	tag, err := s.pool.Exec(ctx, `
		WITH closed AS (
			UPDATE attendance SET left_at = coalesce(last_seen_at, admitted_at, joined_at), left_reason = $1
			WHERE left_at IS NULL
			RETURNING meeting_id, participant_id, name, left_at)
		INSERT INTO audit_log (at, kind, meeting_id, actor_id, actor_name, actor_role, action, target_id, target_name, detail, meeting_title)
		SELECT c.left_at, 'room', c.meeting_id, '', 'classmeet', 'system', 'left (' || $1 || ')', c.participant_id::text, c.name,
			'last known to be there at this time', coalesce(m.title, '')
		FROM closed c LEFT JOIN meetings m ON m.id = c.meeting_id`, reason)
	if err != nil {
		return 0, fmt.Errorf("store: close abandoned attendance: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
