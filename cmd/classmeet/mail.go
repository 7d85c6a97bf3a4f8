package main

import (
	"context"
	"log/slog"
	"time"

	"classmeet/internal/config"
	"classmeet/internal/mail"
	"classmeet/internal/store"
)

// startMail starts sending queued mail, when an SMTP server is configured;
// without one, mail waits on the outbox page. The function it returns
// stops the worker and waits for it.
func startMail(ctx context.Context, smtp *config.SMTP, st *store.Store, log *slog.Logger, now func() time.Time) (stop func(), err error) {
	if smtp == nil {
		log.Info("no SMTP server (CLASSMEET_SMTP_HOST): mail waits on the outbox page, /admin/outbox")
		return func() {}, nil
	}
	w, err := mail.New(st, *smtp, mail.WithClock(now), mail.WithLogger(log.With("component", "mail")))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	log.Info("mail goes out through SMTP", "host", smtp.Host, "port", smtp.Port, "tls", string(smtp.TLS))
	return func() { cancel(); <-done }, nil
}
