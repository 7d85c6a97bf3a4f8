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
		SELECT participant_id, meeting_id, invitee_id, user_id, name, role, joined_at, admitted_at, left_at, left_reason
		FROM attendance WHERE meeting_id = $1 ORDER BY joined_at, participant_id`, meetingID))
	if err != nil {
		return nil, fmt.Errorf("store: attendance of %s: %w", meetingID, err)
	}
	return as, nil
}
