package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"classmeet/internal/store"
	"classmeet/internal/testclient"
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

// tileCover is the share of the stage's area that the visible tiles cover.
const tileCover = `(() => {
	const stage = document.querySelector('.stage').getBoundingClientRect();
	let sum = 0;
	for (const el of document.querySelectorAll('[data-testid="tile"]')) {
		const r = el.getBoundingClientRect();
		const w = Math.min(r.right, stage.right) - Math.max(r.left, stage.left);
		const h = Math.min(r.bottom, stage.bottom) - Math.max(r.top, stage.top);
		if (w > 0 && h > 0) sum += w * h;
	}
	return sum / (stage.width * stage.height);
})()`

// largestOnStage names the largest visible box among the stage's videos and tiles.
const largestOnStage = `(() => {
	let best = '', area = 0;
	for (const el of document.querySelectorAll('.stage video, .stage [data-testid="tile"]')) {
		const r = el.getBoundingClientRect();
		if (r.width * r.height > area) { area = r.width * r.height; best = el.dataset.testid || el.tagName; }
	}
	return best;
})()`

// tileShapes lists the width/height ratio of every visible tile.
const tileShapes = `[...document.querySelectorAll('[data-testid="tile"]')].map(el => el.getBoundingClientRect()).filter(r => r.height > 0).map(r => r.width / r.height)`

// checkGallery: the tiles cover at least 70 % of the stage, and each is
// near the cameras' 16:9 (a landscape cell, not a sliver that crops most of
// the picture away).
func (p *person) checkGallery(where string) {
	p.t.Helper()
	// The gallery is laid out again when the stage reports its new size;
	// give it that moment (a timeout here is reported by the checks below).
	settled := `(` + tileCover + ` >= 0.7) && (` + tileShapes + `).every(r => r >= 0.9 && r <= 2.8)`
	p.do("let the gallery settle", func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, _ = chromedp.Poll[bool](settled, chromedp.WithPollingTimeout(10*time.Second))(ctx, t)
		return chromedp.Void{}, nil
	})
	if c := eval[float64](p, tileCover); c < 0.7 {
		p.t.Errorf("%s, %s: the tiles cover %.0f %% of the stage, want at least 70 %%", p.name, where, c*100)
	}
	for _, ratio := range eval[[]float64](p, tileShapes) {
		if ratio < 0.9 || ratio > 2.8 {
			p.t.Errorf("%s, %s: a tile is %.2f:1, far from 16:9", p.name, where, ratio)
		}
	}
}

// TestLayout: a teacher and a parent on a 390x844 phone, a 1920x1080
// projector and a 1280x800 laptop, then with four more people. On the phone
// the pre-join page's Join button is on the first screen; in the room, with
// two people and with six, at every size, the tiles fill the stage, every
// control is inside the window and uncovered (also with the chat open, and
// during a screen share), and the site's header is not shown.
func TestLayout(t *testing.T) {
	srv := startServer(t)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	mid, links := srv.seedMeeting(t, "smith@school.example", store.LobbyInviteesAdmitted, "Mr Jones", "p3", "p4", "p5", "p6")
	chromium := newChromium(t)

	teacher, jones := newPerson(t, chromium, "teacher"), newPerson(t, chromium, "Mr Jones")
	teacher.login(srv, "smith@school.example", teacherPW)
	urls := map[*person]string{teacher: srv.URL + "/meetings/" + mid + "/room", jones: srv.URL + links[0]}
	for _, p := range []*person{teacher, jones} {
		p.do("hold a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
		p.do("open the pre-join page", chromedp.Navigate(urls[p]), chromedp.WaitEnabled(tid("join")))
		p.waitFor("the camera start", `!document.querySelector('[data-testid="join-camera"]').disabled && document.querySelector('#preview-placeholder').hidden`)
		if y := eval[float64](p, `scrollY`); y != 0 {
			t.Errorf("%s: the pre-join page opened scrolled to %v", p.name, y)
		}
		p.mustReach("phone pre-join", `[data-testid="join"]`)
		p.do("join", chromedp.Click(tid("join")), chromedp.WaitVisible(tid("room")))
	}
	for _, p := range []*person{teacher, jones} {
		p.waitFor("see the other's tile", `document.querySelectorAll('[data-testid="tile"]').length === 2`)
		p.checkGallery("phone room")
		p.checkRoom("phone room")
	}

	for _, p := range []*person{teacher, jones} {
		p.do("use a projector", chromedp.EmulateViewport(1920, 1080))
		p.checkGallery("projector room")
		p.checkRoom("projector room")
		p.do("use a laptop", chromedp.EmulateViewport(1280, 800))
		p.checkGallery("laptop room")
		p.checkRoom("laptop room")
	}
	// Four more people join as Go clients (cheaper than browsers): six tiles
	// still cover the stage.
	for i, name := range []string{"p3", "p4", "p5", "p6"} {
		c, err := testclient.New(srv.URL, name, testclient.Options{Logf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		if err := c.JoinLink(ctx, links[1+i]); err != nil {
			t.Fatal(err)
		}
		cancel()
		t.Cleanup(c.Leave)
	}
	teacher.waitFor("see six tiles", `document.querySelectorAll('[data-testid="tile"]').length === 6`)
	for _, size := range [][2]int64{{390, 844}, {1920, 1080}, {1280, 800}} {
		teacher.do("change the window", chromedp.EmulateViewport(size[0], size[1]))
		teacher.checkGallery(fmt.Sprintf("%dx%d, six people", size[0], size[1]))
		teacher.checkRoom(fmt.Sprintf("%dx%d, six people", size[0], size[1]))
	}
	teacher.do("share the screen", chromedp.Click(tid("toggle-screen")))
	jones.waitFor("see the share", `!document.querySelector('[data-testid="featured"]').hidden`)
	teacher.waitFor("be sharing", `document.querySelector('[data-testid="toggle-screen"]').getAttribute('aria-pressed') === 'true'`)
	jones.waitFor("see the shared screen", `document.querySelector('[data-testid="screen-video"]') !== null`)
	for _, p := range []*person{teacher, jones} {
		p.checkRoom("laptop room, screen shared")
	}
	for _, size := range [][2]int64{{1280, 800}, {1920, 1080}} {
		jones.do("change the window", chromedp.EmulateViewport(size[0], size[1]))
		if got := eval[string](jones, largestOnStage); got != "screen-video" {
			jones.t.Errorf("Mr Jones, %dx%d, screen shared: the largest box on the stage is %q, not the shared screen", size[0], size[1], got)
		}
	}
}
