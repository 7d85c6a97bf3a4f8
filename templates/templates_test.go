package templates

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"github.com/google/uuid"

	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

func render(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var sb strings.Builder
	if err := c.Render(templ.WithNonce(context.Background(), "n0nce"), &sb); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func tid(id string) string { return `[data-testid="` + id + `"]` }

func TestFieldIsLabelledAndDescribed(t *testing.T) {
	f := Form{Values: map[string]string{"email": "x@"}, Errors: map[string]string{"email": "is not an email address"}}
	doc := render(t, Field(f, "email", "Email", "email", "Your school address", templ.Attributes{"required": true}))
	in := doc.Find("input#f-email")
	if in.Length() != 1 {
		t.Fatal("no input")
	}
	if doc.Find(`label[for="f-email"]`).Text() != "Email" {
		t.Error("input is not labelled")
	}
	if v, _ := in.Attr("aria-invalid"); v != "true" {
		t.Errorf("aria-invalid = %q", v)
	}
	desc, _ := in.Attr("aria-describedby")
	if doc.Find("#"+desc).Text() != "is not an email address" {
		t.Errorf("aria-describedby %q does not point at the error", desc)
	}
	if v, _ := in.Attr("value"); v != "x@" {
		t.Errorf("typed value lost: %q", v)
	}
	ok := render(t, Field(Form{}, "email", "Email", "email", "Your school address", nil))
	desc, _ = ok.Find("input").Attr("aria-describedby")
	if ok.Find("#"+desc).Text() != "Your school address" {
		t.Error("without an error, aria-describedby should point at the hint")
	}
}

func TestLayoutCarriesTheNonceAndSkipLink(t *testing.T) {
	doc := render(t, Message(Page{Title: "Oops"}, "Heading", "Text"))
	if n, _ := doc.Find("script").Attr("nonce"); n != "n0nce" {
		t.Errorf("script nonce %q", n)
	}
	if href, _ := doc.Find(".skip-link").Attr("href"); href != "#main" || doc.Find("main#main").Length() != 1 {
		t.Error("no working skip link")
	}
	if doc.Find("title").Text() != "Oops · classmeet" {
		t.Errorf("title %q", doc.Find("title").Text())
	}
	if doc.Find("nav").Length() != 0 {
		t.Error("signed-out pages show the staff navigation")
	}
}

func TestDashboardShowsTimesInTheTeachersZone(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	london, _ := time.LoadLocation("Europe/London")
	m := store.MeetingSummary{Meeting: store.Meeting{
		ID: uuid.New(), Title: "Reading <b>club</b>", StartsAt: time.Date(2026, 3, 20, 16, 30, 0, 0, london),
		DurationMinutes: 30, TimeZone: "Europe/London",
	}, InviteeCount: 1}
	u := store.User{Name: "T", Role: store.RoleTeacher}
	doc := render(t, Dashboard(Page{User: &u}, DashboardView{Upcoming: []store.MeetingSummary{m}, Zone: ny}))
	item := doc.Find(tid("upcoming") + " " + tid("meeting"))
	if item.Find(".title").Text() != "Reading <b>club</b>" || item.Find("b").Length() != 0 {
		t.Errorf("title not escaped: %q", item.Find(".title").Text())
	}
	when := item.Find(".muted").Text()
	// 20 March: New York is on EDT (-4), London still on GMT.
	if !strings.Contains(when, "Fri 20 Mar 2026, 12:30–13:00 EDT") || !strings.Contains(when, "16:30–17:00 GMT in Europe/London") || !strings.Contains(when, "1 invitee") {
		t.Errorf("when = %q", when)
	}
	if doc.Find(tid("past-empty")).Length() != 1 {
		t.Error("empty past list not explained")
	}
	if doc.Find(`a[href="/admin/users"]`).Length() != 0 {
		t.Error("a teacher sees the accounts link")
	}
}

func TestMeetingPageInvitees(t *testing.T) {
	now := testclock.Now()
	m := store.Meeting{ID: uuid.New(), Title: "M", StartsAt: now, DurationMinutes: 30, TimeZone: "UTC"}
	rows := []InviteeRow{
		{Invitee: store.Invitee{ID: uuid.New(), Name: "Mr Jones", ChildName: "Sam"}, Link: "https://x/j/abc"},
		{Invitee: store.Invitee{ID: uuid.New(), Name: "Mrs Patel", RevokedAt: &now}, Link: "https://x/j/def"},
	}
	u := store.User{Name: "T", Role: store.RoleTeacher}
	doc := render(t, MeetingPage(Page{User: &u}, MeetingView{Meeting: m, Zone: time.UTC, Invitees: rows, LinkExpiry: now}))
	if n := doc.Find(tid("invitee")).Length(); n != 2 {
		t.Fatalf("%d rows", n)
	}
	first := doc.Find(tid("invitee")).First()
	link := first.Find(tid("invitee-link"))
	if v, _ := link.Attr("value"); v != "https://x/j/abc" {
		t.Errorf("link %q", v)
	}
	id, _ := link.Attr("id")
	if doc.Find(`label[for="`+id+`"]`).Length() != 1 {
		t.Error("the link box is not labelled")
	}
	if !strings.Contains(first.Text(), "Parent of Sam") {
		t.Error("child's name not shown to the teacher")
	}
	second := doc.Find(tid("invitee")).Last()
	if second.Find(tid("link-revoked")).Length() != 1 || second.Find(tid("invitee-link")).Length() != 0 {
		t.Error("a withdrawn link is still offered for copying")
	}
}

func TestPrejoinStatesTheRecordingPolicy(t *testing.T) {
	for policy, want := range map[store.RecordingPolicy]string{
		store.RecordingNotAllowed:    "will not be recorded",
		store.RecordingHostMayRecord: "may record",
	} {
		m := store.Meeting{Title: "M", StartsAt: testclock.Now(), DurationMinutes: 15, TimeZone: "UTC", RecordingPolicy: policy}
		doc := render(t, RoomPage(Page{}, RoomView{Meeting: m, HostName: "Ms Smith", DisplayName: "Mr Jones"}))
		if got := doc.Find(tid("recording-policy")).Text(); !strings.Contains(got, want) {
			t.Errorf("%s: %q", policy, got)
		}
		if v, _ := doc.Find(tid("display-name")).Attr("value"); v != "Mr Jones" {
			t.Errorf("display name %q", v)
		}
		if doc.Find(`label[for="camera"]`).Length() != 1 || doc.Find(`label[for="microphone"]`).Length() != 1 {
			t.Error("device selectors are not labelled")
		}
		if role, _ := doc.Find(tid("mic-level")).Attr("role"); role != "meter" {
			t.Error("the level meter is not announced as a meter")
		}
	}
}

// TestTimetablePanelIsTheTeachers: the room page of a host carries the
// timetable panel and its buttons (shown when an evening's timetable
// arrives); a family's page has only its own countdowns.
func TestTimetablePanelIsTheTeachers(t *testing.T) {
	m := store.Meeting{Title: "Parents' evening", StartsAt: testclock.Now(), DurationMinutes: 180, TimeZone: "UTC"}
	host := render(t, RoomPage(Page{}, RoomView{Meeting: m, HostName: "Ms Smith", IsHost: true}))
	for _, id := range []string{"timetable-panel", "timetable-countdown", "extend", "end-appointment", "running-late-5", "running-late-10"} {
		if host.Find(tid(id)).Length() != 1 {
			t.Errorf("the host's page has no %s", id)
		}
	}
	if _, hidden := host.Find(tid("timetable-panel")).Attr("hidden"); !hidden {
		t.Error("the timetable panel shows before any timetable came")
	}
	family := render(t, RoomPage(Page{}, RoomView{Meeting: m, HostName: "Ms Smith", DisplayName: "Mr Jones"}))
	if family.Find(tid("timetable-panel")).Length() != 0 {
		t.Error("a family's page carries the teacher's timetable panel")
	}
	for _, id := range []string{"appointment-countdown", "call-countdown", "wrap-up"} {
		if family.Find(tid(id)).Length() != 1 {
			t.Errorf("the family's page has no %s", id)
		}
	}
}
