package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Evening is a parents' evening: many teachers, each meeting one family
// after another in short appointments.
type Evening struct {
	ID              uuid.UUID       `db:"id"`
	OwnerID         uuid.UUID       `db:"owner_id"`
	Name            string          `db:"name"`
	TimeZone        string          `db:"time_zone"`
	StartsAt        time.Time       `db:"starts_at"`
	EndsAt          time.Time       `db:"ends_at"`
	SlotMinutes     int             `db:"slot_minutes"`
	GapMinutes      int             `db:"gap_minutes"`
	TravelMinutes   int             `db:"travel_minutes"` // between a household's appointments with different teachers
	BookingOpensAt  time.Time       `db:"booking_opens_at"`
	BookingClosesAt time.Time       `db:"booking_closes_at"`
	Classes         []string        `db:"classes"` // empty: every class
	SecondGuardian  bool            `db:"second_guardian"`
	SplitPolicy     string          `db:"split_policy"` // each_household or shared
	ReminderMinutes int             `db:"reminder_minutes"`
	GraceSeconds    int             `db:"grace_seconds"`
	RecordingPolicy RecordingPolicy `db:"recording_policy"`
	CreatedAt       time.Time       `db:"created_at"`
	UpdatedAt       time.Time       `db:"updated_at"`
	CancelledAt     *time.Time      `db:"cancelled_at"`
}

const eveningColumns = `id, owner_id, name, time_zone, starts_at, ends_at, slot_minutes, gap_minutes,
	travel_minutes, booking_opens_at, booking_closes_at, classes, second_guardian, split_policy,
	reminder_minutes, grace_seconds, recording_policy, created_at, updated_at, cancelled_at`

// BookingOpen reports whether families may book, move or cancel at now.
func (e Evening) BookingOpen(now time.Time) bool {
	return e.CancelledAt == nil && !now.Before(e.BookingOpensAt) && now.Before(e.BookingClosesAt)
}

// EveningTeacher is a teacher taking part, with their room and overrides.
type EveningTeacher struct {
	EveningID   uuid.UUID  `db:"evening_id"`
	TeacherID   uuid.UUID  `db:"teacher_id"`
	TeacherName string     `db:"teacher_name"`
	MeetingID   uuid.UUID  `db:"meeting_id"`
	StartsAt    *time.Time `db:"starts_at"` // nil: the evening's
	EndsAt      *time.Time `db:"ends_at"`
	SlotMinutes *int       `db:"slot_minutes"`
	LateMinutes int        `db:"late_minutes"`
}

// EveningBreak is a break for every teacher (TeacherID nil) or for one.
type EveningBreak struct {
	ID        uuid.UUID  `db:"id"`
	EveningID uuid.UUID  `db:"evening_id"`
	TeacherID *uuid.UUID `db:"teacher_id"`
	StartsAt  time.Time  `db:"starts_at"`
	EndsAt    time.Time  `db:"ends_at"`
}

// Slot is one appointment time of one teacher; Taken when booked.
type Slot struct {
	ID        uuid.UUID `db:"id"`
	EveningID uuid.UUID `db:"evening_id"`
	TeacherID uuid.UUID `db:"teacher_id"`
	StartsAt  time.Time `db:"starts_at"`
	EndsAt    time.Time `db:"ends_at"`
	Taken     bool      `db:"taken"`
}

// Times is an interval of time.
type Times struct{ StartsAt, EndsAt time.Time }

// EveningPlan is a validated evening, its teachers and its breaks.
type EveningPlan struct {
	Name                            string
	TimeZone                        string
	StartsAt, EndsAt                time.Time
	SlotMinutes, GapMinutes         int
	TravelMinutes                   int
	BookingOpensAt, BookingClosesAt time.Time
	Classes                         []string
	SecondGuardian                  bool
	SplitPolicy                     string
	ReminderMinutes, GraceSeconds   int
	RecordingPolicy                 RecordingPolicy
	Breaks                          []Times // for everyone
	Teachers                        []EveningTeacherPlan
}

// EveningTeacherPlan is one teacher of an evening plan with the slots the
// schedule rules gave them.
type EveningTeacherPlan struct {
	TeacherID   uuid.UUID
	StartsAt    *time.Time
	EndsAt      *time.Time
	SlotMinutes *int
	Breaks      []Times // their own
	Slots       []Times
}

// CreateEvening stores an evening with its teachers, breaks and slots, and
// gives each teacher a room for the whole evening, in one transaction.
func (s *Store) CreateEvening(ctx context.Context, ownerID uuid.UUID, p EveningPlan, now time.Time) (Evening, error) {
	var e Evening
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		e, err = one[Evening](tx.Query(ctx, `
			INSERT INTO evenings (id, owner_id, name, time_zone, starts_at, ends_at, slot_minutes, gap_minutes,
				travel_minutes, booking_opens_at, booking_closes_at, classes, second_guardian, split_policy,
				reminder_minutes, grace_seconds, recording_policy, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)
			RETURNING `+eveningColumns,
			uuid.New(), ownerID, p.Name, p.TimeZone, p.StartsAt, p.EndsAt, p.SlotMinutes, p.GapMinutes,
			p.TravelMinutes, p.BookingOpensAt, p.BookingClosesAt, nonNil(p.Classes), p.SecondGuardian, p.SplitPolicy,
			p.ReminderMinutes, p.GraceSeconds, p.RecordingPolicy, now))
		if err != nil {
			return err
		}
		if err := insertBreaks(ctx, tx, e.ID, nil, p.Breaks); err != nil {
			return err
		}
		for _, t := range p.Teachers {
			if err := addEveningTeacher(ctx, tx, e, t, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Evening{}, fmt.Errorf("store: create evening %q: %w", p.Name, err)
	}
	return e, nil
}

// addEveningTeacher gives a teacher their room, their breaks and slots.
func addEveningTeacher(ctx context.Context, tx pgx.Tx, e Evening, t EveningTeacherPlan, now time.Time) error {
	start, end := e.StartsAt, e.EndsAt
	if t.StartsAt != nil {
		start = *t.StartsAt
	}
	if t.EndsAt != nil {
		end = *t.EndsAt
	}
	minutes := min(max(int(end.Sub(start)/time.Minute), 5), 720)
	meetingID := uuid.New()
	_, err := tx.Exec(ctx, `
		INSERT INTO meetings (id, owner_id, title, starts_at, duration_minutes, time_zone, lobby_policy,
			recording_policy, evening_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, 'everyone_waits', $7, $8, $9, $9)`,
		meetingID, t.TeacherID, e.Name, start, minutes, e.TimeZone, e.RecordingPolicy, e.ID, now)
	if err != nil {
		return fmt.Errorf("room of teacher %s: %w", t.TeacherID, err)
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO evening_teachers (evening_id, teacher_id, meeting_id, starts_at, ends_at, slot_minutes)
		VALUES ($1, $2, $3, $4, $5, $6)`, e.ID, t.TeacherID, meetingID, t.StartsAt, t.EndsAt, t.SlotMinutes)
	if err != nil {
		return fmt.Errorf("teacher %s: %w", t.TeacherID, err)
	}
	if err := insertBreaks(ctx, tx, e.ID, &t.TeacherID, t.Breaks); err != nil {
		return err
	}
	return insertSlots(ctx, tx, e.ID, t.TeacherID, t.Slots)
}

func insertBreaks(ctx context.Context, tx pgx.Tx, eveningID uuid.UUID, teacherID *uuid.UUID, breaks []Times) error {
	for _, b := range breaks {
		_, err := tx.Exec(ctx, `
			INSERT INTO evening_breaks (id, evening_id, teacher_id, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5)`,
			uuid.New(), eveningID, teacherID, b.StartsAt, b.EndsAt)
		if err != nil {
			return fmt.Errorf("break: %w", err)
		}
	}
	return nil
}

func insertSlots(ctx context.Context, tx pgx.Tx, eveningID, teacherID uuid.UUID, slots []Times) error {
	rows := make([][]any, len(slots))
	for i, sl := range slots {
		rows[i] = []any{uuid.New(), eveningID, teacherID, sl.StartsAt, sl.EndsAt}
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"evening_slots"},
		[]string{"id", "evening_id", "teacher_id", "starts_at", "ends_at"}, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("slots of teacher %s: %w", teacherID, err)
	}
	return nil
}

// Evening returns an evening by id.
func (s *Store) Evening(ctx context.Context, id uuid.UUID) (Evening, error) {
	e, err := one[Evening](s.pool.Query(ctx, `SELECT `+eveningColumns+` FROM evenings WHERE id = $1`, id))
	if err != nil {
		return Evening{}, fmt.Errorf("store: evening %s: %w", id, err)
	}
	return e, nil
}

// Evenings lists every evening, the latest first.
func (s *Store) Evenings(ctx context.Context) ([]Evening, error) {
	es, err := all[Evening](s.pool.Query(ctx, `SELECT `+eveningColumns+` FROM evenings ORDER BY starts_at DESC, id`))
	if err != nil {
		return nil, fmt.Errorf("store: evenings: %w", err)
	}
	return es, nil
}

// EveningsOf lists the evenings a teacher takes part in or owns.
func (s *Store) EveningsOf(ctx context.Context, teacherID uuid.UUID) ([]Evening, error) {
	es, err := all[Evening](s.pool.Query(ctx, `
		SELECT `+eveningColumns+` FROM evenings e
		WHERE e.owner_id = $1 OR EXISTS (SELECT 1 FROM evening_teachers t WHERE t.evening_id = e.id AND t.teacher_id = $1)
		ORDER BY starts_at DESC, id`, teacherID))
	if err != nil {
		return nil, fmt.Errorf("store: evenings of %s: %w", teacherID, err)
	}
	return es, nil
}

// EveningTeachers lists an evening's teachers by name.
func (s *Store) EveningTeachers(ctx context.Context, eveningID uuid.UUID) ([]EveningTeacher, error) {
	ts, err := all[EveningTeacher](s.pool.Query(ctx, `
		SELECT t.evening_id, t.teacher_id, u.name AS teacher_name, t.meeting_id, t.starts_at, t.ends_at,
			t.slot_minutes, t.late_minutes
		FROM evening_teachers t JOIN users u ON u.id = t.teacher_id
		WHERE t.evening_id = $1 ORDER BY u.name, t.teacher_id`, eveningID))
	if err != nil {
		return nil, fmt.Errorf("store: teachers of evening %s: %w", eveningID, err)
	}
	return ts, nil
}

// EveningBreaks lists an evening's breaks, everyone's and each teacher's.
func (s *Store) EveningBreaks(ctx context.Context, eveningID uuid.UUID) ([]EveningBreak, error) {
	bs, err := all[EveningBreak](s.pool.Query(ctx, `
		SELECT id, evening_id, teacher_id, starts_at, ends_at FROM evening_breaks
		WHERE evening_id = $1 ORDER BY starts_at, id`, eveningID))
	if err != nil {
		return nil, fmt.Errorf("store: breaks of evening %s: %w", eveningID, err)
	}
	return bs, nil
}

// Slots lists a teacher's slots on an evening (every teacher's with
// uuid.Nil), saying which are taken.
func (s *Store) Slots(ctx context.Context, eveningID, teacherID uuid.UUID) ([]Slot, error) {
	ss, err := all[Slot](s.pool.Query(ctx, `
		SELECT sl.id, sl.evening_id, sl.teacher_id, sl.starts_at, sl.ends_at,
			EXISTS (SELECT 1 FROM bookings b WHERE b.slot_id = sl.id AND b.cancelled_at IS NULL) AS taken
		FROM evening_slots sl
		WHERE sl.evening_id = $1 AND ($2 = '00000000-0000-0000-0000-000000000000'::uuid OR sl.teacher_id = $2)
		ORDER BY sl.starts_at, sl.teacher_id`, eveningID, teacherID))
	if err != nil {
		return nil, fmt.Errorf("store: slots of evening %s: %w", eveningID, err)
	}
	return ss, nil
}
