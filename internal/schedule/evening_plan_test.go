package schedule

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

var (
	teacherA = uuid.MustParse("6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f")
	teacherB = uuid.MustParse("7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
)

// eveningInput is a valid evening on 18 June 2026 in London (BST), 16:00-18:00.
func eveningInput() EveningInput {
	return EveningInput{
		Name: " Year 7 parents' evening ", Date: "2026-06-18", Start: "16:00", End: "18:00", TimeZone: "Europe/London",
		SlotMinutes: "10", GapMinutes: "0", TravelMinutes: "5", Breaks: "17:00-17:20",
		BookingOpens: "2026-06-01T08:00", BookingCloses: "2026-06-18T12:00",
		Teachers: []TeacherInput{{ID: teacherA.String()}}, Staff: []uuid.UUID{teacherA, teacherB},
		Classes: []string{"7B", "7A", "7B"}, KnownClasses: []string{"7A", "7B", "8C"},
		SecondGuardian: "yes", SplitPolicy: "each_household", ReminderMinutes: "60", GraceSeconds: "30",
		RecordingPolicy: "not_allowed",
	}
}

var eveningNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func TestParseEvening(t *testing.T) {
	in := eveningInput()
	in.Teachers = append(in.Teachers, TeacherInput{ID: teacherB.String(), Start: "16:30", End: "17:40", SlotMinutes: "15", Breaks: "16:45-16:50"})
	p, err := ParseEvening(in, eveningNow)
	if err != nil {
		t.Fatal(err)
	}
	bst := func(h, m int) time.Time { return time.Date(2026, 6, 18, h-1, m, 0, 0, time.UTC) }
	if p.Name != "Year 7 parents' evening" || !p.StartsAt.Equal(bst(16, 0)) || !p.EndsAt.Equal(bst(18, 0)) ||
		p.SlotMinutes != 10 || p.TravelMinutes != 5 || p.ReminderMinutes != 60 || p.GraceSeconds != 30 ||
		!p.SecondGuardian || !slices.Equal(p.Classes, []string{"7B", "7A"}) {
		t.Errorf("plan = %+v", p)
	}
	if !p.BookingOpensAt.Equal(bst(8, 0).AddDate(0, 0, -17)) || !p.BookingClosesAt.Equal(bst(12, 0)) {
		t.Errorf("booking window %v – %v", p.BookingOpensAt, p.BookingClosesAt)
	}
	if len(p.Breaks) != 1 || !p.Breaks[0].StartsAt.Equal(bst(17, 0)) || len(p.Teachers) != 2 {
		t.Fatalf("breaks %v teachers %d", p.Breaks, len(p.Teachers))
	}
	a, b := p.Teachers[0], p.Teachers[1]
	// A: 16:00-17:00 in six 10-minute slots, the break, 17:20-18:00 in four.
	if len(a.Slots) != 10 || !a.Slots[6].StartsAt.Equal(bst(17, 20)) || a.StartsAt != nil || a.SlotMinutes != nil {
		t.Errorf("teacher A: %d slots %v", len(a.Slots), a.Slots)
	}
	// B: 15 minutes from 16:30; their own break at 16:45 and the evening's at 17:00 leave 16:30 and 17:20.
	want := []time.Time{bst(16, 30), bst(17, 20)}
	var got []time.Time
	for _, s := range b.Slots {
		got = append(got, s.StartsAt)
	}
	if !slices.EqualFunc(got, want, time.Time.Equal) || *b.SlotMinutes != 15 || !b.StartsAt.Equal(bst(16, 30)) || len(b.Breaks) != 1 {
		t.Errorf("teacher B slots %v, want %v", got, want)
	}
}

func TestParseEveningRefuses(t *testing.T) {
	a := teacherA.String()
	tests := []struct {
		name  string
		edit  func(*EveningInput)
		field string
	}{
		{"no name", func(in *EveningInput) { in.Name = " " }, "name"},
		{"unknown zone", func(in *EveningInput) { in.TimeZone = "Mars/Olympus" }, "time_zone"},
		{"end before start", func(in *EveningInput) { in.End = "15:00" }, "end"},
		{"bad date", func(in *EveningInput) { in.Date = "18/06/2026" }, "start"},
		{"over already", func(in *EveningInput) {
			in.Date = "2026-04-30"
			in.BookingOpens = "2026-04-01T08:00"
			in.BookingCloses = "2026-04-30T12:00"
		}, "date"},
		{"slot of 0", func(in *EveningInput) { in.SlotMinutes = "0" }, "slot_minutes"},
		{"slot over two hours", func(in *EveningInput) { in.SlotMinutes = "121" }, "slot_minutes"},
		{"gap over an hour", func(in *EveningInput) { in.GapMinutes = "61" }, "gap_minutes"},
		{"negative travel", func(in *EveningInput) { in.TravelMinutes = "-1" }, "travel_minutes"},
		{"grace over 15 minutes", func(in *EveningInput) { in.GraceSeconds = "901" }, "grace_seconds"},
		{"reminder not a number", func(in *EveningInput) { in.ReminderMinutes = "an hour" }, "reminder_minutes"},
		{"break backwards", func(in *EveningInput) { in.Breaks = "17:20-17:00" }, "breaks"},
		{"break not a range", func(in *EveningInput) { in.Breaks = "17:00" }, "breaks"},
		{"break outside", func(in *EveningInput) { in.Breaks = "18:30-18:40" }, "breaks"},
		{"booking closes before it opens", func(in *EveningInput) { in.BookingCloses = "2026-05-31T08:00" }, "booking_closes"},
		{"booking closes after the evening", func(in *EveningInput) { in.BookingCloses = "2026-06-18T19:00" }, "booking_closes"},
		{"booking opens is no date", func(in *EveningInput) { in.BookingOpens = "soon" }, "booking_opens"},
		{"no teachers", func(in *EveningInput) { in.Teachers = nil }, "teachers"},
		{"not staff", func(in *EveningInput) { in.Teachers = []TeacherInput{{ID: uuid.NewString()}} }, "teachers"},
		{"twice", func(in *EveningInput) { in.Teachers = append(in.Teachers, TeacherInput{ID: a}) }, "teachers"},
		{"teacher outside the evening", func(in *EveningInput) { in.Teachers[0].End = "19:00" }, TeacherField(a, "start")},
		{"teacher's hours backwards", func(in *EveningInput) { in.Teachers[0].Start, in.Teachers[0].End = "17:00", "16:00" }, TeacherField(a, "end")},
		{"teacher's slot too long", func(in *EveningInput) { in.Teachers[0].SlotMinutes = "500" }, TeacherField(a, "slot_minutes")},
		{"teacher's hours too short", func(in *EveningInput) { in.Teachers[0].Start, in.Teachers[0].End = "16:00", "16:05" }, TeacherField(a, "start")},
		{"teacher's break outside", func(in *EveningInput) { in.Teachers[0].Breaks = "12:00-12:30" }, TeacherField(a, "breaks")},
		{"class nobody is in", func(in *EveningInput) { in.Classes = []string{"9Z"} }, "classes"},
		{"no second guardian answer", func(in *EveningInput) { in.SecondGuardian = "" }, "second_guardian"},
		{"unknown split policy", func(in *EveningInput) { in.SplitPolicy = "both" }, "split_policy"},
		{"unknown recording policy", func(in *EveningInput) { in.RecordingPolicy = "always" }, "recording_policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := eveningInput()
			tt.edit(&in)
			_, err := ParseEvening(in, eveningNow)
			fe, ok := err.(FieldErrors)
			if !ok || fe[tt.field] == "" {
				t.Errorf("err = %v, want a message for %s", err, tt.field)
			}
		})
	}
}

func TestParseEveningOnTheNightClocksGoBack(t *testing.T) {
	// 25 October 2026: London's 01:00-02:00 happens twice. An evening from
	// 00:30 to 02:30 lasts three hours and its slots are 30 real minutes each.
	in := eveningInput()
	in.Date, in.Start, in.End, in.SlotMinutes, in.Breaks = "2026-10-25", "00:30", "02:30", "30", ""
	in.BookingOpens, in.BookingCloses = "2026-10-01T08:00", "2026-10-24T20:00"
	p, err := ParseEvening(in, eveningNow)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.EndsAt.Sub(p.StartsAt); got != 3*time.Hour || len(p.Teachers[0].Slots) != 6 {
		t.Errorf("evening lasts %v with %d slots", got, len(p.Teachers[0].Slots))
	}
}
