package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// OrphanedBooking is a live booking an evening's new plan has no slot for.
type OrphanedBooking struct {
	BookingID   uuid.UUID `db:"id"`
	TeacherID   uuid.UUID `db:"teacher_id"`
	TeacherName string    `db:"teacher_name"`
	StartsAt    time.Time `db:"starts_at"`
	EndsAt      time.Time `db:"ends_at"`
}

// OrphanError refuses an evening's new plan that would leave booked
// appointments without their slot; it lists them (teacher and time, no
// family's details: errors may be logged). It unwraps to ErrBookingsOrphaned.
type OrphanError struct{ Bookings []OrphanedBooking }

func (e *OrphanError) Error() string {
	parts := make([]string, len(e.Bookings))
	for i, b := range e.Bookings {
		parts[i] = b.TeacherName + " at " + b.StartsAt.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("%v: %s", ErrBookingsOrphaned, strings.Join(parts, ", "))
}

func (e *OrphanError) Unwrap() error { return ErrBookingsOrphaned }

// UpdateEvening replaces an evening's settings, breaks, teachers and their
// un-booked slots with a new plan, in one transaction. A booked slot is kept
// (its id, its booking, its join links) when the new plan has a slot at the
// same times for the same teacher; a booking the plan has no slot for
// refuses the whole change with an *OrphanError. A teacher no longer taking
// part loses their room (it is cancelled).
func (s *Store) UpdateEvening(ctx context.Context, id uuid.UUID, p EveningPlan, now time.Time) (Evening, error) {
	var e Evening
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if e, err = updateEveningRow(ctx, tx, id, p, now); err != nil {
			return err
		}
		if err := checkOrphans(ctx, tx, id, p); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM evening_breaks WHERE evening_id = $1`, id); err != nil {
			return fmt.Errorf("breaks: %w", err)
		}
		if err := insertBreaks(ctx, tx, id, nil, p.Breaks); err != nil {
			return err
		}
		return replaceTeachers(ctx, tx, e, p.Teachers, now)
	})
	if err != nil {
		return Evening{}, fmt.Errorf("store: update evening %s: %w", id, err)
	}
	return e, nil
}

// updateEveningRow writes the evening's own settings, locking it; a
// cancelled evening cannot be changed.
func updateEveningRow(ctx context.Context, tx pgx.Tx, id uuid.UUID, p EveningPlan, now time.Time) (Evening, error) {
	return one[Evening](tx.Query(ctx, `
		UPDATE evenings SET name = $2, time_zone = $3, starts_at = $4, ends_at = $5, slot_minutes = $6,
			gap_minutes = $7, travel_minutes = $8, booking_opens_at = $9, booking_closes_at = $10, classes = $11,
			second_guardian = $12, split_policy = $13, reminder_minutes = $14, grace_seconds = $15,
			recording_policy = $16, updated_at = $17
		WHERE id = $1 AND cancelled_at IS NULL
		RETURNING `+eveningColumns,
		id, p.Name, p.TimeZone, p.StartsAt, p.EndsAt, p.SlotMinutes, p.GapMinutes, p.TravelMinutes,
		p.BookingOpensAt, p.BookingClosesAt, nonNil(p.Classes), p.SecondGuardian, p.SplitPolicy,
		p.ReminderMinutes, p.GraceSeconds, p.RecordingPolicy, now))
}

// checkOrphans refuses a plan without a slot for every live booking. The
// bookings are locked so none is made or moved while the plan replaces the
// slots (a new booking locks the slot row it points at).
func checkOrphans(ctx context.Context, tx pgx.Tx, eveningID uuid.UUID, p EveningPlan) error {
	if _, err := tx.Exec(ctx, `SELECT 1 FROM evening_slots WHERE evening_id = $1 FOR UPDATE`, eveningID); err != nil {
		return fmt.Errorf("lock slots: %w", err)
	}
	booked, err := all[OrphanedBooking](tx.Query(ctx, `
		SELECT b.id, b.teacher_id, u.name AS teacher_name, b.starts_at, b.ends_at
		FROM bookings b JOIN users u ON u.id = b.teacher_id
		WHERE b.evening_id = $1 AND b.cancelled_at IS NULL ORDER BY u.name, b.starts_at`, eveningID))
	if err != nil {
		return fmt.Errorf("bookings: %w", err)
	}
	var orphans []OrphanedBooking
	for _, b := range booked {
		if !planHasSlot(p, b.TeacherID, Times{b.StartsAt, b.EndsAt}) {
			orphans = append(orphans, b)
		}
	}
	if len(orphans) > 0 {
		return &OrphanError{Bookings: orphans}
	}
	return nil
}

func planHasSlot(p EveningPlan, teacherID uuid.UUID, want Times) bool {
	i := slices.IndexFunc(p.Teachers, func(t EveningTeacherPlan) bool { return t.TeacherID == teacherID })
	return i >= 0 && slices.ContainsFunc(p.Teachers[i].Slots, func(s Times) bool { return sameTimes(s, want) })
}

func sameTimes(a, b Times) bool { return a.StartsAt.Equal(b.StartsAt) && a.EndsAt.Equal(b.EndsAt) }

// replaceTeachers brings the evening's teachers in line with the plan:
// new ones get a room, kept ones their new hours and slots, and the rooms
// of those no longer taking part are cancelled.
func replaceTeachers(ctx context.Context, tx pgx.Tx, e Evening, plan []EveningTeacherPlan, now time.Time) error {
	current, err := all[EveningTeacher](tx.Query(ctx, `
		SELECT t.evening_id, t.teacher_id, '' AS teacher_name, t.meeting_id, t.starts_at, t.ends_at,
			t.slot_minutes, t.late_minutes
		FROM evening_teachers t WHERE t.evening_id = $1`, e.ID))
	if err != nil {
		return fmt.Errorf("teachers: %w", err)
	}
	for _, c := range current {
		if !slices.ContainsFunc(plan, func(t EveningTeacherPlan) bool { return t.TeacherID == c.TeacherID }) {
			if err := removeEveningTeacher(ctx, tx, c, now); err != nil {
				return err
			}
		}
	}
	for _, t := range plan {
		i := slices.IndexFunc(current, func(c EveningTeacher) bool { return c.TeacherID == t.TeacherID })
		if i < 0 {
			err = addEveningTeacher(ctx, tx, e, t, now)
		} else {
			err = updateEveningTeacher(ctx, tx, e, current[i], t, now)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// removeEveningTeacher takes a teacher without live bookings off the evening.
func removeEveningTeacher(ctx context.Context, tx pgx.Tx, c EveningTeacher, now time.Time) error {
	if err := replaceSlots(ctx, tx, c.EveningID, c.TeacherID, nil); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM evening_teachers WHERE evening_id = $1 AND teacher_id = $2`, c.EveningID, c.TeacherID); err != nil {
		return fmt.Errorf("remove teacher %s: %w", c.TeacherID, err)
	}
	_, err := tx.Exec(ctx, `UPDATE meetings SET cancelled_at = $2, updated_at = $2 WHERE id = $1 AND cancelled_at IS NULL`, c.MeetingID, now)
	if err != nil {
		return fmt.Errorf("cancel room of %s: %w", c.TeacherID, err)
	}
	return nil
}

// updateEveningTeacher gives a teacher who stays their new overrides, room
// hours, breaks and slots.
func updateEveningTeacher(ctx context.Context, tx pgx.Tx, e Evening, c EveningTeacher, t EveningTeacherPlan, now time.Time) error {
	_, err := tx.Exec(ctx, `
		UPDATE evening_teachers SET starts_at = $3, ends_at = $4, slot_minutes = $5
		WHERE evening_id = $1 AND teacher_id = $2`, e.ID, t.TeacherID, t.StartsAt, t.EndsAt, t.SlotMinutes)
	if err != nil {
		return fmt.Errorf("teacher %s: %w", t.TeacherID, err)
	}
	start, end := teacherHours(e, t)
	_, err = tx.Exec(ctx, `
		UPDATE meetings SET title = $2, starts_at = $3, duration_minutes = $4, time_zone = $5,
			recording_policy = $6, updated_at = $7
		WHERE id = $1`, c.MeetingID, e.Name, start, min(max(int(end.Sub(start)/time.Minute), 5), 720),
		e.TimeZone, e.RecordingPolicy, now)
	if err != nil {
		return fmt.Errorf("room of teacher %s: %w", t.TeacherID, err)
	}
	if err := insertBreaks(ctx, tx, e.ID, &t.TeacherID, t.Breaks); err != nil {
		return err
	}
	return replaceSlots(ctx, tx, e.ID, t.TeacherID, t.Slots)
}

func teacherHours(e Evening, t EveningTeacherPlan) (time.Time, time.Time) {
	start, end := e.StartsAt, e.EndsAt
	if t.StartsAt != nil {
		start = *t.StartsAt
	}
	if t.EndsAt != nil {
		end = *t.EndsAt
	}
	return start, end
}

// replaceSlots makes a teacher's slots those of the plan: a slot at the
// same times is kept (it may be booked), the others are deleted and the
// missing ones added. checkOrphans made sure no live booking is on a slot
// that goes; cancelled bookings on it go with it, because a booking cannot
// point at no slot.
func replaceSlots(ctx context.Context, tx pgx.Tx, eveningID, teacherID uuid.UUID, want []Times) error {
	have, err := all[Slot](tx.Query(ctx, `
		SELECT id, evening_id, teacher_id, starts_at, ends_at, false AS taken
		FROM evening_slots WHERE evening_id = $1 AND teacher_id = $2`, eveningID, teacherID))
	if err != nil {
		return fmt.Errorf("slots of teacher %s: %w", teacherID, err)
	}
	var gone []uuid.UUID
	for _, sl := range have {
		if !slices.ContainsFunc(want, func(w Times) bool { return sameTimes(w, Times{sl.StartsAt, sl.EndsAt}) }) {
			gone = append(gone, sl.ID)
		}
	}
	var missing []Times
	for _, w := range want {
		if !slices.ContainsFunc(have, func(sl Slot) bool { return sameTimes(w, Times{sl.StartsAt, sl.EndsAt}) }) {
			missing = append(missing, w)
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM bookings WHERE slot_id = ANY($1) AND cancelled_at IS NOT NULL`, gone); err != nil {
		return fmt.Errorf("cancelled bookings of teacher %s: %w", teacherID, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM evening_slots WHERE id = ANY($1)`, gone); err != nil {
		return fmt.Errorf("slots of teacher %s: %w", teacherID, err)
	}
	return insertSlots(ctx, tx, eveningID, teacherID, missing)
}

// CancelEvening cancels an evening and its teachers' rooms, and withdraws
// its mail not sent yet (invitations, reminders, failed ones included). It returns the rooms, for
// the live meetings to be told.
func (s *Store) CancelEvening(ctx context.Context, id uuid.UUID, now time.Time) ([]uuid.UUID, error) {
	var rooms []uuid.UUID
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := affected(tx.Exec(ctx, `UPDATE evenings SET cancelled_at = $2, updated_at = $2
			WHERE id = $1 AND cancelled_at IS NULL`, id, now)); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `UPDATE meetings SET cancelled_at = $2, updated_at = $2
			WHERE evening_id = $1 AND cancelled_at IS NULL RETURNING id`, id, now)
		if err != nil {
			return err
		}
		if rooms, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
			return err
		}
		// Failed mail too: "send again" must not revive it. Only the
		// cancellations of its appointments still go out.
		_, err = tx.Exec(ctx, `UPDATE mail_queue SET cancelled_at = $2
			WHERE evening_id = $1 AND sent_at IS NULL AND cancelled_at IS NULL AND kind <> $3`, id, now, MailCancellation)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: cancel evening %s: %w", id, err)
	}
	return rooms, nil
}

// EveningStudent is a child an evening is for, in one of their households,
// with those of their teachers who take part.
type EveningStudent struct {
	HouseholdID uuid.UUID   `db:"household_id"`
	Family      string      `db:"family"` // the household's guardians, by position
	StudentID   uuid.UUID   `db:"student_id"`
	StudentName string      `db:"student_name"`
	ClassName   string      `db:"class_name"`
	TeacherIDs  []uuid.UUID `db:"teacher_ids"`
}

// eveningStudentsFrom is every child of the evening's classes (all classes
// when it names none) taught by one of its teachers, once per household.
const eveningStudentsFrom = `
	FROM evenings e
	JOIN evening_teachers et ON et.evening_id = e.id
	JOIN student_teachers st ON st.teacher_id = et.teacher_id
	JOIN students s ON s.id = st.student_id
	JOIN student_households sh ON sh.student_id = s.id
	WHERE e.id = $1 AND ` + forClasses

const familyOf = `coalesce((SELECT string_agg(g.name, ', ' ORDER BY g.position, g.name)
	FROM guardians g WHERE g.household_id = sh.household_id), '')`

// EveningStudents lists the children an evening is for, by family; with a
// query, only those whose name or a guardian's name contains it.
func (s *Store) EveningStudents(ctx context.Context, eveningID uuid.UUID, query string) ([]EveningStudent, error) {
	ss, err := all[EveningStudent](s.pool.Query(ctx, `
		SELECT * FROM (
			SELECT sh.household_id, `+familyOf+` AS family, s.id AS student_id, s.name AS student_name,
				s.class_name, array_agg(et.teacher_id ORDER BY et.teacher_id) AS teacher_ids
			`+eveningStudentsFrom+`
			GROUP BY sh.household_id, s.id) x
		WHERE $2 = '' OR strpos(lower(x.student_name || ' ' || x.family), lower($2)) > 0
		ORDER BY x.family, x.household_id, x.student_name, x.student_id`, eveningID, strings.TrimSpace(query)))
	if err != nil {
		return nil, fmt.Errorf("store: children of evening %s: %w", eveningID, err)
	}
	return ss, nil
}

// InvitedHousehold is a household an evening is for, with its guardians
// and the names of its children the evening is about.
type InvitedHousehold struct {
	Household
	Family    string     `db:"family"`
	Children  string     `db:"children"`
	Guardians []Guardian `db:"-"`
}

// EveningHouseholds lists the households an evening is for: those with a
// child in its classes taught by one of its teachers.
func (s *Store) EveningHouseholds(ctx context.Context, eveningID uuid.UUID) ([]InvitedHousehold, error) {
	hs, err := all[InvitedHousehold](s.pool.Query(ctx, `
		SELECT h.id, h.external_id, h.link_nonce, h.created_at, h.updated_at, x.family, x.children
		FROM (SELECT sh.household_id, `+familyOf+` AS family,
				string_agg(DISTINCT s.name, ', ') AS children
			`+eveningStudentsFrom+` GROUP BY sh.household_id) x
		JOIN households h ON h.id = x.household_id
		ORDER BY x.family, h.id`, eveningID))
	if err != nil {
		return nil, fmt.Errorf("store: households of evening %s: %w", eveningID, err)
	}
	ids := make([]uuid.UUID, len(hs))
	for i, h := range hs {
		ids[i] = h.ID
	}
	gs, err := all[Guardian](s.pool.Query(ctx, `
		SELECT id, household_id, name, email, phone, position FROM guardians
		WHERE household_id = ANY($1) ORDER BY position, name`, ids))
	if err != nil {
		return nil, fmt.Errorf("store: guardians of evening %s: %w", eveningID, err)
	}
	for i := range hs {
		for _, g := range gs {
			if g.HouseholdID == hs[i].ID {
				hs[i].Guardians = append(hs[i].Guardians, g)
			}
		}
	}
	return hs, nil
}

// StudentClasses lists the classes students are in, for an evening's form.
func (s *Store) StudentClasses(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT class_name FROM students WHERE class_name <> '' ORDER BY class_name`)
	if err != nil {
		return nil, fmt.Errorf("store: classes: %w", err)
	}
	cs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: classes: %w", err)
	}
	return cs, nil
}

// EveningRoom is a teacher's room on an evening.
type EveningRoom struct {
	EveningID uuid.UUID `db:"evening_id"`
	Name      string    `db:"name"`
	TimeZone  string    `db:"time_zone"`
	StartsAt  time.Time `db:"starts_at"`
	EndsAt    time.Time `db:"ends_at"`
	MeetingID uuid.UUID `db:"meeting_id"`
	Booked    int       `db:"booked"` // appointments booked with the teacher
}

// UpcomingEveningRooms lists a teacher's rooms on evenings not over by now
// and not cancelled, the soonest first.
func (s *Store) UpcomingEveningRooms(ctx context.Context, teacherID uuid.UUID, now time.Time) ([]EveningRoom, error) {
	rs, err := all[EveningRoom](s.pool.Query(ctx, `
		SELECT e.id AS evening_id, e.name, e.time_zone, coalesce(t.starts_at, e.starts_at) AS starts_at,
			coalesce(t.ends_at, e.ends_at) AS ends_at, t.meeting_id,
			(SELECT count(*) FROM bookings b WHERE b.evening_id = e.id AND b.teacher_id = t.teacher_id
				AND b.cancelled_at IS NULL)::int AS booked
		FROM evening_teachers t JOIN evenings e ON e.id = t.evening_id
		WHERE t.teacher_id = $1 AND e.cancelled_at IS NULL AND e.ends_at > $2
		ORDER BY e.starts_at, e.id`, teacherID, now))
	if err != nil {
		return nil, fmt.Errorf("store: evening rooms of %s: %w", teacherID, err)
	}
	return rs, nil
}
