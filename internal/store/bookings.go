package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Booking is one appointment of a household with a teacher about a child.
type Booking struct {
	ID          uuid.UUID  `db:"id"`
	EveningID   uuid.UUID  `db:"evening_id"`
	SlotID      uuid.UUID  `db:"slot_id"`
	TeacherID   uuid.UUID  `db:"teacher_id"`
	HouseholdID uuid.UUID  `db:"household_id"`
	StudentID   uuid.UUID  `db:"student_id"`
	ShareKey    string     `db:"share_key"`
	StartsAt    time.Time  `db:"starts_at"`
	EndsAt      time.Time  `db:"ends_at"`
	BookedBy    string     `db:"booked_by"` // family or staff
	Sequence    int        `db:"sequence"`  // iCalendar SEQUENCE: bumped by each move and the cancellation
	CreatedAt   time.Time  `db:"created_at"`
	UpdatedAt   time.Time  `db:"updated_at"`
	CancelledAt *time.Time `db:"cancelled_at"`
	StartedAt   *time.Time `db:"started_at"` // what happened on the evening
	EndedAt     *time.Time `db:"ended_at"`
	Outcome     string     `db:"outcome"` // "", held, ended_early, no_show
}

const bookingColumns = `b.id, b.evening_id, b.slot_id, b.teacher_id, b.household_id, b.student_id, b.share_key,
	b.starts_at, b.ends_at, b.booked_by, b.sequence, b.created_at, b.updated_at, b.cancelled_at,
	b.started_at, b.ended_at, b.outcome`

// BookingDetail is a booking with the names people see.
type BookingDetail struct {
	Booking
	TeacherName string `db:"teacher_name"`
	StudentName string `db:"student_name"`
	ClassName   string `db:"class_name"`
	Family      string `db:"family"` // the household's guardians, by position
}

const bookingDetailFrom = `SELECT ` + bookingColumns + `, u.name AS teacher_name, s.name AS student_name,
		s.class_name, coalesce((SELECT string_agg(g.name, ', ' ORDER BY g.position, g.name)
			FROM guardians g WHERE g.household_id = b.household_id), '') AS family
	FROM bookings b JOIN users u ON u.id = b.teacher_id JOIN students s ON s.id = b.student_id`

// BookingGuardian is someone who gets a personal join link to the
// appointment: the ids and nonces are made by the caller, who needs them to
// write the links into the confirmation mail queued with the booking.
type BookingGuardian struct {
	InviteeID uuid.UUID
	Name      string
	Email     string
	LinkNonce []byte
}

// NewBooking is a booking about to be made.
type NewBooking struct {
	ID          uuid.UUID // made by the caller, like the invitees' ids
	EveningID   uuid.UUID
	SlotID      uuid.UUID
	HouseholdID uuid.UUID
	StudentID   uuid.UUID
	ShareKey    string
	BookedBy    string
	ChildName   string
	Guardians   []BookingGuardian
}

// FitCheck says whether a slot may be booked by a household that already
// has `booked` (live bookings on the same evening, the one being moved left
// out). It runs inside the booking's transaction, with the household locked,
// so two tabs of one family cannot both pass it.
type FitCheck func(slot Slot, booked []Booking) error

// Book makes a booking, its guardians' join links and its mails in one
// transaction. A slot someone else holds is ErrSlotTaken, a second booking
// of the same child with the same teacher ErrAlreadyBooked: the unique
// indexes decide, so two families racing for one slot cannot both win.
func (s *Store) Book(ctx context.Context, nb NewBooking, fits FitCheck, mails []NewMail, now time.Time) (Booking, error) {
	var b Booking
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		slot, booked, err := lockForBooking(ctx, tx, nb.EveningID, nb.HouseholdID, nb.SlotID, uuid.Nil)
		if err != nil {
			return err
		}
		if err := fits(slot, booked); err != nil {
			return err
		}
		b, err = one[Booking](tx.Query(ctx, `
			INSERT INTO bookings AS b (id, evening_id, slot_id, teacher_id, household_id, student_id, share_key,
				starts_at, ends_at, booked_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING `+bookingColumns,
			nb.ID, nb.EveningID, slot.ID, slot.TeacherID, nb.HouseholdID, nb.StudentID, nb.ShareKey,
			slot.StartsAt, slot.EndsAt, nb.BookedBy, now))
		if err != nil {
			return bookingConflict(err)
		}
		if err := addBookingInvitees(ctx, tx, b, nb, now); err != nil {
			return err
		}
		return enqueueAll(ctx, tx, mails, now)
	})
	if err != nil {
		return Booking{}, fmt.Errorf("store: book slot %s: %w", nb.SlotID, err)
	}
	return b, nil
}

// lockForBooking locks the household (one booking change of a family at a
// time) and reads the slot and the household's live bookings that evening.
// The evening must not be cancelled; it is share-locked, so a cancellation
// racing the booking either waits for it (and withdraws its mail) or goes
// first and the booking is refused.
func lockForBooking(ctx context.Context, tx pgx.Tx, eveningID, householdID, slotID, except uuid.UUID) (Slot, []Booking, error) {
	if _, err := one[Household](tx.Query(ctx, `
		SELECT id, external_id, link_nonce, created_at, updated_at FROM households WHERE id = $1 FOR UPDATE`,
		householdID)); err != nil {
		return Slot{}, nil, fmt.Errorf("household %s: %w", householdID, err)
	}
	if err := affected(tx.Exec(ctx, `SELECT 1 FROM evenings WHERE id = $1 AND cancelled_at IS NULL FOR SHARE`, eveningID)); err != nil {
		return Slot{}, nil, fmt.Errorf("evening %s: %w", eveningID, err)
	}
	slot, err := one[Slot](tx.Query(ctx, `
		SELECT id, evening_id, teacher_id, starts_at, ends_at, false AS taken
		FROM evening_slots WHERE id = $1 AND evening_id = $2`, slotID, eveningID))
	if err != nil {
		return Slot{}, nil, fmt.Errorf("slot %s: %w", slotID, err)
	}
	booked, err := all[Booking](tx.Query(ctx, `SELECT `+bookingColumns+` FROM bookings b
		WHERE b.household_id = $1 AND b.evening_id = $2 AND b.cancelled_at IS NULL AND b.id <> $3
		ORDER BY b.starts_at`, householdID, eveningID, except))
	return slot, booked, err
}

// bookingConflict names the unique index a booking ran into.
func bookingConflict(err error) error {
	switch {
	case isUniqueViolation(err, "bookings_slot_taken"):
		return ErrSlotTaken
	case isUniqueViolation(err, "bookings_once_per_teacher"):
		return ErrAlreadyBooked
	}
	return err
}

// addBookingInvitees invites the booking's guardians to their teacher's room.
func addBookingInvitees(ctx context.Context, tx pgx.Tx, b Booking, nb NewBooking, now time.Time) error {
	for _, g := range nb.Guardians {
		tag, err := tx.Exec(ctx, `
			INSERT INTO invitees (id, meeting_id, name, email, child_name, role, link_nonce, created_at, booking_id)
			SELECT $1, t.meeting_id, $2, $3, $4, 'participant', $5, $6, $7
			FROM evening_teachers t WHERE t.evening_id = $8 AND t.teacher_id = $9`,
			g.InviteeID, g.Name, g.Email, nb.ChildName, g.LinkNonce, now, b.ID, b.EveningID, b.TeacherID)
		if err != nil {
			return fmt.Errorf("invite %s: %w", g.InviteeID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("teacher %s has no room on evening %s: %w", b.TeacherID, b.EveningID, ErrNotFound)
		}
	}
	return nil
}

func enqueueAll(ctx context.Context, tx pgx.Tx, mails []NewMail, now time.Time) error {
	for _, m := range mails {
		if err := enqueueMail(ctx, tx, m, now); err != nil {
			return fmt.Errorf("queue %s mail: %w", m.Kind, err)
		}
	}
	return nil
}

// MoveBooking moves a live booking to another slot of the same teacher,
// keeping its id (the calendar UID) and join links and bumping its sequence.
// householdID, when not Nil, must be the booking's household (a family
// moving its own).
func (s *Store) MoveBooking(ctx context.Context, id, householdID, slotID uuid.UUID, fits FitCheck, mails func(Booking) []NewMail, now time.Time) (Booking, error) {
	var b Booking
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		old, err := liveBooking(ctx, tx, id, householdID, now)
		if err != nil {
			return err
		}
		slot, booked, err := lockForBooking(ctx, tx, old.EveningID, old.HouseholdID, slotID, old.ID)
		if err != nil {
			return err
		}
		if slot.TeacherID != old.TeacherID {
			return fmt.Errorf("slot %s is another teacher's: %w", slotID, ErrNotFound)
		}
		if err := fits(slot, booked); err != nil {
			return err
		}
		b, err = one[Booking](tx.Query(ctx, `
			UPDATE bookings b SET slot_id = $2, starts_at = $3, ends_at = $4, sequence = sequence + 1, updated_at = $5
			WHERE id = $1 RETURNING `+bookingColumns, id, slot.ID, slot.StartsAt, slot.EndsAt, now))
		if err != nil {
			return bookingConflict(err)
		}
		// The old time's reminders go: mails(b) brings new ones only if the
		// new time still leaves room for one.
		if err := withdrawReminders(ctx, tx, id, now); err != nil {
			return err
		}
		return enqueueAll(ctx, tx, mails(b), now)
	})
	if err != nil {
		return Booking{}, fmt.Errorf("store: move booking %s: %w", id, err)
	}
	return b, nil
}

// withdrawReminders cancels a booking's unsent reminders: every guardian's
// (their keys start "reminder:" and end in ":<booking id>").
func withdrawReminders(ctx context.Context, tx pgx.Tx, bookingID uuid.UUID, now time.Time) error {
	_, err := tx.Exec(ctx, `
		UPDATE mail_queue SET cancelled_at = $2
		WHERE dedupe_key LIKE 'reminder:%' AND dedupe_key LIKE $1 AND sent_at IS NULL AND cancelled_at IS NULL`,
		"%:"+bookingID.String(), now)
	if err != nil {
		return fmt.Errorf("withdraw reminders of %s: %w", bookingID, err)
	}
	return nil
}

// CancelBooking cancels a live booking: its slot is free again, its join
// links stop working, its pending mails (the reminder) are withdrawn and
// the cancellation mails are queued.
func (s *Store) CancelBooking(ctx context.Context, id, householdID uuid.UUID, mails func(Booking) []NewMail, now time.Time) (Booking, error) {
	var b Booking
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := liveBooking(ctx, tx, id, householdID, now); err != nil {
			return err
		}
		var err error
		b, err = one[Booking](tx.Query(ctx, `
			UPDATE bookings b SET cancelled_at = $2, sequence = sequence + 1, updated_at = $2
			WHERE id = $1 RETURNING `+bookingColumns, id, now))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE invitees SET revoked_at = $2 WHERE booking_id = $1 AND revoked_at IS NULL`, id, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE mail_queue SET cancelled_at = $2
			WHERE dedupe_key LIKE $1 AND sent_at IS NULL AND cancelled_at IS NULL`,
			"%:"+id.String(), now); err != nil {
			return err
		}
		return enqueueAll(ctx, tx, mails(b), now)
	})
	if err != nil {
		return Booking{}, fmt.Errorf("store: cancel booking %s: %w", id, err)
	}
	return b, nil
}

// liveBooking reads a booking that is not cancelled, of householdID unless
// that is Nil, locking it, for a change at now. One that has begun (its
// time came, or its family was let in early) is ErrAppointmentBegun: what
// happened in it is the evening's record.
func liveBooking(ctx context.Context, tx pgx.Tx, id, householdID uuid.UUID, now time.Time) (Booking, error) {
	b, err := one[Booking](tx.Query(ctx, `SELECT `+bookingColumns+` FROM bookings b
		WHERE b.id = $1 AND b.cancelled_at IS NULL
			AND ($2 = '00000000-0000-0000-0000-000000000000'::uuid OR b.household_id = $2)
		FOR UPDATE`, id, householdID))
	if err == nil && (!b.StartsAt.After(now) || b.StartedAt != nil) {
		err = ErrAppointmentBegun
	}
	if err != nil {
		return Booking{}, fmt.Errorf("booking %s: %w", id, err)
	}
	return b, nil
}

// BookingDetail returns one booking, cancelled or not, with its names.
func (s *Store) BookingDetail(ctx context.Context, id uuid.UUID) (BookingDetail, error) {
	b, err := one[BookingDetail](s.pool.Query(ctx, bookingDetailFrom+` WHERE b.id = $1`, id))
	if err != nil {
		return BookingDetail{}, fmt.Errorf("store: booking %s: %w", id, err)
	}
	return b, nil
}

// HouseholdBookings lists a household's live bookings on an evening.
func (s *Store) HouseholdBookings(ctx context.Context, eveningID, householdID uuid.UUID) ([]BookingDetail, error) {
	bs, err := all[BookingDetail](s.pool.Query(ctx, bookingDetailFrom+`
		WHERE b.evening_id = $1 AND b.household_id = $2 AND b.cancelled_at IS NULL
		ORDER BY b.starts_at, b.id`, eveningID, householdID))
	if err != nil {
		return nil, fmt.Errorf("store: bookings of household %s: %w", householdID, err)
	}
	return bs, nil
}

// EveningBookings lists an evening's live bookings, of one teacher unless
// teacherID is Nil, in time order.
func (s *Store) EveningBookings(ctx context.Context, eveningID, teacherID uuid.UUID) ([]BookingDetail, error) {
	bs, err := all[BookingDetail](s.pool.Query(ctx, bookingDetailFrom+`
		WHERE b.evening_id = $1 AND b.cancelled_at IS NULL
			AND ($2 = '00000000-0000-0000-0000-000000000000'::uuid OR b.teacher_id = $2)
		ORDER BY b.starts_at, u.name, b.id`, eveningID, teacherID))
	if err != nil {
		return nil, fmt.Errorf("store: bookings of evening %s: %w", eveningID, err)
	}
	return bs, nil
}

// BookingInvitees returns the join-link holders of bookings, by booking.
func (s *Store) BookingInvitees(ctx context.Context, bookingIDs []uuid.UUID) (map[uuid.UUID][]Invitee, error) {
	invs, err := all[Invitee](s.pool.Query(ctx, `SELECT `+inviteeColumns+` FROM invitees
		WHERE booking_id = ANY($1) ORDER BY created_at, id`, bookingIDs))
	if err != nil {
		return nil, fmt.Errorf("store: invitees of bookings: %w", err)
	}
	by := map[uuid.UUID][]Invitee{}
	for _, inv := range invs {
		by[*inv.BookingID] = append(by[*inv.BookingID], inv)
	}
	return by, nil
}

// IsBookingConflict reports whether err means the slot or the child's
// appointment with that teacher was taken meanwhile.
func IsBookingConflict(err error) bool {
	return errors.Is(err, ErrSlotTaken) || errors.Is(err, ErrAlreadyBooked)
}
