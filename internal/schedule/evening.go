package schedule

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Span is an instant interval [Start, End). Evenings are planned in
// instants, not wall-clock times, so a slot is Slot long in real time even
// on the night the clocks change.
type Span struct{ Start, End time.Time }

// Overlaps says whether s and o share any instant; spans that only touch
// (one ends as the other starts) do not.
func (s Span) Overlaps(o Span) bool {
	return s.Start.Before(o.End) && o.Start.Before(s.End)
}

// EveningRules are the hours of a parents' evening that every teacher
// shares unless they override them.
type EveningRules struct {
	Start, End time.Time     // the evening's hours (instants; the form turns local times into them)
	Slot       time.Duration // appointment length (1 min .. 2 h)
	Gap        time.Duration // between appointments of one teacher
	Breaks     []Span        // for every teacher
}

// TeacherHours are a teacher's overrides; zero values mean "the evening's".
type TeacherHours struct {
	Start, End time.Time
	Slot       time.Duration
	Breaks     []Span // in addition to the evening's
}

// Limits on an evening's rules.
const (
	MinSlot       = time.Minute
	MaxSlot       = 2 * time.Hour
	MaxGap        = 2 * time.Hour
	MaxEveningLen = 24 * time.Hour
)

// Check says what is wrong with an evening's rules, by form field ("start",
// "end", "slot", "gap", "breaks").
func (r EveningRules) Check() error {
	fe := FieldErrors{}
	checkHours(fe, r.Start, r.End)
	checkSlot(fe, r.Slot)
	if r.Gap < 0 || r.Gap > MaxGap {
		fe["gap"] = fmt.Sprintf("must be from 0 to %d minutes", int(MaxGap.Minutes()))
	}
	checkBreaks(fe, r.Breaks, r.Start, r.End)
	if len(fe) == 0 && len(Slots(r, TeacherHours{})) == 0 {
		fe["slot"] = "no appointment fits between the start, the end and the breaks"
	}
	if len(fe) > 0 {
		return fe
	}
	return nil
}

// Check says what is wrong with a teacher's overrides of the evening r, by
// the same fields as EveningRules.Check.
func (t TeacherHours) Check(r EveningRules) error {
	fe := FieldErrors{}
	start, end := hours(r, t)
	checkHours(fe, start, end)
	if t.Slot != 0 {
		checkSlot(fe, t.Slot)
	}
	checkBreaks(fe, t.Breaks, start, end)
	if len(fe) > 0 {
		return fe
	}
	return nil
}

func checkHours(fe FieldErrors, start, end time.Time) {
	switch {
	case start.IsZero():
		fe["start"] = "is required"
	case end.IsZero():
		fe["end"] = "is required"
	case !end.After(start):
		fe["end"] = "must be after the start"
	case end.Sub(start) > MaxEveningLen:
		fe["end"] = fmt.Sprintf("must be at most %d hours after the start", int(MaxEveningLen.Hours()))
	}
}

func checkSlot(fe FieldErrors, slot time.Duration) {
	if slot < MinSlot || slot > MaxSlot || slot%time.Minute != 0 {
		fe["slot"] = fmt.Sprintf("must be a whole number of minutes from %d to %d", int(MinSlot.Minutes()), int(MaxSlot.Minutes()))
	}
}

func checkBreaks(fe FieldErrors, breaks []Span, start, end time.Time) {
	for _, b := range breaks {
		switch {
		case !b.End.After(b.Start):
			fe["breaks"] = "each break must end after it starts"
		case b.Start.Before(start) || b.End.After(end):
			fe["breaks"] = "each break must lie within the hours"
		}
	}
}

// Slots lists a teacher's appointment slots in order: Slot long, Gap apart,
// none overlapping a break or running past the end (a slot that would
// overlap a break starts when the break ends).
func Slots(r EveningRules, t TeacherHours) []Span {
	start, end := hours(r, t)
	slot := r.Slot
	if t.Slot > 0 {
		slot = t.Slot
	}
	if slot <= 0 {
		return nil // no length, no slots (and no endless loop)
	}
	gap := max(r.Gap, 0)
	breaks := append(slices.Clip(r.Breaks), t.Breaks...)
	var out []Span
	for at := start; !at.Add(slot).After(end); {
		s := Span{at, at.Add(slot)}
		if b, ok := firstOverlap(s, breaks); ok {
			at = b.End
			continue
		}
		out = append(out, s)
		at = s.End.Add(gap)
	}
	return out
}

// hours are a teacher's hours on evening r.
func hours(r EveningRules, t TeacherHours) (start, end time.Time) {
	start, end = r.Start, r.End
	if !t.Start.IsZero() {
		start = t.Start
	}
	if !t.End.IsZero() {
		end = t.End
	}
	return start, end
}

// firstOverlap returns the break overlapping s that ends last, so one jump
// clears breaks that overlap each other.
func firstOverlap(s Span, breaks []Span) (Span, bool) {
	var found Span
	ok := false
	for _, b := range breaks {
		if b.Start.Before(b.End) && s.Overlaps(b) && (!ok || b.End.After(found.End)) {
			found, ok = b, true
		}
	}
	return found, ok
}

// Appointment is a household's appointment, booked or being considered.
type Appointment struct {
	ID        uuid.UUID
	TeacherID uuid.UUID
	StudentID uuid.UUID
	Span
}

// ClashError says which of a household's appointments a candidate clashes
// with, so the page can name it. It unwraps to ErrOverlap or ErrTravelGap.
type ClashError struct {
	With   Appointment
	Reason error
}

func (e *ClashError) Error() string {
	return fmt.Sprintf("schedule: %v (appointment %s at %s)", e.Reason, e.With.ID, e.With.Start.UTC().Format(time.RFC3339))
}

func (e *ClashError) Unwrap() error { return e.Reason }

// Fits says whether candidate may join a household's appointments: it must
// not overlap any of them, and there must be at least travel between it and
// each appointment with another teacher (two with the same teacher, e.g.
// for siblings, may be back to back). An appointment with candidate's own
// ID is the one being moved and is ignored.
func Fits(booked []Appointment, candidate Appointment, travel time.Duration) error {
	for _, b := range booked {
		if candidate.ID != uuid.Nil && b.ID == candidate.ID {
			continue
		}
		if b.Overlaps(candidate.Span) {
			return &ClashError{With: b, Reason: ErrOverlap}
		}
		if b.TeacherID != candidate.TeacherID && between(b.Span, candidate.Span) < travel {
			return &ClashError{With: b, Reason: ErrTravelGap}
		}
	}
	return nil
}

// between is the time from the end of the earlier of two spans that do not
// overlap to the start of the later.
func between(a, b Span) time.Duration {
	if a.Start.After(b.Start) {
		a, b = b, a
	}
	return b.Start.Sub(a.End)
}

// Offer orders a teacher's free slots for a household: only those that Fit;
// first those back to back with the household's other appointments (the
// nearest that fits just before or just after each), then the rest, each
// group by time, so siblings' appointments with different teachers end up
// one after the other.
func Offer(free []Span, booked []Appointment, teacherID, studentID uuid.UUID, travel time.Duration) []Span {
	var fit []Span
	for _, f := range free {
		c := Appointment{TeacherID: teacherID, StudentID: studentID, Span: f}
		if Fits(booked, c, travel) == nil {
			fit = append(fit, f)
		}
	}
	slices.SortStableFunc(fit, byTime)
	near := map[int]bool{}
	for _, b := range booked {
		if i, ok := nearestBefore(fit, b.Span); ok {
			near[i] = true
		}
		if i, ok := nearestAfter(fit, b.Span); ok {
			near[i] = true
		}
	}
	out := make([]Span, 0, len(fit))
	for i, f := range fit {
		if near[i] {
			out = append(out, f)
		}
	}
	for i, f := range fit {
		if !near[i] {
			out = append(out, f)
		}
	}
	return out
}

// nearestBefore is the index of the last span in sorted that ends by b's start.
func nearestBefore(sorted []Span, b Span) (int, bool) {
	for i := len(sorted) - 1; i >= 0; i-- {
		if !sorted[i].End.After(b.Start) {
			return i, true
		}
	}
	return 0, false
}

// nearestAfter is the index of the first span in sorted that starts at or
// after b's end.
func nearestAfter(sorted []Span, b Span) (int, bool) {
	for i, s := range sorted {
		if !s.Start.Before(b.End) {
			return i, true
		}
	}
	return 0, false
}

func byTime(a, b Span) int {
	if c := a.Start.Compare(b.Start); c != 0 {
		return c
	}
	return a.End.Compare(b.End)
}

// Nearest returns up to n of the free spans nearest in time to want (for
// the family that lost a race), nearest first; of two equally near, the
// earlier.
func Nearest(free []Span, want time.Time, n int) []Span {
	if n <= 0 {
		return nil
	}
	sorted := slices.Clone(free)
	slices.SortStableFunc(sorted, func(a, b Span) int {
		return cmp.Or(cmp.Compare(distance(a.Start, want), distance(b.Start, want)), byTime(a, b))
	})
	return sorted[:min(n, len(sorted))]
}

func distance(a, b time.Time) time.Duration {
	if d := a.Sub(b); d >= 0 {
		return d
	}
	return b.Sub(a)
}

// SplitPolicy is how the households of a child who lives in two (split
// households) book.
type SplitPolicy string

const (
	SplitEachHousehold SplitPolicy = "each_household" // each household books its own appointment per teacher
	SplitShared        SplitPolicy = "shared"         // one appointment per child and teacher, whichever household books it
)

// Valid says whether p is one of the policies, for the evening form.
func (p SplitPolicy) Valid() bool {
	return p == SplitEachHousehold || p == SplitShared
}

// ShareKey is what may be booked at most once per evening and teacher:
// under SplitShared the child, otherwise the child in that household. The
// store keeps a unique index on it.
func ShareKey(p SplitPolicy, householdID, studentID uuid.UUID) string {
	if p == SplitShared {
		return "student:" + studentID.String()
	}
	return "household:" + householdID.String() + "/student:" + studentID.String()
}
