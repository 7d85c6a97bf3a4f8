package main

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"classmeet/internal/mailtest"
	"classmeet/internal/pgtest"
	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

// TestServeSendsQueuedMail: `classmeet serve` with an SMTP server sends what
// is queued, and stops its mail worker with it.
func TestServeSendsQueuedMail(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := store.Open(ctx, url, 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	// Queued long ago, so it is due whatever the server's clock says.
	long := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := st.EnqueueMail(ctx, store.NewMail{Kind: "confirmation", ToAddr: "pat@family.example", Subject: "Booked", Body: "See you"}, long); err != nil {
		t.Fatal(err)
	}
	smtp := mailtest.Start(t, mailtest.WithoutTLS())
	env := map[string]string{
		"DATABASE_URL": url, "CLASSMEET_SECRET": "0123456789abcdef0123456789abcdef", "CLASSMEET_ADDR": "127.0.0.1:0",
		"CLASSMEET_RTC_UDP_PORT": "0", "CLASSMEET_RTC_TCP_PORT": "0", "CLASSMEET_DATA_DIR": t.TempDir(),
		// Plain text is allowed to loopback only; the worker's STARTTLS is tested in internal/mail.
		"CLASSMEET_SMTP_HOST": "127.0.0.1", "CLASSMEET_SMTP_PORT": strconv.Itoa(smtp.Config().Port),
		"CLASSMEET_SMTP_TLS": "none", "CLASSMEET_SMTP_FROM": mailtest.From,
	}
	srvCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- serve(srvCtx, func(k string) string { return env[k] }, io.Discard, io.Discard) }()
	testclock.WaitFor(t, "the queued mail to arrive", 30*time.Second, func() bool { return len(smtp.Messages()) == 1 })
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("serve did not stop")
	}
	ms, err := st.Outbox(ctx, nil, 10)
	if err != nil || len(ms) != 1 || ms[0].Status() != store.MailSent {
		t.Fatalf("after serve stopped the queue holds %+v (%v), want the mail sent", ms, err)
	}
}
