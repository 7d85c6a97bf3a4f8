package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

// TestAccessibility walks every page the other browser tests reach, and the
// room in its main states, running axe-core on each (zero violations), and
// measures the focus ring against what lies behind it, on the light and the
// dark scheme (WCAG 2.2 wants 3:1).
func TestAccessibility(t *testing.T) {
	axeJS, err := os.ReadFile("../node_modules/axe-core/axe.min.js")
	if err != nil {
		t.Fatalf("axe-core is installed by npm ci (scripts/deps.sh): %v", err)
	}
	srv := startServer(t)
	srv.addUser(t, "head@school.example", "Ann Head", "admin", teacherPW)
	srv.addTeacher(t, "novak@school.example", "Ms Novak", teacherPW)
	srv.addTeacher(t, "okafor@school.example", "Mr Okafor", teacherPW)
	chromium := newChromium(t)
	a := &axeRunner{t: t, js: string(axeJS)}

	admin := newPerson(t, chromium, "admin")
	admin.do("open the login page", chromedp.Navigate(srv.URL+"/login"), chromedp.WaitVisible(tid("login-form")))
	a.check(admin, "login")
	admin.login(srv, "head@school.example", teacherPW)
	a.check(admin, "dashboard")
	a.focusRing(admin, "dashboard", "header.site a, header.site button, main a, main button")
	a.dark(admin, func() {
		a.check(admin, "dashboard, dark")
		a.focusRing(admin, "dashboard, dark", "header.site a, header.site button, main a, main button")
	})

	admin.do("open the meeting form", chromedp.Navigate(srv.URL+"/meetings/new"), chromedp.WaitVisible(tid("meeting-form")))
	a.check(admin, "meeting form")
	a.focusRing(admin, "meeting form", `#f-title, [data-testid="meeting-form"] button[type=submit]`)
	admin.do("back to the dashboard", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(tid("new-meeting")))
	meetingURL, _ := admin.schedule("Reading progress", "Mrs Patel")
	a.check(admin, "meeting page")
	admin.do("open the recordings", chromedp.Navigate(meetingURL+"/recordings"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	a.check(admin, "recordings")

	a.eveningPages(srv, admin, chromium)
	for _, page := range []string{"/admin/families", "/admin/families/new", "/admin/outbox", "/admin/audit", "/admin/users", "/account",
		strings.TrimPrefix(meetingURL, srv.URL) + "/attendance", strings.TrimPrefix(meetingURL, srv.URL) + "/edit"} {
		admin.do("open "+page, chromedp.Navigate(srv.URL+page), chromedp.WaitVisible(chromedp.CSS("main h1")))
		a.check(admin, page)
	}
	admin.do("open the families", chromedp.Navigate(srv.URL+"/admin/families"), chromedp.WaitVisible(tid("family-row")))
	family := eval[string](admin, `document.querySelector('[data-testid="family-row"] a').href`)
	admin.do("open a family", chromedp.Navigate(family), chromedp.WaitVisible(tid("family-form")))
	a.check(admin, "a family")

	a.room(srv, admin, chromium)
}

// eveningPages: the families import, an evening's form, page, invitations,
// a family's booking page before and after booking, and the report.
func (a *axeRunner) eveningPages(srv *server, admin *person, chromium context.Context) {
	a.t.Helper()
	admin.importFamilies(a.t, "student_id,student_name,class,guardian_name,guardian_email,guardian_phone,household,teachers\r\n"+
		"S1,Tom Smith,7B,Jo Smith,jo@home.example,,H1,novak@school.example;okafor@school.example\r\n")
	a.check(admin, "families import result")
	admin.do("open the evening form", chromedp.Navigate(srv.URL+"/evenings/new"), chromedp.WaitVisible(tid("evening-form")))
	a.check(admin, "evening form")
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		a.t.Fatal(err)
	}
	day := testclock.Now().In(loc).AddDate(0, 0, 2)
	start := time.Date(day.Year(), day.Month(), day.Day(), 18, 0, 0, 0, loc)
	evening := admin.createEvening(srv, "Year 7 parents' evening", start, 3)
	a.check(admin, "evening page")
	schedule := eval[string](admin, `document.querySelector('[data-testid="teacher-schedule"]').href`)
	admin.do("open a teacher's schedule", chromedp.Navigate(schedule), chromedp.WaitVisible(chromedp.CSS("main h1")))
	a.check(admin, "a teacher's schedule")
	admin.do("edit the evening", chromedp.Navigate(evening+"/edit"), chromedp.WaitVisible(tid("evening-form")))
	a.check(admin, "evening edit form")
	admin.do("open the evenings", chromedp.Navigate(srv.URL+"/evenings"), chromedp.WaitVisible(tid("evenings")))
	a.check(admin, "evenings")
	admin.do("open the invitations", chromedp.Navigate(evening+"/invite"), chromedp.WaitVisible(tid("booking-link")))
	a.check(admin, "invitations")
	bookingLink := eval[string](admin, `document.querySelector('[data-testid="booking-link"]').value`)

	parent := newPerson(a.t, chromium, "parent")
	parent.do("open the booking link", chromedp.Navigate(bookingLink), chromedp.WaitVisible(tid("pick-teacher")))
	a.check(parent, "booking page")
	a.focusRing(parent, "booking page", `[data-testid="pick-teacher"]`)
	parent.book("Ms Novak", start)
	a.check(parent, "booking page, booked")
	move := eval[string](parent, `document.querySelector('[data-testid="move"]').href`)
	parent.do("open the move page", chromedp.Navigate(move), chromedp.WaitVisible(chromedp.CSS("main h1")))
	a.check(parent, "moving an appointment")
	admin.do("open the report", chromedp.Navigate(evening+"/report"), chromedp.WaitVisible(tid("report")))
	a.check(admin, "evening report")
}

// room: pre-join, the lobby, and the room with the lobby open, the chat
// open, recording (with the consent question), a screen shared, and
// speaker view with a pinned tile while presenting.
func (a *axeRunner) room(srv *server, host *person, chromium context.Context) {
	a.t.Helper()
	mid, links := srv.seedMeetingPlan(a.t, "head@school.example", store.MeetingPlan{
		Title: "Seeded", StartsAt: testclock.Now(), DurationMinutes: 60, TimeZone: "UTC",
		LobbyPolicy: store.LobbyEveryoneWaits, RecordingPolicy: store.RecordingHostMayRecord,
	}, "Mr Jones")
	host.do("open the pre-join page", chromedp.Navigate(srv.URL+"/meetings/"+mid+"/room"), chromedp.WaitEnabled(tid("join")))
	a.check(host, "pre-join")
	a.focusRing(host, "pre-join", `[data-testid="display-name"], [data-testid="join"]`)
	host.do("join", chromedp.Click(tid("join")), chromedp.WaitVisible(tid("room")))
	a.check(host, "room")

	jones := newPerson(a.t, chromium, "Mr Jones")
	jones.do("knock", chromedp.Navigate(srv.URL+links[0]), chromedp.WaitEnabled(tid("join")), chromedp.Click(tid("join")), chromedp.WaitVisible(tid("lobby")))
	a.check(jones, "lobby")
	host.waitFor("see him knock", `document.querySelectorAll('[data-testid="lobby-entry"]').length === 1`)
	host.do("open the lobby if it is closed", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="lobby-panel"]').hidden && document.querySelector('[data-testid="lobby-toggle"]').click()`))
	host.waitFor("see the lobby open", `!document.querySelector('[data-testid="lobby-panel"]').hidden`)
	a.check(host, "room, lobby open")
	host.do("admit him", chromedp.Click(tid("admit")))
	jones.do("come in", chromedp.WaitVisible(tid("room")))
	host.waitFor("see his tile", `document.querySelectorAll('[data-testid="tile"]').length === 2`)

	host.do("open the chat", chromedp.Click(tid("chat-toggle")), chromedp.WaitVisible(tid("chat-text")))
	a.check(host, "room, chat open")
	a.focusRing(host, "room", `[data-testid="chat-text"], [data-testid="chat-send"], [data-testid="toggle-mic"], [data-testid="leave"]`)
	a.dark(host, func() {
		a.check(host, "room, chat open, dark")
		a.focusRing(host, "room, dark", `[data-testid="chat-text"], [data-testid="toggle-mic"], [data-testid="leave"]`)
	})

	host.do("record", chromedp.Click(tid("toggle-recording")), chromedp.WaitVisible(tid("rec-indicator")))
	jones.waitFor("be asked", `!document.querySelector('[data-testid="consent-dialog"]').hidden`)
	a.check(host, "room, recording")
	a.check(jones, "room, asked to be recorded")
	jones.do("agree", chromedp.Click(tid("consent-accept")))

	host.do("share the screen", chromedp.Click(tid("toggle-screen")))
	jones.waitFor("see the share", `!document.querySelector('[data-testid="featured"]').hidden`)
	a.check(host, "room, sharing")
	a.check(jones, "room, watching a share")

	host.waitFor("see the presenting bar", `!document.querySelector('[data-testid="presenting-bar"]').hidden`)
	host.do("choose speaker view", chromedp.Click(tid("toggle-view")))
	host.do("pin Mr Jones", chromedp.Evaluate[chromedp.Void](`document.querySelector('.stage .tile:not(.self) [data-testid="tile-pin"]').click()`))
	host.waitFor("see him pinned", `document.querySelector('.stage .tile:not(.self) [data-testid="tile-pin"]').getAttribute('aria-pressed') === 'true'`)
	a.check(host, "room, speaker view, pinned, presenting")
	a.focusRing(host, "room, speaker view", `[data-testid="tile-pin"], [data-testid="stop-presenting"], [data-testid="toggle-view"]`)
}

// axeRunner injects axe-core into pages and runs it.
type axeRunner struct {
	t  *testing.T
	js string
}

type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// check runs axe on the person's page as it is, failing the test with each
// violation found.
func (a *axeRunner) check(p *person, page string) {
	a.t.Helper()
	if !eval[bool](p, `typeof axe !== 'undefined'`) {
		// The page's CSP does not apply to DevTools' evaluation.
		p.do("inject axe-core", chromedp.Evaluate[chromedp.Void](a.js))
	}
	out := eval[string](p, `axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify({passes: r.passes.length,
		violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target.join(' '))}))}))`)
	var res struct {
		Passes     int            `json:"passes"`
		Violations []axeViolation `json:"violations"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		a.t.Fatalf("%s: axe result %q: %v", page, out, err)
	}
	if res.Passes == 0 {
		a.t.Errorf("%s: axe checked nothing", page)
	}
	a.t.Logf("%s (%s): axe: %d rules passed, %d violated", page, p.name, res.Passes, len(res.Violations))
	for _, v := range res.Violations {
		a.t.Errorf("%s (%s): axe %s [%s]: %s at %s", page, p.name, v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", "))
	}
}

// focusJS focuses each element matching a selector and measures its focus
// ring against the first opaque background behind it (the ring is drawn
// outside the element, over its ancestors).
const focusJS = `(sel => {
	const rgb = c => { const m = c.match(/[\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; };
	const lum = c => [c.r, c.g, c.b].map(v => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
		.reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
	const behind = el => {
		for (let e = el.parentElement; e; e = e.parentElement) {
			const c = rgb(getComputedStyle(e).backgroundColor);
			if (c.a === 1) return c;
		}
		return {r: 255, g: 255, b: 255, a: 1};
	};
	return [...document.querySelectorAll(sel)].filter(el => el.getClientRects().length > 0 && !el.disabled).map(el => {
		el.focus();
		const s = getComputedStyle(el);
		const ring = rgb(s.outlineColor), bg = behind(el);
		const [hi, lo] = [lum(ring), lum(bg)].sort((x, y) => y - x);
		const what = el.dataset.testid || el.id || el.tagName.toLowerCase() + ':' + el.textContent.trim().slice(0, 20);
		return {what, visible: el.matches(':focus-visible') && s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 && ring.a === 1,
			ring: s.outlineColor, bg: 'rgb(' + bg.r + ', ' + bg.g + ', ' + bg.b + ')', ratio: (hi + 0.05) / (lo + 0.05)};
	});
})(%q)`

type focusRing struct {
	What    string  `json:"what"`
	Visible bool    `json:"visible"`
	Ring    string  `json:"ring"`
	Bg      string  `json:"bg"`
	Ratio   float64 `json:"ratio"`
}

// focusRing checks the focus ring of the elements matching sel, reached
// from the keyboard: a Tab from the first of them first, so the browser
// shows focus as it does to keyboard users (a Tab from the page's last
// control would leave the page).
func (a *axeRunner) focusRing(p *person, page, sel string) {
	a.t.Helper()
	p.do("press Tab", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q)?.focus()`, sel)), chromedp.KeyEvent("\t"))
	out := eval[string](p, `JSON.stringify(`+fmt.Sprintf(focusJS, sel)+`)`)
	var rings []focusRing
	if err := json.Unmarshal([]byte(out), &rings); err != nil {
		a.t.Fatalf("%s: focus result %q: %v", page, out, err)
	}
	if len(rings) == 0 {
		a.t.Errorf("%s: nothing matches %s", page, sel)
	}
	for _, r := range rings {
		if !r.Visible || r.Ratio < 3 {
			a.t.Errorf("%s (%s): focus ring on %s: visible %v, %s on %s, contrast %.2f:1, want >= 3:1", page, p.name, r.What, r.Visible, r.Ring, r.Bg, r.Ratio)
		}
	}
}

// dark runs f with the person's browser preferring the dark colour scheme.
func (a *axeRunner) dark(p *person, f func()) {
	a.t.Helper()
	scheme := func(v string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v}},
			})
			return chromedp.Void{}, err
		}
	}
	p.do("prefer dark", scheme("dark"))
	defer p.do("prefer light", scheme("light"))
	f()
}
