package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// AuditEntry is one thing someone did that the school may need to know of.
type AuditEntry struct {
	ID         int64      `db:"id"`
	At         time.Time  `db:"at"`
	MeetingID  *uuid.UUID `db:"meeting_id"`
	ActorID    string     `db:"actor_id"`
	ActorName  string     `db:"actor_name"`
	Action     string     `db:"action"`
	TargetID   string     `db:"target_id"`
	TargetName string     `db:"target_name"`
	Detail     string     `db:"detail"`
}

const auditColumns = `id, at, meeting_id, actor_id, actor_name, action, target_id, target_name, detail`

// Audit appends an entry to the audit log.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO audit_log (at, meeting_id, actor_id, actor_name, action, target_id, target_name, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.At, e.MeetingID, e.ActorID, e.ActorName, e.Action, e.TargetID, e.TargetName, e.Detail)
	if err != nil {
		return fmt.Errorf("store: audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditLog lists up to limit entries older than before (0: the newest), newest first.
func (s *Store) AuditLog(ctx context.Context, before int64, limit int) ([]AuditEntry, error) {
	es, err := all[AuditEntry](s.pool.Query(ctx, `
		SELECT `+auditColumns+` FROM audit_log
		WHERE $1 = 0 OR id < $1 ORDER BY id DESC LIMIT $2`, before, limit))
	if err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	return es, nil
}

// MeetingAudit lists a meeting's audit entries, oldest first.
func (s *Store) MeetingAudit(ctx context.Context, meetingID uuid.UUID) ([]AuditEntry, error) {
	es, err := all[AuditEntry](s.pool.Query(ctx, `
		SELECT `+auditColumns+` FROM audit_log WHERE meeting_id = $1 ORDER BY id`, meetingID))
	if err != nil {
		return nil, fmt.Errorf("store: audit of %s: %w", meetingID, err)
	}
	return es, nil
}
