package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"classmeet/internal/store"
)

// unreachable lists the visible elements matching a selector that a person
// could not press: partly outside the viewport, or covered at their centre
// (elementFromPoint there is neither the element nor inside it). It fails
// too when nothing visible matches, so a renamed selector cannot pass.
func unreachable(selector string) string {
	return fmt.Sprintf(`(() => {
		const bad = [];
		const els = [...document.querySelectorAll(%q)].filter(el => el.getClientRects().length > 0);
		if (els.length === 0) return ['nothing visible matches %s'];
		for (const el of els) {
			const r = el.getBoundingClientRect();
			const name = (el.dataset.testid || el.getAttribute('aria-label') || el.textContent || el.tagName).trim();
			if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) {
				bad.push(name + ' is outside the ' + innerWidth + 'x' + innerHeight + ' viewport at ' + [r.left, r.top, r.right, r.bottom].map(Math.round).join(','));
				continue;
			}
			const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
			if (!hit || !el.contains(hit)) bad.push(name + ' is covered by ' + (hit ? hit.outerHTML.slice(0, 80) : 'nothing'));
		}
		return bad;
	})()`, selector, strings.ReplaceAll(selector, "'", ""))
}

// mustReach fails the test for every element of selector the person cannot press.
func (p *person) mustReach(where, selector string) {
	p.t.Helper()
	for _, problem := range eval[[]string](p, unreachable(selector)) {
		p.t.Errorf("%s, %s: %s", p.name, where, problem)
	}
}

// checkRoom: the site header is gone, the page does not scroll, the control
// bar is all there, and with the chat open its text box and Send are too.
func (p *person) checkRoom(where string) {
	p.t.Helper()
	if eval[bool](p, `document.querySelector('header.site').getClientRects().length > 0`) {
		p.t.Errorf("%s, %s: the site header shows in the room", p.name, where)
	}
	if eval[bool](p, `document.scrollingElement.scrollHeight > innerHeight + 1`) {
		p.t.Errorf("%s, %s: the room page scrolls (%d px for a %d px window)", p.name, where,
			int(eval[float64](p, `document.scrollingElement.scrollHeight`)), int(eval[float64](p, `innerHeight`)))
	}
	p.mustReach(where, `.controls button`)
	p.do("open the chat", chromedp.Click(tid("chat-toggle")))
	p.waitFor("see the chat", `!document.querySelector('[data-testid="chat-panel"]').hidden`)
	p.mustReach(where+", chat open", `[data-testid="chat-text"], [data-testid="chat-send"], #chat-panel-title, [data-testid="chat-toggle"]`)
	p.mustReach(where+", chat open", `.controls button`)
	p.do("close the chat", chromedp.Click(tid("chat-toggle")))
	p.waitFor("see the chat close", `document.querySelector('[data-testid="chat-panel"]').hidden`)
}

// TestLayout: a teacher and a parent on a 390x844 phone and then a 1280x800
// laptop. On the phone the pre-join page's Join button is on the first screen;
// in the room every control is inside the window and uncovered (also with the
// chat open, and during a screen share on the laptop), and the site's header
// is not shown.
func TestLayout(t *testing.T) {
	srv := startServer(t)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	mid, links := srv.seedMeeting(t, "smith@school.example", store.LobbyInviteesAdmitted, "Mr Jones")
	chromium := newChromium(t)

	teacher, jones := newPerson(t, chromium, "teacher"), newPerson(t, chromium, "Mr Jones")
	teacher.login(srv, "smith@school.example", teacherPW)
	urls := map[*person]string{teacher: srv.URL + "/meetings/" + mid + "/room", jones: srv.URL + links[0]}
	for _, p := range []*person{teacher, jones} {
		p.do("hold a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
		p.do("open the pre-join page", chromedp.Navigate(urls[p]), chromedp.WaitVisible(tid("join")))
		p.waitFor("the camera start", `!document.querySelector('[data-testid="join-camera"]').disabled && document.querySelector('#preview-placeholder').hidden`)
		if y := eval[float64](p, `scrollY`); y != 0 {
			t.Errorf("%s: the pre-join page opened scrolled to %v", p.name, y)
		}
		p.mustReach("phone pre-join", `[data-testid="join"]`)
		p.do("join", chromedp.Click(tid("join")), chromedp.WaitVisible(tid("room")))
	}
	for _, p := range []*person{teacher, jones} {
		p.waitFor("see the other's tile", `document.querySelectorAll('[data-testid="tile"]').length === 2`)
		p.checkRoom("phone room")
	}

	for _, p := range []*person{teacher, jones} {
		p.do("use a laptop", chromedp.EmulateViewport(1280, 800))
		p.checkRoom("laptop room")
	}
	teacher.do("share the screen", chromedp.Click(tid("toggle-screen")))
	jones.waitFor("see the share", `!document.querySelector('[data-testid="featured"]').hidden`)
	teacher.waitFor("be sharing", `document.querySelector('[data-testid="toggle-screen"]').getAttribute('aria-pressed') === 'true'`)
	for _, p := range []*person{teacher, jones} {
		p.checkRoom("laptop room, screen shared")
	}
}
