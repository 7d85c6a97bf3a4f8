package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/mail"
	"classmeet/internal/mailtest"
	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

// queueMail queues a message to addr, of evening (may be nil), due now.
func (e *env) queueMail(addr, body string, evening *uuid.UUID) {
	e.t.Helper()
	err := e.store.EnqueueMail(context.Background(), store.NewMail{
		Kind: "booking_invitation", ToName: "Robin Guardian", ToAddr: addr, Subject: "Book your appointments",
		Body: body, EveningID: evening, AttachmentName: "appointments.ics", AttachmentType: "text/calendar; method=REQUEST",
		Attachment: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
	}, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
}

// evening creates an evening without teachers, owned by owner.
func (e *env) evening(owner store.User, name string) uuid.UUID {
	e.t.Helper()
	start := e.clock.Now().Add(72 * time.Hour)
	ev, err := e.store.CreateEvening(context.Background(), owner.ID, store.EveningPlan{
		Name: name, TimeZone: "Europe/London", StartsAt: start, EndsAt: start.Add(time.Hour), SlotMinutes: 10,
		BookingOpensAt: start.Add(-48 * time.Hour), BookingClosesAt: start, SplitPolicy: "each_household",
		RecordingPolicy: store.RecordingNotAllowed,
	}, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return ev.ID
}

func TestOutboxWithoutSMTPShowsEveryMessageWithItsLinks(t *testing.T) {
	e := newEnv(t)
	admin := e.user("admin@school.example", store.RoleAdmin)
	e.user("teacher@school.example", store.RoleTeacher)
	spring, autumn := e.evening(admin, "Spring evening"), e.evening(admin, "Autumn evening")
	e.queueMail("robin@family.example", "Dear Robin,\nbook here: https://meet.school.example/b/BOOKTOKEN.\n<script>alert(1)</script> javascript:alert(2)", &spring)
	e.queueMail("casey@family.example", "Book: https://meet.school.example/b/OTHER", &autumn)

	if p := e.login("teacher@school.example").get("/admin/outbox"); p.status != http.StatusForbidden {
		t.Errorf("a teacher opening the outbox: %d, want 403", p.status)
	}
	b := e.login("admin@school.example")
	p := b.get("/admin/outbox")
	if p.status != http.StatusOK || p.doc.Find(tid("outbox-only")).Length() != 1 || p.doc.Find(tid("mail")).Length() != 2 {
		t.Fatalf("outbox: %d, outbox-only notice %d, %d messages", p.status, p.doc.Find(tid("outbox-only")).Length(), p.doc.Find(tid("mail")).Length())
	}
	if p.doc.Find(`nav a[href="/admin/outbox"]`).Length() != 1 {
		t.Error("the admin navigation does not link the outbox")
	}

	p = b.get("/admin/outbox?evening=" + spring.String())
	mails := p.doc.Find(tid("mail"))
	if mails.Length() != 1 {
		t.Fatalf("filtered by the spring evening: %d messages, want 1", mails.Length())
	}
	m := mails.First()
	if to := m.Find(tid("mail-to")).Text(); !strings.Contains(to, "robin@family.example") || !strings.Contains(to, "Robin Guardian") {
		t.Errorf("to: %q", to)
	}
	if st, _ := m.Find(tid("mail-status")).Attr("data-status"); st != "queued" {
		t.Errorf("status %q, want queued", st)
	}
	body := m.Find(tid("mail-body"))
	if href, _ := body.Find("a").First().Attr("href"); href != "https://meet.school.example/b/BOOKTOKEN" || body.Find("a").Length() != 1 {
		t.Errorf("body links: %d, first %q; want just the booking link, without the full stop", body.Find("a").Length(), href)
	}
	if body.Find("script").Length() != 0 || !strings.Contains(body.Text(), "<script>alert(1)</script>") {
		t.Error("the body's markup was not shown as text")
	}
	if m.Find(tid("mail-resend")).Length() != 0 {
		t.Error("a queued message offers to be sent again")
	}
	if p := b.get("/admin/outbox?evening=nonsense"); p.status != http.StatusBadRequest {
		t.Errorf("a malformed evening filter: %d, want 400", p.status)
	}
}

func TestOutboxSendsAFailedMessageAgain(t *testing.T) {
	srv := mailtest.Start(t)
	cfg := srv.Config()
	e := newEnvWith(t, map[string]string{
		"CLASSMEET_SMTP_HOST": cfg.Host, "CLASSMEET_SMTP_PORT": strconv.Itoa(cfg.Port), "CLASSMEET_SMTP_FROM": cfg.From,
	})
	e.user("admin@school.example", store.RoleAdmin)
	srv.Refuse("typo@family.example")
	e.queueMail("typo@family.example", "Book: https://meet.school.example/b/T", nil)
	w, err := mail.New(e.store, *e.cfg.SMTP, mail.WithTLSConfig(srv.ClientTLS()), mail.WithClock(e.clock.Now),
		mail.WithPollInterval(10*time.Millisecond), mail.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	b := e.login("admin@school.example")
	var p page
	testclock.WaitFor(t, "the refused message to show as failed", 20*time.Second, func() bool {
		p = b.get("/admin/outbox")
		s, _ := p.doc.Find(tid("mail-status")).Attr("data-status")
		return s == "failed"
	})
	if p.doc.Find(tid("outbox-only")).Length() != 0 {
		t.Error("with SMTP configured the page says mail is not sent")
	}
	if e := p.text(tid("mail-error")); !strings.Contains(e, "550") {
		t.Errorf("last error %q, want the server's refusal", e)
	}
	id, _ := p.doc.Find(tid("mail")).Attr("data-mail-id")
	srv.Accept("typo@family.example") // the school fixed the mailbox
	if r := b.post("/admin/outbox/"+id+"/resend", url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("send again: %d", r.status)
	}
	testclock.WaitFor(t, "the message sent again to arrive", 20*time.Second, func() bool { return len(srv.Messages()) == 1 })
	testclock.WaitFor(t, "the page to show it sent", 20*time.Second, func() bool {
		s, _ := b.get("/admin/outbox").doc.Find(tid("mail-status")).Attr("data-status")
		return s == "sent"
	})
	if r := b.post("/admin/outbox/"+id+"/resend", url.Values{}); r.status != http.StatusNotFound {
		t.Errorf("sending a sent message again: %d, want 404", r.status)
	}
}
