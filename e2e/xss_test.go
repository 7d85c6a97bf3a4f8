package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

// tripwire records, on every page a person opens, any attempt to run
// script: a dialog or a request naming "xss", and every Content-Security-
// Policy violation (inert text never causes one).
const tripwire = `(() => {
	window.__xss = [];
	const note = (what, args) => {
		const s = [...args].map(String).join(' ');
		if (/xss/i.test(s)) window.__xss.push(what + ': ' + s);
	};
	for (const f of ['alert', 'confirm', 'prompt']) {
		const orig = window[f].bind(window);
		window[f] = (...a) => { note(f, a); return f === 'confirm' ? false : orig && undefined; };
	}
	const f = window.fetch.bind(window);
	window.fetch = (...a) => { note('fetch', a); return f(...a); };
	const open = XMLHttpRequest.prototype.open;
	XMLHttpRequest.prototype.open = function (...a) { note('xhr', a); return open.apply(this, a); };
	document.addEventListener('securitypolicyviolation', (e) => window.__xss.push('csp: ' + e.violatedDirective + ' ' + e.sample));
})();`

func (p *person) armTripwire() {
	p.t.Helper()
	p.do("arm the tripwire", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: tripwire})
		return err
	}))
}

func (p *person) tripped() []string {
	p.t.Helper()
	return eval[[]string](p, `window.__xss || []`)
}

var payloads = []string{
	`<img src=x onerror="fetch('/xss-1')">`,
	`<svg/onload=alert('xss-2')>`,
	`"><script>alert('xss-3')</script>`,
	`javascript:alert('xss-4')`,
	`<a href="javascript:alert('xss-5')">click me</a>`,
	`<iframe srcdoc="<script>parent.alert('xss-6')</script>"></iframe>`,
	"\u202egnp.exe (right-to-left override)",
	`=HYPERLINK("http://evil.example/?xss-7","click")`,
	`<style>*{display:none}</style>`,
	"${alert('xss-8')} {{constructor.constructor('alert(\"xss-9\")')()}}",
}

// TestHostileTextIsInert: payloads in the meeting title, the names people
// give themselves and chat render as plain text everywhere, run nothing,
// and stay inert in the attendance CSV and the chat export.
func TestHostileTextIsInert(t *testing.T) {
	srv := startServer(t)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	title := `<img src=x onerror=alert('xss-title')> Year 7`
	mid, links := srv.seedMeetingPlan(t, "smith@school.example", store.MeetingPlan{
		Title: title, StartsAt: testclock.Now(), DurationMinutes: 60, TimeZone: "UTC",
		LobbyPolicy: store.LobbyEveryoneWaits, RecordingPolicy: store.RecordingNotAllowed,
	}, `<b onmouseover=alert('xss-invitee')>Mr Jones</b>`, "Mrs Patel")
	chromium := newChromium(t)
	teacher, jones, patel := newPerson(t, chromium, "teacher"), newPerson(t, chromium, "jones"), newPerson(t, chromium, "patel")
	for _, p := range []*person{teacher, jones, patel} {
		p.armTripwire()
	}
	teacher.login(srv, "smith@school.example", teacherPW)
	teacher.do("see the dashboard and meeting page", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(tid("upcoming")),
		chromedp.Navigate(srv.URL+"/meetings/"+mid), chromedp.WaitVisible(tid("meeting-title")))
	if got := teacher.text(tid("meeting-title")); got != title {
		t.Errorf("title shown as %q", got)
	}
	teacher.enterRoom(srv.URL + "/meetings/" + mid + "/room")

	names := map[*person]string{jones: `<svg/onload=alert('xss-name')>`, patel: `=HYPERLINK("x","xss-csv")`}
	for i, p := range []*person{jones, patel} {
		p.do("open the link and type a name", chromedp.Navigate(srv.URL+links[i]), chromedp.WaitEnabled(tid("join")),
			chromedp.SetValue(tid("display-name"), names[p]), chromedp.Click(tid("join")), chromedp.WaitVisible(tid("lobby")))
	}
	teacher.waitFor("see both waiting", `document.querySelectorAll('[data-testid="lobby-entry"]').length === 2`)
	lobby := eval[[]string](teacher, `[...document.querySelectorAll('[data-testid="lobby-name"]')].map(e => e.textContent)`)
	if strings.Join(lobby, "|") != names[jones]+"|"+names[patel] {
		t.Errorf("lobby names %q", lobby)
	}
	teacher.do("admit everyone", chromedp.Click(tid("admit-all")))
	for _, p := range []*person{jones, patel} {
		p.do("enter", chromedp.WaitVisible(tid("room")))
	}
	jones.do("open the chat", chromedp.Click(tid("chat-toggle")))
	for _, text := range payloads {
		jones.do("write", chromedp.SetValue(tid("chat-text"), text), chromedp.Click(tid("chat-send")))
	}
	for _, p := range []*person{teacher, patel} {
		p.do("open the chat", chromedp.Click(tid("chat-toggle")))
		p.waitFor("read every message", `document.querySelectorAll('[data-testid="chat-message"]').length === `+itoa(len(payloads)))
		shown := eval[[]string](p, `[...document.querySelectorAll('[data-testid="chat-text-shown"]')].map(e => e.textContent)`)
		for i, want := range payloads {
			if shown[i] != strings.TrimSpace(want) {
				t.Errorf("%s: message %d shown as %q", p.name, i, shown[i])
			}
		}
		if n := eval[int](p, `document.querySelectorAll('#chat-log img, #chat-log svg, #chat-log script, #chat-log iframe, #chat-log a, #chat-log style, .tile-name *, .person-name *, .lobby-name *').length`); n != 0 {
			t.Errorf("%s: %d elements made from someone's text", p.name, n)
		}
		if bidi := eval[string](p, `getComputedStyle(document.querySelector('[data-testid="chat-text-shown"]')).unicodeBidi`); bidi != "isolate" {
			t.Errorf("%s: chat text is not direction-isolated (%q)", p.name, bidi)
		}
	}
	tiles := eval[[]string](teacher, `[...document.querySelectorAll('.tile-name')].map(e => e.textContent)`)
	if !strings.Contains(strings.Join(tiles, "|"), names[jones]) {
		t.Errorf("tiles show %q", tiles)
	}

	// The exports: plain text and neutralised CSV, served as downloads.
	for _, p := range []*person{jones, patel} {
		p.do("leave", chromedp.Click(tid("leave")), chromedp.WaitVisible(tid("finished")))
	}
	teacher.do("leave", chromedp.Click(tid("leave")), chromedp.WaitVisible(tid("finished")))
	srv.attendanceClosed(t, mid)
	teacher.do("open attendance", chromedp.Navigate(srv.URL+"/meetings/"+mid+"/attendance"), chromedp.WaitVisible(tid("attendance")))
	type download struct{ Type, Disposition, Options, Body string }
	get := func(path string) download {
		return eval[download](teacher, `fetch(`+jsString(path)+`).then(async r => ({Type: r.headers.get('content-type'), Disposition: r.headers.get('content-disposition'), Options: r.headers.get('x-content-type-options'), Body: await r.text()}))`)
	}
	csv := get("/meetings/" + mid + "/attendance.csv")
	if !strings.HasPrefix(csv.Type, "text/csv") || !strings.HasPrefix(csv.Disposition, "attachment") || csv.Options != "nosniff" {
		t.Errorf("CSV served as %+v", csv)
	}
	if !strings.Contains(csv.Body, `"'=HYPERLINK(""x"",""xss-csv"")"`) || strings.Contains(csv.Body, "\n=") || strings.Contains(csv.Body, ",=") {
		t.Errorf("a formula in the CSV is not neutralised:\n%s", csv.Body)
	}
	chat := get("/meetings/" + mid + "/chat.txt")
	if !strings.HasPrefix(chat.Type, "text/plain") || !strings.HasPrefix(chat.Disposition, "attachment") || chat.Options != "nosniff" {
		t.Errorf("chat served as %+v", chat)
	}
	if !strings.Contains(chat.Body, payloads[0]) {
		t.Error("the chat export lost a message")
	}
	for _, p := range []*person{teacher, jones, patel} {
		if got := p.tripped(); len(got) != 0 {
			t.Errorf("%s: script ran or was blocked: %q", p.name, got)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func jsString(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }
