package mail_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"classmeet/internal/config"
	"classmeet/internal/mail"
	"classmeet/internal/mailtest"
	"classmeet/internal/pgtest"
	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

const ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//classmeet//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:a@classmeet\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

// enqueue queues a confirmation to addr with a calendar attached, due now.
func enqueue(t *testing.T, st *store.Store, now time.Time, addr string) {
	t.Helper()
	err := st.EnqueueMail(context.Background(), store.NewMail{
		Kind: "confirmation", ToName: "Alex Parent", ToAddr: addr, Subject: "Your appointments on " + addr,
		Body:           "Join your appointment: https://meet.school.example/j/TOKEN123\r\nManage: https://meet.school.example/b/MANAGE456\r\n",
		AttachmentName: "appointments.ics", AttachmentType: "text/calendar; method=REQUEST", Attachment: []byte(ics),
	}, now)
	if err != nil {
		t.Fatal(err)
	}
}

// run starts a worker sending through cfg (trusting srv's certificate)
// until the test ends.
func run(t *testing.T, st *store.Store, cfg config.SMTP, srv *mailtest.Server, opts ...mail.Option) {
	t.Helper()
	opts = append([]mail.Option{mail.WithTLSConfig(srv.ClientTLS()), mail.WithPollInterval(10 * time.Millisecond),
		mail.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	w, err := mail.New(st, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// row is the queued message to addr, as the outbox page sees it.
func row(t *testing.T, st *store.Store, addr string) store.OutboxMail {
	t.Helper()
	ms, err := st.Outbox(context.Background(), nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ToAddr == addr {
			return m
		}
	}
	t.Fatalf("no mail to %s in the queue", addr)
	return store.OutboxMail{}
}

func TestMailArrivesOverSTARTTLSWithItsCalendar(t *testing.T) {
	st, srv, clock := pgtest.NewStore(t), mailtest.Start(t), testclock.New()
	run(t, st, srv.Config(), srv, mail.WithClock(clock.Now))
	enqueue(t, st, clock.Now(), "alex@family.example")
	testclock.WaitFor(t, "the mail to arrive", 20*time.Second, func() bool { return len(srv.Messages()) == 1 })
	got := srv.Messages()[0]
	if !got.TLS || got.From != mailtest.From || len(got.To) != 1 || got.To[0] != "alex@family.example" {
		t.Errorf("envelope: TLS %v from %q to %q", got.TLS, got.From, got.To)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	if to := msg.Header.Get("To"); !strings.Contains(to, "Alex Parent") {
		t.Errorf("To: %q", to)
	}
	m := row(t, st, "alex@family.example")
	if id := msg.Header.Get("Message-Id"); !strings.Contains(id, m.ID.String()) {
		t.Errorf("Message-ID %q does not carry the queue id %s", id, m.ID)
	}
	body, att, attType, attName := parts(t, msg)
	if !strings.Contains(body, "https://meet.school.example/j/TOKEN123") {
		t.Errorf("the body lost its join link: %q", body)
	}
	if att != ics {
		t.Errorf("attachment = %q, want the calendar byte for byte", att)
	}
	if mt, params, _ := mime.ParseMediaType(attType); mt != "text/calendar" || params["method"] != "REQUEST" || attName != "appointments.ics" {
		t.Errorf("attachment type %q name %q", attType, attName)
	}
	testclock.WaitFor(t, "the mail to be marked sent", 20*time.Second, func() bool {
		return row(t, st, "alex@family.example").Status() == store.MailSent
	})
	if m := row(t, st, "alex@family.example"); m.Attempts != 1 || m.LastError != "" {
		t.Errorf("sent after %d attempts, error %q", m.Attempts, m.LastError)
	}
}

// parts reads a multipart/mixed message: its text, and its one attachment
// (decoded), the attachment's Content-Type and file name.
func parts(t *testing.T, msg *netmail.Message) (body, att, attType, attName string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return body, att, attType, attName
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		if p.FileName() == "" {
			body = string(b)
			continue
		}
		if p.Header.Get("Content-Transfer-Encoding") == "base64" {
			if b, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), "")); err != nil {
				t.Fatal(err)
			}
		}
		att, attType, attName = string(b), p.Header.Get("Content-Type"), p.FileName()
	}
}

func TestMailWaitsWhileTheServerIsDownAndGoesOutWhenItReturns(t *testing.T) {
	st, srv, clock := pgtest.NewStore(t), mailtest.Start(t), testclock.New()
	srv.Stop()
	run(t, st, srv.Config(), srv, mail.WithClock(clock.Now))
	enqueue(t, st, clock.Now(), "sam@family.example")
	for attempt := 1; attempt <= 3; attempt++ {
		testclock.WaitFor(t, fmt.Sprintf("attempt %d to fail", attempt), 20*time.Second, func() bool {
			m := row(t, st, "sam@family.example")
			return m.Attempts == attempt && m.LastError != "" && m.NextAttemptAt.After(clock.Now())
		})
		m := row(t, st, "sam@family.example")
		if m.Status() != store.MailFailing {
			t.Fatalf("after %d failed attempts the mail is %s, want failing", attempt, m.Status())
		}
		clock.Set(m.NextAttemptAt) // the backoff is over
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages arrived at a stopped server", n)
	}
	srv.Restart()
	testclock.WaitFor(t, "the mail to go out once the server is back", 20*time.Second, func() bool { return len(srv.Messages()) == 1 })
	testclock.WaitFor(t, "the mail to be marked sent", 20*time.Second, func() bool {
		return row(t, st, "sam@family.example").Status() == store.MailSent
	})
}

func TestMailGivesUpAfterADayAndWaitsOnTheOutbox(t *testing.T) {
	st, srv, clock := pgtest.NewStore(t), mailtest.Start(t), testclock.New()
	srv.Stop()
	run(t, st, srv.Config(), srv, mail.WithClock(clock.Now))
	first := clock.Now()
	enqueue(t, st, first, "kim@family.example")
	for attempt := 1; ; attempt++ {
		var m store.OutboxMail
		testclock.WaitFor(t, fmt.Sprintf("attempt %d to fail", attempt), 20*time.Second, func() bool {
			m = row(t, st, "kim@family.example")
			return m.Attempts == attempt && (m.Status() == store.MailFailed || m.NextAttemptAt.After(clock.Now()))
		})
		if m.Status() == store.MailFailed {
			if tried := clock.Now().Sub(first); tried < 23*time.Hour || tried > 24*time.Hour {
				t.Fatalf("gave up after %d attempts over %v, want about a day", attempt, tried)
			}
			break
		}
		if attempt > 100 {
			t.Fatalf("still trying after %d attempts", attempt)
		}
		clock.Set(m.NextAttemptAt)
	}
	// Failed mail is left alone, however long one waits.
	clock.Advance(48 * time.Hour)
	srv.Restart()
	m := row(t, st, "kim@family.example")
	if err := st.ResendMail(context.Background(), m.ID, clock.Now()); err != nil {
		t.Fatal(err)
	}
	testclock.WaitFor(t, "the mail sent again to go out", 20*time.Second, func() bool { return len(srv.Messages()) == 1 })
}

func TestMailRefusedForGoodFailsAtOnce(t *testing.T) {
	st, srv, clock := pgtest.NewStore(t), mailtest.Start(t), testclock.New()
	srv.Refuse("nobody@family.example")
	run(t, st, srv.Config(), srv, mail.WithClock(clock.Now))
	enqueue(t, st, clock.Now(), "nobody@family.example")
	enqueue(t, st, clock.Now(), "jo@family.example")
	testclock.WaitFor(t, "the refused mail to fail", 20*time.Second, func() bool {
		return row(t, st, "nobody@family.example").Status() == store.MailFailed
	})
	if m := row(t, st, "nobody@family.example"); m.Attempts != 1 || !strings.Contains(m.LastError, "550") {
		t.Errorf("refused mail: %d attempts, error %q; want 1 and the server's 550", m.Attempts, m.LastError)
	}
	testclock.WaitFor(t, "the other mail to go out", 20*time.Second, func() bool { return len(srv.Messages()) == 1 })
}

func TestMailIsNotSentInPlainTextWhenSTARTTLSIsMissing(t *testing.T) {
	st, srv, clock := pgtest.NewStore(t), mailtest.Start(t, mailtest.WithoutTLS()), testclock.New()
	run(t, st, srv.Config(), srv, mail.WithClock(clock.Now))
	enqueue(t, st, clock.Now(), "lee@family.example")
	testclock.WaitFor(t, "the attempt to fail", 20*time.Second, func() bool {
		return row(t, st, "lee@family.example").Status() == store.MailFailing
	})
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages went out without STARTTLS under the default policy", n)
	}
	if e := row(t, st, "lee@family.example").LastError; !strings.Contains(strings.ToLower(e), "starttls") {
		t.Errorf("last error %q does not say STARTTLS was missing", e)
	}
}

func TestTwoWorkersSendEachMessageOnce(t *testing.T) {
	st, srv, clock := pgtest.NewStore(t), mailtest.Start(t), testclock.New()
	const n = 40
	for i := range n {
		enqueue(t, st, clock.Now(), fmt.Sprintf("family%02d@family.example", i))
	}
	// Small batches, so the two claim again and again side by side.
	run(t, st, srv.Config(), srv, mail.WithClock(clock.Now), mail.WithBatch(3))
	run(t, st, srv.Config(), srv, mail.WithClock(clock.Now), mail.WithBatch(3))
	testclock.WaitFor(t, "every mail to be marked sent", 60*time.Second, func() bool {
		ms, err := st.Outbox(context.Background(), nil, 1000)
		if err != nil {
			t.Fatal(err)
		}
		sent := 0
		for _, m := range ms {
			if m.Status() == store.MailSent {
				sent++
			}
		}
		return sent == n
	})
	seen := map[string]int{}
	for _, m := range srv.Messages() {
		seen[m.To[0]]++
	}
	for addr, k := range seen {
		if k != 1 {
			t.Errorf("%s got %d copies", addr, k)
		}
	}
	if len(seen) != n {
		t.Errorf("%d recipients got mail, want %d", len(seen), n)
	}
}

func TestMailSignsInWithTheConfiguredCredentials(t *testing.T) {
	st, srv, clock := pgtest.NewStore(t), mailtest.Start(t, mailtest.WithAuth("evenings", "right password")), testclock.New()
	cfg := srv.Config()
	cfg.Username, cfg.Password = "evenings", "right password"
	run(t, st, cfg, srv, mail.WithClock(clock.Now))
	enqueue(t, st, clock.Now(), "ash@family.example")
	testclock.WaitFor(t, "the mail to arrive", 20*time.Second, func() bool { return len(srv.Messages()) == 1 })
	if got := srv.Messages()[0]; got.User != "evenings" || !got.TLS {
		t.Errorf("signed in as %q over TLS %v; want evenings over TLS", got.User, got.TLS)
	}
}

func TestMailWithWrongCredentialsWaits(t *testing.T) {
	st, srv, clock := pgtest.NewStore(t), mailtest.Start(t, mailtest.WithAuth("evenings", "right password")), testclock.New()
	cfg := srv.Config()
	cfg.Username, cfg.Password = "evenings", "wrong password"
	run(t, st, cfg, srv, mail.WithClock(clock.Now))
	enqueue(t, st, clock.Now(), "ash@family.example")
	// Credentials are the school's to fix: the mail is retried, not failed at once.
	testclock.WaitFor(t, "the attempt to fail", 20*time.Second, func() bool {
		return row(t, st, "ash@family.example").Status() == store.MailFailing
	})
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages accepted with the wrong password", n)
	}
}

func TestMailTLSPolicies(t *testing.T) {
	tests := []struct {
		name    string
		server  []mailtest.Option
		policy  config.SMTPTLS
		wantTLS bool
	}{
		{"implicit TLS", []mailtest.Option{mailtest.WithImplicitTLS()}, config.SMTPImplicitTLS, true},
		{"opportunistic STARTTLS, offered", nil, config.SMTPStartTLSOpportunistic, true},
		{"opportunistic STARTTLS, not offered", []mailtest.Option{mailtest.WithoutTLS()}, config.SMTPStartTLSOpportunistic, false},
		{"none, to loopback", nil, config.SMTPNoTLS, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, srv, clock := pgtest.NewStore(t), mailtest.Start(t, tt.server...), testclock.New()
			cfg := srv.Config()
			cfg.TLS = tt.policy
			run(t, st, cfg, srv, mail.WithClock(clock.Now))
			enqueue(t, st, clock.Now(), "max@family.example")
			testclock.WaitFor(t, "the mail to arrive", 20*time.Second, func() bool { return len(srv.Messages()) == 1 })
			if got := srv.Messages()[0].TLS; got != tt.wantTLS {
				t.Errorf("arrived over TLS: %v, want %v", got, tt.wantTLS)
			}
		})
	}
}
