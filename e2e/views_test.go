package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"classmeet/internal/sfu"
	"classmeet/internal/store"
	"classmeet/internal/testclient"
	"classmeet/internal/testclock"
)

// largestTile names the participant whose tile is the largest on the stage.
const largestTile = `(() => {
	let best = '', area = 0;
	for (const el of document.querySelectorAll('.stage [data-testid="tile"]')) {
		const r = el.getBoundingClientRect();
		if (r.width * r.height > area + 1) { area = r.width * r.height; best = el.dataset.participant; }
	}
	return best;
})()`

// tilesEqual: every tile on the stage is the same size (a gallery, nobody large).
const tilesEqual = `(() => {
	const a = [...document.querySelectorAll('.stage [data-testid="tile"]')].map(el => { const r = el.getBoundingClientRect(); return r.width * r.height; });
	return a.length > 1 && Math.min(...a) > 0.97 * Math.max(...a);
})()`

// speakingContrast is the contrast of a speaking tile's outline against the
// tile's own background, where the outline is drawn (WCAG 1.4.11 wants 3:1);
// 0 while no tile is speaking or the outline is still fading in (its
// colour is transitioned, and was read mid-way once: 1.28:1).
const speakingContrast = `(() => {
	const rgb = c => c.match(/[\d.]+/g).map(Number);
	const lum = c => rgb(c).slice(0, 3).map(v => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
		.reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
	const el = document.querySelector('.stage .tile.speaking');
	if (!el) return 0;
	const s = getComputedStyle(el);
	if (parseFloat(s.outlineOffset) > -parseFloat(s.outlineWidth)) return 0; // drawn outside, on another background
	const outline = rgb(s.outlineColor);
	if (outline.length > 3 && outline[3] < 1) return 0; // fading in
	const [hi, lo] = [lum(s.outlineColor), lum(s.backgroundColor)].sort((x, y) => y - x);
	return (hi + 0.05) / (lo + 0.05);
})()`

// sideBySide lists the tiles that are not to the right of the shared screen.
const sideBySide = `(() => {
	const share = document.querySelector('[data-testid="featured"]').getBoundingClientRect();
	return [...document.querySelectorAll('.stage [data-testid="tile"]')].map(el => el.getBoundingClientRect())
		.filter(r => r.width > 0 && r.left < share.right - 0.5).map(r => Math.round(r.left) + ' < ' + Math.round(share.right));
})()`

func tileOf(id, testid string) string {
	return fmt.Sprintf(`document.querySelector('.stage [data-participant=%q] [data-testid=%q]')`, id, testid)
}

// TestViews: a teacher, a parent in browsers and a Go client that plays a
// tone. The lobby banner's "Show lobby" opens the lobby; speaker view shows
// the one speaking largest; a pin makes a tile largest in any view until
// unpinned; a share is largest with the people to its right on a laptop and
// a projector, every control reachable (also on a phone); the presenter sees
// "You are presenting" and Stop presenting ends the share for the others;
// the stage goes fullscreen and back.
func TestViews(t *testing.T) {
	srv := startServer(t)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	mid, links := srv.seedMeeting(t, "smith@school.example", store.LobbyEveryoneWaits, "Mr Jones", "Ms Tone")
	chromium := newChromium(t)

	teacher, jones := newPerson(t, chromium, "teacher"), newPerson(t, chromium, "Mr Jones")
	teacher.login(srv, "smith@school.example", teacherPW)
	for _, p := range []*person{teacher, jones} {
		p.do("use a laptop", chromedp.EmulateViewport(1280, 800))
	}
	teacher.enterRoom(srv.URL + "/meetings/" + mid + "/room")
	jones.joinRoom(srv.URL + links[0])
	jones.do("wait in the lobby", chromedp.WaitVisible(tid("lobby")))
	teacher.waitFor("see him knock", `document.querySelectorAll('[data-testid="lobby-entry"]').length === 1`)
	teacher.do("open the lobby if it is closed", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="lobby-panel"]').hidden && document.querySelector('[data-testid="lobby-toggle"]').click()`))
	teacher.do("admit him", chromedp.Click(tid("admit")))
	jones.do("come in", chromedp.WaitVisible(tid("room")))
	// Chromium's fake microphones beep: muted, the tone is the only voice.
	for _, p := range []*person{teacher, jones} {
		p.do("mute", chromedp.Click(tid("toggle-mic")))
		p.waitFor("be muted", `document.querySelector('[data-testid="toggle-mic"]').getAttribute('aria-pressed') === 'false'`)
	}

	// Two buttons open the lobby panel (the bar's and the banner's): the
	// banner's must open it, with the chat open when she knocks.
	teacher.do("open the chat", chromedp.Click(tid("chat-toggle")))
	teacher.waitFor("see the chat", `!document.querySelector('[data-testid="chat-panel"]').hidden`)
	tone, err := testclient.New(srv.URL, "Ms Tone", testclient.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := tone.JoinLink(ctx, links[1]); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tone.Leave)
	teacher.waitFor("see the lobby banner", `!document.querySelector('[data-testid="lobby-banner"]').hidden`)
	teacher.do("show the lobby from the banner", chromedp.Click(tid("lobby-banner-show")))
	teacher.waitFor("see the lobby panel open", `!document.querySelector('[data-testid="lobby-panel"]').hidden && document.querySelector('[data-testid="chat-panel"]').hidden`)
	teacher.do("admit her", chromedp.Click(tid("admit")))
	teacher.do("close the lobby", chromedp.Click(tid("lobby-toggle")))
	for _, p := range []*person{teacher, jones} {
		p.waitFor("see three tiles", `document.querySelectorAll('.stage [data-testid="tile"]').length === 3`)
	}
	toneID := tone.ID()
	jonesID := eval[string](jones, `document.querySelector('.tile.self').dataset.participant`)
	teacherID := eval[string](teacher, `document.querySelector('.tile.self').dataset.participant`)

	// Speaker view: the one the UI marks as speaking is the largest.
	teacher.do("choose speaker view", chromedp.Click(tid("toggle-view")))
	teacher.waitFor("be in speaker view", `document.querySelector('[data-testid="toggle-view"]').getAttribute('aria-pressed') === 'true' && sessionStorage.getItem('classmeet.view') === 'speaker'`)
	teacher.waitFor("see Ms Tone speaking", fmt.Sprintf(`document.querySelector('.stage [data-participant=%q]').classList.contains('speaking')`, toneID))
	teacher.waitFor("see Ms Tone largest", fmt.Sprintf(`%s === %q && document.querySelector('.stage .tile.speaking')?.dataset.participant === %q`, largestTile, toneID, toneID))
	teacher.waitFor("see the speaking outline at 3:1 or more against the tile", speakingContrast+" >= 3")

	// Pinning: largest in speaker view and in the gallery, until unpinned.
	teacher.do("pin Mr Jones", chromedp.Evaluate[chromedp.Void](tileOf(jonesID, "tile-pin")+`.click()`))
	teacher.waitFor("see Mr Jones largest", fmt.Sprintf(`%s === %q && %s.getAttribute('aria-pressed') === 'true'`, largestTile, jonesID, tileOf(jonesID, "tile-pin")))
	teacher.mustReach("speaker view, pinned", `.stage [data-testid="tile-pin"], .controls button`)
	teacher.do("unpin him", chromedp.Evaluate[chromedp.Void](tileOf(jonesID, "tile-pin")+`.click()`))
	teacher.waitFor("see Ms Tone largest again", fmt.Sprintf(`%s === %q`, largestTile, toneID))
	teacher.do("choose the gallery", chromedp.Click(tid("toggle-view")))
	teacher.waitFor("see equal tiles", tilesEqual)
	teacher.do("pin Mr Jones", chromedp.Evaluate[chromedp.Void](tileOf(jonesID, "tile-pin")+`.click()`))
	teacher.waitFor("see Mr Jones largest in the gallery", fmt.Sprintf(`%s === %q`, largestTile, jonesID))
	if got := eval[string](jones, largestTile); got != "" && !eval[bool](jones, tilesEqual) {
		t.Errorf("Mr Jones sees %q large: the teacher's pin is not hers alone", got)
	}
	teacher.do("unpin him", chromedp.Evaluate[chromedp.Void](tileOf(jonesID, "tile-pin")+`.click()`))
	teacher.waitFor("see equal tiles again", tilesEqual)

	// Fullscreen: the stage, and a tile by double-click.
	teacher.do("go fullscreen", chromedp.Click(tid("toggle-fullscreen")))
	teacher.waitFor("see the stage fullscreen", `document.fullscreenElement === document.querySelector('[data-testid="stage"]')`)
	teacher.do("leave fullscreen", chromedp.Click(tid("exit-fullscreen")))
	teacher.waitFor("see fullscreen end", `document.fullscreenElement === null`)
	teacher.do("double-click Ms Tone", chromedp.DoubleClick(chromedp.CSS(fmt.Sprintf(`.stage [data-participant=%q]`, toneID))))
	teacher.waitFor("see her tile fullscreen", fmt.Sprintf(`document.fullscreenElement?.dataset.participant === %q`, toneID))
	teacher.do("leave fullscreen", chromedp.Evaluate[chromedp.Void](`document.exitFullscreen()`, chromedp.EvalAwaitPromise))
	teacher.waitFor("see fullscreen end", `document.fullscreenElement === null`)

	// A share: largest, the people to its right, the controls reachable.
	teacher.do("share the screen", chromedp.Click(tid("toggle-screen")))
	jones.waitFor("see the shared screen", `document.querySelector('[data-testid="screen-video"]') !== null`)
	testclock.WaitFor(t, "Ms Tone to receive the share", 60*time.Second, func() bool {
		return tone.Received(teacherID, sfu.SourceScreen).Packets.Load() > 0
	})
	for _, size := range [][2]int64{{1280, 800}, {1920, 1080}} {
		where := fmt.Sprintf("%dx%d, screen shared", size[0], size[1])
		jones.do("change the window", chromedp.EmulateViewport(size[0], size[1]))
		jones.waitFor("see the share largest", largestOnStage+` === 'screen-video'`)
		for _, bad := range eval[[]string](jones, sideBySide) {
			t.Errorf("%s: a tile is not right of the share (%s)", where, bad)
		}
		jones.mustReach(where, `.controls button, .stage [data-testid="tile-pin"]`)
		teacher.do("change the window", chromedp.EmulateViewport(size[0], size[1]))
		teacher.mustReach(where+", presenting", `[data-testid="stop-presenting"], .controls button`)
	}
	for _, p := range []*person{teacher, jones} {
		p.do("hold a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
		p.mustReach("phone, screen shared", `.controls button`)
	}
	teacher.mustReach("phone, presenting", `[data-testid="stop-presenting"]`)
	// The presenter does not watch a mirror of the screen inside itself.
	if eval[bool](teacher, `document.querySelector('[data-testid="screen-video"]') !== null`) {
		t.Error("the presenter's stage shows her own share")
	}
	if got := teacher.text(chromedp.CSS(`[data-testid="presenting-bar"] span`)); got != "You are presenting your screen" {
		t.Errorf("presenting bar says %q", got)
	}
	teacher.do("stop presenting", chromedp.Click(tid("stop-presenting")))
	teacher.waitFor("see the bar go", `document.querySelector('[data-testid="presenting-bar"]').hidden && document.querySelector('[data-testid="toggle-screen"]').getAttribute('aria-pressed') === 'false'`)
	jones.waitFor("see the share end", `document.querySelector('[data-testid="featured"]').hidden`)
	// Ms Tone stops receiving the screen: its packet count stays put for 2 s.
	last, since := uint64(0), testclock.Now()
	testclock.WaitFor(t, "the screen to stop reaching Ms Tone", 20*time.Second, func() bool {
		if n := tone.Received(teacherID, sfu.SourceScreen).Packets.Load(); n != last {
			last, since = n, testclock.Now()
		}
		return testclock.Now().Sub(since) >= 2*time.Second
	})
}
