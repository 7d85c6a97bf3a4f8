package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"

	"classmeet/internal/roster"
	"classmeet/internal/store"
)

// auditRow is a row of the audit page, as an administrator reads it.
type auditRow struct {
	kind, when, who, source, action, target, detail, meeting, href string
}

// audit reads the audit page with a query (a filter), failing on anything but 200.
func (b *browser) audit(query string) ([]auditRow, page) {
	b.e.t.Helper()
	p := b.get("/admin/audit?" + query)
	if p.status != http.StatusOK {
		b.e.t.Fatalf("audit page: %d", p.status)
	}
	var rows []auditRow
	p.doc.Find(tid("audit-row")).Each(func(_ int, s *goquery.Selection) {
		cell := func(id string) string { return strings.TrimSpace(s.Find(tid(id)).Text()) }
		rows = append(rows, auditRow{
			kind: s.AttrOr("data-kind", ""), when: cell("audit-when"), who: cell("audit-who"), source: cell("audit-source"),
			action: cell("audit-action"), target: cell("audit-target"), detail: cell("audit-detail"),
			meeting: strings.Join(strings.Fields(cell("audit-meeting")), " "), href: s.Find(tid("audit-meeting")+" a").AttrOr("href", ""),
		})
	})
	return rows, p
}

// find is the one row whose action is action.
func find(t *testing.T, rows []auditRow, action string) auditRow {
	t.Helper()
	var found []auditRow
	for _, r := range rows {
		if r.action == action {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d rows %q in %+v", len(found), action, rows)
	}
	return found[0]
}

func actions(rows []auditRow) []string {
	var as []string
	for _, r := range rows {
		as = append(as, r.action)
	}
	return as
}

// TestAuditLogSaysWhoDidWhatWhenAndFromWhere: sign-ins (and a failed one
// from elsewhere), scheduling, editing, invitations and their links,
// cancelling and signing out each appear with who (and their role), when
// in the admin's zone, the address and the meeting's title linking to it;
// never the password or the child an invitee comes for.
func TestAuditLogSaysWhoDidWhatWhenAndFromWhere(t *testing.T) {
	e := newEnvWith(t, map[string]string{"CLASSMEET_TRUST_PROXY": "true"})
	admin := e.user("admin@school.example", store.RoleAdmin)
	if err := e.store.UpdateProfile(t.Context(), admin.ID, admin.Name, "America/New_York"); err != nil {
		t.Fatal(err)
	}
	e.user("t@school.example", store.RoleTeacher)
	if p := e.loginFrom("203.0.113.9", "t@school.example", "a wrong secret"); p.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", p.status)
	}
	teacher := e.login("t@school.example")
	meeting := teacher.meeting("Maths catch-up")
	mid := strings.TrimPrefix(meeting, "/meetings/")
	start := e.clock.Now().Add(72 * time.Hour).In(mustZone("Europe/London"))
	if p := teacher.post(meeting, url.Values{
		"title": {"Maths catch-up (moved)"}, "date": {start.Format("2006-01-02")}, "time": {"17:00"}, "duration": {"30"},
		"time_zone": {"Europe/London"}, "lobby_policy": {"everyone_waits"}, "recording_policy": {"not_allowed"},
		"recording_access": {"host"}, "unmute_policy": {"self"}, "screen_share_policy": {"hosts"},
	}); p.status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", p.status, p.doc.Find(".error").Text())
	}
	link := teacher.invite(meeting, "Mrs Parent") // for her child Sam
	invitees, err := e.store.Invitees(t.Context(), uuid.MustParse(mid))
	if err != nil || len(invitees) != 1 {
		t.Fatalf("invitees %v %v", invitees, err)
	}
	inv := meeting + "/invitees/" + invitees[0].ID.String()
	for _, step := range []string{"/renew", "/revoke", "/remove"} {
		if p := teacher.post(inv+step, nil); p.status != http.StatusSeeOther {
			t.Fatalf("%s: %d", step, p.status)
		}
	}
	if p := teacher.post(meeting+"/cancel", nil); p.status != http.StatusSeeOther {
		t.Fatalf("cancel: %d", p.status)
	}
	if p := teacher.post("/logout", nil); p.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", p.status)
	}

	rows, p := e.login("admin@school.example").audit("")
	rows = slices.DeleteFunc(rows, func(r auditRow) bool { return strings.HasPrefix(r.who, "Name of admin") }) // reading it
	when := e.clock.Now().In(mustZone("America/New_York")).Format("2006-01-02 15:04:05")                       // the clock stands still
	teacherName := "Name of t@school.example (teacher)"
	for _, c := range []struct{ action, target, meeting string }{
		{"signed in", "", ""},
		{"scheduled meeting", "", "Maths catch-up (moved)"},
		{"edited meeting", "", "Maths catch-up (moved)"},
		{"invited participant", "Mrs Parent", "Maths catch-up (moved)"},
		{"renewed link", "Mrs Parent", "Maths catch-up (moved)"},
		{"withdrew link", "Mrs Parent", "Maths catch-up (moved)"},
		{"withdrew invitation", "Mrs Parent", "Maths catch-up (moved)"},
		{"cancelled meeting", "", "Maths catch-up (moved)"},
		{"signed out", "", ""},
	} {
		r := find(t, rows, c.action)
		if r.who != teacherName || r.when != when || r.source != "127.0.0.1" || r.target != c.target || r.meeting != c.meeting {
			t.Errorf("%s: %+v", c.action, r)
		}
		if c.meeting != "" && r.href != meeting {
			t.Errorf("%s links to %q, want %q", c.action, r.href, meeting)
		}
	}
	if r := find(t, rows, "sign-in failed"); r.who != "t@school.example (unknown)" || r.source != "203.0.113.9" || r.kind != store.AuditSignIn {
		t.Errorf("failed sign-in: %+v", r)
	}
	if r := find(t, rows, "edited meeting"); !strings.Contains(r.detail, "17:00") {
		t.Errorf("the edit does not say the new time: %+v", r)
	}
	token := strings.TrimPrefix(link, "/j/")
	for _, secret := range []string{"a wrong secret", password, "Sam", token} {
		if strings.Contains(p.body, secret) {
			t.Errorf("the audit page shows %q", secret)
		}
	}

	// A teacher reads neither the page nor its export.
	for _, path := range []string{"/admin/audit", "/admin/audit.csv"} {
		if p := e.login("t@school.example").get(path); p.status != http.StatusForbidden {
			t.Errorf("a teacher gets %s: %d", path, p.status)
		}
	}
}

// TestAuditLogFiltersPagesAndExports: the filters narrow by kind, person
// and meeting (title or id), pages keep the filter, and the CSV holds the
// filtered rows, parses back, and defuses formulas.
func TestAuditLogFiltersPagesAndExports(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	e.user("t@school.example", store.RoleTeacher)
	teacher := e.login("t@school.example")
	maths := teacher.meeting("Maths catch-up")
	formula := teacher.meeting("=HYPERLINK(\"http://evil.example\")")
	teacher.invite(maths, "Mrs Parent")
	teacher.invite(formula, "Mr Other")
	admin := e.login("admin@school.example")

	rows, _ := admin.audit("kind=invitation")
	if got := actions(rows); !slices.Equal(got, []string{"invited participant", "invited participant"}) {
		t.Errorf("kind=invitation: %v", got)
	}
	rows, _ = admin.audit("person=" + url.QueryEscape("mrs par"))
	if len(rows) != 1 || rows[0].target != "Mrs Parent" {
		t.Errorf("person=mrs par: %+v", rows)
	}
	rows, _ = admin.audit("meeting=" + url.QueryEscape("maths"))
	if got := actions(rows); !slices.Equal(got, []string{"invited participant", "scheduled meeting"}) || rows[0].meeting != "Maths catch-up" {
		t.Errorf("meeting=maths: %+v", rows)
	}
	rows, _ = admin.audit("meeting=" + strings.TrimPrefix(formula, "/meetings/") + "&kind=meeting")
	if len(rows) != 1 || rows[0].action != "scheduled meeting" || rows[0].href != formula {
		t.Errorf("meeting=<id>&kind=meeting: %+v", rows)
	}
	rows, _ = admin.audit("person=" + url.QueryEscape("%"))
	if len(rows) != 0 {
		t.Errorf("person=%% is taken as a wildcard: %d rows", len(rows))
	}

	p := admin.get("/admin/audit.csv?kind=meeting")
	recs, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if err != nil || p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %v", p.status, err)
	}
	if len(recs) != 3 || recs[0][0] != "When" {
		t.Fatalf("csv rows: %q", recs)
	}
	want := [][]string{{"scheduled meeting", `'=HYPERLINK("http://evil.example")`, strings.TrimPrefix(formula, "/meetings/")},
		{"scheduled meeting", "Maths catch-up", strings.TrimPrefix(maths, "/meetings/")}}
	for i, w := range want {
		r := recs[i+1]
		if r[1] != "Name of t@school.example" || r[2] != "teacher" || r[3] != "127.0.0.1" || r[4] != store.AuditMeeting ||
			r[5] != w[0] || r[8] != w[1] || r[9] != w[2] {
			t.Errorf("csv row %d: %q", i+1, r)
		}
	}

	// Paging: 105 rows of one person; the filter holds on the older page.
	for range 105 {
		if err := e.store.Audit(context.Background(), store.AuditEntry{At: e.clock.Now(), ActorName: "Bulk Person", Action: "bulk"}); err != nil {
			t.Fatal(err)
		}
	}
	rows, p = admin.audit("person=bulk")
	older := p.attr(tid("audit-older"), "href")
	if len(rows) != 100 || !strings.Contains(older, "person=bulk") {
		t.Fatalf("first page: %d rows, older %q", len(rows), older)
	}
	rows, p = admin.audit(strings.TrimPrefix(older, "/admin/audit?"))
	if len(rows) != 5 || p.doc.Find(tid("audit-older")).Length() != 0 {
		t.Errorf("older page: %d rows", len(rows))
	}
	if recs := csvRows(t, admin.get("/admin/audit.csv?person=bulk")); len(recs) != 106 {
		t.Errorf("the csv of a filter has %d rows, want 106 (all of them and a header)", len(recs))
	}
}

func csvRows(t *testing.T, p page) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestAuditWatchingIsNotDownloading: the player's requests are logged as
// watching, the download link's as a download of the named file.
func TestAuditWatchingIsNotDownloading(t *testing.T) {
	e := newEnv(t)
	e.user("a@school.example", store.RoleTeacher)
	e.user("admin@school.example", store.RoleAdmin)
	a := e.login("a@school.example")
	meeting := a.meeting("Science review")
	rec, _ := e.seedRecording(uuid.MustParse(strings.TrimPrefix(meeting, "/meetings/")), []byte(strings.Repeat("media ", 1000)))
	list := meeting + "/recordings"

	src := a.get(list+"/"+rec.ID.String()).attr(tid("playback-video"), "src")
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+src, nil)
	req.Header.Set("Range", "bytes=0-")
	if p := a.do(req); p.status != http.StatusPartialContent {
		t.Fatalf("the player's request: %d", p.status)
	}
	rows, _ := e.login("admin@school.example").audit("kind=recording")
	if got := actions(rows); !slices.Equal(got, []string{"watched Mrs Parent.webm"}) {
		t.Fatalf("after watching: %v", got)
	}

	download := a.get(list).attr(tid("download-webm"), "href")
	if p := a.get(download); p.status != http.StatusOK {
		t.Fatalf("download: %d", p.status)
	}
	rows, _ = e.login("admin@school.example").audit("kind=recording")
	r := find(t, rows, "downloaded Mrs Parent.webm")
	if len(rows) != 2 || r.who != "Name of a@school.example (teacher)" || r.source != "127.0.0.1" || r.meeting != "Science review" || r.href != meeting {
		t.Errorf("after downloading: %+v", rows)
	}
}

// TestAuditEveningsFamiliesAndAppointments: creating and cancelling an
// evening, importing families, renewing a booking link and staff booking,
// moving and cancelling an appointment are logged, the family named by its
// guardians and never by its child.
func TestAuditEveningsFamiliesAndAppointments(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	teacher := e.user("a@school.example", store.RoleTeacher)
	admin := e.login("admin@school.example")
	path := admin.evening(e.eveningForm(teacher))
	id := eveningID(t, path)
	fam := e.seedFamily(e.db(), "Sam Secretchild", "7A", []guardian{{"Ann Smith", "ann@home.example"}}, teacher)
	slots := e.slots(id, teacher)
	if p := admin.post(path+"/bookings", url.Values{"household": {fam.household.String()}, "student": {fam.students[0].String()},
		"slot": {slots[0].ID.String()}}); p.status != http.StatusSeeOther {
		t.Fatalf("book: %d %s", p.status, p.text(tid("message-text")))
	}
	bs, err := e.store.EveningBookings(t.Context(), id, uuid.Nil)
	if err != nil || len(bs) != 1 {
		t.Fatalf("bookings %v %v", bs, err)
	}
	bk := path + "/bookings/" + bs[0].ID.String()
	if p := admin.post(bk+"/move", url.Values{"slot": {slots[2].ID.String()}}); p.status != http.StatusSeeOther {
		t.Fatalf("move: %d", p.status)
	}
	if p := admin.post(bk+"/cancel", nil); p.status != http.StatusSeeOther {
		t.Fatalf("cancel: %d", p.status)
	}
	if p := admin.post("/admin/families/"+fam.household.String()+"/renew-link", nil); p.status != http.StatusSeeOther {
		t.Fatalf("renew: %d", p.status)
	}
	if p := admin.upload("/admin/families/import", "file", "r.csv", roster.Columns+"\nS1,Ada Otherchild,7B,Anne,a@home.example,,H7,\n"); p.status != http.StatusOK {
		t.Fatalf("import: %d", p.status)
	}
	if p := admin.post(path+"/cancel", nil); p.status != http.StatusSeeOther {
		t.Fatalf("cancel evening: %d", p.status)
	}

	rows, p := admin.audit("")
	adminName := "Name of admin@school.example (admin)"
	at := func(s store.Slot) string { return s.StartsAt.In(mustZone("Europe/London")).Format("15:04") }
	for _, c := range []struct{ action, kind, target, detail string }{
		{"created parents' evening", store.AuditEvening, "Year 7 parents' evening", ""},
		{"booked appointment", store.AuditBooking, "Ann Smith", at(slots[0])},
		{"moved appointment", store.AuditBooking, "Ann Smith", at(slots[2])},
		{"cancelled appointment", store.AuditBooking, "Ann Smith", at(slots[2])},
		{"renewed booking link", store.AuditFamilies, "Ann Smith", ""},
		{"imported families", store.AuditFamilies, "", "students 1 new"},
		{"cancelled parents' evening", store.AuditEvening, "Year 7 parents' evening", ""},
	} {
		r := find(t, rows, c.action)
		if r.who != adminName || r.source != "127.0.0.1" || r.kind != c.kind || r.target != c.target || !strings.Contains(r.detail, c.detail) {
			t.Errorf("%s: %+v", c.action, r)
		}
	}
	if r := find(t, rows, "booked appointment"); r.meeting == "" || r.href == "" {
		t.Errorf("the appointment does not name its room: %+v", r)
	}
	for _, child := range []string{"Secretchild", "Otherchild"} {
		if strings.Contains(p.body, child) {
			t.Errorf("the audit page names a child (%s)", child)
		}
	}
}

// TestAuditCSVStreamsTheWholeLog: an export of thousands of entries, read a
// page at a time, holds every matching entry once, newest first, across
// page boundaries (including a count that is an exact multiple of a page),
// and the filters still apply to every page.
func TestAuditCSVStreamsTheWholeLog(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	admin := e.login("admin@school.example")
	ctx := context.Background()
	const alphas, betas = 1501, 1000
	a, b := 0, 0 // interleaved, so a filter's pages skip the other's rows
	for a+b < alphas+betas {
		who, kind, n := "Stream Alpha", store.AuditRoom, &a
		if (a+b)%2 == 1 && b < betas {
			who, kind, n = "Stream Beta", store.AuditBooking, &b
		}
		err := e.store.Audit(ctx, store.AuditEntry{At: e.clock.Now(), Kind: kind, ActorName: who, Action: fmt.Sprintf("%s %d", who, *n)})
		if err != nil {
			t.Fatal(err)
		}
		*n++
	}
	want := func(who string, n int) []string {
		var as []string
		for i := n - 1; i >= 0; i-- {
			as = append(as, fmt.Sprintf("%s %d", who, i))
		}
		return as
	}
	for query, rows := range map[string][]string{
		"person=alpha":               want("Stream Alpha", alphas),
		"person=stream&kind=booking": want("Stream Beta", betas),
		"kind=room":                  want("Stream Alpha", alphas),
	} {
		recs := csvRows(t, admin.get("/admin/audit.csv?"+query))
		if len(recs) == 0 || recs[0][0] != "When" {
			t.Fatalf("%s: no header: %.200q", query, recs)
		}
		var got []string
		for _, r := range recs[1:] {
			got = append(got, r[5])
		}
		if !slices.Equal(got, rows) {
			t.Errorf("%s: %d rows, want %d, newest first (first %.80q)", query, len(got), len(rows), got)
		}
	}
	recs := csvRows(t, admin.get("/admin/audit.csv"))
	seen := map[string]bool{}
	for _, r := range recs[1:] {
		if strings.HasPrefix(r[5], "Stream ") {
			if seen[r[5]] {
				t.Fatalf("%q twice in the whole export", r[5])
			}
			seen[r[5]] = true
		}
	}
	if len(seen) != alphas+betas {
		t.Errorf("the whole export has %d of the %d entries", len(seen), alphas+betas)
	}
}
