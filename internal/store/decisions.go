package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Decision is what hosts decided about one person in a meeting.
type Decision struct {
	MeetingID uuid.UUID `db:"meeting_id"`
	Identity  string    `db:"identity"`
	Stopped   []string  `db:"stopped"` // kinds of media a host stopped
	Allowed   []string  `db:"allowed"` // kinds a host allowed back
	Role      string    `db:"role"`    // the role a host gave, or ""
	Waits     bool      `db:"waits"`   // sent to the lobby: no automatic admission
	DecidedAt time.Time `db:"decided_at"`
}

// SaveDecision keeps the latest decision about a person; an older one
// arriving late never overwrites a newer.
func (s *Store) SaveDecision(ctx context.Context, d Decision) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO meeting_decisions (meeting_id, identity, stopped, allowed, role, waits, decided_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (meeting_id, identity) DO UPDATE
		SET stopped = $3, allowed = $4, role = $5, waits = $6, decided_at = $7
		WHERE meeting_decisions.decided_at <= $7`,
		d.MeetingID, d.Identity, nonNil(d.Stopped), nonNil(d.Allowed), d.Role, d.Waits, d.DecidedAt)
	if err != nil {
		return fmt.Errorf("store: save decision on %s: %w", d.MeetingID, err)
	}
	return nil
}

// Decisions lists what hosts decided about the people of a meeting.
func (s *Store) Decisions(ctx context.Context, meetingID uuid.UUID) ([]Decision, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT meeting_id, identity, stopped, allowed, role, waits, decided_at
		FROM meeting_decisions WHERE meeting_id = $1 ORDER BY identity`, meetingID)
	if err != nil {
		return nil, fmt.Errorf("store: decisions of %s: %w", meetingID, err)
	}
	ds, err := pgx.CollectRows(rows, pgx.RowToStructByName[Decision])
	if err != nil {
		return nil, fmt.Errorf("store: decisions of %s: %w", meetingID, err)
	}
	return ds, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
