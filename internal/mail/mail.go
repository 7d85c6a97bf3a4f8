// Package mail sends queued mail through SMTP, or leaves it for the outbox
// page: a Worker takes due messages from the PostgreSQL mail queue, sends
// them, and records the outcome there, so a restart loses nothing.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"strings"
	"time"

	"classmeet/internal/config"
	"classmeet/internal/store"
)

// Queue is what the worker needs of the mail queue.
type Queue interface {
	WithDueMail(ctx context.Context, now time.Time, limit int, send func([]store.MailToSend) []store.MailOutcome) (int, error)
}

// sender delivers a batch of messages over one connection, reporting each
// message's outcome.
type sender interface {
	send(ctx context.Context, ms []store.MailToSend) []error
}

// Worker sends due mail. Several may run, in one process or many: each
// message is claimed by one of them at a time.
type Worker struct {
	queue  Queue
	sender sender
	log    *slog.Logger
	now    func() time.Time
	poll   time.Duration
	batch  int
	giveUp time.Duration
	tls    *tls.Config
}

// sendTimeout bounds one connection's work, and so how long a batch's rows
// stay locked.
const sendTimeout = 2 * time.Minute

// New returns a worker sending the queue's mail through the SMTP server.
func New(q Queue, server config.SMTP, opts ...Option) (*Worker, error) {
	w := &Worker{queue: q, log: slog.New(slog.DiscardHandler), now: time.Now, poll: 5 * time.Second, batch: 20, giveUp: 24 * time.Hour}
	for _, o := range opts {
		o(w)
	}
	s, err := newSMTP(server, w.tls, w.now)
	if err != nil {
		return nil, err
	}
	w.sender = s
	return w, nil
}

// Run sends due mail until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := w.round(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.Warn("mail queue unavailable; trying again", "err", err)
		}
		next := w.poll
		if n == w.batch {
			next = 0 // more may be due
		}
		t.Reset(next)
	}
}

// round sends one batch of due messages and records how each went. It
// returns how many it took.
func (w *Worker) round(ctx context.Context) (int, error) {
	// The batch's transaction outlives a stop: mail that went out is
	// recorded as sent, not sent again at the next start.
	txCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout+30*time.Second)
	defer cancel()
	return w.queue.WithDueMail(txCtx, w.now(), w.batch, func(ms []store.MailToSend) []store.MailOutcome {
		sendCtx, cancel := context.WithTimeout(ctx, sendTimeout)
		defer cancel()
		errs := w.sender.send(sendCtx, ms)
		out := make([]store.MailOutcome, len(ms))
		for i, m := range ms {
			out[i] = w.outcome(m, errs[i])
		}
		return out
	})
}

// outcome decides what becomes of m after an attempt: sent, tried again
// after a backoff, or given up.
func (w *Worker) outcome(m store.MailToSend, err error) store.MailOutcome {
	attempt := m.Attempts + 1
	log := w.log.With("mail_id", m.ID, "kind", m.Kind, "attempt", attempt)
	now := w.now()
	switch {
	case err == nil:
		log.Info("mail sent")
		return store.MailOutcome{At: now, Sent: true}
	case errors.Is(err, ErrRefused) || errors.Is(err, ErrUnsendable) || exhausted(attempt, w.giveUp):
		log.Error("mail failed; it waits on the outbox page to be sent again", "err", err)
		return store.MailOutcome{At: now, Error: reason(err)}
	default:
		wait := retryAfter(attempt)
		log.Warn("mail not sent; will try again", "err", err, "in", wait)
		return store.MailOutcome{At: now, Error: reason(err), RetryAt: now.Add(wait)}
	}
}

// reason is an error as the outbox page shows it: at most 500 bytes.
func reason(err error) string {
	s := err.Error()
	if len(s) > 500 {
		s = strings.ToValidUTF8(s[:500], "") + "…"
	}
	return s
}
