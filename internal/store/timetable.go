package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// RoomAppointment is one appointment as a teacher's evening room runs it.
type RoomAppointment struct {
	BookingID          uuid.UUID   `db:"id"`
	StartsAt, EndsAt   time.Time   // planned
	InviteeIDs         []uuid.UUID `db:"invitee_ids"` // who may join it: its guardians' links
	Family             string      `db:"family"`      // the guardians' names, for the teacher
	Students           string      `db:"students"`    // the child's name and class, for the teacher only
	StartedAt, EndedAt *time.Time  // what happened
}

// RoomTimetable is the appointments of one teacher's evening room.
type RoomTimetable struct {
	EveningID    uuid.UUID
	HouseholdIDs map[uuid.UUID]uuid.UUID // booking -> household, for the thank-you page's follow-up link
	TeacherName  string
	Grace        time.Duration // after the planned end, before the family is moved out
	LateMinutes  int           // what the teacher last said
	Appointments []RoomAppointment
}

// RoomTimetable returns the live appointments of an evening room, in start
// order; ok is false for an ordinary meeting.
func (s *Store) RoomTimetable(ctx context.Context, meetingID uuid.UUID) (RoomTimetable, bool, error) {
	var tt RoomTimetable
	var teacherID uuid.UUID
	var grace int
	err := s.pool.QueryRow(ctx, `
		SELECT t.evening_id, t.teacher_id, u.name, e.grace_seconds, t.late_minutes
		FROM evening_teachers t JOIN evenings e ON e.id = t.evening_id JOIN users u ON u.id = t.teacher_id
		WHERE t.meeting_id = $1`, meetingID).Scan(&tt.EveningID, &teacherID, &tt.TeacherName, &grace, &tt.LateMinutes)
	if errors.Is(err, pgx.ErrNoRows) {
		return RoomTimetable{}, false, nil
	}
	if err != nil {
		return RoomTimetable{}, false, fmt.Errorf("store: timetable of %s: %w", meetingID, err)
	}
	tt.Grace = time.Duration(grace) * time.Second
	rows, err := s.pool.Query(ctx, `
		SELECT b.id, b.household_id, b.starts_at, b.ends_at, b.started_at, b.ended_at,
			coalesce(array_agg(i.id ORDER BY i.created_at, i.id) FILTER (WHERE i.id IS NOT NULL AND i.revoked_at IS NULL), '{}') AS invitee_ids,
			coalesce((SELECT string_agg(g.name, ', ' ORDER BY g.position, g.name) FROM guardians g
				WHERE g.household_id = b.household_id), '') AS family,
			s.name || CASE WHEN s.class_name <> '' THEN ' (' || s.class_name || ')' ELSE '' END AS students
		FROM bookings b JOIN students s ON s.id = b.student_id LEFT JOIN invitees i ON i.booking_id = b.id
		WHERE b.evening_id = $1 AND b.teacher_id = $2 AND b.cancelled_at IS NULL
		GROUP BY b.id, s.name, s.class_name ORDER BY b.starts_at, b.id`, tt.EveningID, teacherID)
	if err != nil {
		return RoomTimetable{}, false, fmt.Errorf("store: timetable of %s: %w", meetingID, err)
	}
	defer rows.Close()
	tt.HouseholdIDs = map[uuid.UUID]uuid.UUID{}
	for rows.Next() {
		var a RoomAppointment
		var household uuid.UUID
		if err := rows.Scan(&a.BookingID, &household, &a.StartsAt, &a.EndsAt, &a.StartedAt, &a.EndedAt,
			&a.InviteeIDs, &a.Family, &a.Students); err != nil {
			return RoomTimetable{}, false, fmt.Errorf("store: timetable of %s: %w", meetingID, err)
		}
		tt.HouseholdIDs[a.BookingID] = household
		tt.Appointments = append(tt.Appointments, a)
	}
	if err := rows.Err(); err != nil {
		return RoomTimetable{}, false, fmt.Errorf("store: timetable of %s: %w", meetingID, err)
	}
	return tt, true, nil
}

// AppointmentStarted records when an appointment's family was first let in.
func (s *Store) AppointmentStarted(ctx context.Context, bookingID uuid.UUID, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE bookings SET started_at = $2 WHERE id = $1 AND started_at IS NULL`, bookingID, at)
	if err != nil {
		return fmt.Errorf("store: appointment %s started: %w", bookingID, err)
	}
	return nil
}

// AppointmentEnded records how and when an appointment ended: held,
// ended_early or no_show.
func (s *Store) AppointmentEnded(ctx context.Context, bookingID uuid.UUID, at time.Time, how string) error {
	_, err := s.pool.Exec(ctx, `UPDATE bookings SET ended_at = $2, outcome = $3 WHERE id = $1`, bookingID, at, how)
	if err != nil {
		return fmt.Errorf("store: appointment %s ended: %w", bookingID, err)
	}
	return nil
}

// RunningLate records how late a teacher's room is running, for the pages
// families open before they join.
func (s *Store) RunningLate(ctx context.Context, meetingID uuid.UUID, minutes int) error {
	_, err := s.pool.Exec(ctx, `UPDATE evening_teachers SET late_minutes = $2 WHERE meeting_id = $1`, meetingID, minutes)
	if err != nil {
		return fmt.Errorf("store: %s running late: %w", meetingID, err)
	}
	return nil
}

// Note is a teacher's private note on an appointment.
type Note struct {
	BookingID uuid.UUID `db:"booking_id"`
	AuthorID  uuid.UUID `db:"author_id"`
	Body      string    `db:"body"`
	UpdatedAt time.Time `db:"updated_at"`
}

// SaveNote writes the note on an appointment, replacing the last one.
func (s *Store) SaveNote(ctx context.Context, bookingID, authorID uuid.UUID, body string, now time.Time) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO appointment_notes (booking_id, author_id, body, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (booking_id) DO UPDATE SET author_id = $2, body = $3, updated_at = $4`,
		bookingID, authorID, body, now)
	if err != nil {
		return fmt.Errorf("store: save note on %s: %w", bookingID, err)
	}
	return nil
}

// Notes returns the notes on an evening's appointments, of one teacher
// unless teacherID is Nil, by booking.
func (s *Store) Notes(ctx context.Context, eveningID, teacherID uuid.UUID) (map[uuid.UUID]Note, error) {
	ns, err := all[Note](s.pool.Query(ctx, `
		SELECT n.booking_id, n.author_id, n.body, n.updated_at
		FROM appointment_notes n JOIN bookings b ON b.id = n.booking_id
		WHERE b.evening_id = $1 AND ($2 = '00000000-0000-0000-0000-000000000000'::uuid OR b.teacher_id = $2)`,
		eveningID, teacherID))
	if err != nil {
		return nil, fmt.Errorf("store: notes of evening %s: %w", eveningID, err)
	}
	by := make(map[uuid.UUID]Note, len(ns))
	for _, n := range ns {
		by[n.BookingID] = n
	}
	return by, nil
}

// NoteOn returns the note on one appointment; an appointment without one
// has an empty note.
func (s *Store) NoteOn(ctx context.Context, bookingID uuid.UUID) (Note, error) {
	n, err := one[Note](s.pool.Query(ctx,
		`SELECT booking_id, author_id, body, updated_at FROM appointment_notes WHERE booking_id = $1`, bookingID))
	if errors.Is(err, ErrNotFound) {
		return Note{BookingID: bookingID}, nil
	}
	if err != nil {
		return Note{}, fmt.Errorf("store: note on %s: %w", bookingID, err)
	}
	return n, nil
}
