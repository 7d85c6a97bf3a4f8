package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"classmeet/internal/testclock"
)

const (
	adminPW   = "administrator password"
	teacherPW = "teacher password 123"
)

// TestFoundation walks the first day of a school on classmeet: the first
// administrator sets it up, adds a teacher; the teacher schedules a meeting
// with two parents and shares a link; a parent opens it and sees themselves.
func TestFoundation(t *testing.T) {
	srv := startServer(t)
	if srv.SetupURL == "" {
		t.Fatalf("no setup link printed:\n%s", srv.Output())
	}
	chromium := newChromium(t)

	admin := newPerson(t, chromium, "admin")
	admin.do("set up the first administrator",
		chromedp.Navigate(srv.SetupURL),
		chromedp.WaitVisible(tid("setup-form")),
		chromedp.SetValue(chromedp.CSS("#f-name"), "Head Teacher"),
		chromedp.SetValue(chromedp.CSS("#f-email"), "head@school.example"),
		chromedp.SetValue(chromedp.CSS("#f-password"), adminPW),
		chromedp.SetValue(chromedp.CSS("#f-password_confirm"), adminPW),
		chromedp.Click(chromedp.CSS(`[data-testid="setup-form"] button[type=submit]`)),
		chromedp.WaitVisible(tid("new-user-form")),
	)
	if zone := eval[string](admin, `document.querySelector('[data-testid="user-row"] td:nth-child(3)') && Intl.DateTimeFormat().resolvedOptions().timeZone`); zone == "" {
		t.Error("the browser's time zone was not offered")
	}
	admin.do("add a teacher",
		chromedp.SetValue(chromedp.CSS("#f-name"), "Ms Smith"),
		chromedp.SetValue(chromedp.CSS("#f-email"), "smith@school.example"),
		chromedp.SetValue(chromedp.CSS("#f-password"), teacherPW),
		chromedp.Click(chromedp.CSS(`[data-testid="new-user-form"] button[type=submit]`)),
		chromedp.WaitVisible(tid("notice")),
	)
	if n := eval[int](admin, `document.querySelectorAll('[data-testid="user-row"]').length`); n != 2 {
		t.Fatalf("%d accounts listed, want 2", n)
	}
	admin.do("log out", chromedp.Click(tid("logout")), chromedp.WaitVisible(tid("login-form")))

	teacher := newPerson(t, chromium, "teacher")
	teacher.do("log in",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(tid("login-form")),
		chromedp.SetValue(chromedp.CSS("#f-email"), "smith@school.example"),
		chromedp.SetValue(chromedp.CSS("#f-password"), teacherPW),
		chromedp.Click(chromedp.CSS(`[data-testid="login-form"] button[type=submit]`)),
		chromedp.WaitVisible(tid("new-meeting")),
	)
	day := testclock.Now().AddDate(0, 0, 3).Format("2006-01-02")
	teacher.do("schedule a meeting",
		chromedp.Click(tid("new-meeting")),
		chromedp.WaitVisible(tid("meeting-form")),
		chromedp.SetValue(chromedp.CSS("#f-title"), "Year 7 parents' evening"),
		chromedp.SetValue(chromedp.CSS("#f-date"), day),
		chromedp.SetValue(chromedp.CSS("#f-time"), "16:30"),
		chromedp.SetValue(chromedp.CSS("#f-duration"), "15"),
		chromedp.Click(chromedp.CSS(`input[name=recording_policy][value=host_may_record]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="meeting-form"] button[type=submit]`)),
		chromedp.WaitVisible(tid("meeting-title")),
	)
	for _, name := range []string{"Mr Jones", "Mrs Patel"} {
		teacher.do("invite "+name,
			chromedp.SetValue(chromedp.CSS("#f-name"), name),
			chromedp.SetValue(chromedp.CSS("#f-child_name"), "Sam"),
			chromedp.Click(chromedp.CSS(`[data-testid="invitee-form"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-testid="invitee"]:nth-child(%d)`, map[string]int{"Mr Jones": 1, "Mrs Patel": 2}[name]))),
		)
	}
	meetingURL := eval[string](teacher, `location.origin + location.pathname`)
	link := eval[string](teacher, `document.querySelector('[data-testid="invitee-link"]').value`)
	if !strings.HasPrefix(link, srv.URL+"/j/") {
		t.Fatalf("copied link %q", link)
	}
	if copyShown := eval[bool](teacher, `!document.querySelector('button[data-copy]').hidden`); !copyShown {
		t.Error("the Copy button is not shown")
	}

	parent := newPerson(t, chromium, "parent")
	parent.do("open the personal link", chromedp.Navigate(link), chromedp.WaitVisible(tid("prejoin-title")))
	if got := parent.text(tid("prejoin-title")); got != "Year 7 parents' evening" {
		t.Errorf("pre-join title %q", got)
	}
	if got := eval[string](parent, `document.querySelector('[data-testid="display-name"]').value`); got != "Mr Jones" {
		t.Errorf("display name pre-filled with %q", got)
	}
	if got := parent.text(tid("recording-policy")); !strings.Contains(got, "may record") {
		t.Errorf("recording policy says %q", got)
	}
	parent.waitFor("see their camera", `(() => { const v = document.querySelector('[data-testid="preview"]'); return v.videoWidth > 0 && !v.paused && v.currentTime > 0.3; })()`)
	parent.waitFor("see the microphone meter move", `Number(document.querySelector('[data-testid="mic-level"]').getAttribute('aria-valuenow')) > 0`)
	if n := eval[int](parent, `document.querySelectorAll('#camera option').length`); n < 1 {
		t.Error("no camera to choose from")
	}
	if at := parent.text(tid("prejoin-time")); !strings.Contains(at, "4:30") && !strings.Contains(at, "16:30") {
		t.Errorf("local time shown as %q", at)
	}

	// A form on another site must not act for the signed-in teacher.
	cancelPath := strings.TrimPrefix(meetingURL, srv.URL) + "/cancel"
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<form id="f" method="post" action="%s%s"></form><script>document.getElementById('f').submit()</script>`, srv.URL, cancelPath)
	}))
	defer evil.Close()
	teacher.do("visit a hostile page", chromedp.Navigate(evil.URL), chromedp.WaitVisible(tid("message-text")))
	if got := teacher.text(tid("message-text")); !strings.Contains(got, "another website") {
		t.Errorf("cross-origin post answered %q", got)
	}
	teacher.do("back to the meeting", chromedp.Navigate(meetingURL), chromedp.WaitVisible(tid("meeting-title")))
	if cancelled := eval[bool](teacher, `!!document.querySelector('[data-testid="cancelled"]')`); cancelled {
		t.Fatal("the hostile page cancelled the meeting")
	}

	teacher.do("withdraw Mr Jones's link",
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(tid("revoke-link")),
		chromedp.WaitVisible(tid("link-revoked")),
	)
	parent.do("open the withdrawn link", chromedp.Navigate(link), chromedp.WaitVisible(tid("message-heading")))
	if got := parent.text(tid("message-heading")); got != "This link is no longer valid" {
		t.Errorf("withdrawn link says %q", got)
	}

	teacher.do("log out", chromedp.Click(tid("logout")), chromedp.WaitVisible(tid("login-form")))
	teacher.do("try the dashboard again", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(tid("login-form")))
}
