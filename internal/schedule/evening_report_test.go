package schedule

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/store"
)

func TestEveningReport(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 6, 18, 16, m, 0, 0, time.UTC) }
	ptr := func(t time.Time) *time.Time { return &t }
	a, b := uuid.New(), uuid.New()
	booking := func(teacher uuid.UUID, name string, start int, started *time.Time, outcome string) store.BookingDetail {
		return store.BookingDetail{Booking: store.Booking{TeacherID: teacher, StartsAt: at(start), EndsAt: at(start + 10),
			StartedAt: started, Outcome: outcome}, TeacherName: name}
	}
	lines, tallies := EveningReport([]store.BookingDetail{
		booking(b, "Mr B", 0, ptr(at(0).Add(-time.Minute)), OutcomeHeld), // early: not late
		booking(a, "Ms A", 0, ptr(at(3)), OutcomeHeld),
		booking(a, "Ms A", 10, nil, OutcomeNoShow),
		booking(a, "Ms A", 20, ptr(at(27)), OutcomeEndedEarly),
		booking(a, "Ms A", 30, nil, ""), // not yet
	})
	if len(lines) != 5 || *lines[1].Lateness != 3*time.Minute || lines[2].Lateness != nil || !lines[2].NoShow || lines[4].Held {
		t.Errorf("lines %+v", lines)
	}
	want := []TeacherTally{
		{TeacherID: b, TeacherName: "Mr B", Booked: 1, Held: 1},
		{TeacherID: a, TeacherName: "Ms A", Booked: 4, Held: 2, NoShows: 1, LateTotal: 10 * time.Minute, LateMax: 7 * time.Minute},
	}
	if len(tallies) != 2 || tallies[0] != want[0] || tallies[1] != want[1] {
		t.Errorf("tallies %+v, want %+v", tallies, want)
	}
}
