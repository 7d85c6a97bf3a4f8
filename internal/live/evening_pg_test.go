package live

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"classmeet/internal/meeting"
	"classmeet/internal/pgtest"
	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

// TestEveningRoomRecordsAppointmentsInTheDatabase runs a teacher's evening
// room against the real store: the timetable comes from a booking in
// PostgreSQL, the family joins with the booking's link, and the actual
// start, end and outcome land in the booking's row.
func TestEveningRoomRecordsAppointmentsInTheDatabase(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	st, err := store.Open(ctx, url, 10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx, discardLog()); err != nil {
		t.Fatal(err)
	}
	clock := testclock.New()
	start := clock.Now().Add(48 * time.Hour).Truncate(time.Hour)
	roomID, booking, invitee := bookedEvening(t, st, url, start, clock.Now())

	outbox := st.NewOutbox(discardLog(), 100)
	defer outbox.Close(ctx)
	hub := NewHub(HubConfig{
		Meetings: st, Timetables: st, Journal: OutboxJournal{Outbox: outbox},
		NewMedia: func(string) MediaRoom { return &fakeMedia{peers: map[string]*fakePeer{}} },
		Grace:    time.Minute, Log: discardLog(), Now: clock.Now,
	})
	defer hub.Close()

	clock.Set(start.Add(-3 * time.Minute))
	if _, err := hub.Join(ctx, roomID, meeting.Arrival{ID: "teacher", Name: "Ms Smith", Role: meeting.RoleHost, Identity: "teacher"}, &fakeConn{}); err != nil {
		t.Fatal(err)
	}
	parent := &fakeConn{}
	if _, err := hub.Join(ctx, roomID, meeting.Arrival{ID: "parent", Name: "Parent", Role: meeting.RoleParticipant, InviteeID: invitee.String(), InviteeName: "Parent", Identity: meeting.InviteeIdentity(invitee.String())}, parent); err != nil {
		t.Fatal(err)
	}
	if a, ok := lastOf[*meeting.AppointmentStatus](parent); !ok || a.Status != meeting.ApptWaiting || a.Teacher != "Ms Smith" {
		t.Fatalf("the family was told %+v", a)
	}

	clock.Set(start.Add(time.Second))
	testclock.WaitFor(t, "the start in the booking's row", 20*time.Second, func() bool {
		return bookingRow(t, url, booking).startedAt.Equal(start.Add(time.Second))
	})
	if !admitted(parent) {
		t.Error("the family was not let in")
	}

	clock.Set(start.Add(11*time.Minute + time.Second)) // the end plus the evening's minute of grace
	testclock.WaitFor(t, "the end in the booking's row", 20*time.Second, func() bool {
		r := bookingRow(t, url, booking)
		return r.endedAt.Equal(start.Add(11*time.Minute+time.Second)) && r.outcome == meeting.HowHeld
	})
	if got := parent.closedWith(); got != "appointment_over" {
		t.Errorf("the family's connection closed with %q", got)
	}
}

type bookingState struct {
	startedAt, endedAt time.Time
	outcome            string
}

func bookingRow(t *testing.T, url string, id uuid.UUID) bookingState {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var started, ended *time.Time
	var outcome *string
	if err := conn.QueryRow(context.Background(), `SELECT started_at, ended_at, outcome FROM bookings WHERE id = $1`, id).Scan(&started, &ended, &outcome); err != nil {
		t.Fatal(err)
	}
	var b bookingState
	if started != nil {
		b.startedAt = *started
	}
	if ended != nil {
		b.endedAt = *ended
	}
	if outcome != nil {
		b.outcome = *outcome
	}
	return b
}

// bookedEvening stores an evening with Ms Smith's two ten-minute slots from
// start, and one family booked into the first: her room, the booking and
// the family's link.
func bookedEvening(t *testing.T, st *store.Store, url string, start, now time.Time) (room, booking, invitee uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	teacher, err := st.CreateUser(ctx, store.NewUser{Email: "smith@school.example", Name: "Ms Smith", PasswordHash: "h", TimeZone: "Europe/London", Role: store.RoleTeacher})
	if err != nil {
		t.Fatal(err)
	}
	plan := store.EveningPlan{
		Name: "Year 7", TimeZone: "Europe/London", StartsAt: start, EndsAt: start.Add(20 * time.Minute),
		SlotMinutes: 10, BookingOpensAt: start.Add(-72 * time.Hour), BookingClosesAt: start, SplitPolicy: "each_household",
		GraceSeconds: 60, RecordingPolicy: store.RecordingNotAllowed,
		Teachers: []store.EveningTeacherPlan{{TeacherID: teacher.ID, Slots: []store.Times{
			{StartsAt: start, EndsAt: start.Add(10 * time.Minute)}, {StartsAt: start.Add(10 * time.Minute), EndsAt: start.Add(20 * time.Minute)},
		}}},
	}
	ev, err := st.CreateEvening(ctx, teacher.ID, plan, now)
	if err != nil {
		t.Fatal(err)
	}
	household, student := uuid.New(), uuid.New()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	batch := &pgx.Batch{}
	batch.Queue(`INSERT INTO households (id, external_id, link_nonce, created_at, updated_at) VALUES ($1, 'H1', '\x00', $2, $2)`, household, now)
	batch.Queue(`INSERT INTO guardians (id, household_id, name, email, position) VALUES ($1, $2, 'Parent', 'p@home.example', 0)`, uuid.New(), household)
	batch.Queue(`INSERT INTO students (id, external_id, name, class_name, created_at, updated_at) VALUES ($1, 'S1', 'Child', '7B', $2, $2)`, student, now)
	batch.Queue(`INSERT INTO student_households (student_id, household_id) VALUES ($1, $2)`, student, household)
	batch.Queue(`INSERT INTO student_teachers (student_id, teacher_id) VALUES ($1, $2)`, student, teacher.ID)
	if err := conn.SendBatch(ctx, batch).Close(); err != nil {
		t.Fatal(err)
	}
	slots, err := st.Slots(ctx, ev.ID, teacher.ID)
	if err != nil || len(slots) != 2 {
		t.Fatalf("slots: %v, %v", slots, err)
	}
	invitee = uuid.New()
	b, err := st.Book(ctx, store.NewBooking{
		ID: uuid.New(), EveningID: ev.ID, SlotID: slots[0].ID, HouseholdID: household, StudentID: student,
		ShareKey: student.String(), BookedBy: "family", ChildName: "Child",
		Guardians: []store.BookingGuardian{{InviteeID: invitee, Name: "Parent", LinkNonce: []byte{1}}},
	}, func(store.Slot, []store.Booking) error { return nil }, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	teachers, err := st.EveningTeachers(ctx, ev.ID)
	if err != nil || len(teachers) != 1 {
		t.Fatalf("evening teachers: %v, %v", teachers, err)
	}
	return teachers[0].MeetingID, b.ID, invitee
}
