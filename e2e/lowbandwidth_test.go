package e2e

import (
	"os"
	"testing"

	"github.com/chromedp/chromedp"

	"classmeet/internal/store"
)

// tilePaused is the text on the teacher's tile at Mr Jones's page.
const tilePaused = `(document.querySelector('.tile:not(.self) [data-testid="tile-paused"]:not([hidden])')?.textContent ?? '')`

// TestLowBandwidthMode: a parent on a slow connection ticks "receive audio
// only" before joining and the room starts that way, the teacher's tile
// saying why it shows no picture; the mode control is within reach on a
// phone and a laptop, switching back brings the teacher's video, choosing
// audio only from the control says so again, and axe finds nothing wrong.
func TestLowBandwidthMode(t *testing.T) {
	axeJS, err := os.ReadFile("../node_modules/axe-core/axe.min.js")
	if err != nil {
		t.Fatalf("axe-core is installed by npm ci (scripts/deps.sh): %v", err)
	}
	srv := startServer(t)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	mid, links := srv.seedMeeting(t, "smith@school.example", store.LobbyInviteesAdmitted, "Mr Jones")
	chromium := newChromium(t)
	a := &axeRunner{t: t, js: string(axeJS)}

	teacher, jones := newPerson(t, chromium, "teacher"), newPerson(t, chromium, "Mr Jones")
	teacher.login(srv, "smith@school.example", teacherPW)
	teacher.enterRoom(srv.URL + "/meetings/" + mid + "/room")

	jones.do("hold a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	jones.do("open the pre-join page", chromedp.Navigate(srv.URL+links[0]), chromedp.WaitEnabled(tid("join")))
	jones.do("choose audio only", chromedp.Click(tid("join-audio-only")), chromedp.Click(tid("join")), chromedp.WaitVisible(tid("room")))
	jones.waitFor("see the teacher's tile say why it has no picture", tilePaused+` === 'Video off — low-bandwidth mode'`)
	if v := eval[string](jones, `document.querySelector('[data-testid="bandwidth-mode"]').value`); v != "audio" {
		t.Errorf("the room's mode control says %q after joining with audio only", v)
	}
	jones.mustReach("phone room, audio only", `[data-testid="bandwidth-mode"]`)

	jones.do("back to normal", chromedp.Evaluate[chromedp.Void](pick("normal")))
	jones.waitFor("the teacher's tile to lose its note", tilePaused+` === ''`)
	jones.waitFor("see the teacher's video", `(() => { const v = document.querySelector('.tile:not(.self) video'); return !!v && v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > 0; })()`)

	jones.do("use a laptop", chromedp.EmulateViewport(1280, 800))
	jones.mustReach("laptop room", `[data-testid="bandwidth-mode"]`)
	jones.do("choose audio only", chromedp.Evaluate[chromedp.Void](pick("audio")))
	jones.waitFor("see the teacher's tile say why it has no picture", tilePaused+` === 'Video off — low-bandwidth mode'`)
	if eval[bool](jones, `getComputedStyle(document.querySelector('.tile:not(.self) video')).visibility !== 'hidden'`) {
		t.Errorf("audio only: the teacher's last frame still shows")
	}
	jones.mustReach("laptop room, audio only", `[data-testid="bandwidth-mode"]`)
	a.check(jones, "room, audio only")
	jones.do("hold a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	jones.mustReach("phone room, audio only", `[data-testid="bandwidth-mode"]`)
	a.check(jones, "phone room, audio only")
	weakNotice(t, jones, a)
}

// weakNotice drives the page's own bandwidth module (a second instance on
// the same page, with what it sends recorded) with quality reports of Mr
// Jones's link: one weak report shows nothing, two do; the notice offers
// small video and audio only, one click picks it, and a good report hides
// the notice again. The second instance gets fresh copies of the mode
// control and the notice: the room's own instance, hearing the server's
// real quality reports, keeps the originals (now off the page) and cannot
// hide the notice under the test.
func weakNotice(t *testing.T, p *person, a *axeRunner) {
	t.Helper()
	p.do("load the bandwidth module", chromedp.Evaluate[chromedp.Void](`(async () => {
		const src = document.querySelector('script[src$="/room.js"]').src;
		const { Bandwidth } = await import(new URL('bandwidth.js', src).href);
		for (const id of ['bandwidth-mode', 'weak-notice']) {
			const el = document.getElementById(id);
			el.replaceWith(el.cloneNode(true));
		}
		window.sent = [];
		window.bw = new Bandwidth({ send: (m) => window.sent.push(m), sizes: { setSmall() {} }, ui: { videoPaused() {} }, announce() {} });
	})()`, chromedp.EvalAwaitPromise))
	shown := `!document.querySelector('[data-testid="weak-notice"]').hidden`
	p.do("hear of a weak link once", chromedp.Evaluate[chromedp.Void](`bw.quality('weak')`))
	if eval[bool](p, shown) {
		t.Errorf("one weak report shows the notice")
	}
	p.do("hear of a weak link again", chromedp.Evaluate[chromedp.Void](`bw.quality('bad')`))
	p.waitFor("see the notice", shown)
	if live := eval[string](p, `document.querySelector('[data-testid="weak-notice"]').getAttribute('aria-live')`); live != "polite" {
		t.Errorf("the notice is announced %q, want polite", live)
	}
	p.mustReach("weak notice", `[data-testid="weak-notice"] button`)
	a.check(p, "room, weak connection notice")
	p.do("choose small video", chromedp.Click(tid("weak-small")))
	if v := eval[string](p, `bw.mode`); v != "small" {
		t.Errorf("after one click the mode is %q, want small", v)
	}
	p.do("choose audio only", chromedp.Click(tid("weak-audio")))
	p.waitFor("the notice to go", `document.querySelector('[data-testid="weak-notice"]').hidden`)
	if got := eval[string](p, `JSON.stringify(sent)`); got != `[{"type":"receive_video","on":false}]` {
		t.Errorf("sent %s", got)
	}
	p.do("back to normal, weak link twice", chromedp.Evaluate[chromedp.Void](`bw.choose('normal'); bw.quality('weak'); bw.quality('weak')`))
	p.waitFor("see the notice", shown)
	p.do("hear of a good link", chromedp.Evaluate[chromedp.Void](`bw.quality('good')`))
	p.waitFor("the notice to go", `document.querySelector('[data-testid="weak-notice"]').hidden`)
}

// pick chooses a mode in the room's control, as a person does.
func pick(mode string) string {
	return `(() => { const s = document.querySelector('[data-testid="bandwidth-mode"]'); s.value = '` + mode + `'; s.dispatchEvent(new Event('change')); })()`
}
