package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

// screenSizes are a phone's, a laptop's and a classroom projector's.
var screenSizes = [][2]int64{{390, 844}, {1280, 800}, {1920, 1080}}

// screenshots writes the pictures of the main pages that README.md shows.
type screenshots struct {
	t   *testing.T
	dir string
}

// shoot photographs the person's page at each size as
// <dir>/<page>-<w>x<h>.png; ready is a JavaScript predicate the page
// must satisfy at each size first ("" for none).
func (s *screenshots) shoot(p *person, page, ready string) {
	s.t.Helper()
	for _, size := range screenSizes {
		w, h := size[0], size[1]
		p.do("resize the window", chromedp.EmulateViewport(w, h, chromedp.EmulateScale(1)))
		// Two frames: the layout the new size asks for is drawn.
		eval[bool](p, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`)
		if ready != "" {
			p.waitFor(page+" ready", ready)
		}
		ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
		raw, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		cancel()
		if err != nil {
			s.t.Fatalf("%s: screenshot of %s: %v", p.name, page, err)
		}
		s.write(fmt.Sprintf("%s-%dx%d.png", page, w, h), raw)
	}
}

// write stores a PNG recompressed at the best compression: the pages are
// mostly flat colour, so they shrink a lot.
func (s *screenshots) write(name string, raw []byte) {
	s.t.Helper()
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		s.t.Fatalf("%s: %v", name, err)
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img); err != nil {
		s.t.Fatalf("%s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, name), buf.Bytes(), 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("%s: %d KiB", name, buf.Len()/1024)
}

// TestScreenshots photographs the main pages at a phone's, a laptop's and a
// projector's size for README.md: `make screenshots` runs it with
// CLASSMEET_SCREENSHOTS set to the folder; other runs skip it.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("CLASSMEET_SCREENSHOTS")
	if dir == "" {
		t.Skip("CLASSMEET_SCREENSHOTS is not set (make screenshots sets it)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &screenshots{t: t, dir: dir}
	srv := startServer(t)
	srv.addUser(t, "head@school.example", "Ann Head", "admin", teacherPW)
	srv.addTeacher(t, "novak@school.example", "Ms Novak", teacherPW)
	srv.addTeacher(t, "okafor@school.example", "Mr Okafor", teacherPW)
	now := testclock.Now()
	mid, links := srv.seedMeetingPlan(t, "novak@school.example", store.MeetingPlan{
		Title: "Year 7 reading catch-up", StartsAt: now, DurationMinutes: 45, TimeZone: "Europe/London",
		LobbyPolicy: store.LobbyInviteesAdmitted, RecordingPolicy: store.RecordingHostMayRecord,
	}, "Jo Smith", "Sam Patel")
	for i, title := range []string{"Maths support: fractions", "Year 8 science club"} {
		srv.seedMeetingPlan(t, "novak@school.example", store.MeetingPlan{
			Title: title, StartsAt: now.Add(time.Duration(i+1) * 26 * time.Hour).Truncate(time.Hour), DurationMinutes: 30,
			TimeZone: "Europe/London", LobbyPolicy: store.LobbyEveryoneWaits, RecordingPolicy: store.RecordingNotAllowed,
		}, "Alex Brown")
	}
	chromium := newChromium(t)

	teacher := newPerson(t, chromium, "Ms Novak")
	teacher.do("open the sign-in page", chromedp.Navigate(srv.URL+"/login"), chromedp.WaitVisible(tid("login-form")))
	s.shoot(teacher, "sign-in", "")
	teacher.login(srv, "novak@school.example", teacherPW)
	s.shoot(teacher, "meetings", "")
	teacher.do("open the meeting form", chromedp.Navigate(srv.URL+"/meetings/new"), chromedp.WaitVisible(tid("meeting-form")))
	s.shoot(teacher, "schedule", "")

	camera := `!document.querySelector('[data-testid="join-camera"]').disabled && document.querySelector('#preview-placeholder').hidden`
	jo := newPerson(t, chromium, "Jo Smith")
	jo.do("open the pre-join page", chromedp.Navigate(srv.URL+links[0]), chromedp.WaitEnabled(tid("join")))
	s.shoot(jo, "prejoin", camera)

	teacher.enterRoom(srv.URL + "/meetings/" + mid + "/room")
	jo.do("join", chromedp.Click(tid("join")), chromedp.WaitVisible(tid("room")))
	sam := newPerson(t, chromium, "Sam Patel")
	sam.enterRoom(srv.URL + links[1])
	three := playing(remoteVideo("Jo Smith")) + ` && ` + playing(remoteVideo("Sam Patel"))
	teacher.waitFor("see both parents", three)
	s.shoot(teacher, "room-gallery", three)

	teacher.do("open the chat", chromedp.Click(tid("chat-toggle")), chromedp.WaitVisible(tid("chat-text")))
	teacher.do("say hello", chromedp.SendKeys(tid("chat-text"), "Welcome, both! We'll start with Tom's reading diary."), chromedp.Click(tid("chat-send")))
	jo.do("open the chat", chromedp.Click(tid("chat-toggle")), chromedp.WaitVisible(tid("chat-text")))
	jo.do("answer", chromedp.SendKeys(tid("chat-text"), "Thank you, we have it here."), chromedp.Click(tid("chat-send")))
	teacher.waitFor("see the answer", `document.querySelectorAll('[data-testid="chat-message"]').length === 2`)
	s.shoot(teacher, "room-chat", "")
	teacher.do("close the chat", chromedp.Click(tid("chat-toggle")))
	jo.do("close the chat", chromedp.Click(tid("chat-toggle")))

	// Recorded while the screen is shared, for the recordings page.
	teacher.do("record", chromedp.Click(tid("toggle-recording")))
	for _, p := range []*person{jo, sam} {
		p.waitFor("be asked", `!document.querySelector('[data-testid="consent-dialog"]').hidden`)
		p.do("agree", chromedp.Click(tid("consent-accept")))
	}
	teacher.do("share the screen", chromedp.Click(tid("toggle-screen")))
	jo.waitFor("see the shared screen", `document.querySelector('[data-testid="screen-video"]') !== null`)
	s.shoot(jo, "room-share", playing(`document.querySelector('[data-testid="screen-video"]')`))
	teacher.do("stop recording",
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(tid("toggle-recording")))
	jo.waitFor("see REC go", `document.querySelector('[data-testid="rec-indicator"]').hidden`)
	teacher.do("open the recordings", chromedp.Navigate(srv.URL+"/meetings/"+mid+"/recordings"), chromedp.WaitVisible(tid("recording")))
	testclock.WaitFor(t, "the recording to be available", 60*time.Second, func() bool {
		if teacher.text(tid("recording-state")) == "available" {
			return true
		}
		teacher.do("reload", chromedp.Reload(), chromedp.WaitVisible(tid("recording")))
		return false
	})
	s.shoot(teacher, "recordings", "")

	admin := newPerson(t, chromium, "admin")
	admin.login(srv, "head@school.example", teacherPW)
	admin.importFamilies(t, "student_id,student_name,class,guardian_name,guardian_email,guardian_phone,household,teachers\r\n"+
		"S1,Tom Smith,7B,Jo Smith,jo@home.example,,H1,novak@school.example;okafor@school.example\r\n")
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	day := now.In(loc).AddDate(0, 0, 2)
	evening := admin.createEvening(srv, "Year 7 parents' evening", time.Date(day.Year(), day.Month(), day.Day(), 18, 0, 0, 0, loc), 30)
	admin.do("open the invitations", chromedp.Navigate(evening+"/invite"), chromedp.WaitVisible(tid("booking-link")))
	booking := eval[string](admin, `document.querySelector('[data-testid="booking-link"]').value`)
	parent := newPerson(t, chromium, "parent")
	parent.do("open the booking link", chromedp.Navigate(booking), chromedp.WaitVisible(tid("pick-teacher")))
	s.shoot(parent, "booking", "")
}
