package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

// controls are the elements a person can press or type into.
const controls = `a[href], button, input:not([type=hidden]), select, textarea`

// unreachableAfterScroll lists the visible controls that stay outside the
// window or covered even when focused and scrolled to (the page may
// scroll; a control cut off at the side or hidden under another box may
// not).
const unreachableAfterScroll = `(sel => {
	const bad = [];
	for (const el of document.querySelectorAll(sel)) {
		if (el.disabled || el.getClientRects().length === 0 || getComputedStyle(el).visibility !== 'visible') continue;
		el.focus(); // a skip link shows only when focused
		el.scrollIntoView({block: 'center', inline: 'center'});
		const r = el.getBoundingClientRect();
		const name = (el.dataset.testid || el.id || el.getAttribute('aria-label') || el.textContent || el.tagName).trim().slice(0, 40);
		if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) {
			bad.push(name + ' is outside the ' + innerWidth + 'x' + innerHeight + ' window at ' + [r.left, r.top, r.right, r.bottom].map(Math.round).join(','));
			continue;
		}
		const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		if (!hit || !el.contains(hit)) bad.push(name + ' is covered by ' + (hit ? hit.outerHTML.slice(0, 80) : 'nothing'));
	}
	document.activeElement.blur();
	scrollTo(0, 0);
	return bad;
})`

// TestEveningPrejoinOnAPhone: a parent opens their appointment's join link
// on a 390x844 phone, with a teacher whose long name wraps and who is
// running late (the page's tallest state: the appointment, the teacher,
// the delay, the recording notice). The Join button is on
// the first screen without scrolling, the page is no wider than the phone,
// and every control on it can be reached and pressed.
func TestEveningPrejoinOnAPhone(t *testing.T) {
	srv := startServer(t)
	srv.addUser(t, "head@school.example", "Ann Head", "admin", teacherPW)
	// A long name, as some are: the appointment's line wraps on a phone.
	const teacher = "Ms Novak-Łukasiewicz (Head of Year 7)"
	srv.addTeacher(t, "novak@school.example", teacher, teacherPW)
	srv.addTeacher(t, "okafor@school.example", "Mr Okafor", teacherPW)
	chromium := newChromium(t)

	admin := newPerson(t, chromium, "admin")
	admin.login(srv, "head@school.example", teacherPW)
	admin.importFamilies(t, "student_id,student_name,class,guardian_name,guardian_email,guardian_phone,household,teachers\r\n"+
		"S1,Tom Smith,7B,Jo Smith,jo@home.example,,H1,novak@school.example;okafor@school.example\r\n")
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	day := testclock.Now().In(loc).AddDate(0, 0, 2)
	start := time.Date(day.Year(), day.Month(), day.Day(), 18, 0, 0, 0, loc)
	evening := admin.createEvening(srv, "Year 7 parents' evening", start, 3)
	admin.do("open the invitations", chromedp.Navigate(evening+"/invite"), chromedp.WaitVisible(tid("booking-link")))
	bookingLink := eval[string](admin, `document.querySelector('[data-testid="booking-link"]').value`)

	parent := newPerson(t, chromium, "parent")
	parent.do("hold a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	parent.do("open the booking link", chromedp.Navigate(bookingLink), chromedp.WaitVisible(tid("pick-teacher")))
	parent.book(teacher, start)
	links := eval[[]string](parent, `[...document.querySelectorAll('[data-testid="join-link"]')].map(i => i.value)`)
	if len(links) != 1 {
		t.Fatalf("the confirmation shows %d join links, want 1", len(links))
	}

	novak := newPerson(t, chromium, "teacher")
	novak.login(srv, "novak@school.example", teacherPW)
	novak.do("find my room", chromedp.Navigate(evening), chromedp.WaitVisible(tid("open-room")))
	room := eval[string](novak, `document.querySelector('[data-testid="open-room"]').href`)
	srv.runningLate(t, room, 10)

	parent.do("open the join link", chromedp.Navigate(links[0]), chromedp.WaitEnabled(tid("join")))
	parent.waitFor("the camera start", `!document.querySelector('[data-testid="join-camera"]').disabled && document.querySelector('#preview-placeholder').hidden`)
	if parent.text(tid("prejoin-appointment")) == "" || parent.text(tid("prejoin-late")) == "" {
		t.Errorf("the pre-join page does not show the appointment and that the teacher is running late")
	}
	if y := eval[float64](parent, `scrollY`); y != 0 {
		t.Errorf("the pre-join page opened scrolled to %v", y)
	}
	parent.mustReach("evening pre-join on a phone, first screen", `[data-testid="join"]`)
	t.Logf("Join's bottom edge at %.0f px of 844", eval[float64](parent, `document.querySelector('[data-testid="join"]').getBoundingClientRect().bottom`))
	if w := eval[float64](parent, `document.scrollingElement.scrollWidth`); w > 390 {
		t.Errorf("the pre-join page is %v px wide on a 390 px phone", w)
	}
	for _, problem := range eval[[]string](parent, unreachableAfterScroll+"("+jsString(controls)+")") {
		t.Errorf("evening pre-join on a phone: %s", problem)
	}
	parent.do("join", chromedp.Click(tid("join")), chromedp.WaitVisible(tid("lobby")))
}

// runningLate says, as the teacher's timetable does, that the room at
// roomURL (/meetings/{id}/room) runs minutes late.
func (s *server) runningLate(t *testing.T, roomURL string, minutes int) {
	t.Helper()
	id, err := uuid.Parse(strings.TrimSuffix(roomURL[strings.Index(roomURL, "/meetings/")+len("/meetings/"):], "/room"))
	if err != nil {
		t.Fatalf("room %q: %v", roomURL, err)
	}
	st, err := store.Open(context.Background(), s.DB, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.RunningLate(context.Background(), id, minutes); err != nil {
		t.Fatal(err)
	}
}
