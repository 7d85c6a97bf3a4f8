package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

// tabbables marks every control a person could use on the page as it is
// (visible, not disabled, not inert) with data-kbwalk and names them. A
// radio group counts once: Tab stops at one radio of a group.
const tabbables = `(() => {
	const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"]), [role=button], [role=link], [role=tab], [role=switch], [role=menuitem], [contenteditable="true"]';
	const seen = new Set(), out = [];
	let i = 0;
	for (const el of document.querySelectorAll(sel)) {
		el.removeAttribute('data-kbwalk');
		const s = getComputedStyle(el);
		if (el.disabled || el.closest('[inert], fieldset[disabled]') || el.getClientRects().length === 0 ||
			s.visibility !== 'visible' || el.closest('details:not([open])') && el.tagName !== 'SUMMARY') continue;
		const r = el.getBoundingClientRect();
		if (r.width === 0 || r.height === 0) continue;
		if (el.type === 'radio' && el.name) {
			if (seen.has(el.name)) continue;
			seen.add(el.name);
		}
		el.dataset.kbwalk = String(i++);
		out.push(el.dataset.kbwalk);
	}
	return out;
})()`

// focusNow describes document.activeElement: its walk mark and name,
// whether it is <body> (focus lost), whether a focus indicator shows
// (an outline of at least 2px, or a box-shadow), and where it is.
const focusNow = `(() => {
	const el = document.activeElement;
	if (!el || el === document.body || el === document.documentElement) return {body: true};
	const s = getComputedStyle(el), r = el.getBoundingClientRect();
	const radio = el.type === 'radio' && el.name ? document.querySelector('[data-kbwalk][type=radio][name="' + CSS.escape(el.name) + '"]') : null;
	return {
		mark: (radio || el).dataset.kbwalk || '',
		name: el.dataset.testid || el.id || el.getAttribute('aria-label') || (el.tagName.toLowerCase() + ':' + el.textContent.trim().slice(0, 24)),
		ring: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || (s.boxShadow !== 'none' && s.boxShadow !== ''),
		outline: s.outlineStyle + ' ' + s.outlineWidth + ', shadow ' + s.boxShadow,
		left: r.left, top: r.top, height: r.height,
	};
})()`

// nameOf names a marked element for a report.
const nameOf = `(m => { const el = document.querySelector('[data-kbwalk="' + m + '"]');
	return el.dataset.testid || el.id || el.getAttribute('aria-label') || (el.tagName.toLowerCase() + ':' + el.textContent.trim().slice(0, 24)); })`

type focusStop struct {
	Body    bool    `json:"body"`
	Mark    string  `json:"mark"`
	Name    string  `json:"name"`
	Ring    bool    `json:"ring"`
	Outline string  `json:"outline"`
	Left    float64 `json:"left"`
	Top     float64 `json:"top"`
	Height  float64 `json:"height"`
}

// tabWalk presses Tab from the top of the page until focus comes round to
// where it began, and returns the stops in order, failing the test for
// every usable control never reached, for focus lost to <body> between two
// controls, and for a stop without a visible focus indicator.
func (p *person) tabWalk(where string) []focusStop {
	p.t.Helper()
	marks := eval[[]string](p, tabbables)
	if len(marks) == 0 {
		p.t.Fatalf("%s, %s: no usable control on the page", p.name, where)
	}
	// Tab from the top: the walk starts where <body> is focused.
	p.do("focus the top of the page", chromedp.Evaluate[chromedp.Void](`(() => {
		document.body.tabIndex = -1; document.body.focus(); document.body.removeAttribute('tabindex'); })()`))
	var stops []focusStop
	for range 3*len(marks) + 10 {
		p.do("press Tab", chromedp.KeyEvent(kb.Tab))
		var s focusStop
		if err := json.Unmarshal([]byte(eval[string](p, `JSON.stringify(`+focusNow+`)`)), &s); err != nil {
			p.t.Fatal(err)
		}
		if len(stops) > 0 && !s.Body && s.Mark != "" && s.Mark == firstMark(stops) {
			break // round again
		}
		stops = append(stops, s)
	}
	p.checkWalk(where, marks, stops)
	return stops
}

func firstMark(stops []focusStop) string {
	for _, s := range stops {
		if !s.Body {
			return s.Mark
		}
	}
	return ""
}

func (p *person) checkWalk(where string, marks []string, stops []focusStop) {
	p.t.Helper()
	var names []string
	reached := map[string]bool{}
	last := slices.IndexFunc(stops, func(s focusStop) bool { return s.Body }) // focus may leave the page only at its end
	for i, s := range stops {
		if s.Body {
			names = append(names, "<body>")
			continue
		}
		names = append(names, s.Name)
		reached[s.Mark] = true
		if last >= 0 && i > last {
			p.t.Errorf("%s, %s: focus fell to <body> in the middle of the walk, before %s", p.name, where, s.Name)
			last = -1
		}
		if !s.Ring {
			p.t.Errorf("%s, %s: %s shows no focus indicator (%s)", p.name, where, s.Name, s.Outline)
		}
	}
	p.t.Logf("%s, %s: Tab order: %s", p.name, where, strings.Join(names, " → "))
	for _, m := range marks {
		if !reached[m] {
			p.t.Errorf("%s, %s: %s cannot be reached with Tab", p.name, where, eval[string](p, fmt.Sprintf(nameOf+`(%q)`, m)))
		}
	}
}

// stopIndex is where in the walk the control with data-testid id was focused, or -1.
func stopIndex(stops []focusStop, id string) int {
	return slices.IndexFunc(stops, func(s focusStop) bool { return s.Name == id })
}

// devicesListed: the pre-join page has its camera, and its device choices
// are filled in (the selects are disabled until then).
const devicesListed = `!document.querySelector('[data-testid="join-camera"]').disabled && !document.querySelector('#camera').disabled && !document.querySelector('#microphone').disabled`

// TestKeyboardWalk: with the keyboard alone, on the pre-join page and in
// the room (a host with one parent in the call, another family waiting in
// the lobby, the chat open), Tab reaches every usable control in a sensible
// order (the name and the device choices before Join; the control bar left
// to right as it is seen; the lobby's and the people panel's controls when
// they are open; the parent's room too), never drops focus to the page in the middle,
// shows a focus indicator at every stop, and Enter and Space work the Mute
// button.
func TestKeyboardWalk(t *testing.T) {
	srv := startServer(t)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	mid, links := srv.seedMeetingPlan(t, "smith@school.example", store.MeetingPlan{
		Title: "Keyboard", StartsAt: testclock.Now(), DurationMinutes: 60, TimeZone: "UTC",
		LobbyPolicy: store.LobbyEveryoneWaits, RecordingPolicy: store.RecordingHostMayRecord,
	}, "Mr Jones", "Mrs Patel")
	chromium := newChromium(t)

	jones := newPerson(t, chromium, "Mr Jones")
	jones.do("open the pre-join page", chromedp.Navigate(srv.URL+links[0]), chromedp.WaitEnabled(tid("join")))
	jones.waitFor("the devices be listed", devicesListed)
	stops := jones.tabWalk("pre-join")
	join := stopIndex(stops, "join")
	for _, id := range []string{"display-name", "camera", "microphone", "join-mic", "join-camera"} {
		if i := stopIndex(stops, id); i < 0 || join < 0 || i > join {
			t.Errorf("pre-join: %s is at stop %d, Join at %d: the choices come before Join", id, i, join)
		}
	}
	jones.do("join", chromedp.Click(tid("join")), chromedp.WaitVisible(tid("lobby")))

	host := newPerson(t, chromium, "teacher")
	host.login(srv, "smith@school.example", teacherPW)
	host.do("open the pre-join page", chromedp.Navigate(srv.URL+"/meetings/"+mid+"/room"), chromedp.WaitEnabled(tid("join")))
	host.waitFor("the devices be listed", devicesListed)
	host.tabWalk("host's pre-join")
	host.do("join", chromedp.Click(tid("join")), chromedp.WaitVisible(tid("room")))
	host.waitFor("see him knock", `document.querySelectorAll('[data-testid="lobby-entry"]').length === 1`)
	host.click("admit him", `[...document.querySelectorAll('[data-testid="admit"], [data-testid="lobby-banner-admit"]')].find(b => b.getClientRects().length > 0)`)
	jones.do("come in", chromedp.WaitVisible(tid("room")))
	host.waitFor("see his tile", `document.querySelectorAll('[data-testid="tile"]').length === 2`)

	patel := newPerson(t, chromium, "Mrs Patel")
	patel.joinRoom(srv.URL + links[1])
	patel.do("wait in the lobby", chromedp.WaitVisible(tid("lobby")))
	host.waitFor("see her knock", `document.querySelectorAll('[data-testid="lobby-entry"]').length === 1`)
	host.do("open the chat", chromedp.Click(tid("chat-toggle")), chromedp.WaitVisible(tid("chat-text")))
	stops = host.tabWalk("room, lobby waiting, chat open")
	host.checkBarOrder("room", stops)
	for _, id := range []string{"chat-text", "chat-send"} {
		if stopIndex(stops, id) < 0 {
			t.Errorf("room: the open chat's %s is not in the Tab order", id)
		}
	}

	host.do("open the lobby", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="lobby-panel"]').hidden && document.querySelector('[data-testid="lobby-toggle"]').click()`))
	host.waitFor("see the lobby open", `!document.querySelector('[data-testid="lobby-panel"]').hidden`)
	stops = host.tabWalk("room, lobby open")
	if stopIndex(stops, "admit") < 0 {
		t.Errorf("room, lobby open: Admit is not in the Tab order")
	}

	host.do("open the people panel", chromedp.Click(tid("people-toggle")), chromedp.WaitVisible(tid("people-panel")))
	host.waitFor("see Mr Jones listed", `document.querySelectorAll('[data-testid="person"]').length === 2`)
	host.checkBarOrder("room, people open", host.tabWalk("room, people open"))
	jones.checkBarOrder("parent's room", jones.tabWalk("parent's room"))

	for _, key := range []string{kb.Enter, " "} {
		before := eval[string](host, `document.querySelector('[data-testid="toggle-mic"]').getAttribute('aria-pressed')`)
		host.do("press a key on Mute", chromedp.Focus(tid("toggle-mic")), chromedp.KeyEvent(key))
		host.waitFor(fmt.Sprintf("%q toggle Mute", key), fmt.Sprintf(`document.querySelector('[data-testid="toggle-mic"]').getAttribute('aria-pressed') !== %q`, before))
	}
}

// checkBarOrder: the control bar's buttons come in the Tab order as they
// are seen, row by row, left to right.
func (p *person) checkBarOrder(where string, stops []focusStop) {
	p.t.Helper()
	bar := eval[[]string](p, `[...document.querySelectorAll('.controls button')].filter(b => b.dataset.kbwalk !== undefined).map(b => b.dataset.kbwalk)`)
	var inBar []focusStop
	for _, s := range stops {
		if slices.Contains(bar, s.Mark) {
			inBar = append(inBar, s)
		}
	}
	if len(inBar) < 2 {
		p.t.Fatalf("%s, %s: %d buttons of the control bar in the walk", p.name, where, len(inBar))
	}
	for i := 1; i < len(inBar); i++ {
		a, b := inBar[i-1], inBar[i]
		sameRow := b.Top < a.Top+a.Height/2 && a.Top < b.Top+b.Height/2
		if sameRow && b.Left < a.Left || !sameRow && b.Top < a.Top {
			p.t.Errorf("%s, %s: Tab goes from %s to %s, which is seen before it", p.name, where, a.Name, b.Name)
		}
	}
}
