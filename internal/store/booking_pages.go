package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// HouseholdEvenings lists the evenings a household's booking page shows,
// the soonest first: not cancelled, not over at now, for the class of one
// of its children, with one of that child's teachers taking part. The
// booking window is the caller's to check: the page says when it opens.
func (s *Store) HouseholdEvenings(ctx context.Context, householdID uuid.UUID, now time.Time) ([]Evening, error) {
	es, err := all[Evening](s.pool.Query(ctx, `
		SELECT `+eveningColumns+` FROM evenings e
		WHERE e.cancelled_at IS NULL AND e.ends_at > $2 AND EXISTS (
			SELECT 1 FROM student_households sh
			JOIN students s ON s.id = sh.student_id
			JOIN student_teachers st ON st.student_id = s.id
			JOIN evening_teachers et ON et.teacher_id = st.teacher_id AND et.evening_id = e.id
			WHERE sh.household_id = $1 AND `+forClasses+`)
		ORDER BY e.starts_at, e.id`, householdID, now))
	if err != nil {
		return nil, fmt.Errorf("store: evenings of household %s: %w", householdID, err)
	}
	return es, nil
}

// forClasses is the SQL of Evening.ForClass for the evening e and the
// student s: every class when the evening names none, else the classes it
// names, whatever their case. Every query of who an evening is for uses it.
const forClasses = `(cardinality(e.classes) = 0 OR lower(s.class_name) IN (SELECT lower(c) FROM unnest(e.classes) c))`

// ForClass reports whether the evening is for a class: every class when it
// names none, else the classes it names, whatever their case.
func (e Evening) ForClass(class string) bool {
	if len(e.Classes) == 0 {
		return true
	}
	for _, c := range e.Classes {
		if strings.EqualFold(strings.TrimSpace(c), strings.TrimSpace(class)) {
			return true
		}
	}
	return false
}
