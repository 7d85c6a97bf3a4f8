package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"classmeet/internal/testclock"
)

// TestParentsEvening is a parents' evening from the school's CSV to the
// report, in a browser: an admin imports a family and creates an evening
// with two teachers and one-minute appointments; a parent books one with
// each teacher on a phone, opens the first link early and sees the
// countdown, is let in at the start, is moved out to the thank-you page at
// the end, and goes on to the second teacher, whose room admits them at
// once; the report shows both appointments held, with the times they
// actually began and ended.
func TestParentsEvening(t *testing.T) {
	t.Parallel() // mostly waiting for appointments to start and end, in real time
	// The evening starts at a whole minute, S; the server's clock reads
	// a minute and forty seconds before S when it starts: time enough to
	// set it all up, even on a busy machine.
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	s := testclock.Now().Truncate(time.Minute).Add(24 * time.Hour)
	for s.In(loc).Add(5*time.Minute).Day() != s.In(loc).Day() {
		s = s.Add(10 * time.Minute) // the form's evening ends on the day it starts
	}
	srv := startServerAt(t, s.Add(-100*time.Second).Sub(testclock.Now()))
	srv.addTeacher(t, "novak@school.example", "Ms Novak", teacherPW)
	srv.addTeacher(t, "okafor@school.example", "Mr Okafor", teacherPW)
	srv.addUser(t, "head@school.example", "Ann Head", "admin", teacherPW)
	chromium := newChromium(t)

	admin := newPerson(t, chromium, "admin")
	admin.login(srv, "head@school.example", teacherPW)
	admin.importFamilies(t, "student_id,student_name,class,guardian_name,guardian_email,guardian_phone,household,teachers\r\n"+
		"S1,Tom Smith,7B,Jo Smith,jo@home.example,,H1,novak@school.example;okafor@school.example\r\n")
	evening := admin.createEvening(srv, "Year 7 parents' evening", s.In(loc), 3)
	admin.do("open the invitations", chromedp.Navigate(evening+"/invite"), chromedp.WaitVisible(tid("booking-link")))
	bookingLink := eval[string](admin, `document.querySelector('[data-testid="booking-link"]').value`)

	parent := newPerson(t, chromium, "parent")
	parent.do("hold a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	parent.do("open the booking link", chromedp.Navigate(bookingLink), chromedp.WaitVisible(tid("pick-teacher")))
	parent.book("Ms Novak", s.In(loc))
	parent.book("Mr Okafor", s.Add(time.Minute).In(loc))
	links := eval[[]string](parent, `[...document.querySelectorAll('[data-testid="join-link"]')].map(i => i.value)`)
	if len(links) != 2 {
		t.Fatalf("the confirmation shows %d join links, want one per appointment", len(links))
	}

	novak := newPerson(t, chromium, "Ms Novak")
	okafor := newPerson(t, chromium, "Mr Okafor")
	for _, teacher := range []*person{novak, okafor} {
		email := map[*person]string{novak: "novak@school.example", okafor: "okafor@school.example"}[teacher]
		teacher.login(srv, email, teacherPW)
		teacher.do("find my room", chromedp.Navigate(evening), chromedp.WaitVisible(tid("open-room")))
		teacher.joinRoom(eval[string](teacher, `document.querySelector('[data-testid="open-room"]').href`))
		teacher.do("see the timetable", chromedp.WaitVisible(tid("timetable-panel")))
	}

	if left := s.Sub(srv.Now()); left < 10*time.Second {
		t.Fatalf("setting up took until %v before the first appointment: this machine is too slow for the test's timing", left)
	}
	parent.joinRoom(links[0])
	parent.waitFor("see the countdown in the lobby", `document.querySelector('[data-testid="appointment-countdown"]')?.textContent.includes('Your appointment with Ms Novak starts in')`)
	novak.waitFor("see the family waiting", `document.querySelector('[data-testid="timetable-waiting"]')?.textContent.includes('Jo Smith')`)

	parent.waitLong("be let in at the start", s.Sub(srv.Now())+30*time.Second, `!!document.querySelector('[data-testid="room"]:not([hidden])') && !document.querySelector('[data-testid="call-countdown"]').hidden`)
	if now := srv.Now(); now.Before(s) {
		t.Errorf("let in at %v, before the appointment's start %v", now.In(loc), s.In(loc))
	}
	novak.waitFor("see the notes box", `!document.querySelector('[data-testid="appointment-notes-text"]')?.disabled`)
	novak.do("write a note during the call",
		chromedp.SendKeys(tid("appointment-notes-text"), "Tom reads well; more maths practice."),
		chromedp.Click(tid("save-notes")))
	novak.waitFor("see the note saved", `document.querySelector('[data-testid="appointment-notes-status"]').textContent.startsWith('Saved')`)
	parent.waitLong("be moved to the thank-you page at the end", s.Add(time.Minute+5*time.Second).Sub(srv.Now())+30*time.Second, `!!document.querySelector('[data-testid="thanks"]')`)
	if href := eval[string](parent, `document.querySelector('[data-testid="follow-up"]')?.href ?? ""`); href != bookingLink {
		t.Errorf("the thank-you page offers a follow-up at %q, want the family's booking link", href)
	}

	parent.joinRoom(links[1])
	parent.waitLong("be let in by the second teacher's room", 60*time.Second, `!!document.querySelector('[data-testid="room"]:not([hidden])') && !document.querySelector('[data-testid="call-countdown"]').hidden`)
	okafor.waitFor("see the family in the call", `document.querySelector('[data-testid="timetable-current"]')?.textContent.includes('Jo Smith')`)
	parent.waitLong("be moved out at the end again", s.Add(2*time.Minute+5*time.Second).Sub(srv.Now())+30*time.Second, `!!document.querySelector('[data-testid="thanks"]')`)

	admin.do("open the report", chromedp.Navigate(evening+"/report"), chromedp.WaitVisible(tid("report")))
	outcomes := eval[[]string](admin, `[...document.querySelectorAll('[data-testid="report-outcome"]')].map(e => e.textContent.trim())`)
	actual := eval[[]string](admin, `[...document.querySelectorAll('[data-testid="report-actual"]')].map(e => e.textContent.replace(/\s+/g, ''))`)
	want := []string{s.In(loc).Format("15:04") + "–", s.Add(time.Minute).In(loc).Format("15:04") + "–"}
	if len(outcomes) != 2 || outcomes[0] != "held" || outcomes[1] != "held" || len(actual) != 2 ||
		!strings.HasPrefix(actual[0], want[0]) || !strings.HasPrefix(actual[1], want[1]) {
		t.Errorf("the report says %v, actual times %v; want both held, begun at %v", outcomes, actual, want)
	}
	if note := admin.text(tid("report-notes")); note != "Tom reads well; more maths practice." {
		t.Errorf("the report shows the note %q", note)
	}
}

// importFamilies uploads a CSV of families on the admin's families page.
func (p *person) importFamilies(t *testing.T, csv string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "families.csv")
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	p.do("import the families",
		chromedp.Navigate(eval[string](p, `location.origin`)+"/admin/families"),
		chromedp.WaitVisible(tid("import-form")),
		chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{path}),
		chromedp.Click(chromedp.CSS(`[data-testid="import-form"] button[type=submit]`)),
		chromedp.WaitVisible(tid("import-counts")),
	)
}

// createEvening fills in the evening form: every teacher, one-minute
// appointments for `minutes` from start, families may book from now until
// the start, five seconds' grace. It returns the evening's page.
func (p *person) createEvening(srv *server, name string, start time.Time, minutes int) string {
	p.t.Helper()
	opens := srv.Now().In(start.Location()).Add(-time.Hour)
	set := func(field, v string) chromedp.Action[chromedp.Void] {
		return chromedp.SetValue(chromedp.CSS("#f-"+field), v)
	}
	p.do("create the evening",
		chromedp.Navigate(srv.URL+"/evenings/new"),
		chromedp.WaitVisible(tid("evening-form")),
		set("name", name), set("date", start.Format("2006-01-02")), set("time_zone", start.Location().String()),
		set("start", start.Format("15:04")), set("end", start.Add(time.Duration(minutes)*time.Minute).Format("15:04")),
		set("slot_minutes", "1"), set("gap_minutes", "0"), set("travel_minutes", "0"), set("reminder_minutes", "0"),
		set("grace_seconds", "5"),
		set("booking_opens", opens.Format("2006-01-02T15:04")), set("booking_closes", start.Format("2006-01-02T15:04")),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('[data-testid="teacher-choice"]').forEach(c => {
			if (/Ms Novak|Mr Okafor/.test(c.textContent)) c.querySelector('input[name="teachers"]').checked = true;
		})`),
		chromedp.Click(tid("save-evening")),
		chromedp.WaitVisible(tid("evening-name")),
	)
	return eval[string](p, `location.origin + location.pathname`)
}

// book picks a teacher on the booking page and the free time at `at`.
func (p *person) book(teacher string, at time.Time) {
	p.t.Helper()
	p.navigateBy("see "+teacher+"'s free times", fmt.Sprintf(`[...document.querySelectorAll('[data-testid="teacher"]')].find(li => li.querySelector('[data-testid="teacher-name"]').textContent === %q)?.querySelector('[data-testid="pick-teacher"]')`, teacher),
		`!!document.querySelector('[data-testid="slot"]')`)
	p.navigateBy("book "+at.Format("15:04")+" with "+teacher, fmt.Sprintf(`[...document.querySelectorAll('[data-testid="slot"]')].find(b => b.textContent.includes(%q))`, at.Format("15:04")),
		fmt.Sprintf(`[...document.querySelectorAll('[data-testid="teacher-booked"]')].some(e => e.closest('[data-testid="teacher"]').textContent.includes(%q))`, teacher))
}

// navigateBy clicks what a JavaScript expression yields (a link, a form's
// button) and waits for the next page to satisfy predicate.
func (p *person) navigateBy(what, expr, predicate string) {
	p.t.Helper()
	p.click(what, expr)
	p.waitLong(what+": the next page", 20*time.Second, predicate)
}

// waitLong waits for a loaded page to satisfy predicate, across
// navigations (an evaluation while a page is replaced is only "not yet"),
// for as long as what happens at a time of day may take: within is how
// long until then, plus a margin.
func (p *person) waitLong(what string, within time.Duration, predicate string) {
	p.t.Helper()
	ok := testclock.Poll(within, func() bool {
		ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === 'complete' && (`+predicate+`)`))
		return err == nil && v
	})
	if !ok {
		loc, _ := chromedp.Run(p.ctx, chromedp.Location())
		p.t.Fatalf("%s: %s: not seen within %v (at %s): %s", p.name, what, within, loc, predicate)
	}
}
