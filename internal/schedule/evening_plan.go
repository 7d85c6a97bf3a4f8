package schedule

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/store"
)

// Limits of a parents' evening's numbers, as the database checks them too.
const (
	MaxSlotMinutes     = 120
	MaxGapMinutes      = 60
	MaxReminderMinutes = 10080 // a week
	MaxGraceSeconds    = 900
)

// EveningInput is a parents' evening as typed into the form. Times are
// wall-clock times on the evening's date in its zone; booking opens and
// closes are local date-times ("2026-03-14T18:00", as <input
// type=datetime-local> sends them).
type EveningInput struct {
	Name                          string
	Date, Start, End, TimeZone    string
	SlotMinutes, GapMinutes       string
	TravelMinutes                 string
	Breaks                        string // "HH:MM-HH:MM", separated by commas or new lines
	BookingOpens, BookingCloses   string
	Teachers                      []TeacherInput
	Staff                         []uuid.UUID // the accounts that may take part
	Classes                       []string
	KnownClasses                  []string // the students' classes, which Classes must be among
	SecondGuardian                string   // "yes" or "no"
	SplitPolicy                   string
	ReminderMinutes, GraceSeconds string
	RecordingPolicy               string
}

// TeacherInput is one teacher taking part, with their optional own hours,
// appointment length and breaks (empty: the evening's).
type TeacherInput struct {
	ID                      string
	Start, End, SlotMinutes string
	Breaks                  string
}

// TeacherField names the form field of one teacher's setting, e.g.
// "teacher_<id>_start", so errors land beside the right input.
func TeacherField(id, what string) string { return "teacher_" + id + "_" + what }

// ParseEvening validates a parents' evening and gives each of its teachers
// their slots. Nothing about it may be in the past but booking's opening.
func ParseEvening(in EveningInput, now time.Time) (store.EveningPlan, error) {
	fe := FieldErrors{}
	p := store.EveningPlan{
		Name:            strings.TrimSpace(in.Name),
		TimeZone:        strings.TrimSpace(in.TimeZone),
		SecondGuardian:  in.SecondGuardian == "yes",
		SplitPolicy:     in.SplitPolicy,
		RecordingPolicy: store.RecordingPolicy(in.RecordingPolicy),
	}
	checkLine(fe, "name", p.Name, MaxTitleLen, true)
	p.SlotMinutes = minutes(fe, "slot_minutes", in.SlotMinutes, 1, MaxSlotMinutes, true)
	p.GapMinutes = minutes(fe, "gap_minutes", in.GapMinutes, 0, MaxGapMinutes, false)
	p.TravelMinutes = minutes(fe, "travel_minutes", in.TravelMinutes, 0, MaxGapMinutes, false)
	p.ReminderMinutes = minutes(fe, "reminder_minutes", in.ReminderMinutes, 0, MaxReminderMinutes, false)
	p.GraceSeconds = minutes(fe, "grace_seconds", in.GraceSeconds, 0, MaxGraceSeconds, false)
	checkChoices(fe, in, p)
	p.Classes = checkClasses(fe, in.Classes, in.KnownClasses)

	loc, err := LoadZone(p.TimeZone)
	if err != nil {
		fe["time_zone"] = err.Error()
		return store.EveningPlan{}, fe
	}
	date := strings.TrimSpace(in.Date)
	p.StartsAt, p.EndsAt = localHours(fe, "start", "end", date, in.Start, in.End, loc)
	if fe["start"] == "" && fe["end"] == "" && !p.EndsAt.After(now) {
		fe["date"] = "is in the past: the evening would already be over"
	}
	evening := Span{p.StartsAt, p.EndsAt}
	p.Breaks = breaks(fe, "breaks", date, in.Breaks, evening, loc)
	p.BookingOpensAt = localDateTime(fe, "booking_opens", in.BookingOpens, loc)
	p.BookingClosesAt = localDateTime(fe, "booking_closes", in.BookingCloses, loc)
	checkBookingWindow(fe, p)
	if len(fe) > 0 {
		// The teachers' hours are checked against the evening's: only once those are right.
		return store.EveningPlan{}, fe
	}
	p.Teachers = teachers(fe, in, p, date, loc)
	if len(fe) > 0 {
		return store.EveningPlan{}, fe
	}
	return p, nil
}

// minutes reads a whole number from lo to hi; an optional empty one is 0.
func minutes(fe FieldErrors, field, v string, lo, hi int, required bool) int {
	v = strings.TrimSpace(v)
	if v == "" && !required {
		return 0
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		fe[field] = "must be a whole number"
	case n < lo || n > hi:
		fe[field] = fmt.Sprintf("must be from %d to %d", lo, hi)
	}
	return n
}

// checkChoices checks the answers picked from fixed lists.
func checkChoices(fe FieldErrors, in EveningInput, p store.EveningPlan) {
	if in.SecondGuardian != "yes" && in.SecondGuardian != "no" {
		fe["second_guardian"] = "choose whether a second guardian may join the call"
	}
	if p.SplitPolicy != string(SplitEachHousehold) && p.SplitPolicy != string(SplitShared) {
		fe["split_policy"] = "choose how the two households of a child book"
	}
	if p.RecordingPolicy != store.RecordingNotAllowed && p.RecordingPolicy != store.RecordingHostMayRecord {
		fe["recording_policy"] = "choose whether appointments may be recorded"
	}
}

// checkClasses keeps each chosen class once; each must be a class students are in.
func checkClasses(fe FieldErrors, classes, known []string) []string {
	var out []string
	for _, c := range classes {
		c = strings.TrimSpace(c)
		switch {
		case c == "" || slices.Contains(out, c):
		case !slices.Contains(known, c):
			fe["classes"] = fmt.Sprintf("no student is in class %q", c)
		default:
			out = append(out, c)
		}
	}
	return out
}

// localHours reads a start and end time on date; the end must come after the
// start on the same day.
func localHours(fe FieldErrors, startField, endField, date, start, end string, loc *time.Location) (time.Time, time.Time) {
	from, err := LocalTime(date, strings.TrimSpace(start), loc)
	if err != nil {
		fe[startField] = err.Error()
	}
	to, err := LocalTime(date, strings.TrimSpace(end), loc)
	if err != nil {
		fe[endField] = err.Error()
	}
	if fe[startField] == "" && fe[endField] == "" && !to.After(from) {
		fe[endField] = "must be after the start"
	}
	return from, to
}

// breaks reads breaks such as "18:00-18:15, 19:30-19:40", each within within.
func breaks(fe FieldErrors, field, date, v string, within Span, loc *time.Location) []store.Times {
	var out []store.Times
	for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' || r == ';' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		from, to, ok := strings.Cut(strings.ReplaceAll(part, "–", "-"), "-")
		sub := FieldErrors{}
		start, end := localHours(sub, "start", "end", date, from, to, loc)
		switch {
		case !ok:
			fe[field] = fmt.Sprintf("%q is not a break such as 18:00-18:15", part)
		case len(sub) > 0:
			fe[field] = fmt.Sprintf("%q: %s", part, firstError(sub))
		case start.Before(within.Start) || end.After(within.End):
			fe[field] = fmt.Sprintf("%q is outside the hours", part)
		default:
			out = append(out, store.Times{StartsAt: start, EndsAt: end})
			continue
		}
		return nil
	}
	return out
}

func firstError(fe FieldErrors) string {
	for _, k := range []string{"start", "end"} {
		if fe[k] != "" {
			return k + " " + fe[k]
		}
	}
	return ""
}

// localDateTime reads "2026-03-14T18:00" (or with a space) in loc.
func localDateTime(fe FieldErrors, field, v string, loc *time.Location) time.Time {
	v = strings.TrimSpace(v)
	date, clock, ok := strings.Cut(strings.Replace(v, " ", "T", 1), "T")
	if !ok {
		fe[field] = "needs a date and time such as 2026-03-14T18:00"
		return time.Time{}
	}
	t, err := LocalTime(date, clock, loc)
	if err != nil {
		fe[field] = err.Error()
	}
	return t
}

// checkBookingWindow: booking closes after it opens and by the evening's end.
func checkBookingWindow(fe FieldErrors, p store.EveningPlan) {
	if fe["booking_opens"] != "" || fe["booking_closes"] != "" || fe["end"] != "" || fe["start"] != "" {
		return
	}
	switch {
	case !p.BookingClosesAt.After(p.BookingOpensAt):
		fe["booking_closes"] = "must be after booking opens"
	case p.BookingClosesAt.After(p.EndsAt):
		fe["booking_closes"] = "must be before the evening ends"
	}
}

// teachers checks the teachers taking part and gives each their slots.
func teachers(fe FieldErrors, in EveningInput, p store.EveningPlan, date string, loc *time.Location) []store.EveningTeacherPlan {
	if len(in.Teachers) == 0 {
		fe["teachers"] = "choose at least one teacher"
		return nil
	}
	rules := EveningRules{Start: p.StartsAt, End: p.EndsAt, Slot: time.Duration(p.SlotMinutes) * time.Minute,
		Gap: time.Duration(p.GapMinutes) * time.Minute, Breaks: spans(p.Breaks)}
	var out []store.EveningTeacherPlan
	for _, ti := range in.Teachers {
		id, err := uuid.Parse(strings.TrimSpace(ti.ID))
		switch {
		case err != nil || !slices.Contains(in.Staff, id):
			fe["teachers"] = "choose teachers from the list"
		case slices.ContainsFunc(out, func(t store.EveningTeacherPlan) bool { return t.TeacherID == id }):
			fe["teachers"] = "each teacher takes part once"
		default:
			if t, ok := teacher(fe, ti, id, rules, date, loc); ok {
				out = append(out, t)
			}
		}
	}
	return out
}

// teacher reads one teacher's overrides and makes their slots.
func teacher(fe FieldErrors, ti TeacherInput, id uuid.UUID, rules EveningRules, date string, loc *time.Location) (store.EveningTeacherPlan, bool) {
	key := id.String()
	t := store.EveningTeacherPlan{TeacherID: id}
	hrs := TeacherHours{}
	start, end := strings.TrimSpace(ti.Start), strings.TrimSpace(ti.End)
	if start != "" || end != "" {
		if start == "" {
			start = rules.Start.In(loc).Format("15:04")
		}
		if end == "" {
			end = rules.End.In(loc).Format("15:04")
		}
		hrs.Start, hrs.End = localHours(fe, TeacherField(key, "start"), TeacherField(key, "end"), date, start, end, loc)
		if fe[TeacherField(key, "start")] == "" && fe[TeacherField(key, "end")] == "" &&
			(hrs.Start.Before(rules.Start) || hrs.End.After(rules.End)) {
			fe[TeacherField(key, "start")] = "a teacher's hours must be within the evening's"
		}
		t.StartsAt, t.EndsAt = &hrs.Start, &hrs.End
	}
	if strings.TrimSpace(ti.SlotMinutes) != "" {
		n := minutes(fe, TeacherField(key, "slot_minutes"), ti.SlotMinutes, 1, MaxSlotMinutes, true)
		hrs.Slot, t.SlotMinutes = time.Duration(n)*time.Minute, &n
	}
	t.Breaks = breaks(fe, TeacherField(key, "breaks"), date, ti.Breaks, Span{rules.Start, rules.End}, loc)
	hrs.Breaks = spans(t.Breaks)
	if len(fe) > 0 {
		return t, false
	}
	for _, s := range Slots(rules, hrs) {
		t.Slots = append(t.Slots, store.Times{StartsAt: s.Start, EndsAt: s.End})
	}
	if len(t.Slots) == 0 {
		fe[TeacherField(key, "start")] = "leaves no time for a single appointment"
		return t, false
	}
	return t, true
}

func spans(ts []store.Times) []Span {
	out := make([]Span, len(ts))
	for i, t := range ts {
		out[i] = Span{t.StartsAt, t.EndsAt}
	}
	return out
}
