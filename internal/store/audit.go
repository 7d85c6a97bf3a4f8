package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Kinds of audit entry, for an administrator to filter by.
const (
	AuditSignIn     = "sign-in"    // signing in and out
	AuditAccount    = "account"    // accounts added, disabled, enabled
	AuditMeeting    = "meeting"    // scheduling, editing, cancelling a meeting
	AuditInvitation = "invitation" // invitee links added, withdrawn, renewed
	AuditRoom       = "room"       // what happened in the live meeting
	AuditRecording  = "recording"  // recordings watched, downloaded, deleted
	AuditEvening    = "evening"    // parents' evenings created, cancelled
	AuditFamilies   = "families"   // families imported, booking links renewed
	AuditBooking    = "booking"    // appointments staff booked, moved, cancelled
	AuditOther      = "other"
)

// AuditKinds lists the kinds in the order a filter offers them.
func AuditKinds() []string {
	return []string{AuditSignIn, AuditAccount, AuditMeeting, AuditInvitation, AuditRoom,
		AuditRecording, AuditEvening, AuditFamilies, AuditBooking, AuditOther}
}

// AuditEntry is one thing someone did that the school may need to know of.
type AuditEntry struct {
	ID         int64      `db:"id"`
	At         time.Time  `db:"at"`
	Kind       string     `db:"kind"`
	MeetingID  *uuid.UUID `db:"meeting_id"`
	ActorID    string     `db:"actor_id"`
	ActorName  string     `db:"actor_name"`
	ActorRole  string     `db:"actor_role"` // an account's role, "invitee", "household", "system"...
	Source     string     `db:"source"`     // the address of the request that made it, if one did
	Action     string     `db:"action"`
	TargetID   string     `db:"target_id"`
	TargetName string     `db:"target_name"`
	Detail     string     `db:"detail"`
	// MeetingTitle is the meeting's title now, or as it was when the entry
	// was written if the meeting is gone (then MeetingExists is false).
	MeetingTitle  string `db:"meeting_title"`
	MeetingExists bool   `db:"meeting_exists"`
}

// AuditFilter narrows the audit log. Empty fields do not narrow.
type AuditFilter struct {
	Meeting string // a meeting's id, or part of its title
	Person  string // part of the actor's or the target's name
	Kind    string
	Before  int64 // only entries older than this id (0: from the newest)
}

const auditColumns = `a.id, a.at, a.kind, a.meeting_id, a.actor_id, a.actor_name, a.actor_role, a.source,
	a.action, a.target_id, a.target_name, a.detail,
	coalesce(m.title, a.meeting_title) AS meeting_title, m.id IS NOT NULL AS meeting_exists
	FROM audit_log a LEFT JOIN meetings m ON m.id = a.meeting_id`

// Audit appends an entry to the audit log, keeping the meeting's title
// with it.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	if e.Kind == "" {
		e.Kind = AuditOther
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO audit_log (at, kind, meeting_id, actor_id, actor_name, actor_role, source, action,
			target_id, target_name, detail, meeting_title)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
			coalesce((SELECT title FROM meetings WHERE id = $3), ''))`,
		e.At, e.Kind, e.MeetingID, e.ActorID, e.ActorName, e.ActorRole, e.Source, e.Action,
		e.TargetID, e.TargetName, e.Detail)
	if err != nil {
		return fmt.Errorf("store: audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditLog lists up to limit entries matching f, newest first; limit 0
// lists them all.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter, limit int) ([]AuditEntry, error) {
	var meetingID *uuid.UUID
	title := ""
	if id, err := uuid.Parse(strings.TrimSpace(f.Meeting)); err == nil {
		meetingID = &id
	} else if f.Meeting != "" {
		title = contains(f.Meeting)
	}
	person := ""
	if strings.TrimSpace(f.Person) != "" {
		person = contains(f.Person)
	}
	es, err := all[AuditEntry](s.pool.Query(ctx, `
		SELECT `+auditColumns+`
		WHERE ($1::bigint = 0 OR a.id < $1)
			AND ($2::text = '' OR a.kind = $2)
			AND ($3::uuid IS NULL OR a.meeting_id = $3)
			AND ($4::text = '' OR coalesce(m.title, a.meeting_title) ILIKE $4)
			AND ($5::text = '' OR a.actor_name ILIKE $5 OR a.target_name ILIKE $5)
		ORDER BY a.id DESC LIMIT nullif($6::int, 0)`,
		f.Before, f.Kind, meetingID, title, person, limit))
	if err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	return es, nil
}

// contains is an ILIKE pattern matching s anywhere, s taken literally.
func contains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.TrimSpace(s)) + "%"
}

// MeetingAudit lists a meeting's audit entries, oldest first.
func (s *Store) MeetingAudit(ctx context.Context, meetingID uuid.UUID) ([]AuditEntry, error) {
	es, err := all[AuditEntry](s.pool.Query(ctx, `
		SELECT `+auditColumns+` WHERE a.meeting_id = $1 ORDER BY a.id`, meetingID))
	if err != nil {
		return nil, fmt.Errorf("store: audit of %s: %w", meetingID, err)
	}
	return es, nil
}
