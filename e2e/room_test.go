package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// playing is true while the video element el (a JavaScript expression)
// shows frames that keep coming.
func playing(el string) string {
	return fmt.Sprintf(`(async () => {
		const v = %s;
		if (!v || v.videoWidth === 0 || v.readyState < 2) return false;
		const t = v.currentTime;
		await new Promise(r => setTimeout(r, 300));
		return v.currentTime > t;
	})()`, el)
}

// remoteVideo selects the camera video of the tile of the participant named name.
func remoteVideo(name string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('[data-testid="tile"]')].find(t => t.querySelector('.tile-name').textContent === %q)?.querySelector('video')`, name)
}

// TestMeetingRoom is a parents' meeting in three browsers: the teacher starts
// it, two parents knock, one is admitted and one turned away; teacher and
// parent see each other, the teacher shares a screen, then ends the meeting.
func TestMeetingRoom(t *testing.T) {
	srv := startServer(t)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	chromium := newChromium(t)

	teacher := newPerson(t, chromium, "teacher")
	teacher.login(srv, "smith@school.example", teacherPW)
	meetingURL, links := teacher.schedule("Reading progress", "Mr Jones", "Mrs Patel")

	if href := eval[string](teacher, `document.querySelector('[data-testid="start-meeting"]').href`); href != meetingURL+"/room" {
		t.Fatalf("the meeting page links to %q to start", href)
	}
	teacher.do("start the meeting",
		chromedp.Navigate(meetingURL+"/room"),
		chromedp.WaitEnabled(tid("join")),
		chromedp.Click(tid("join")),
		chromedp.WaitVisible(tid("room")),
	)

	jones := newPerson(t, chromium, "Mr Jones")
	patel := newPerson(t, chromium, "Mrs Patel")
	for i, p := range []*person{jones, patel} {
		p.do("join from the personal link",
			chromedp.Navigate(links[i]),
			chromedp.WaitEnabled(tid("join")),
			chromedp.Click(tid("join")),
			chromedp.WaitVisible(tid("lobby")),
		)
		p.waitFor("be told the host knows", `document.querySelector('[data-testid="lobby-status"]').textContent.includes('host has been told')`)
		if p.text(tid("recording-policy")) == "" {
			t.Errorf("%s: the lobby does not state the recording policy", p.name)
		}
	}
	teacher.waitFor("see both in the lobby", `document.querySelectorAll('[data-testid="lobby-entry"]').length === 2`)
	if badge := teacher.text(tid("lobby-badge")); badge != "2" {
		t.Errorf("lobby badge says %q", badge)
	}
	names := eval[[]string](teacher, `[...document.querySelectorAll('[data-testid="lobby-name"]')].map(e => e.textContent)`)
	if strings.Join(names, ",") != "Mr Jones,Mrs Patel" {
		t.Errorf("lobby lists %v", names)
	}

	admitted := time.Now()
	teacher.do("admit Mr Jones", chromedp.Click(chromedp.CSS(`[data-testid="lobby-entry"]:nth-child(1) [data-testid="admit"]`)))
	teacher.waitFor("Mr Jones leave the lobby", `document.querySelectorAll('[data-testid="lobby-entry"]').length === 1`)
	teacher.do("deny Mrs Patel with a message",
		chromedp.Click(chromedp.CSS(`[data-testid="lobby-entry"] [data-testid="deny"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="deny-message"]`), "Please book the 16:30 slot instead."),
		chromedp.Click(chromedp.CSS(`[data-testid="deny-confirm"]`)),
	)
	patel.do("see the refusal", chromedp.WaitVisible(tid("finished")))
	if got := patel.text(tid("finished-text")); got != "Please book the 16:30 slot instead." {
		t.Errorf("denied parent reads %q", got)
	}

	jones.do("enter the room", chromedp.WaitVisible(tid("room")))
	jones.waitFor("see the teacher's video", playing(remoteVideo("Ms Smith")))
	parentFrame := time.Since(admitted)
	teacher.waitFor("see Mr Jones's video", playing(remoteVideo("Mr Jones")))
	t.Logf("admit to first remote frame: parent %v, teacher %v", parentFrame.Round(time.Millisecond), time.Since(admitted).Round(time.Millisecond))
	if n := eval[int](teacher, `document.querySelectorAll('[data-testid="tile"]').length`); n != 2 {
		t.Errorf("teacher sees %d tiles, want 2", n)
	}
	teacher.waitFor("the lobby is empty", `document.querySelectorAll('[data-testid="lobby-entry"]').length === 0`)

	teacher.do("share the screen", chromedp.Click(tid("toggle-screen")))
	jones.waitFor("see the shared screen, large", `!document.querySelector('[data-testid="featured"]').hidden && `+playing(`document.querySelector('[data-testid="featured"] video')`))

	teacher.do("end the meeting",
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(tid("end-meeting")),
	)
	jones.do("see the meeting end", chromedp.WaitVisible(tid("finished")))
	if got := jones.text(tid("finished-title")); got != "The meeting has ended" {
		t.Errorf("parent reads %q", got)
	}
	teacher.do("see the meeting end", chromedp.WaitVisible(tid("finished")))
}
