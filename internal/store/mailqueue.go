package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// MailToSend is a queued message a worker has claimed, with its attachment.
type MailToSend struct {
	ID             uuid.UUID `db:"id"`
	Kind           string    `db:"kind"`
	ToName         string    `db:"to_name"`
	ToAddr         string    `db:"to_addr"`
	Subject        string    `db:"subject"`
	Body           string    `db:"body"`
	AttachmentName string    `db:"attachment_name"`
	AttachmentType string    `db:"attachment_type"`
	Attachment     []byte    `db:"attachment"`
	CreatedAt      time.Time `db:"created_at"`
	Attempts       int       `db:"attempts"` // made before this one
}

// MailOutcome is how an attempt to send a message went.
type MailOutcome struct {
	At    time.Time // when the attempt ended
	Sent  bool      // the mail server accepted it
	Error string    // why not
	// RetryAt is when to try an unsent message again; zero: give up (it
	// waits on the outbox page as failed).
	RetryAt time.Time
}

// WithDueMail locks up to limit messages due at now, hands them to send and
// records the outcome it returns for each (one per message, in order), all
// in one transaction. While a worker sends a message its row stays locked
// and every other worker, here or in another instance, skips it (SKIP
// LOCKED); if the worker dies, the lock goes with it and the message is due
// again. It returns how many messages it handed to send.
func (s *Store) WithDueMail(ctx context.Context, now time.Time, limit int, send func([]MailToSend) []MailOutcome) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		ms, err := all[MailToSend](tx.Query(ctx, `
			SELECT id, kind, to_name, to_addr, subject, body, attachment_name, attachment_type,
			       attachment, created_at, attempts
			FROM mail_queue
			WHERE sent_at IS NULL AND cancelled_at IS NULL AND failed_at IS NULL
			  AND next_attempt_at <= $1 AND send_after <= $1
			ORDER BY next_attempt_at, created_at
			LIMIT $2
			FOR UPDATE SKIP LOCKED`, now, limit))
		if err != nil || len(ms) == 0 {
			return err
		}
		n = len(ms)
		outcomes := send(ms)
		if len(outcomes) != len(ms) {
			return fmt.Errorf("%d outcomes for %d messages", len(outcomes), len(ms))
		}
		for i, o := range outcomes {
			if err := recordMail(ctx, tx, ms[i].ID, o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: send due mail: %w", err)
	}
	return n, nil
}

// recordMail writes down one attempt. The row is locked meanwhile, so a
// cancellation or a replacement waits for it and then finds it sent.
func recordMail(ctx context.Context, tx pgx.Tx, id uuid.UUID, o MailOutcome) error {
	var err error
	switch {
	case o.Sent:
		_, err = tx.Exec(ctx, `UPDATE mail_queue SET attempts = attempts + 1, sent_at = $2, last_error = '' WHERE id = $1`, id, o.At)
	case o.RetryAt.IsZero():
		_, err = tx.Exec(ctx, `UPDATE mail_queue SET attempts = attempts + 1, failed_at = $2, last_error = $3 WHERE id = $1`, id, o.At, o.Error)
	default:
		_, err = tx.Exec(ctx, `UPDATE mail_queue SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 WHERE id = $1`, id, o.RetryAt, o.Error)
	}
	return err
}

// ResendMail queues a failed message again, due at now, with its attempts
// counted afresh (the last error stays until the next attempt). Only a
// failed message can be sent again: ErrNotFound otherwise.
func (s *Store) ResendMail(ctx context.Context, id uuid.UUID, now time.Time) error {
	err := affected(s.pool.Exec(ctx, `
		UPDATE mail_queue SET failed_at = NULL, attempts = 0, next_attempt_at = $2
		WHERE id = $1 AND failed_at IS NOT NULL AND sent_at IS NULL AND cancelled_at IS NULL`, id, now))
	if err != nil {
		return fmt.Errorf("store: send mail %s again: %w", id, err)
	}
	return nil
}

// MailStatus is where a message stands, as the outbox page shows it.
type MailStatus string

// The statuses of a message.
const (
	MailQueued    MailStatus = "queued"    // waiting for its time, or for SMTP
	MailFailing   MailStatus = "failing"   // an attempt failed; it will be tried again
	MailFailed    MailStatus = "failed"    // given up: waits for "send again"
	MailSent      MailStatus = "sent"      // the mail server accepted it
	MailCancelled MailStatus = "cancelled" // replaced or withdrawn before it went out
)

// OutboxMail is a message as the outbox page lists it: everything but the
// attachment's bytes.
type OutboxMail struct {
	ID             uuid.UUID  `db:"id"`
	Kind           string     `db:"kind"`
	ToName         string     `db:"to_name"`
	ToAddr         string     `db:"to_addr"`
	Subject        string     `db:"subject"`
	Body           string     `db:"body"`
	AttachmentName string     `db:"attachment_name"`
	AttachmentSize int        `db:"attachment_size"`
	EveningID      *uuid.UUID `db:"evening_id"`
	CreatedAt      time.Time  `db:"created_at"`
	SendAfter      time.Time  `db:"send_after"`
	Attempts       int        `db:"attempts"`
	NextAttemptAt  time.Time  `db:"next_attempt_at"`
	LastError      string     `db:"last_error"`
	SentAt         *time.Time `db:"sent_at"`
	CancelledAt    *time.Time `db:"cancelled_at"`
	FailedAt       *time.Time `db:"failed_at"`
}

// Status is where the message stands. Sent wins over cancelled: a message
// replaced while it was going out still went out.
func (m OutboxMail) Status() MailStatus {
	switch {
	case m.SentAt != nil:
		return MailSent
	case m.CancelledAt != nil:
		return MailCancelled
	case m.FailedAt != nil:
		return MailFailed
	case m.LastError != "":
		return MailFailing
	}
	return MailQueued
}

// Outbox lists up to limit messages, newest first: of one evening, or of
// every evening and none when evening is nil.
func (s *Store) Outbox(ctx context.Context, evening *uuid.UUID, limit int) ([]OutboxMail, error) {
	ms, err := all[OutboxMail](s.pool.Query(ctx, `
		SELECT id, kind, to_name, to_addr, subject, body, attachment_name,
		       coalesce(octet_length(attachment), 0) AS attachment_size, evening_id, created_at, send_after,
		       attempts, next_attempt_at, last_error, sent_at, cancelled_at, failed_at
		FROM mail_queue
		WHERE $1::uuid IS NULL OR evening_id = $1
		ORDER BY created_at DESC, id
		LIMIT $2`, evening, limit))
	if err != nil {
		return nil, fmt.Errorf("store: outbox: %w", err)
	}
	return ms, nil
}
