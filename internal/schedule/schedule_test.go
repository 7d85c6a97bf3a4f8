package schedule

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/google/uuid"

	"classmeet/internal/icstest"
	"classmeet/internal/store"
	"classmeet/internal/textrule"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func input() PlanInput {
	return PlanInput{
		Title: " Year 7 parents' evening ", Date: "2026-03-20", Time: "16:30", Duration: "15",
		TimeZone: "Europe/London", LobbyPolicy: "everyone_waits", RecordingPolicy: "not_allowed",
		UnmutePolicy: "ask", ScreenShare: "everyone",
	}
}

func TestParsePlan(t *testing.T) {
	p, err := ParsePlan(input(), now)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 3, 20, 16, 30, 0, 0, time.UTC) // London is on GMT in March before the 29th
	if p.Title != "Year 7 parents' evening" || !p.StartsAt.Equal(want) || p.DurationMinutes != 15 || p.UnmutePolicy != store.UnmuteAsk || p.ScreenShare != store.ScreenShareEveryone {
		t.Errorf("plan = %+v", p)
	}
}

func TestParsePlanRefuses(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*PlanInput)
		field string
	}{
		{"no title", func(in *PlanInput) { in.Title = "  " }, "title"},
		{"long title", func(in *PlanInput) { in.Title = strings.Repeat("x", MaxTitleLen+1) }, "title"},
		{"newline in title", func(in *PlanInput) { in.Title = "a\nb" }, "title"},
		{"bidi override in title", func(in *PlanInput) { in.Title = "Reading \u202egnp.exe" }, "title"},
		{"invalid utf8", func(in *PlanInput) { in.Title = "\xff" }, "title"},
		{"long description", func(in *PlanInput) { in.Description = strings.Repeat("x", MaxDescriptionLen+1) }, "description"},
		{"bad date", func(in *PlanInput) { in.Date = "20/03/2026" }, "start"},
		{"bad time", func(in *PlanInput) { in.Time = "4pm" }, "start"},
		{"past", func(in *PlanInput) { in.Date = "2026-02-01" }, "start"},
		{"duration text", func(in *PlanInput) { in.Duration = "ten" }, "duration"},
		{"duration short", func(in *PlanInput) { in.Duration = "4" }, "duration"},
		{"duration long", func(in *PlanInput) { in.Duration = "721" }, "duration"},
		{"unknown zone", func(in *PlanInput) { in.TimeZone = "Europe/Atlantis" }, "time_zone"},
		{"Local zone", func(in *PlanInput) { in.TimeZone = "Local" }, "time_zone"},
		{"lobby", func(in *PlanInput) { in.LobbyPolicy = "nobody" }, "lobby_policy"},
		{"recording", func(in *PlanInput) { in.RecordingPolicy = "always" }, "recording_policy"},
		{"unmute", func(in *PlanInput) { in.UnmutePolicy = "never" }, "unmute_policy"},
		{"screen share", func(in *PlanInput) { in.ScreenShare = "nobody" }, "screen_share_policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input()
			tt.edit(&in)
			_, err := ParsePlan(in, now)
			var fe FieldErrors
			if !errors.As(err, &fe) || fe[tt.field] == "" {
				t.Fatalf("err = %v, want a message for %q", err, tt.field)
			}
		})
	}
}

func TestLocalTimeAcrossDST(t *testing.T) {
	london, _ := time.LoadLocation("Europe/London")
	// Clocks go forward at 01:00 GMT on 29 March 2026.
	before, err := LocalTime("2026-03-28", "10:00", london)
	if err != nil {
		t.Fatal(err)
	}
	after, err := LocalTime("2026-03-30", "10:00", london)
	if err != nil {
		t.Fatal(err)
	}
	if got := after.Sub(before); got != 47*time.Hour {
		t.Errorf("10:00 to 10:00 across spring-forward = %v, want 47h", got)
	}
	if _, off := after.Zone(); off != 3600 {
		t.Errorf("after the change the offset is %d, want BST +3600", off)
	}
	if _, err := LocalTime("2026-03-29", "01:30", london); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("skipped time: err = %v", err)
	}
	// 01:30 happens twice on 25 October 2026; we mean the first (BST).
	twice, err := LocalTime("2026-10-25", "01:30", london)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC); !twice.Equal(want) {
		t.Errorf("repeated 01:30 = %v, want %v", twice.UTC(), want)
	}
	// A teacher in New York sees a London meeting at the right local time
	// in the weeks when only America has changed its clocks.
	ny, _ := time.LoadLocation("America/New_York")
	if got := before.In(ny).Format("15:04"); got != "06:00" {
		t.Errorf("London 10:00 on 28 March in New York = %s, want 06:00", got)
	}
}

func meeting(cancelled bool) store.Meeting {
	london, _ := time.LoadLocation("Europe/London")
	m := store.Meeting{
		ID: uuid.MustParse("6f1c2d7e-8a9b-4c0d-9e1f-2a3b4c5d6e7f"), Title: "Parents' evening; Year 7, Set 2",
		Description: "Bring the reading diary.\nThanks!", StartsAt: time.Date(2026, 4, 2, 17, 0, 0, 0, london),
		DurationMinutes: 45, TimeZone: "Europe/London", Sequence: 3,
	}
	if cancelled {
		c := now
		m.CancelledAt = &c
	}
	return m
}

func parseICS(t *testing.T, b []byte) (*ics.Calendar, *ics.VEvent) {
	t.Helper()
	cal, err := ics.ParseCalendar(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, b)
	}
	evs := cal.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	return cal, evs[0]
}

func prop(c *ics.ComponentBase, p ics.ComponentProperty) string {
	if v := c.GetProperty(p); v != nil {
		return v.Value
	}
	return ""
}

func calProp(cal *ics.Calendar, p ics.Property) string {
	for _, cp := range cal.CalendarProperties {
		if cp.IANAToken == string(p) {
			return cp.Value
		}
	}
	return ""
}

func TestICSRequest(t *testing.T) {
	e := Event{
		Meeting: meeting(false), Host: store.User{Name: "Ms Smith", Email: "smith@school.example"},
		JoinURL: "https://meet.school.example/j/abc", Domain: "meet.school.example",
		Attendees: []store.Invitee{{Name: "Mr Jones", Email: "jones@home.example"}, {Name: "No Email"}},
	}
	b, err := ICS(e, MethodRequest, now)
	if err != nil {
		t.Fatal(err)
	}
	icstest.Check(t, b)
	cal, ev := parseICS(t, b)
	if got := calProp(cal, ics.PropertyMethod); got != "REQUEST" {
		t.Errorf("METHOD = %q", got)
	}
	if ev.Id() != "6f1c2d7e-8a9b-4c0d-9e1f-2a3b4c5d6e7f@meet.school.example" {
		t.Errorf("UID = %q", ev.Id())
	}
	start, err := ev.GetStartAt()
	if err != nil || !start.Equal(e.Meeting.StartsAt) {
		t.Errorf("DTSTART = %v, %v; want %v", start, err, e.Meeting.StartsAt)
	}
	if p := ev.GetProperty(ics.ComponentPropertyDtStart); p.ICalParameters["TZID"][0] != "Europe/London" || p.Value != "20260402T170000" {
		t.Errorf("DTSTART property = %+v", p)
	}
	end, _ := ev.GetEndAt()
	if end.Sub(start) != 45*time.Minute {
		t.Errorf("DTEND - DTSTART = %v", end.Sub(start))
	}
	checks := map[ics.ComponentProperty]string{
		ics.ComponentPropertySummary:     "Parents' evening; Year 7, Set 2",
		ics.ComponentPropertySequence:    "3",
		ics.ComponentPropertyStatus:      "CONFIRMED",
		ics.ComponentPropertyUrl:         "https://meet.school.example/j/abc",
		ics.ComponentPropertyLocation:    "https://meet.school.example/j/abc",
		ics.ComponentPropertyOrganizer:   "mailto:smith@school.example",
		ics.ComponentPropertyDescription: "Bring the reading diary.\nThanks!\n\nJoin: https://meet.school.example/j/abc",
	}
	for p, want := range checks {
		if got := prop(&ev.ComponentBase, p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	att := ev.Attendees()
	if len(att) != 1 || att[0].Email() != "jones@home.example" {
		t.Errorf("attendees = %+v", att)
	}
}

func TestICSCancel(t *testing.T) {
	b, err := ICS(Event{Meeting: meeting(false), Host: store.User{Name: "H", Email: "h@x"}, JoinURL: "https://x/j/a", Domain: "x"}, MethodCancel, now)
	if err != nil {
		t.Fatal(err)
	}
	icstest.Check(t, b)
	cal, ev := parseICS(t, b)
	if got := calProp(cal, ics.PropertyMethod); got != "CANCEL" {
		t.Errorf("METHOD = %q", got)
	}
	if got := prop(&ev.ComponentBase, ics.ComponentPropertyStatus); got != "CANCELLED" {
		t.Errorf("STATUS = %q", got)
	}
	if ev.Id() != "6f1c2d7e-8a9b-4c0d-9e1f-2a3b4c5d6e7f@x" {
		t.Errorf("a cancellation must carry the invitation's UID, got %q", ev.Id())
	}
}

// TestICSDownload: a downloaded file invites nobody (METHOD:PUBLISH, and
// no ATTENDEE even when the meeting has invitees), whether the meeting
// stands or was cancelled; a cancelled one says STATUS:CANCELLED. A method
// iTIP does not use here is refused.
func TestICSDownload(t *testing.T) {
	for _, cancelled := range []bool{false, true} {
		e := Event{Meeting: meeting(cancelled), Host: store.User{Name: "H", Email: "h@x"}, JoinURL: "https://x/j/a", Domain: "x",
			Attendees: []store.Invitee{{Name: "Mr Jones", Email: "jones@home.example"}}}
		b, err := ICS(e, MethodPublish, now)
		if err != nil {
			t.Fatal(err)
		}
		icstest.Check(t, b)
		cal, ev := parseICS(t, b)
		want := map[bool]string{false: "CONFIRMED", true: "CANCELLED"}[cancelled]
		if m, s := calProp(cal, ics.PropertyMethod), prop(&ev.ComponentBase, ics.ComponentPropertyStatus); m != "PUBLISH" || s != want {
			t.Errorf("cancelled=%v: METHOD:%s STATUS:%s, want PUBLISH and %s", cancelled, m, s, want)
		}
		if att := ev.Attendees(); len(att) != 0 {
			t.Errorf("cancelled=%v: a download lists %d ATTENDEEs, want none", cancelled, len(att))
		}
	}
	if _, err := ICS(Event{Meeting: meeting(false)}, "COUNTER", now); !errors.Is(err, ErrCalendarMethod) {
		t.Errorf("method COUNTER: err = %v, want %v", err, ErrCalendarMethod)
	}
}

// TestICSNames: names with , ; : or an apostrophe are written as RFC 5545
// asks (in an invitation, the file that names attendees), in double quotes and without backslashes (parameter values have no
// escapes), a DQUOTE in a name is dropped, and the file reads back with
// the names as they were.
func TestICSNames(t *testing.T) {
	e := Event{
		Meeting: meeting(false), Host: store.User{Name: "Ann O'Brien, Head", Email: "ann@school.example"},
		JoinURL: "https://meet.school.example/j/abc", Domain: "meet.school.example",
		Attendees: []store.Invitee{
			{Name: `Tom "TJ" Jones; Dad: of Sam`, Email: "tj@home.example"},
			{Name: "Zoë Müller-Łukasiewicz", Email: "zm@home.example"},
			{Name: `""`, Email: "q@home.example"},
			{Name: "Line\nBreak O'Neil", Email: `"o,neil"@home.example`},
		},
	}
	b, err := ICS(e, MethodRequest, now)
	if err != nil {
		t.Fatal(err)
	}
	icstest.Check(t, b)
	unfolded := strings.ReplaceAll(string(b), "\r\n ", "")
	for _, want := range []string{
		"ORGANIZER;CN=\"Ann O'Brien, Head\":mailto:ann@school.example\r\n",
		";CN=\"Tom TJ Jones; Dad: of Sam\";",
		";CN=Zoë Müller-Łukasiewicz;",
		// A CAL-ADDRESS is not TEXT: no backslash before its comma.
		"ATTENDEE;CN=LineBreak O'Neil;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;RSVP=false;VALUE=CAL-ADDRESS:mailto:\"o,neil\"@home.example\r\n",
	} {
		if !strings.Contains(unfolded, want) {
			t.Errorf("no %q in\n%s", want, b)
		}
	}
	_, ev := parseICS(t, b)
	if got := ev.GetProperty(ics.ComponentPropertyOrganizer).ICalParameters["CN"]; len(got) != 1 || got[0] != "Ann O'Brien, Head" {
		t.Errorf("ORGANIZER CN reads back as %q", got)
	}
	var names []string
	for _, a := range ev.Attendees() {
		names = append(names, strings.Join(a.ICalParameters["CN"], "|"))
	}
	if want := []string{"Tom TJ Jones; Dad: of Sam", "Zoë Müller-Łukasiewicz", "", "LineBreak O'Neil"}; !slices.Equal(names, want) {
		t.Errorf("ATTENDEE CNs read back as %q, want %q", names, want)
	}
}

// TestICSRepeatedHour: a meeting ending in the hour that happens twice
// when the clocks go back ends when it ends, not an hour earlier, and a host
// without a name leaves no empty CN.
func TestICSRepeatedHour(t *testing.T) {
	m := meeting(false)
	m.StartsAt = time.Date(2026, 10, 24, 23, 45, 0, 0, time.UTC) // 00:45 BST on 25 October
	m.DurationMinutes = 90                                       // to 01:15 GMT
	m.Description = ""
	b, err := ICS(Event{Meeting: m, Host: store.User{Email: "h@school.example"}, JoinURL: "https://x/j/a", Domain: "x"}, MethodPublish, now)
	if err != nil {
		t.Fatal(err)
	}
	icstest.Check(t, b)
	_, ev := parseICS(t, b)
	start, end := instant(t, ev.GetProperty(ics.ComponentPropertyDtStart)), instant(t, ev.GetProperty(ics.ComponentPropertyDtEnd))
	if !start.Equal(m.StartsAt) || !end.Equal(m.EndsAt()) {
		t.Errorf("read back as %v to %v, want %v to %v", start.UTC(), end.UTC(), m.StartsAt.UTC(), m.EndsAt().UTC())
	}
}

// TestVTimezoneMatchesGo checks every observance against Go's own zone data:
// a calendar using only the VTIMEZONE places the meeting where Go does.
func TestVTimezoneMatchesGo(t *testing.T) {
	for _, zone := range []string{"Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"} {
		t.Run(zone, func(t *testing.T) {
			loc, _ := time.LoadLocation(zone)
			at := time.Date(2026, 7, 1, 12, 0, 0, 0, loc)
			tz := vtimezone(loc, at, at)
			if tz.GetProperty(ics.ComponentPropertyTzid).Value != zone {
				t.Fatalf("TZID = %q", tz.GetProperty(ics.ComponentPropertyTzid).Value)
			}
			var last time.Time
			for _, c := range tz.Components {
				var cb *ics.ComponentBase
				var dst bool
				switch o := c.(type) {
				case *ics.Standard:
					cb = &o.ComponentBase
				case *ics.Daylight:
					cb, dst = &o.ComponentBase, true
				default:
					t.Fatalf("unexpected component %T", c)
				}
				from := parseOffset(t, prop(cb, ics.ComponentProperty(ics.PropertyTzoffsetfrom)))
				to := parseOffset(t, prop(cb, ics.ComponentProperty(ics.PropertyTzoffsetto)))
				local, err := time.ParseInLocation(icsLocal, prop(cb, ics.ComponentPropertyDtStart), time.FixedZone("", from))
				if err != nil {
					t.Fatal(err)
				}
				if !local.After(last) {
					t.Errorf("observances out of order at %v", local)
				}
				last = local
				name, off := local.In(loc).Zone()
				if off != to || local.In(loc).IsDST() != dst || name != prop(cb, ics.ComponentProperty(ics.PropertyTzname)) {
					t.Errorf("at %v: observance says %d dst=%v, Go says %s %d dst=%v", local.UTC(), to, dst, name, off, local.In(loc).IsDST())
				}
			}
			wantObservances := map[string]int{"Europe/London": 7, "America/New_York": 7, "Australia/Sydney": 7, "Asia/Kolkata": 1, "UTC": 1}[zone]
			if len(tz.Components) != wantObservances {
				t.Errorf("%d observances, want %d", len(tz.Components), wantObservances)
			}
		})
	}
}

func parseOffset(t *testing.T, s string) int {
	t.Helper()
	tm, err := time.Parse("-0700", s)
	if err != nil {
		t.Fatalf("offset %q: %v", s, err)
	}
	_, off := tm.Zone()
	return off
}

func TestCheckLink(t *testing.T) {
	m := meeting(false)
	inv := store.Invitation{Meeting: m}
	validity := 24 * time.Hour
	if err := CheckLink(inv, validity, m.StartsAt); err != nil {
		t.Errorf("at start: %v", err)
	}
	if err := CheckLink(inv, validity, m.EndsAt().Add(validity-time.Second)); err != nil {
		t.Errorf("just before expiry: %v", err)
	}
	if err := CheckLink(inv, validity, m.EndsAt().Add(validity)); !errors.Is(err, ErrLinkExpired) {
		t.Errorf("at expiry: %v", err)
	}
	revoked := inv
	revoked.Invitee.RevokedAt = &now
	if err := CheckLink(revoked, validity, m.StartsAt); !errors.Is(err, ErrLinkRevoked) {
		t.Errorf("revoked: %v", err)
	}
	if err := CheckLink(store.Invitation{Meeting: meeting(true)}, validity, m.StartsAt); !errors.Is(err, ErrMeetingCancelled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestParseInvitee(t *testing.T) {
	ni, err := ParseInvitee(InviteeInput{Name: " Mr Jones ", Email: "jones@home.example", ChildName: "Sam"})
	if err != nil || ni.Name != "Mr Jones" || ni.Email != "jones@home.example" {
		t.Fatalf("%+v, %v", ni, err)
	}
	for _, in := range []InviteeInput{
		{Name: ""},
		{Name: "x", Email: "not an email"},
		{Name: "x", Email: "Jones <jones@home.example>"},
		{Name: strings.Repeat("x", textrule.MaxName+1)},
		{Name: "x", ChildName: "a\tb"},
		{Name: "x", Role: "host"},
		{Name: "Mr \u202eJones"},
	} {
		if _, err := ParseInvitee(in); err == nil {
			t.Errorf("accepted %+v", in)
		}
	}
}
