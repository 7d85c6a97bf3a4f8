package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"classmeet/internal/pgtest"
	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

// evening is a parents' evening with teachers and families, seeded for a
// booking test.
type evening struct {
	st         *store.Store
	url        string
	e          store.Evening
	teachers   []store.User
	households []uuid.UUID
	students   []uuid.UUID // students[i] lives in households[i]
}

// newEvening stores an evening of `slots` 10-minute slots per teacher and
// `families` households of one child each, taught by every teacher.
func newEvening(t *testing.T, teachers, slots, families int) evening {
	t.Helper()
	url := pgtest.NewDatabase(t)
	st, err := store.Open(ctx, url, 60)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx, discard()); err != nil {
		t.Fatal(err)
	}
	ev := evening{st: st, url: url}
	start := testclock.Now().Add(48 * time.Hour).Truncate(time.Hour)
	p := store.EveningPlan{
		Name: "Year 7", TimeZone: "Europe/London", StartsAt: start, EndsAt: start.Add(time.Duration(slots) * 10 * time.Minute),
		SlotMinutes: 10, BookingOpensAt: start.Add(-72 * time.Hour), BookingClosesAt: start, SplitPolicy: "each_household",
		GraceSeconds: 60, RecordingPolicy: store.RecordingNotAllowed,
	}
	for i := range teachers {
		u := newUser(t, st, fmt.Sprintf("teacher%d@school.example", i))
		ev.teachers = append(ev.teachers, u)
		tp := store.EveningTeacherPlan{TeacherID: u.ID}
		for s := range slots {
			at := start.Add(time.Duration(s) * 10 * time.Minute)
			tp.Slots = append(tp.Slots, store.Times{StartsAt: at, EndsAt: at.Add(10 * time.Minute)})
		}
		p.Teachers = append(p.Teachers, tp)
	}
	if ev.e, err = st.CreateEvening(ctx, ev.teachers[0].ID, p, testclock.Now()); err != nil {
		t.Fatal(err)
	}
	seedFamilies(t, url, &ev, families)
	return ev
}

// seedFamilies writes households, guardians and students straight into the
// database: the import has its own tests.
func seedFamilies(t *testing.T, url string, ev *evening, n int) {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	now := testclock.Now()
	for i := range n {
		h, s := uuid.New(), uuid.New()
		batch := &pgx.Batch{}
		batch.Queue(`INSERT INTO households (id, external_id, link_nonce, created_at, updated_at) VALUES ($1, $2, '\x00', $3, $3)`, h, fmt.Sprintf("H%d", i), now)
		batch.Queue(`INSERT INTO guardians (id, household_id, name, email, position) VALUES ($1, $2, $3, $4, 0)`, uuid.New(), h, fmt.Sprintf("Parent %d", i), fmt.Sprintf("p%d@home.example", i))
		batch.Queue(`INSERT INTO students (id, external_id, name, class_name, created_at, updated_at) VALUES ($1, $2, $3, '7B', $4, $4)`, s, fmt.Sprintf("S%d", i), fmt.Sprintf("Child %d", i), now)
		batch.Queue(`INSERT INTO student_households (student_id, household_id) VALUES ($1, $2)`, s, h)
		for _, tc := range ev.teachers {
			batch.Queue(`INSERT INTO student_teachers (student_id, teacher_id) VALUES ($1, $2)`, s, tc.ID)
		}
		if err := conn.SendBatch(ctx, batch).Close(); err != nil {
			t.Fatal(err)
		}
		ev.households = append(ev.households, h)
		ev.students = append(ev.students, s)
	}
}

func (ev evening) book(i int, slot store.Slot, fits store.FitCheck) (store.Booking, error) {
	if fits == nil {
		fits = func(store.Slot, []store.Booking) error { return nil }
	}
	return ev.st.Book(ctx, store.NewBooking{
		ID: uuid.New(), EveningID: ev.e.ID, SlotID: slot.ID, HouseholdID: ev.households[i], StudentID: ev.students[i],
		ShareKey: ev.students[i].String(), BookedBy: "family", ChildName: "Child",
		Guardians: []store.BookingGuardian{{InviteeID: uuid.New(), Name: fmt.Sprintf("Parent %d", i), LinkNonce: []byte{1}}},
	}, fits, []store.NewMail{{Kind: "confirmation", ToAddr: "p@home.example", Subject: "Booked", Body: "b"}}, testclock.Now())
}

func (ev evening) slots(t *testing.T, teacher int) []store.Slot {
	t.Helper()
	ss, err := ev.st.Slots(ctx, ev.e.ID, ev.teachers[teacher].ID)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// Fifty families racing for ten slots: the unique index lets exactly one
// booking hold each slot, and every loser is told the slot was taken.
func TestBookingRaceHasOneWinnerPerSlot(t *testing.T) {
	ev := newEvening(t, 1, 10, 50)
	slots := ev.slots(t, 0)
	var mu sync.Mutex
	won, lost := map[uuid.UUID]int{}, 0
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			b, err := ev.book(i, slots[i%10], nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won[b.SlotID]++
			case errors.Is(err, store.ErrSlotTaken):
				lost++
			default:
				t.Errorf("family %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if len(won) != 10 || lost != 40 {
		t.Fatalf("%d slots won, %d families told it was taken; want 10 and 40", len(won), lost)
	}
	for id, n := range won {
		if n != 1 {
			t.Errorf("slot %s booked %d times", id, n)
		}
	}
	bs, _ := ev.st.EveningBookings(ctx, ev.e.ID, uuid.Nil)
	if len(bs) != 10 {
		t.Errorf("%d bookings in the database, want 10", len(bs))
	}
}

// Two tabs of one family booking at once: the household is locked while
// its bookings are checked, so the second sees the first and the rule holds.
func TestOneFamilyTwoTabsCannotOverlap(t *testing.T) {
	ev := newEvening(t, 2, 4, 1)
	a, b := ev.slots(t, 0)[1], ev.slots(t, 1)[1] // the same time with two teachers
	noOverlap := func(slot store.Slot, booked []store.Booking) error {
		for _, x := range booked {
			if slot.StartsAt.Before(x.EndsAt) && x.StartsAt.Before(slot.EndsAt) {
				return errors.New("overlaps")
			}
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, sl := range []store.Slot{a, b} {
		wg.Go(func() {
			nb := store.NewBooking{
				ID: uuid.New(), EveningID: ev.e.ID, SlotID: sl.ID, HouseholdID: ev.households[0], StudentID: ev.students[0],
				ShareKey: ev.students[0].String(), BookedBy: "family",
			}
			_, errs[i] = ev.st.Book(ctx, nb, noOverlap, nil, testclock.Now())
		})
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("two overlapping bookings of one family: %v, %v; want exactly one refused", errs[0], errs[1])
	}
}

// Moving keeps the booking (its UID) and bumps its sequence; cancelling
// frees the slot, withdraws the join links and the pending reminder.
func TestMoveAndCancel(t *testing.T) {
	ev := newEvening(t, 1, 4, 2)
	slots := ev.slots(t, 0)
	b, err := ev.book(0, slots[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.st.EnqueueMail(ctx, store.NewMail{DedupeKey: "reminder:" + b.ID.String(), Kind: "reminder", ToAddr: "p@home.example", Subject: "s", Body: "b", SendAfter: b.StartsAt.Add(-time.Hour)}, testclock.Now()); err != nil {
		t.Fatal(err)
	}
	none := func(store.Booking) []store.NewMail { return nil }
	always := func(store.Slot, []store.Booking) error { return nil }
	if _, err := ev.book(1, slots[1], nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ev.st.MoveBooking(ctx, b.ID, ev.households[0], slots[1].ID, always, none, testclock.Now()); !errors.Is(err, store.ErrSlotTaken) {
		t.Errorf("moving onto a taken slot: %v, want ErrSlotTaken", err)
	}
	if _, err := ev.st.MoveBooking(ctx, b.ID, ev.households[1], slots[2].ID, always, none, testclock.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another household moving it: %v, want ErrNotFound", err)
	}
	moved, err := ev.st.MoveBooking(ctx, b.ID, ev.households[0], slots[2].ID, always, none, testclock.Now())
	if err != nil || moved.ID != b.ID || moved.Sequence != b.Sequence+1 || !moved.StartsAt.Equal(slots[2].StartsAt) {
		t.Fatalf("moved = %+v, %v", moved, err)
	}
	tt, ok, err := ev.st.RoomTimetable(ctx, ev.teacherRoom(t, 0))
	if err != nil || !ok || len(tt.Appointments) != 2 || len(tt.Appointments[1].InviteeIDs) != 1 || tt.Grace != time.Minute {
		t.Fatalf("timetable = %+v, %v, %v", tt, ok, err)
	}
	cancelled, err := ev.st.CancelBooking(ctx, b.ID, uuid.Nil, none, testclock.Now())
	if err != nil || cancelled.CancelledAt == nil || cancelled.Sequence != moved.Sequence+1 {
		t.Fatalf("cancelled = %+v, %v", cancelled, err)
	}
	invs, _ := ev.st.BookingInvitees(ctx, []uuid.UUID{b.ID})
	if len(invs[b.ID]) != 1 || invs[b.ID][0].RevokedAt == nil {
		t.Errorf("join links after cancelling: %+v", invs[b.ID])
	}
	if n := ev.count(t, `SELECT count(*) FROM mail_queue WHERE kind = 'reminder' AND cancelled_at IS NULL`); n != 0 {
		t.Errorf("%d reminders still queued for the cancelled appointment", n)
	}
	if _, err := ev.book(1, slots[2], nil); !errors.Is(err, store.ErrAlreadyBooked) {
		t.Errorf("the same child twice with one teacher: %v, want ErrAlreadyBooked", err)
	}
	if free := ev.slots(t, 0)[2]; free.Taken {
		t.Error("the cancelled booking's slot is still taken")
	}
	if tt, _, _ := ev.st.RoomTimetable(ctx, ev.teacherRoom(t, 0)); len(tt.Appointments) != 1 {
		t.Errorf("timetable after cancelling has %d appointments, want 1", len(tt.Appointments))
	}
}

func (ev evening) teacherRoom(t *testing.T, i int) uuid.UUID {
	t.Helper()
	ts, err := ev.st.EveningTeachers(ctx, ev.e.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range ts {
		if tc.TeacherID == ev.teachers[i].ID {
			return tc.MeetingID
		}
	}
	t.Fatalf("teacher %d has no room", i)
	return uuid.Nil
}

func (ev evening) count(t *testing.T, sql string) int {
	t.Helper()
	conn, err := pgx.Connect(ctx, ev.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A reminder that failed is replaced like a pending one when its
// appointment moves: the queue never refuses the new one.
func TestReplacingAFailedMail(t *testing.T) {
	ev := newEvening(t, 1, 1, 0)
	m := store.NewMail{DedupeKey: "reminder:x", Kind: "reminder", ToAddr: "p@home.example", Subject: "s", Body: "b"}
	if err := ev.st.EnqueueMail(ctx, m, testclock.Now()); err != nil {
		t.Fatal(err)
	}
	ev.count(t, `WITH f AS (UPDATE mail_queue SET failed_at = now() RETURNING 1) SELECT count(*) FROM f`)
	if err := ev.st.EnqueueMail(ctx, m, testclock.Now()); err != nil {
		t.Fatalf("queueing over a failed message: %v", err)
	}
	if n := ev.count(t, `SELECT count(*) FROM mail_queue WHERE cancelled_at IS NULL`); n != 1 {
		t.Errorf("%d messages live, want the new one only", n)
	}
}

// Moving an appointment withdraws its reminders, whoever's they are: the
// mails of the move bring new ones only when the new time still leaves
// room for a reminder, and an old one would remind of the old time.
func TestMoveWithdrawsTheOldReminders(t *testing.T) {
	ev := newEvening(t, 1, 4, 1)
	slots := ev.slots(t, 0)
	b, err := ev.book(0, slots[3], nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"reminder:" + b.ID.String(), "reminder:" + uuid.NewString() + ":" + b.ID.String()} {
		m := store.NewMail{DedupeKey: key, Kind: "reminder", ToAddr: "p@home.example", Subject: "s", Body: "b", SendAfter: b.StartsAt.Add(-time.Hour)}
		if err := ev.st.EnqueueMail(ctx, m, testclock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	always := func(store.Slot, []store.Booking) error { return nil }
	none := func(store.Booking) []store.NewMail { return nil }
	if _, err := ev.st.MoveBooking(ctx, b.ID, uuid.Nil, slots[0].ID, always, none, testclock.Now()); err != nil {
		t.Fatal(err)
	}
	if n := ev.count(t, `SELECT count(*) FROM mail_queue WHERE kind = 'reminder' AND cancelled_at IS NULL`); n != 0 {
		t.Errorf("%d reminders of the old time still queued after the move", n)
	}
	if n := ev.count(t, `SELECT count(*) FROM mail_queue WHERE kind = 'confirmation' AND cancelled_at IS NULL`); n != 1 {
		t.Errorf("%d confirmations queued, want the booking's 1 left alone", n)
	}
}

// An evening cancelled while a family books or moves: the booking waits
// for the cancellation and is refused, so no appointment (nor its mails)
// is left on a cancelled evening.
func TestNoBookingOnACancelledEvening(t *testing.T) {
	ev := newEvening(t, 1, 4, 2)
	slots := ev.slots(t, 0)
	b, err := ev.book(0, slots[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ev.st.CancelEvening(ctx, ev.e.ID, testclock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := ev.book(1, slots[1], nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("booking on a cancelled evening: %v, want ErrNotFound", err)
	}
	always := func(store.Slot, []store.Booking) error { return nil }
	none := func(store.Booking) []store.NewMail { return nil }
	if _, err := ev.st.MoveBooking(ctx, b.ID, uuid.Nil, slots[2].ID, always, none, testclock.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("moving on a cancelled evening: %v, want ErrNotFound", err)
	}
	if n := ev.count(t, `SELECT count(*) FROM bookings WHERE cancelled_at IS NULL AND slot_id <> '`+slots[0].ID.String()+`'`); n != 0 {
		t.Errorf("%d bookings made or moved after the evening was cancelled", n)
	}
	if n := ev.count(t, `SELECT count(*) FROM mail_queue`); n != 1 {
		t.Errorf("%d mails queued, want only the first booking's: none for a refused one", n)
	}
}

// An evening for a class written in another case than the students' (the
// school's file changed "7b" to "7B" after the evening was planned) is for
// the same families everywhere: their booking page, the invitations and
// staff's search of the evening's families.
func TestEveningClassesIgnoreCase(t *testing.T) {
	ev := newEvening(t, 1, 2, 1)
	conn, err := pgx.Connect(ctx, ev.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE evenings SET classes = '{7b}' WHERE id = $1`, ev.e.ID); err != nil {
		t.Fatal(err)
	}
	es, err := ev.st.HouseholdEvenings(ctx, ev.households[0], testclock.Now())
	if err != nil || len(es) != 1 {
		t.Fatalf("the family's evenings: %d, %v; want the evening", len(es), err)
	}
	hs, err := ev.st.EveningHouseholds(ctx, ev.e.ID)
	if err != nil || len(hs) != 1 {
		t.Errorf("households invited: %d, %v; want the family", len(hs), err)
	}
	ss, err := ev.st.EveningStudents(ctx, ev.e.ID, "")
	if err != nil || len(ss) != 1 {
		t.Errorf("children found for staff: %d, %v; want the child", len(ss), err)
	}
}

// Cancelling an evening withdraws its failed mail too: a reminder that
// failed cannot be sent again from the outbox for an evening that is off.
func TestCancellingAnEveningWithdrawsFailedMail(t *testing.T) {
	ev := newEvening(t, 1, 1, 0)
	m := store.NewMail{DedupeKey: "reminder:x", Kind: "reminder", ToAddr: "p@home.example", Subject: "s", Body: "b", EveningID: &ev.e.ID}
	if err := ev.st.EnqueueMail(ctx, m, testclock.Now()); err != nil {
		t.Fatal(err)
	}
	ev.count(t, `WITH f AS (UPDATE mail_queue SET failed_at = now() RETURNING 1) SELECT count(*) FROM f`)
	if _, err := ev.st.CancelEvening(ctx, ev.e.ID, testclock.Now()); err != nil {
		t.Fatal(err)
	}
	ms, err := ev.st.Outbox(ctx, &ev.e.ID, 10)
	if err != nil || len(ms) != 1 {
		t.Fatalf("outbox: %d, %v", len(ms), err)
	}
	if err := ev.st.ResendMail(ctx, ms[0].ID, testclock.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("sending a cancelled evening's failed mail again: %v, want ErrNotFound", err)
	}
	if n := ev.count(t, `SELECT count(*) FROM mail_queue WHERE cancelled_at IS NULL`); n != 0 {
		t.Errorf("%d of the cancelled evening's mails not withdrawn", n)
	}
}
