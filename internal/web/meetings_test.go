package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	ics "github.com/arran4/golang-ical"
	"github.com/google/uuid"

	"classmeet/internal/store"
)

func TestScheduleEditCancel(t *testing.T) {
	e := newEnv(t)
	e.user("t@school.example", store.RoleTeacher)
	b := e.login("t@school.example")
	if p := b.get("/"); p.doc.Find(tid("upcoming-empty")).Length() != 1 {
		t.Error("new teacher's dashboard does not say there are no meetings")
	}
	form := b.get("/meetings/new")
	if form.attr("#f-time_zone", "value") != "Europe/London" || form.attr("#f-duration", "value") != "30" {
		t.Errorf("new meeting defaults: zone %q duration %q", form.attr("#f-time_zone", "value"), form.attr("#f-duration", "value"))
	}
	path := b.meeting("Year 7 <script>alert(1)</script>")
	p := b.get(path)
	if p.status != http.StatusOK || p.text(tid("meeting-title")) != "Year 7 <script>alert(1)</script>" {
		t.Fatalf("meeting page: %d %q", p.status, p.text(tid("meeting-title")))
	}
	if strings.Contains(p.body, "<script>alert(1)") {
		t.Error("the title is rendered as markup")
	}
	if got := b.get("/").doc.Find(tid("upcoming") + " " + tid("meeting")).Length(); got != 1 {
		t.Errorf("%d upcoming meetings listed", got)
	}

	edit := b.get(path + "/edit")
	if edit.attr("#f-time", "value") != "16:30" {
		t.Errorf("edit form time = %q", edit.attr("#f-time", "value"))
	}
	start := e.clock.Now().Add(72 * time.Hour).In(mustZone("Asia/Tokyo"))
	upd := url.Values{"title": {"Moved"}, "date": {start.Format("2006-01-02")}, "time": {"09:00"}, "duration": {"45"},
		"time_zone": {"Asia/Tokyo"}, "lobby_policy": {"invitees_admitted"}, "recording_policy": {"host_may_record"}, "unmute_policy": {"ask"}, "screen_share_policy": {"everyone"}}
	if p := b.post(path, upd); p.status != http.StatusSeeOther {
		t.Fatalf("update: %d", p.status)
	}
	p = b.get(path)
	if p.text(tid("meeting-title")) != "Moved" || !strings.Contains(p.text(tid("meeting-when")), "09:00–09:45 JST") {
		t.Errorf("after update: %q %q", p.text(tid("meeting-title")), p.text(tid("meeting-when")))
	}

	if p := b.post(path+"/cancel", nil); p.status != http.StatusSeeOther {
		t.Fatalf("cancel: %d", p.status)
	}
	p = b.get(path)
	if p.doc.Find(tid("cancelled")).Length() != 1 || p.doc.Find(tid("invitee-form")).Length() != 0 {
		t.Error("a cancelled meeting still offers invitations")
	}
	if p := b.get(path + "/edit"); p.status != http.StatusNotFound {
		t.Errorf("edit form of a cancelled meeting: %d", p.status)
	}
}

func TestMeetingFormRefusesBadInputAndKeepsIt(t *testing.T) {
	e := newEnv(t)
	u := e.user("t@school.example", store.RoleTeacher)
	b := e.login("t@school.example")
	p := b.post("/meetings", url.Values{
		"title": {""}, "description": {"kept"}, "date": {"2020-01-01"}, "time": {"16:30"}, "duration": {"1000"},
		"time_zone": {"Europe/Nowhere"}, "lobby_policy": {"x"}, "recording_policy": {"not_allowed"}, "unmute_policy": {"self"}, "screen_share_policy": {"hosts"},
	})
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", p.status)
	}
	for _, id := range []string{"#f-title-error", "#f-duration-error", "#f-time_zone-error"} {
		if p.text(id) == "" {
			t.Errorf("no message at %s", id)
		}
	}
	if p.text("#f-description") != "kept" || p.attr("#f-title", "aria-invalid") != "true" {
		t.Error("typed values were lost or the invalid field is not marked")
	}
	if ms, _ := e.store.UpcomingMeetings(t.Context(), u.ID, time.Time{}); len(ms) != 0 {
		t.Errorf("a refused form created %d meetings", len(ms))
	}
	// A time that does not exist: London's clocks skip 01:00-02:00 on the
	// next last Sunday of March.
	skipped := springForward(e.clock.Now())
	p = b.post("/meetings", url.Values{"title": {"x"}, "date": {skipped.Format("2006-01-02")}, "time": {"01:30"}, "duration": {"30"},
		"time_zone": {"Europe/London"}, "lobby_policy": {"everyone_waits"}, "recording_policy": {"not_allowed"}, "unmute_policy": {"self"}, "screen_share_policy": {"hosts"}})
	if !strings.Contains(p.text(tid("start-error")), "does not exist") {
		t.Errorf("skipped hour: %d %q", p.status, p.text(tid("start-error")))
	}
}

// springForward is the first day, at least a day after now, on which
// London's clocks go forward: the last Sunday of March.
func springForward(now time.Time) time.Time {
	for y := now.Year(); ; y++ {
		d := time.Date(y, time.March, 31, 12, 0, 0, 0, time.UTC)
		for d.Weekday() != time.Sunday {
			d = d.AddDate(0, 0, -1)
		}
		if d.After(now.Add(24 * time.Hour)) {
			return d
		}
	}
}

func TestInviteesAndTheirLinks(t *testing.T) {
	e := newEnv(t)
	e.user("t@school.example", store.RoleTeacher)
	b := e.login("t@school.example")
	path := b.meeting("Parents' evening")
	jones := b.invite(path, "Mr Jones")
	patel := b.invite(path, "Mrs Patel")

	parent := e.browser()
	p := parent.get(jones)
	if p.status != http.StatusOK || p.text(tid("prejoin-title")) != "Parents' evening" || p.attr(tid("display-name"), "value") != "Mr Jones" {
		t.Fatalf("pre-join: %d %q %q", p.status, p.text(tid("prejoin-title")), p.attr(tid("display-name"), "value"))
	}
	if !strings.Contains(p.text(tid("recording-policy")), "will not be recorded") {
		t.Errorf("recording policy: %q", p.text(tid("recording-policy")))
	}
	if p.attr(tid("prejoin-time"), "datetime") == "" || p.doc.Find(tid("preview")).Length() != 1 {
		t.Error("pre-join lacks the machine-readable time or the preview")
	}
	// Join is served disabled (the page's script enables it): pressed before
	// the script ran, the bare form would reload the page with the name in
	// its address instead of joining.
	if _, disabled := p.doc.Find(tid("join")).Attr("disabled"); !disabled || p.doc.Find(tid("join")).Length() != 1 {
		t.Error("the pre-join page serves an enabled Join button")
	}

	rows := b.get(path).doc.Find(tid("invitee"))
	if rows.Length() != 2 {
		t.Fatalf("%d invitee rows", rows.Length())
	}
	forms := b.get(path).doc.Find(`form[action$="/revoke"]`)
	revoke, _ := forms.First().Attr("action")
	if p := b.post(revoke, nil); p.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", p.status)
	}
	if p := parent.get(jones); p.status != http.StatusGone || p.text(tid("message-heading")) != "This link is no longer valid" {
		t.Errorf("revoked link: %d %q", p.status, p.text(tid("message-heading")))
	}
	if p := parent.get(patel); p.status != http.StatusOK {
		t.Errorf("the other invitee's link broke: %d", p.status)
	}

	renew, _ := b.get(path).doc.Find(`form[action$="/renew"]`).First().Attr("action")
	if p := b.post(renew, nil); p.status != http.StatusSeeOther {
		t.Fatalf("renew: %d", p.status)
	}
	newLink, _ := b.get(path).doc.Find(tid("invitee-link")).First().Attr("value")
	if p := parent.get(jones); p.status != http.StatusNotFound || p.text(tid("message-heading")) != "This link is not valid" {
		t.Errorf("replaced link: %d %q", p.status, p.text(tid("message-heading")))
	}
	u, _ := url.Parse(newLink)
	if p := parent.get(u.Path); p.status != http.StatusOK {
		t.Errorf("renewed link: %d", p.status)
	}

	remove, _ := b.get(path).doc.Find(`form[action$="/remove"]`).Last().Attr("action")
	if p := b.post(remove, nil); p.status != http.StatusSeeOther {
		t.Fatalf("remove: %d", p.status)
	}
	if p := parent.get(patel); p.status != http.StatusNotFound {
		t.Errorf("removed invitee's link: %d", p.status)
	}

	bad := b.post(path+"/invitees", url.Values{"name": {""}, "email": {"nope"}})
	if bad.status != http.StatusUnprocessableEntity || bad.text("#f-name-error") == "" || bad.text("#f-email-error") == "" {
		t.Errorf("bad invitee: %d", bad.status)
	}
}

func TestLinksExpireAndDieWithCancellation(t *testing.T) {
	e := newEnv(t)
	start := e.clock.Now()
	e.user("t@school.example", store.RoleTeacher)
	b := e.login("t@school.example")
	path := b.meeting("Expiry")
	link := b.invite(path, "Mr Jones")
	parent := e.browser()
	m, err := e.store.OwnedMeeting(t.Context(), mustUser(t, e, "t@school.example").ID, uuid.MustParse(strings.TrimPrefix(path, "/meetings/")))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(m.EndsAt().Add(23 * time.Hour)) // links live 24 h after the meeting ends
	if p := parent.get(link); p.status != http.StatusOK {
		t.Errorf("link 23 h after the meeting: %d", p.status)
	}
	e.clock.Advance(time.Hour)
	if p := parent.get(link); p.status != http.StatusGone || !strings.Contains(p.text(tid("message-text")), "expired") {
		t.Errorf("expired link: %d %q", p.status, p.text(tid("message-text")))
	}

	e.clock.Set(start)
	path2 := b.meeting("Cancelled")
	link2 := b.invite(path2, "Mrs Patel")
	b.post(path2+"/cancel", nil)
	if p := parent.get(link2); p.status != http.StatusGone || !strings.Contains(p.text(tid("message-text")), "cancelled") {
		t.Errorf("cancelled meeting's link: %d %q", p.status, p.text(tid("message-text")))
	}
	if cal := parent.get(link2 + "/ics"); cal.status != http.StatusOK {
		t.Errorf("cancelled meeting's ics: %d", cal.status)
	} else {
		checkDownload(t, cal, "CANCELLED")
	}

	for _, junk := range []string{"/j/x", "/j/" + strings.Repeat("A", 43), "/j/..%2f..%2fetc%2fpasswd", "/j/%00"} {
		if p := parent.get(junk); p.status != http.StatusNotFound && p.status != http.StatusBadRequest {
			t.Errorf("%s: %d", junk, p.status)
		}
	}
}

// TestCalendarFiles: every calendar file downloaded for a meeting (the
// host's, the one the host sends an invitee, the invitee's through their
// link) conforms to RFC 5545 and is METHOD:PUBLISH, never an invitation
// (REQUEST) or a cancellation (CANCEL): only mail invites or cancels. A
// cancelled meeting's files say so with STATUS:CANCELLED.
func TestCalendarFiles(t *testing.T) {
	e := newEnv(t)
	e.user("t@school.example", store.RoleTeacher)
	b := e.login("t@school.example")
	path := b.meeting("Calendar")
	link := b.invite(path, "Mr Jones")
	ann := url.Values{"name": {`Ann O'Brien, "Head"`}, "email": {"ann@home.example"}, "child_name": {"Sam"}}
	if p := b.post(path+"/invitees", ann); p.status != http.StatusSeeOther {
		t.Fatalf("invite Ann: %d", p.status)
	}
	files := map[string]string{"host": path + "/ics", "parent": link + "/ics"}
	b.get(path).doc.Find(`form[action$="/revoke"]`).Each(func(i int, sel *goquery.Selection) {
		action, _ := sel.Attr("action")
		files[fmt.Sprintf("invitee %d for the host", i)] = strings.TrimSuffix(action, "/revoke") + "/ics"
	})
	if len(files) != 4 {
		t.Fatalf("files %v, want the host's, the parent's and one per invitee for the host", files)
	}
	get := func(name string) page {
		if name == "parent" {
			return e.browser().get(files[name])
		}
		return b.get(files[name])
	}
	for name := range files {
		p := get(name)
		cal := checkDownload(t, p, "CONFIRMED")
		ev := cal.Events()[0]
		if !strings.HasPrefix(ev.Id(), strings.TrimPrefix(path, "/meetings/")+"@") {
			t.Errorf("%s UID %q is not the meeting's", name, ev.Id())
		}
		if start, err := ev.GetStartAt(); err != nil || start.In(mustZone("Europe/London")).Format("15:04") != "16:30" {
			t.Errorf("%s DTSTART %v %v", name, start, err)
		}
	}
	if !strings.Contains(strings.ReplaceAll(get("parent").body, "\r\n ", ""), e.srv.URL+link) {
		t.Error("the parent's calendar entry lacks their personal link")
	}
	for name := range files {
		// A download invites nobody (RFC 5546): Ann is not an ATTENDEE of any.
		if body := get(name).body; strings.Contains(body, "ATTENDEE") || strings.Contains(body, "ann@home.example") {
			t.Errorf("the %s file names an attendee:\n%s", name, body)
		}
	}

	if p := b.post(path+"/cancel", nil); p.status != http.StatusSeeOther {
		t.Fatalf("cancel: %d", p.status)
	}
	for name := range files {
		if p := get(name); p.status != http.StatusOK {
			t.Errorf("%s after the cancellation: %d", name, p.status)
		} else {
			checkDownload(t, p, "CANCELLED")
		}
	}
}

// checkDownload checks a downloaded calendar file: strict RFC 5545,
// METHOD:PUBLISH in the file and its content type, one event with status.
func checkDownload(t *testing.T, p page, status string) *ics.Calendar {
	t.Helper()
	if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/calendar") || !strings.Contains(p.header.Get("Content-Type"), "method=PUBLISH") {
		t.Fatalf("ics: %d %s", p.status, p.header.Get("Content-Type"))
	}
	cal := parseCalendar(t, []byte(p.body), "PUBLISH")
	evs := cal.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	if got := evs[0].GetProperty(ics.ComponentPropertyStatus); got == nil || got.Value != status {
		t.Errorf("STATUS %v, want %s", got, status)
	}
	return cal
}

func TestTeacherBCannotReachTeacherAsMeeting(t *testing.T) {
	e := newEnv(t)
	e.user("a@school.example", store.RoleTeacher)
	e.user("b@school.example", store.RoleTeacher)
	a, b := e.login("a@school.example"), e.login("b@school.example")
	path := a.meeting("A's private meeting")
	a.invite(path, "Parent of A's pupil")
	inviteeForm, _ := a.get(path).doc.Find(`form[action$="/revoke"]`).First().Attr("action")
	invitee := strings.TrimSuffix(inviteeForm, "/revoke")

	gets := []string{path, path + "/edit", path + "/ics", invitee + "/ics", path + "/attendance", path + "/attendance.csv",
		path + "/chat.txt", path + "/room",
		"/meetings/" + uuid.NewString(), "/meetings/not-a-uuid", "/meetings/" + strings.ToUpper(strings.TrimPrefix(path, "/meetings/"))}
	for _, g := range gets {
		if p := b.get(g); p.status != http.StatusNotFound || strings.Contains(p.body, "Parent of A") || strings.Contains(p.body, "private meeting") {
			t.Errorf("teacher B GET %s: %d", g, p.status)
		}
	}
	posts := map[string]url.Values{
		path:                {"title": {"hijacked"}, "date": {"2030-01-01"}, "time": {"10:00"}, "duration": {"30"}, "time_zone": {"UTC"}, "lobby_policy": {"everyone_waits"}, "recording_policy": {"not_allowed"}, "unmute_policy": {"self"}, "screen_share_policy": {"hosts"}},
		path + "/cancel":    nil,
		path + "/invitees":  {"name": {"intruder"}},
		invitee + "/revoke": nil,
		invitee + "/renew":  nil,
		invitee + "/remove": nil,
	}
	for p, form := range posts {
		if got := b.post(p, form); got.status != http.StatusNotFound {
			t.Errorf("teacher B POST %s: %d", p, got.status)
		}
	}
	after := a.get(path)
	if after.text(tid("meeting-title")) != "A's private meeting" || after.doc.Find(tid("cancelled")).Length() != 0 ||
		after.doc.Find(tid("invitee")).Length() != 1 || after.doc.Find(tid("link-revoked")).Length() != 0 {
		t.Error("teacher B changed teacher A's meeting")
	}
	if p := b.get("/"); strings.Contains(p.body, "private meeting") {
		t.Error("teacher B's dashboard lists A's meeting")
	}
	if p := e.browser().get(path); p.status != http.StatusSeeOther {
		t.Errorf("anonymous GET of a meeting: %d", p.status)
	}
}

func TestCrossOriginPostsAreRefused(t *testing.T) {
	e := newEnv(t)
	e.user("t@school.example", store.RoleTeacher)
	b := e.login("t@school.example")
	path := b.meeting("CSRF target")
	for name, set := range map[string]func(*http.Request){
		"foreign Origin":   func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") },
		"cross-site fetch": func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") },
		"null Origin":      func(r *http.Request) { r.Header.Set("Origin", "null") },
	} {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path+"/cancel", nil)
		set(req)
		if p := b.do(req); p.status != http.StatusForbidden || !strings.Contains(p.text(tid("message-text")), "another website") {
			t.Errorf("%s: %d", name, p.status)
		}
	}
	if b.get(path).doc.Find(tid("cancelled")).Length() != 0 {
		t.Error("a cross-origin post cancelled the meeting")
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader("email=t%40school.example&password=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if p := e.browser().do(req); p.status != http.StatusForbidden {
		t.Errorf("cross-origin login: %d", p.status)
	}
}

var scriptTag = regexp.MustCompile(`<script[^>]*>`)

func TestSecurityHeadersAndNonces(t *testing.T) {
	e := newEnv(t)
	e.user("t@school.example", store.RoleTeacher)
	b := e.login("t@school.example")
	path := b.meeting("Headers")
	link := b.invite(path, "Mr Jones")
	for _, target := range []string{"/login", "/", path, link, "/nowhere"} {
		p := b.get(target)
		csp := p.header.Get("Content-Security-Policy")
		m := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(csp)
		if m == nil || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Fatalf("%s CSP: %q", target, csp)
		}
		for _, tag := range scriptTag.FindAllString(p.body, -1) {
			if !strings.Contains(tag, `nonce="`+m[1]+`"`) || !strings.Contains(tag, "src=") {
				t.Errorf("%s: script without this response's nonce or inline: %s", target, tag)
			}
		}
		for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
			if got := p.header.Get(h); got != want {
				t.Errorf("%s %s = %q", target, h, got)
			}
		}
		if strings.Contains(p.body, " style=") {
			t.Errorf("%s has an inline style attribute, which the CSP blocks", target)
		}
	}
	if n1, n2 := b.get("/login").header.Get("Content-Security-Policy"), b.get("/login").header.Get("Content-Security-Policy"); n1 == n2 {
		t.Error("the nonce does not change between responses")
	}
}

func TestStaticAssetsAreEmbeddedAndCached(t *testing.T) {
	e := newEnv(t)
	p := e.browser().get("/login")
	css := p.attr(`link[rel="stylesheet"]`, "href")
	js := p.attr(`script`, "src")
	if !regexp.MustCompile(`^/static/[0-9a-f]{12}/app\.css$`).MatchString(css) {
		t.Fatalf("stylesheet URL %q", css)
	}
	a := e.browser().get(css)
	if a.status != http.StatusOK || !strings.Contains(a.header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(a.header.Get("Content-Type"), "text/css") {
		t.Errorf("css: %d %q %q", a.status, a.header.Get("Cache-Control"), a.header.Get("Content-Type"))
	}
	if j := e.browser().get(js); j.status != http.StatusOK || !strings.Contains(j.header.Get("Content-Type"), "javascript") {
		t.Errorf("js: %d %q", j.status, j.header.Get("Content-Type"))
	}
	for _, bad := range []string{"/static/x/../../go.mod", "/static/%2e%2e/static.go", "/static/" + strings.Repeat("0", 12) + "/nope.js", "/static/", css + "/../../static.go"} {
		if p := e.browser().follow().get(bad); (p.status != http.StatusNotFound && p.status != http.StatusBadRequest) || strings.Contains(p.body, "package ") || strings.Contains(p.body, "module ") {
			t.Errorf("%s: %d", bad, p.status)
		}
	}
	if strings.Contains(p.body, "http://") || strings.Contains(p.body, "https://") {
		t.Error("the login page loads something from another origin")
	}
}

// Every page links the favicon, and /favicon.ico, which browsers ask for
// whatever a page links, is the same icon rather than a 404.
func TestFavicon(t *testing.T) {
	e := newEnv(t)
	icon := e.browser().get("/login").attr(`link[rel="icon"]`, "href")
	if !regexp.MustCompile(`^/static/[0-9a-f]{12}/favicon\.svg$`).MatchString(icon) {
		t.Fatalf("icon URL %q", icon)
	}
	linked := e.browser().get(icon)
	ico := e.browser().get("/favicon.ico")
	for name, p := range map[string]page{icon: linked, "/favicon.ico": ico} {
		if p.status != http.StatusOK || p.header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(p.body, "<svg") {
			t.Errorf("%s: %d %q", name, p.status, p.header.Get("Content-Type"))
		}
	}
	if ico.body != linked.body {
		t.Error("/favicon.ico is not the linked icon")
	}
}

func TestOversizedFormIsRefused(t *testing.T) {
	e := newEnv(t)
	e.user("t@school.example", store.RoleTeacher)
	b := e.login("t@school.example")
	p := b.post("/meetings", url.Values{"title": {"x"}, "description": {strings.Repeat("x", 100<<10)}})
	if p.status != http.StatusRequestEntityTooLarge {
		t.Errorf("100 KiB form: %d", p.status)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t)
	if p := e.browser().get("/healthz"); p.status != http.StatusOK {
		t.Errorf("healthz: %d", p.status)
	}
	if p := e.browser().get("/readyz"); p.status != http.StatusOK || !strings.Contains(p.body, "database: ok") {
		t.Errorf("readyz: %d %q", p.status, p.body)
	}
	e.store.Close()
	if p := e.browser().get("/readyz"); p.status != http.StatusServiceUnavailable || p.header.Get("Retry-After") == "" {
		t.Errorf("readyz with the database gone: %d", p.status)
	}
}

func mustUser(t *testing.T, e *env, email string) store.User {
	t.Helper()
	u, err := e.store.UserByEmail(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
