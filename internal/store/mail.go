package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
)

// What a queued message is about (NewMail.Kind).
const (
	MailBookingInvitation = "booking_invitation"
	MailConfirmation      = "confirmation"
	MailChange            = "change"
	MailCancellation      = "cancellation"
	MailReminder          = "reminder"
)

// NewMail is a message to queue. Everything in it is rendered already: the
// queue only carries it.
type NewMail struct {
	// DedupeKey, when set, replaces an unsent message with the same key
	// (a reminder for an appointment that moved). A key ending in
	// ":<booking id>" is withdrawn when that booking is cancelled, one that
	// also starts "reminder:" when it moves.
	DedupeKey      string
	Kind           string // one of the Mail... kinds
	ToName, ToAddr string
	Subject, Body  string
	AttachmentName string
	AttachmentType string // e.g. "text/calendar; method=REQUEST"
	Attachment     []byte
	EveningID      *uuid.UUID
	HouseholdID    *uuid.UUID
	SendAfter      time.Time // zero: now
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// EnqueueMail queues a message.
func (s *Store) EnqueueMail(ctx context.Context, m NewMail, now time.Time) error {
	if err := enqueueMail(ctx, s.pool, m, now); err != nil {
		return fmt.Errorf("store: queue mail %q: %w", m.Kind, err)
	}
	return nil
}

// CancelMail withdraws an unsent message by its key (a reminder for an
// appointment that was cancelled).
func (s *Store) CancelMail(ctx context.Context, dedupeKey string, now time.Time) error {
	if err := cancelMail(ctx, s.pool, dedupeKey, now); err != nil {
		return fmt.Errorf("store: cancel mail %q: %w", dedupeKey, err)
	}
	return nil
}

func enqueueMail(ctx context.Context, q execer, m NewMail, now time.Time) error {
	if m.DedupeKey != "" {
		if err := cancelMail(ctx, q, m.DedupeKey, now); err != nil {
			return err
		}
	}
	after := m.SendAfter
	if after.IsZero() || after.Before(now) {
		after = now
	}
	_, err := q.Exec(ctx, `
		INSERT INTO mail_queue (id, dedupe_key, kind, to_name, to_addr, subject, body, attachment_name,
			attachment_type, attachment, evening_id, household_id, created_at, send_after, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)`,
		uuid.New(), m.DedupeKey, m.Kind, m.ToName, m.ToAddr, m.Subject, m.Body, m.AttachmentName,
		m.AttachmentType, m.Attachment, m.EveningID, m.HouseholdID, now, after)
	return err
}

func cancelMail(ctx context.Context, q execer, dedupeKey string, now time.Time) error {
	_, err := q.Exec(ctx, `
		UPDATE mail_queue SET cancelled_at = $2
		WHERE dedupe_key = $1 AND sent_at IS NULL AND cancelled_at IS NULL`, dedupeKey, now)
	return err
}
