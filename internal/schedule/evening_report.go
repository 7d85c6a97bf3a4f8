package schedule

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/store"
)

// Outcomes of an appointment, as the room records them.
const (
	OutcomeHeld       = "held"
	OutcomeEndedEarly = "ended_early"
	OutcomeNoShow     = "no_show"
)

// ReportLine is one appointment of an evening: planned against actual.
type ReportLine struct {
	store.BookingDetail
	Held     bool
	NoShow   bool
	Lateness *time.Duration // actual start − planned start; nil until it started
}

// TeacherTally sums up one teacher's evening.
type TeacherTally struct {
	TeacherID   uuid.UUID
	TeacherName string
	Booked      int
	Held        int
	NoShows     int
	LateTotal   time.Duration // the minutes appointments started late, added up
	LateMax     time.Duration
}

// EveningReport turns an evening's bookings into report lines and one tally
// per teacher (by name). Starting early is not running late: only positive
// lateness is added up.
func EveningReport(bookings []store.BookingDetail) ([]ReportLine, []TeacherTally) {
	lines := make([]ReportLine, len(bookings))
	var tallies []TeacherTally
	for i, b := range bookings {
		l := reportLine(b)
		lines[i] = l
		j := slices.IndexFunc(tallies, func(t TeacherTally) bool { return t.TeacherID == b.TeacherID })
		if j < 0 {
			tallies = append(tallies, TeacherTally{TeacherID: b.TeacherID, TeacherName: b.TeacherName})
			j = len(tallies) - 1
		}
		tally(&tallies[j], l)
	}
	slices.SortStableFunc(tallies, func(a, b TeacherTally) int { return strings.Compare(a.TeacherName, b.TeacherName) })
	return lines, tallies
}

func reportLine(b store.BookingDetail) ReportLine {
	l := ReportLine{BookingDetail: b, NoShow: b.Outcome == OutcomeNoShow}
	l.Held = !l.NoShow && (b.Outcome == OutcomeHeld || b.Outcome == OutcomeEndedEarly || b.StartedAt != nil)
	if b.StartedAt != nil && !l.NoShow {
		d := b.StartedAt.Sub(b.StartsAt)
		l.Lateness = &d
	}
	return l
}

func tally(t *TeacherTally, l ReportLine) {
	t.Booked++
	if l.Held {
		t.Held++
	}
	if l.NoShow {
		t.NoShows++
	}
	if l.Lateness != nil && *l.Lateness > 0 {
		t.LateTotal += *l.Lateness
		t.LateMax = max(t.LateMax, *l.Lateness)
	}
}
