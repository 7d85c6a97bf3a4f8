package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

// TestLobbyBanner: two parents knock before the teacher arrives. The
// teacher's room shows at once a banner with the count and "Admit all"
// (the lobby panel stays closed), and admitting from it lets both in. Sent
// back to the lobby while the teacher has the people panel open, a parent
// is announced by the banner by name, and "Admit" lets them in again.
func TestLobbyBanner(t *testing.T) {
	srv := startServer(t)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	plan := store.MeetingPlan{
		Title: "Banner", StartsAt: testclock.Now(), DurationMinutes: 60, TimeZone: "UTC",
		LobbyPolicy: store.LobbyEveryoneWaits, RecordingPolicy: store.RecordingNotAllowed,
	}
	mid, links := srv.seedMeetingPlan(t, "smith@school.example", plan, "Mr Jones", "Mrs Patel")
	chromium := newChromium(t)

	jones, patel := newPerson(t, chromium, "Mr Jones"), newPerson(t, chromium, "Mrs Patel")
	for i, p := range []*person{jones, patel} {
		p.joinRoom(srv.URL + links[i])
		p.do("wait in the lobby", chromedp.WaitVisible(tid("lobby")))
	}

	teacher := newPerson(t, chromium, "teacher")
	teacher.login(srv, "smith@school.example", teacherPW)
	teacher.joinRoom(srv.URL + "/meetings/" + mid + "/room")
	teacher.do("see the banner", chromedp.WaitVisible(tid("room")), chromedp.WaitVisible(tid("lobby-banner")))
	if got := teacher.text(tid("lobby-banner-text")); got != "2 people are waiting in the lobby." {
		t.Errorf("banner says %q", got)
	}
	if got := teacher.text(tid("lobby-banner-admit")); got != "Admit all" {
		t.Errorf("banner's button says %q", got)
	}
	if got := teacher.text(tid("lobby-badge")); got != "2" {
		t.Errorf("lobby badge says %q", got)
	}
	teacher.do("admit from the banner", chromedp.Click(tid("lobby-banner-admit")))
	for _, p := range []*person{jones, patel} {
		p.do("enter the room", chromedp.WaitVisible(tid("room")))
	}
	teacher.waitFor("the banner go", `document.querySelector('[data-testid="lobby-banner"]').hidden`)
	teacher.waitFor("the badge go", `document.querySelector('[data-testid="lobby-badge"]').hidden`)

	teacher.do("open the people panel", chromedp.Click(tid("people-toggle")))
	teacher.click("send Mrs Patel to the lobby", personRow("Mrs Patel")+`?.querySelector('[data-testid="send-to-lobby"]')`)
	patel.do("be back in the lobby", chromedp.WaitVisible(tid("lobby")))
	teacher.waitFor("see the banner", `!document.querySelector('[data-testid="lobby-banner"]').hidden`)
	if got := teacher.text(tid("lobby-banner-text")); got != "Mrs Patel is waiting in the lobby." {
		t.Errorf("banner says %q", got)
	}
	if eval[bool](teacher, `document.querySelector('[data-testid="people-panel"]').hidden`) {
		t.Errorf("the knock closed the panel the teacher was using")
	}
	if got := teacher.text(tid("lobby-badge")); got != "1" {
		t.Errorf("lobby badge says %q", got)
	}
	teacher.do("admit from the banner", chromedp.Click(tid("lobby-banner-admit")))
	patel.do("enter the room again", chromedp.WaitVisible(tid("room")))
	teacher.waitFor("the banner go", `document.querySelector('[data-testid="lobby-banner"]').hidden`)
}

// TestPrejoinChoices: a parent tests the speaker and joins with the
// microphone and camera off. Their room starts so (buttons, tracks), the
// teacher sees them muted with the camera off, and unmuting reaches the
// teacher too.
func TestPrejoinChoices(t *testing.T) {
	srv := startServer(t)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	mid, links := srv.seedMeeting(t, "smith@school.example", store.LobbyInviteesAdmitted, "Mr Jones")
	chromium := newChromium(t)

	teacher := newPerson(t, chromium, "teacher")
	teacher.login(srv, "smith@school.example", teacherPW)
	teacher.enterRoom(srv.URL + "/meetings/" + mid + "/room")

	jones := newPerson(t, chromium, "Mr Jones")
	jones.do("open the link", chromedp.Navigate(srv.URL+links[0]), chromedp.WaitEnabled(tid("join")))
	jones.waitFor("the camera start", `!document.querySelector('[data-testid="join-camera"]').disabled && !document.querySelector('[data-testid="join-mic"]').disabled`)
	jones.do("test the speaker", chromedp.Click(tid("test-speaker")))
	// The prompt comes when the tone's oscillator has ended: it played.
	jones.waitFor("hear the tone", `document.querySelector('[data-testid="speaker-status"]').textContent.includes('Did you hear a tone?')`)
	jones.do("choose microphone and camera off",
		chromedp.Click(tid("join-mic")),
		chromedp.Click(tid("join-camera")),
	)
	jones.waitFor("see the preview say so", `document.querySelector('#preview-placeholder').textContent === 'Your camera is off'`)
	jones.do("join", chromedp.Click(tid("join")), chromedp.WaitVisible(tid("room")))

	if got := jones.text(tid("toggle-mic")); got != "Unmute" {
		t.Errorf("microphone button says %q", got)
	}
	if got := jones.text(tid("toggle-camera")); got != "Start video" {
		t.Errorf("camera button says %q", got)
	}
	jones.waitFor("see their own tile muted, camera off", tile("Mr Jones (you)")+`?.querySelector('.tile-state').textContent === 'muted · camera off'`)
	if on := eval[bool](jones, `document.querySelector('#preview-video').srcObject.getTracks().some(t => t.enabled)`); on {
		t.Errorf("a track is enabled although the parent chose both off")
	}
	teacher.waitFor("see Mr Jones muted, camera off", tile("Mr Jones")+`?.querySelector('.tile-state').textContent === 'muted · camera off'`)

	jones.do("unmute", chromedp.Click(tid("toggle-mic")))
	teacher.waitFor("see Mr Jones unmuted", tile("Mr Jones")+`?.querySelector('.tile-state').textContent === 'camera off'`)
}

// TestPrejoinDevicesDenied: the browser refuses the camera and microphone
// (NotAllowedError). The pre-join page says so and how to go on; the parent
// joins to listen and watch, the teacher sees them muted with no camera,
// and they see the teacher. A parent whose camera alone is refused may
// join with the microphone.
func TestPrejoinDevicesDenied(t *testing.T) {
	srv := startServer(t)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	mid, links := srv.seedMeeting(t, "smith@school.example", store.LobbyInviteesAdmitted, "Mr Jones", "Mrs Patel")
	chromium := newChromium(t)

	teacher := newPerson(t, chromium, "teacher")
	teacher.login(srv, "smith@school.example", teacherPW)
	teacher.enterRoom(srv.URL + "/meetings/" + mid + "/room")

	jones := newPerson(t, chromium, "Mr Jones")
	jones.refuseDevices(`() => true`)
	jones.do("open the link", chromedp.Navigate(srv.URL+links[0]), chromedp.WaitVisible(tid("device-problem")))
	if got := jones.text(tid("device-problem-text")); !strings.Contains(got, "camera and microphone are blocked") || !strings.Contains(got, "listen and watch") {
		t.Errorf("the parent reads %q", got)
	}
	if !eval[bool](jones, `document.querySelector('[data-testid="join-mic"]').disabled && !document.querySelector('[data-testid="join-camera"]').checked`) {
		t.Errorf("the choices offer devices that are not there")
	}
	jones.do("join all the same", chromedp.Click(tid("join")), chromedp.WaitVisible(tid("room")))
	jones.waitFor("see the teacher's video", playing(remoteVideo("Ms Smith")))
	if got := jones.text(tid("toggle-mic")); got != "No microphone" {
		t.Errorf("microphone button says %q", got)
	}
	teacher.waitFor("see Mr Jones muted, camera off", tile("Mr Jones")+`?.querySelector('.tile-state').textContent === 'muted · camera off'`)

	patel := newPerson(t, chromium, "Mrs Patel")
	patel.refuseDevices(`(c) => !!c.video`)
	patel.do("open the link", chromedp.Navigate(srv.URL+links[1]), chromedp.WaitVisible(tid("device-problem")))
	if got := patel.text(tid("device-problem-text")); !strings.Contains(got, "camera is blocked") || !strings.Contains(got, "microphone only") {
		t.Errorf("the parent reads %q", got)
	}
	patel.waitFor("keep the microphone", `document.querySelector('[data-testid="join-mic"]').checked && document.querySelector('[data-testid="join-camera"]').disabled`)
}

// refuseDevices makes the person's browser refuse getUserMedia with NotAllowedError
// whenever refuse (a JavaScript function of the constraints) says so, from
// the next page loaded on.
func (p *person) refuseDevices(refuse string) {
	p.t.Helper()
	script := `(() => {
		const refuse = ` + refuse + `;
		const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
		navigator.mediaDevices.getUserMedia = (c) => refuse(c || {})
			? Promise.reject(new DOMException('Permission denied', 'NotAllowedError'))
			: real(c);
	})();`
	p.do("refuse devices", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
		return err
	}))
}
