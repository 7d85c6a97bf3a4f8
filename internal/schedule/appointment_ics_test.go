package schedule

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"classmeet/internal/icstest"
)

// instant reads a DTSTART or DTEND the way RFC 5545 says a calendar must:
// UTC with a Z, or local time in its TZID, the first occurrence if the
// clocks went back.
func instant(t *testing.T, p *ics.IANAProperty) time.Time {
	t.Helper()
	if p == nil {
		t.Fatal("missing time")
	}
	if strings.HasSuffix(p.Value, "Z") {
		if _, ok := p.ICalParameters["TZID"]; ok {
			t.Errorf("UTC time %s with a TZID", p.Value)
		}
		v, err := time.Parse(icsLocal+"Z", p.Value)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tzid := p.ICalParameters["TZID"]
	if len(tzid) != 1 {
		t.Fatalf("local time %s without one TZID: %v", p.Value, tzid)
	}
	loc, err := LoadZone(tzid[0])
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.Parse(icsLocal, p.Value)
	if err != nil {
		t.Fatal(err)
	}
	if v.Second() != 0 {
		t.Fatalf("seconds in %s", p.Value)
	}
	at, err := LocalTime(v.Format("2006-01-02"), v.Format("15:04"), loc)
	if err != nil {
		t.Fatalf("%s in %s: %v", p.Value, loc, err)
	}
	return at
}

func appointmentEvents(t *testing.T) []AppointmentEvent {
	ldn, _ := LoadZone("Europe/London")
	ny, _ := LoadZone("America/New_York")
	night := func(clock string, d time.Duration) Span {
		s := at(t, "Europe/London", "2026-10-25", clock)
		return Span{s, s.Add(d)}
	}
	secondHalf := night("01:00", 0).Start.Add(time.Hour + 20*time.Minute) // 01:20 GMT, after 01:20 BST
	return []AppointmentEvent{
		{UID: "a1@meet.school.example", Sequence: 0, Span: night("00:50", 10*time.Minute), Zone: ldn,
			Summary: "Parents' evening: Ms Novak (Tom, 7B)", JoinURL: "https://meet.school.example/a/j1", ManageURL: "https://meet.school.example/b/m1"},
		{UID: "a2@meet.school.example", Sequence: 2, Span: Span{secondHalf, secondHalf.Add(10 * time.Minute)}, Zone: ldn,
			Summary: "Parents' evening: Mr Patel (Anna, 9C)", JoinURL: "https://meet.school.example/a/j2", ManageURL: "https://meet.school.example/b/m2"},
		{UID: "a3@meet.school.example", Sequence: 1, Span: night("02:10", 10*time.Minute), Zone: ldn, Cancelled: true,
			Summary: "Parents' evening: Mrs Nováková-Łukasiewicz; room 12, upstairs (Tomáš, 7B) — please bring the reading diary",
			JoinURL: "https://meet.school.example/a/j3-" + strings.Repeat("x", 80)},
		{UID: "a4@meet.school.example", Sequence: 5, Span: Span{at(t, "America/New_York", "2026-03-08", "03:00"), at(t, "America/New_York", "2026-03-08", "03:15")}, Zone: ny,
			Summary: "Parents' evening: Ms Ortiz (Tom, 7B)", JoinURL: "https://meet.school.example/a/j4"},
	}
}

func TestAppointments(t *testing.T) {
	evs := appointmentEvents(t)
	stamp := time.Date(2026, 10, 1, 9, 30, 0, 0, time.UTC)
	for _, m := range []CalendarMethod{MethodPublish, MethodRequest, MethodCancel} {
		t.Run(string(m), func(t *testing.T) {
			b, err := Appointments(evs, m, stamp)
			if err != nil {
				t.Fatal(err)
			}
			icstest.Check(t, b)
			cal, err := ics.ParseCalendar(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("parse: %v\n%s", err, b)
			}
			if got := calProp(cal, ics.PropertyMethod); got != string(m) {
				t.Errorf("METHOD = %q, want %s", got, m)
			}
			checkZones(t, cal, "Europe/London", "America/New_York")
			got := cal.Events()
			if len(got) != len(evs) {
				t.Fatalf("%d VEVENTs, want %d", len(got), len(evs))
			}
			for i, ev := range got {
				checkEvent(t, ev, evs[i], m, stamp)
			}
		})
	}
}

func checkZones(t *testing.T, cal *ics.Calendar, zones ...string) {
	t.Helper()
	tzs := cal.Timezones()
	if len(tzs) != len(zones) {
		t.Fatalf("%d VTIMEZONEs, want %d", len(tzs), len(zones))
	}
	for i, z := range zones {
		if got := tzs[i].GetProperty(ics.ComponentPropertyTzid).Value; got != z {
			t.Errorf("VTIMEZONE %d is %s, want %s", i, got, z)
		}
	}
}

func checkEvent(t *testing.T, ev *ics.VEvent, want AppointmentEvent, m CalendarMethod, stamp time.Time) {
	t.Helper()
	if ev.Id() != want.UID {
		t.Errorf("UID = %q, want %q", ev.Id(), want.UID)
	}
	status := "CONFIRMED"
	if m == MethodCancel || want.Cancelled {
		status = "CANCELLED"
	}
	checks := map[ics.ComponentProperty]string{
		ics.ComponentPropertySequence: strconv.Itoa(want.Sequence),
		ics.ComponentPropertyStatus:   status,
		ics.ComponentPropertySummary:  want.Summary,
		ics.ComponentPropertyDtstamp:  stamp.Format(icsLocal + "Z"),
		ics.ComponentPropertyLocation: want.JoinURL,
		ics.ComponentPropertyUrl:      want.JoinURL,
	}
	for p, v := range checks {
		if got := prop(&ev.ComponentBase, p); got != v {
			t.Errorf("%s: %s = %q, want %q", want.UID, p, got, v)
		}
	}
	desc := prop(&ev.ComponentBase, ics.ComponentPropertyDescription)
	if !strings.Contains(desc, want.JoinURL) || !strings.Contains(desc, want.ManageURL) {
		t.Errorf("%s: DESCRIPTION %q lacks the join or manage link", want.UID, desc)
	}
	start, end := instant(t, ev.GetProperty(ics.ComponentPropertyDtStart)), instant(t, ev.GetProperty(ics.ComponentPropertyDtEnd))
	if !start.Equal(want.Start) || !end.Equal(want.End) {
		t.Errorf("%s: %v to %v, want %v to %v", want.UID, start.UTC(), end.UTC(), want.Start.UTC(), want.End.UTC())
	}
	if p := ev.GetProperty(ics.ComponentPropertyDtStart); !secondOccurrence(want.Start, want.Zone) && p.ICalParameters["TZID"][0] != want.Zone.String() {
		t.Errorf("%s: DTSTART TZID = %v, want %s", want.UID, p.ICalParameters["TZID"], want.Zone)
	}
}

// TestAppointmentsLocalTimes pins the exact local times written, so the
// file reads right in a calendar that trusts the TZID alone.
func TestAppointmentsLocalTimes(t *testing.T) {
	b, err := Appointments(appointmentEvents(t), MethodPublish, time.Date(2026, 10, 1, 9, 30, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	icstest.Check(t, b)
	unfolded := strings.ReplaceAll(string(b), "\r\n ", "")
	for _, want := range []string{
		"DTSTART;TZID=Europe/London:20261025T005000\r\n", // BST, before the clocks go back
		"DTSTART:20261025T012000Z\r\n",                   // 01:20 GMT: local 01:20 would mean BST
		"DTEND:20261025T013000Z\r\n",
		"DTSTART;TZID=Europe/London:20261025T021000\r\n",    // GMT, after the repeated hour
		"DTSTART;TZID=America/New_York:20260308T030000\r\n", // EDT, just after spring forward
		"DTEND;TZID=America/New_York:20260308T031500\r\n",
	} {
		if !strings.Contains(unfolded, want) {
			t.Errorf("no %q in\n%s", want, b)
		}
	}
}

func TestAppointmentsRefuses(t *testing.T) {
	good := appointmentEvents(t)[:1]
	edit := func(f func(*AppointmentEvent)) []AppointmentEvent {
		e := good[0]
		f(&e)
		return []AppointmentEvent{e}
	}
	tests := []struct {
		name string
		evs  []AppointmentEvent
		m    CalendarMethod
		want error
	}{
		{"no appointments", nil, MethodPublish, ErrNoAppointments},
		{"unknown method", good, "COUNTER", ErrCalendarMethod},
		{"no UID", edit(func(e *AppointmentEvent) { e.UID = " " }), MethodRequest, ErrBadAppointment},
		{"no zone", edit(func(e *AppointmentEvent) { e.Zone = nil }), MethodRequest, ErrBadAppointment},
		{"the machine's zone", edit(func(e *AppointmentEvent) { e.Zone = time.Local }), MethodRequest, ErrBadAppointment},
		{"the same UID twice", append(slices.Clone(good), good[0]), MethodPublish, ErrBadAppointment},
		{"ends before it starts", edit(func(e *AppointmentEvent) { e.Start, e.End = e.End, e.Start }), MethodRequest, ErrBadAppointment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Appointments(tt.evs, tt.m, now); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestAppointmentsInvitation: a mail invitation or cancellation names its
// organizer and the household, without empty properties when there are
// none; a download (PUBLISH) invites nobody, so it names no ATTENDEE even
// when the household's addresses are at hand.
func TestAppointmentsInvitation(t *testing.T) {
	for m, want := range map[CalendarMethod]string{
		MethodRequest: "mailto:dad@home.example mailto:mum@home.example",
		MethodCancel:  "mailto:dad@home.example mailto:mum@home.example",
		MethodPublish: "",
	} {
		t.Run(string(m), func(t *testing.T) {
			evs := appointmentEvents(t)[:1]
			evs[0].Organizer = "evenings@school.example"
			evs[0].Attendees = []string{"mum@home.example", "", "mum@home.example", "dad@home.example"}
			b, err := Appointments(evs, m, now)
			if err != nil {
				t.Fatal(err)
			}
			icstest.Check(t, b)
			_, ev := parseICS(t, b)
			if got := prop(&ev.ComponentBase, ics.ComponentPropertyOrganizer); got != "mailto:evenings@school.example" {
				t.Errorf("ORGANIZER = %q", got)
			}
			var got []string
			for _, a := range ev.Attendees() {
				got = append(got, a.Value)
			}
			if strings.Join(got, " ") != want {
				t.Errorf("ATTENDEEs = %v, want %q", got, want)
			}
		})
	}
}
