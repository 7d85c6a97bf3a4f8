package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Household is a home a child lives in, with its guardians and its own
// booking link. A child of separated parents has two.
type Household struct {
	ID         uuid.UUID `db:"id"`
	ExternalID string    `db:"external_id"` // the school's key for it
	LinkNonce  []byte    `db:"link_nonce"`
	CreatedAt  time.Time `db:"created_at"`
	UpdatedAt  time.Time `db:"updated_at"`
}

// Guardian is a parent or carer in a household.
type Guardian struct {
	ID          uuid.UUID `db:"id"`
	HouseholdID uuid.UUID `db:"household_id"`
	Name        string    `db:"name"`
	Email       string    `db:"email"`
	Phone       string    `db:"phone"`
	Position    int       `db:"position"`
}

// Student is a child at the school.
type Student struct {
	ID         uuid.UUID `db:"id"`
	ExternalID string    `db:"external_id"`
	Name       string    `db:"name"`
	ClassName  string    `db:"class_name"`
	CreatedAt  time.Time `db:"created_at"`
	UpdatedAt  time.Time `db:"updated_at"`
}

// StudentTeacher is a teacher who teaches a student.
type StudentTeacher struct {
	StudentID   uuid.UUID `db:"student_id"`
	TeacherID   uuid.UUID `db:"teacher_id"`
	TeacherName string    `db:"teacher_name"`
	Subject     string    `db:"subject"`
}

// Family is what a household's booking page shows: its guardians, its
// children and each child's teachers. It holds nothing of any other
// household, not even the other household of a shared child.
type Family struct {
	Household Household
	Guardians []Guardian
	Students  []Student
	Teachers  []StudentTeacher
}

// Household returns a household by id.
func (s *Store) Household(ctx context.Context, id uuid.UUID) (Household, error) {
	h, err := one[Household](s.pool.Query(ctx,
		`SELECT id, external_id, link_nonce, created_at, updated_at FROM households WHERE id = $1`, id))
	if err != nil {
		return Household{}, fmt.Errorf("store: household %s: %w", id, err)
	}
	return h, nil
}

// Family returns a household with its guardians, children and their teachers.
func (s *Store) Family(ctx context.Context, householdID uuid.UUID) (Family, error) {
	h, err := s.Household(ctx, householdID)
	if err != nil {
		return Family{}, err
	}
	f := Family{Household: h}
	f.Guardians, err = all[Guardian](s.pool.Query(ctx, `
		SELECT id, household_id, name, email, phone, position FROM guardians
		WHERE household_id = $1 ORDER BY position, name`, householdID))
	if err != nil {
		return Family{}, fmt.Errorf("store: guardians of %s: %w", householdID, err)
	}
	f.Students, err = all[Student](s.pool.Query(ctx, `
		SELECT s.id, s.external_id, s.name, s.class_name, s.created_at, s.updated_at
		FROM students s JOIN student_households sh ON sh.student_id = s.id
		WHERE sh.household_id = $1 ORDER BY s.name, s.id`, householdID))
	if err != nil {
		return Family{}, fmt.Errorf("store: children of %s: %w", householdID, err)
	}
	f.Teachers, err = all[StudentTeacher](s.pool.Query(ctx, `
		SELECT st.student_id, st.teacher_id, u.name AS teacher_name, st.subject
		FROM student_teachers st JOIN users u ON u.id = st.teacher_id
		JOIN student_households sh ON sh.student_id = st.student_id
		WHERE sh.household_id = $1 AND u.disabled_at IS NULL
		ORDER BY u.name, st.student_id`, householdID))
	if err != nil {
		return Family{}, fmt.Errorf("store: teachers of %s's children: %w", householdID, err)
	}
	return f, nil
}

// RenewHouseholdLink replaces a household's booking link, and the join
// links of its appointments still to come, which its booking page showed:
// the old ones stop working at once. It returns the renewed invitees, with
// their new nonces (each from newNonce).
func (s *Store) RenewHouseholdLink(ctx context.Context, id uuid.UUID, nonce []byte, newNonce func() []byte, now time.Time) ([]Invitee, error) {
	var renewed []Invitee
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := affected(tx.Exec(ctx,
			`UPDATE households SET link_nonce = $2, updated_at = $3 WHERE id = $1`, id, nonce, now)); err != nil {
			return err
		}
		invs, err := all[Invitee](tx.Query(ctx, `SELECT `+prefixed("i.", inviteeColumns)+`
			FROM invitees i JOIN bookings b ON b.id = i.booking_id
			WHERE b.household_id = $1 AND b.cancelled_at IS NULL AND b.ended_at IS NULL AND i.revoked_at IS NULL
			ORDER BY i.created_at, i.id FOR UPDATE OF i`, id))
		if err != nil {
			return err
		}
		for _, inv := range invs {
			inv.LinkNonce = newNonce()
			if _, err := tx.Exec(ctx, `UPDATE invitees SET link_nonce = $2 WHERE id = $1`, inv.ID, inv.LinkNonce); err != nil {
				return err
			}
			renewed = append(renewed, inv)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: renew booking link of %s: %w", id, err)
	}
	return renewed, nil
}

// prefixed qualifies each of a comma-separated list of columns.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
