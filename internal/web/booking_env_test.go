package web_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"classmeet/internal/auth"
	"classmeet/internal/store"
)

// school is a web server with a parents' evening and families seeded
// straight into its database (the import and the evening form have their
// own tests): teachers, households with their booking links.
type school struct {
	*env
	admin    store.User
	teachers []store.User
	ev       store.Evening
	zone     *time.Location
}

// eveningRules are what a test varies in its evening.
type eveningRules struct {
	teachers, slots int // 10-minute slots, back to back, per teacher
	travel          int // minutes
	split           string
}

// newSchool starts a server on a database of its own with an evening
// three days ahead whose booking window is open.
func newSchool(t *testing.T, r eveningRules) *school {
	t.Helper()
	s := &school{env: newEnv(t), zone: mustZone("Europe/London")}
	s.admin = s.user("admin@school.example", store.RoleAdmin)
	for i := range r.teachers {
		s.teachers = append(s.teachers, s.user(fmt.Sprintf("teacher%d@school.example", i), store.RoleTeacher))
	}
	s.ev = s.evening(t, r)
	return s
}

func (s *school) evening(t *testing.T, r eveningRules) store.Evening {
	t.Helper()
	now := s.clock.Now()
	start := now.Add(72 * time.Hour).Truncate(time.Hour)
	split := r.split
	if split == "" {
		split = "each_household"
	}
	p := store.EveningPlan{
		Name: "Year 7 evening", TimeZone: "Europe/London", StartsAt: start,
		EndsAt: start.Add(time.Duration(r.slots) * 10 * time.Minute), SlotMinutes: 10, TravelMinutes: r.travel,
		BookingOpensAt: now.Add(-time.Hour), BookingClosesAt: start.Add(-time.Hour), SecondGuardian: true,
		SplitPolicy: split, ReminderMinutes: 60, GraceSeconds: 60, RecordingPolicy: store.RecordingNotAllowed,
	}
	for _, u := range s.teachers {
		tp := store.EveningTeacherPlan{TeacherID: u.ID}
		for i := range r.slots {
			at := start.Add(time.Duration(i) * 10 * time.Minute)
			tp.Slots = append(tp.Slots, store.Times{StartsAt: at, EndsAt: at.Add(10 * time.Minute)})
		}
		p.Teachers = append(p.Teachers, tp)
	}
	ev, err := s.store.CreateEvening(context.Background(), s.admin.ID, p, now)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// exec runs SQL on the test's database.
func (s *school) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

// student adds a child of class 7B taught by teachers.
func (s *school) student(t *testing.T, name string, teachers ...store.User) uuid.UUID {
	t.Helper()
	id := uuid.New()
	s.exec(t, `INSERT INTO students (id, external_id, name, class_name, created_at, updated_at) VALUES ($1, $2, $3, '7B', $4, $4)`,
		id, "S-"+id.String(), name, s.clock.Now())
	for _, u := range teachers {
		s.exec(t, `INSERT INTO student_teachers (student_id, teacher_id, subject) VALUES ($1, $2, 'Maths')`, id, u.ID)
	}
	return id
}

// family is a household as its booking link opens it.
type family struct {
	id        uuid.UUID
	guardians []string // names; guardian i's email is in emailOf
	link      string   // /b/{token}
}

func emailOf(guardian string) string {
	return strings.ToLower(strings.ReplaceAll(guardian, " ", ".")) + "@home.example"
}

// household adds a home with guardians (by name, each with an email) and children.
func (s *school) household(t *testing.T, guardians []string, children ...uuid.UUID) family {
	t.Helper()
	f := family{id: uuid.New(), guardians: guardians}
	nonce := []byte(rand.Text())
	s.exec(t, `INSERT INTO households (id, external_id, link_nonce, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`,
		f.id, "H-"+f.id.String(), nonce, s.clock.Now())
	for i, g := range guardians {
		s.exec(t, `INSERT INTO guardians (id, household_id, name, email, position) VALUES ($1, $2, $3, $4, $5)`,
			uuid.New(), f.id, g, emailOf(g), i)
	}
	for _, c := range children {
		s.exec(t, `INSERT INTO student_households (student_id, household_id) VALUES ($1, $2)`, c, f.id)
	}
	f.link = "/b/" + auth.NewBookingLinks(s.cfg.Secret).Token(f.id, nonce)
	return f
}

// slots are a teacher's slots on the evening, in time order.
func (s *school) slots(t *testing.T, teacher store.User) []store.Slot {
	t.Helper()
	ss, err := s.store.Slots(context.Background(), s.ev.ID, teacher.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// book posts the booking form of a family's page.
func (s *school) book(b *browser, f family, child uuid.UUID, teacher store.User, slot store.Slot) page {
	s.t.Helper()
	return b.post(f.link+"/book", url.Values{"evening": {s.ev.ID.String()}, "student": {child.String()},
		"teacher": {teacher.ID.String()}, "slot": {slot.ID.String()}})
}

// bookings are the evening's live bookings, as the database holds them.
func (s *school) bookings(t *testing.T) []store.BookingDetail {
	t.Helper()
	bs, err := s.store.EveningBookings(context.Background(), s.ev.ID, uuid.Nil)
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

// clock is a slot's start as the page shows it.
func (s *school) clockOf(sl store.Slot) string {
	return sl.StartsAt.In(s.zone).Format("15:04")
}

// queuedMail is a queued message as the mail_queue table holds it.
type queuedMail struct {
	Kind, ToAddr, DedupeKey, Body, AttachmentType string
	Attachment                                    []byte
	SendAfter                                     time.Time
	Cancelled                                     bool
}

func (s *school) mails(t *testing.T) []queuedMail {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT kind, to_addr, dedupe_key, body, attachment_type,
		coalesce(attachment, ''::bytea), send_after, cancelled_at IS NOT NULL FROM mail_queue ORDER BY created_at, kind, to_addr`)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (queuedMail, error) {
		var m queuedMail
		err := r.Scan(&m.Kind, &m.ToAddr, &m.DedupeKey, &m.Body, &m.AttachmentType, &m.Attachment, &m.SendAfter, &m.Cancelled)
		return m, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}
