package schedule

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

// at is a wall-clock time on a day in zone; the day and zone are the test's.
func at(t *testing.T, zone, date, clock string) time.Time {
	t.Helper()
	loc, err := LoadZone(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := LocalTime(date, clock, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// london is a time on an ordinary evening in London (GMT+1 in June).
func london(t *testing.T, clock string) time.Time {
	t.Helper()
	return at(t, "Europe/London", "2026-06-18", clock)
}

// span is a span of an ordinary London evening.
func span(t *testing.T, from, to string) Span {
	t.Helper()
	return Span{london(t, from), london(t, to)}
}

// localTimes shows slots as their local start times with UTC offsets, so a
// repeated hour shows twice with different offsets.
func localTimes(slots []Span, loc *time.Location) []string {
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = s.Start.In(loc).Format("15:04-07:00")
	}
	return out
}

func TestSlots(t *testing.T) {
	ldn, _ := LoadZone("Europe/London")
	ny, _ := LoadZone("America/New_York")
	evening := func(from, to string, slot, gap time.Duration, breaks ...Span) EveningRules {
		return EveningRules{Start: london(t, from), End: london(t, to), Slot: slot, Gap: gap, Breaks: breaks}
	}
	tests := []struct {
		name    string
		rules   EveningRules
		teacher TeacherHours
		loc     *time.Location
		want    []string
	}{
		{"plain evening", evening("17:00", "18:00", 10*time.Minute, 0), TeacherHours{}, ldn,
			[]string{"17:00+01:00", "17:10+01:00", "17:20+01:00", "17:30+01:00", "17:40+01:00", "17:50+01:00"}},
		{"gaps", evening("17:00", "18:00", 10*time.Minute, 5*time.Minute), TeacherHours{}, ldn,
			[]string{"17:00+01:00", "17:15+01:00", "17:30+01:00", "17:45+01:00"}},
		{"evening break and the teacher's own",
			evening("17:00", "18:30", 10*time.Minute, 0, span(t, "17:30", "17:45")),
			TeacherHours{Breaks: []Span{span(t, "18:10", "18:20")}}, ldn,
			[]string{"17:00+01:00", "17:10+01:00", "17:20+01:00", "17:45+01:00", "17:55+01:00", "18:20+01:00"}},
		{"a slot may end as a break starts", evening("17:00", "17:50", 10*time.Minute, 5*time.Minute, span(t, "17:25", "17:35")), TeacherHours{}, ldn,
			[]string{"17:00+01:00", "17:15+01:00", "17:35+01:00"}},
		{"overlapping breaks are cleared at once",
			evening("17:00", "18:00", 10*time.Minute, 0, span(t, "17:10", "17:20"), span(t, "17:15", "17:40")), TeacherHours{}, ldn,
			[]string{"17:00+01:00", "17:40+01:00", "17:50+01:00"}},
		{"the teacher's hours and slot length", evening("17:00", "19:00", 10*time.Minute, 5*time.Minute),
			TeacherHours{Start: london(t, "17:30"), End: london(t, "18:15"), Slot: 15 * time.Minute}, ldn,
			[]string{"17:30+01:00", "17:50+01:00"}},
		{"no slot runs past the end", evening("17:00", "17:25", 10*time.Minute, 0), TeacherHours{}, ldn,
			[]string{"17:00+01:00", "17:10+01:00"}},
		{"1-minute slots", evening("17:00", "17:05", time.Minute, 0), TeacherHours{}, ldn,
			[]string{"17:00+01:00", "17:01+01:00", "17:02+01:00", "17:03+01:00", "17:04+01:00"}},
		{"no length, no slots", evening("17:00", "18:00", 0, 0), TeacherHours{}, ldn, nil},
		{"end before start", evening("18:00", "17:00", 10*time.Minute, 0), TeacherHours{}, ldn, nil},
		{"London clocks go back in the evening", EveningRules{
			Start: at(t, "Europe/London", "2026-10-25", "00:30"), End: at(t, "Europe/London", "2026-10-25", "03:30"), Slot: 30 * time.Minute,
		}, TeacherHours{}, ldn,
			[]string{"00:30+01:00", "01:00+01:00", "01:30+01:00", "01:00+00:00", "01:30+00:00", "02:00+00:00", "02:30+00:00", "03:00+00:00"}},
		{"New York clocks go forward in the evening", EveningRules{
			Start: at(t, "America/New_York", "2026-03-08", "01:00"), End: at(t, "America/New_York", "2026-03-08", "04:00"), Slot: 30 * time.Minute,
		}, TeacherHours{}, ny,
			[]string{"01:00-05:00", "01:30-05:00", "03:00-04:00", "03:30-04:00"}},
		{"New York spring forward with gaps and a break", EveningRules{
			Start: at(t, "America/New_York", "2026-03-08", "01:00"), End: at(t, "America/New_York", "2026-03-08", "04:00"),
			Slot: 20 * time.Minute, Gap: 10 * time.Minute,
			Breaks: []Span{{at(t, "America/New_York", "2026-03-08", "01:40"), at(t, "America/New_York", "2026-03-08", "03:10")}},
		}, TeacherHours{}, ny,
			[]string{"01:00-05:00", "03:10-04:00", "03:40-04:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Slots(tt.rules, tt.teacher)
			if g := localTimes(got, tt.loc); !slices.Equal(g, tt.want) {
				t.Errorf("slots = %v\nwant    %v", g, tt.want)
			}
			checkSlots(t, got, tt.rules, tt.teacher)
		})
	}
}

// checkSlots checks what every list of slots must be, whatever the rules:
// Slot long in real time, in order, Gap apart or more, inside the hours
// and clear of every break.
func checkSlots(t *testing.T, slots []Span, r EveningRules, th TeacherHours) {
	t.Helper()
	length, start, end := r.Slot, r.Start, r.End
	if th.Slot > 0 {
		length = th.Slot
	}
	if !th.Start.IsZero() {
		start, end = th.Start, th.End
	}
	breaks := append(slices.Clone(r.Breaks), th.Breaks...)
	for i, s := range slots {
		if d := s.End.Sub(s.Start); d != length {
			t.Errorf("slot %d lasts %v, want %v", i, d, length)
		}
		if s.Start.Before(start) || s.End.After(end) {
			t.Errorf("slot %d %v outside the hours", i, s)
		}
		if i > 0 && s.Start.Sub(slots[i-1].End) < r.Gap {
			t.Errorf("slot %d starts %v after the one before, less than the gap", i, s.Start.Sub(slots[i-1].End))
		}
		for _, b := range breaks {
			if s.Overlaps(b) {
				t.Errorf("slot %d %v overlaps break %v", i, s, b)
			}
		}
	}
}

var (
	novak  = uuid.MustParse("00000000-0000-4000-8000-00000000000a") // a teacher
	patel  = uuid.MustParse("00000000-0000-4000-8000-00000000000b") // another teacher
	tom    = uuid.MustParse("00000000-0000-4000-8000-000000000001") // a child
	tom2   = uuid.MustParse("00000000-0000-4000-8000-000000000002") // his sister
	bookA  = uuid.MustParse("00000000-0000-4000-8000-0000000000a1")
	bookB  = uuid.MustParse("00000000-0000-4000-8000-0000000000b1")
	travel = 5 * time.Minute
)

func appt(t *testing.T, id, teacher, student uuid.UUID, from, to string) Appointment {
	t.Helper()
	return Appointment{ID: id, TeacherID: teacher, StudentID: student, Span: span(t, from, to)}
}

func TestFits(t *testing.T) {
	booked := []Appointment{appt(t, bookA, novak, tom, "17:00", "17:10")}
	tests := []struct {
		name      string
		booked    []Appointment
		candidate Appointment
		travel    time.Duration
		want      error
	}{
		{"free time", booked, appt(t, uuid.Nil, patel, tom2, "17:30", "17:40"), travel, nil},
		{"overlap, same teacher", booked, appt(t, uuid.Nil, novak, tom2, "17:05", "17:15"), travel, ErrOverlap},
		{"overlap, another teacher", booked, appt(t, uuid.Nil, patel, tom2, "16:55", "17:05"), travel, ErrOverlap},
		{"same time exactly", booked, appt(t, uuid.Nil, patel, tom, "17:00", "17:10"), 0, ErrOverlap},
		{"too soon after, another teacher", booked, appt(t, uuid.Nil, patel, tom2, "17:12", "17:22"), travel, ErrTravelGap},
		{"too close before, another teacher", booked, appt(t, uuid.Nil, patel, tom, "16:52", "16:58"), travel, ErrTravelGap},
		{"back to back with another teacher, no travel gap", booked, appt(t, uuid.Nil, patel, tom2, "17:10", "17:20"), travel, ErrTravelGap},
		{"just the travel gap after", booked, appt(t, uuid.Nil, patel, tom2, "17:15", "17:25"), travel, nil},
		{"just the travel gap before", booked, appt(t, uuid.Nil, patel, tom2, "16:45", "16:55"), travel, nil},
		{"back to back, same teacher (siblings)", booked, appt(t, uuid.Nil, novak, tom2, "17:10", "17:20"), travel, nil},
		{"back to back before, same teacher", booked, appt(t, uuid.Nil, novak, tom2, "16:50", "17:00"), travel, nil},
		{"no travel gap asked", booked, appt(t, uuid.Nil, patel, tom2, "17:10", "17:20"), 0, nil},
		{"moving an appointment ignores itself", booked, appt(t, bookA, novak, tom, "17:05", "17:15"), travel, nil},
		{"moving still checks the others",
			append(slices.Clone(booked), appt(t, bookB, patel, tom2, "17:30", "17:40")),
			appt(t, bookA, novak, tom, "17:20", "17:30"), travel, ErrTravelGap},
		{"nothing booked", nil, appt(t, uuid.Nil, patel, tom2, "17:00", "17:10"), travel, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Fits(tt.booked, tt.candidate, tt.travel)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Fits = %v, want %v", err, tt.want)
			}
			if err == nil {
				return
			}
			var clash *ClashError
			if !errors.As(err, &clash) {
				t.Fatalf("%v does not say which appointment it clashes with", err)
			}
			if clash.With.ID == tt.candidate.ID {
				t.Errorf("clashes with itself: %v", err)
			}
			if !clash.With.Overlaps(tt.candidate.Span) && between(clash.With.Span, tt.candidate.Span) >= tt.travel {
				t.Errorf("names %v, which does not clash", clash.With)
			}
		})
	}
}

func TestOffer(t *testing.T) {
	novakSlots := Slots(EveningRules{Start: london(t, "16:00"), End: london(t, "18:00"), Slot: 10 * time.Minute}, TeacherHours{})
	patelSlots := Slots(EveningRules{Start: london(t, "16:00"), End: london(t, "18:00"), Slot: 10 * time.Minute}, TeacherHours{})
	without := func(slots []Span, taken ...string) []Span {
		return slices.DeleteFunc(slices.Clone(slots), func(s Span) bool {
			return slices.Contains(taken, s.Start.In(s.Start.Location()).Format("15:04"))
		})
	}
	tomWithNovak := appt(t, bookA, novak, tom, "17:00", "17:10")
	ldn, _ := LoadZone("Europe/London")
	tests := []struct {
		name             string
		free             []Span
		booked           []Appointment
		teacher, student uuid.UUID
		wantFirst        []string // the back-to-back offers, in order
		wantAll          int      // how many are offered in all
		notOffered       []string
	}{
		{
			name: "sister with another teacher: just before and just after, travel gap honoured",
			free: patelSlots, booked: []Appointment{tomWithNovak}, teacher: patel, student: tom2,
			wantFirst: []string{"16:40+01:00", "17:20+01:00"}, wantAll: 12 - 3,
			notOffered: []string{"16:50+01:00", "17:00+01:00", "17:10+01:00"},
		},
		{
			name: "sister with the same teacher: right before or after, no travel gap",
			free: without(novakSlots, "17:00"), booked: []Appointment{tomWithNovak}, teacher: novak, student: tom2,
			wantFirst: []string{"16:50+01:00", "17:10+01:00"}, wantAll: 11,
		},
		{
			name: "taken slots are skipped: the nearest free one is back to back",
			free: without(patelSlots, "16:40", "17:20", "17:30"), booked: []Appointment{tomWithNovak}, teacher: patel, student: tom2,
			wantFirst: []string{"16:30+01:00", "17:40+01:00"}, wantAll: 12 - 6,
		},
		{
			name:   "two booked: the nearest on each side of each",
			free:   Slots(EveningRules{Start: london(t, "16:00"), End: london(t, "18:30"), Slot: 10 * time.Minute}, TeacherHours{}),
			booked: []Appointment{tomWithNovak, appt(t, bookB, novak, tom, "17:40", "17:50")}, teacher: patel, student: tom2,
			wantFirst: []string{"16:40+01:00", "17:20+01:00", "18:00+01:00"}, wantAll: 15 - 6,
			notOffered: []string{"17:30+01:00", "17:40+01:00", "17:50+01:00"},
		},
		{
			name: "nothing booked: by time", free: reversed(patelSlots), teacher: patel, student: tom,
			wantFirst: []string{"16:00+01:00", "16:10+01:00"}, wantAll: 12,
		},
		{name: "no free slots", teacher: patel, student: tom, booked: []Appointment{tomWithNovak}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Offer(tt.free, tt.booked, tt.teacher, tt.student, travel)
			shown := localTimes(got, ldn)
			if len(got) != tt.wantAll || !slices.Equal(shown[:len(tt.wantFirst)], tt.wantFirst) {
				t.Fatalf("offered %v\nwant first %v, %d in all", shown, tt.wantFirst, tt.wantAll)
			}
			rest := got[len(tt.wantFirst):]
			if !slices.IsSortedFunc(rest, byTime) {
				t.Errorf("after the back-to-back ones, not by time: %v", shown)
			}
			for _, s := range got {
				if err := Fits(tt.booked, Appointment{TeacherID: tt.teacher, StudentID: tt.student, Span: s}, travel); err != nil {
					t.Errorf("offered %v, which does not fit: %v", s, err)
				}
			}
			for _, n := range tt.notOffered {
				if slices.Contains(shown, n) {
					t.Errorf("offered %s", n)
				}
			}
		})
	}
}

func reversed(s []Span) []Span {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

func TestNearest(t *testing.T) {
	ldn, _ := LoadZone("Europe/London")
	free := []Span{span(t, "17:40", "17:50"), span(t, "17:00", "17:10"), span(t, "17:20", "17:30"), span(t, "17:10", "17:20"), span(t, "17:30", "17:40")}
	tests := []struct {
		name string
		want string
		n    int
		out  []string
	}{
		{"the lost slot is free again", "17:20", 3, []string{"17:20+01:00", "17:10+01:00", "17:30+01:00"}},
		{"a tie goes to the earlier", "17:15", 2, []string{"17:10+01:00", "17:20+01:00"}},
		{"before all", "16:00", 2, []string{"17:00+01:00", "17:10+01:00"}},
		{"after all", "19:00", 1, []string{"17:40+01:00"}},
		{"more asked than there are", "17:40", 9, []string{"17:40+01:00", "17:30+01:00", "17:20+01:00", "17:10+01:00", "17:00+01:00"}},
		{"none asked", "17:20", 0, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slices.Clone(free)
			got := localTimes(Nearest(free, london(t, tt.want), tt.n), ldn)
			if !slices.Equal(got, tt.out) {
				t.Errorf("Nearest = %v, want %v", got, tt.out)
			}
			if !slices.Equal(free, before) {
				t.Errorf("Nearest reordered its input")
			}
		})
	}
	if got := Nearest(nil, london(t, "17:00"), 3); len(got) != 0 {
		t.Errorf("Nearest of nothing = %v", got)
	}
}

// TestShareKey: a child of two households (split households) gets one
// appointment per teacher between them under SplitShared, and one per
// household under SplitEachHousehold; a key never joins two children.
func TestShareKey(t *testing.T) {
	mum := uuid.MustParse("00000000-0000-4000-8000-0000000000f1")
	dad := uuid.MustParse("00000000-0000-4000-8000-0000000000f2")
	tests := []struct {
		policy       SplitPolicy
		h1, s1       uuid.UUID
		h2, s2       uuid.UUID
		sameKey      bool
		whatIsShared string
	}{
		{SplitShared, mum, tom, dad, tom, true, "the child's appointment, between households"},
		{SplitShared, mum, tom, mum, tom2, false, "nothing between siblings"},
		{SplitShared, mum, tom, dad, tom2, false, "nothing between children of different households"},
		{SplitEachHousehold, mum, tom, dad, tom, false, "nothing between households"},
		{SplitEachHousehold, mum, tom, mum, tom, true, "the child's appointment within a household"},
		{SplitEachHousehold, mum, tom, mum, tom2, false, "nothing between siblings"},
	}
	if !SplitShared.Valid() || !SplitEachHousehold.Valid() || SplitPolicy("").Valid() || SplitPolicy("both").Valid() {
		t.Errorf("Valid does not know the policies")
	}
	for _, tt := range tests {
		t.Run(string(tt.policy)+": "+tt.whatIsShared, func(t *testing.T) {
			k1, k2 := ShareKey(tt.policy, tt.h1, tt.s1), ShareKey(tt.policy, tt.h2, tt.s2)
			if (k1 == k2) != tt.sameKey {
				t.Errorf("keys %q and %q: same = %v, want %v", k1, k2, k1 == k2, tt.sameKey)
			}
		})
	}
}

func TestCheckEvening(t *testing.T) {
	good := EveningRules{Start: london(t, "16:00"), End: london(t, "19:00"), Slot: 10 * time.Minute, Gap: 2 * time.Minute,
		Breaks: []Span{span(t, "17:30", "17:45")}}
	if err := good.Check(); err != nil {
		t.Fatalf("good evening: %v", err)
	}
	if err := (EveningRules{Start: good.Start, End: good.End, Slot: time.Minute}).Check(); err != nil {
		t.Errorf("1-minute slots: %v", err)
	}
	tests := []struct {
		name  string
		edit  func(*EveningRules)
		field string
	}{
		{"no start", func(r *EveningRules) { r.Start = time.Time{} }, "start"},
		{"no end", func(r *EveningRules) { r.End = time.Time{} }, "end"},
		{"end before start", func(r *EveningRules) { r.End = london(t, "15:00") }, "end"},
		{"end at start", func(r *EveningRules) { r.End = r.Start }, "end"},
		{"a day and more", func(r *EveningRules) { r.End = r.Start.Add(25 * time.Hour) }, "end"},
		{"no slot length", func(r *EveningRules) { r.Slot = 0 }, "slot"},
		{"slot under a minute", func(r *EveningRules) { r.Slot = 30 * time.Second }, "slot"},
		{"slot over two hours", func(r *EveningRules) { r.Slot = 121 * time.Minute }, "slot"},
		{"slot of odd seconds", func(r *EveningRules) { r.Slot = 10*time.Minute + time.Second }, "slot"},
		{"negative gap", func(r *EveningRules) { r.Gap = -time.Minute }, "gap"},
		{"huge gap", func(r *EveningRules) { r.Gap = 3 * time.Hour }, "gap"},
		{"break ends before it starts", func(r *EveningRules) { r.Breaks = []Span{span(t, "17:45", "17:30")} }, "breaks"},
		{"break outside the hours", func(r *EveningRules) { r.Breaks = []Span{span(t, "18:50", "19:10")} }, "breaks"},
		{"nothing fits", func(r *EveningRules) { r.Slot = 2 * time.Hour; r.Breaks = []Span{span(t, "17:00", "18:00")} }, "slot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			tt.edit(&r)
			var fe FieldErrors
			if err := r.Check(); !errors.As(err, &fe) || fe[tt.field] == "" {
				t.Errorf("err = %v, want a message for %q", err, tt.field)
			}
		})
	}
}

func TestCheckTeacherHours(t *testing.T) {
	r := EveningRules{Start: london(t, "16:00"), End: london(t, "19:00"), Slot: 10 * time.Minute}
	for _, th := range []TeacherHours{
		{},
		{Start: london(t, "17:00")},
		{End: london(t, "18:00"), Slot: 5 * time.Minute, Breaks: []Span{span(t, "17:00", "17:15")}},
		{Start: london(t, "15:00"), End: london(t, "20:00")},
	} {
		if err := th.Check(r); err != nil {
			t.Errorf("%+v: %v", th, err)
		}
	}
	tests := []struct {
		name  string
		th    TeacherHours
		field string
	}{
		{"starts after the evening ends", TeacherHours{Start: london(t, "19:30")}, "end"},
		{"ends before the evening starts", TeacherHours{End: london(t, "15:00")}, "end"},
		{"slot too long", TeacherHours{Slot: 3 * time.Hour}, "slot"},
		{"break outside the teacher's hours", TeacherHours{End: london(t, "17:00"), Breaks: []Span{span(t, "17:30", "17:40")}}, "breaks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fe FieldErrors
			if err := tt.th.Check(r); !errors.As(err, &fe) || fe[tt.field] == "" {
				t.Errorf("err = %v, want a message for %q", err, tt.field)
			}
		})
	}
}
