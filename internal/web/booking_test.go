package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"classmeet/internal/auth"

	"github.com/PuerkitoBio/goquery"
	ics "github.com/arran4/golang-ical"
	"github.com/google/uuid"

	"classmeet/internal/icstest"
	"classmeet/internal/store"
)

// Fifty families race for ten slots through the booking form, each
// sending two bookings at once: exactly ten appointments exist afterwards,
// no slot and no family holds two, and every loser was told why — the time
// taken with the nearest free ones, or that the child is booked already.
func TestFiftyFamiliesRaceForTenSlots(t *testing.T) {
	s := newSchool(t, eveningRules{teachers: 1, slots: 10})
	teacher, slots := s.teachers[0], s.slots(t, s.teachers[0])
	type attempt struct {
		f     family
		child uuid.UUID
		slot  store.Slot
	}
	var attempts []attempt
	for i := range 50 {
		child := s.student(t, "Child "+string(rune('A'+i%26)), teacher)
		f := s.household(t, []string{"Parent " + uuid.NewString()[:8]}, child)
		attempts = append(attempts, attempt{f, child, slots[i%10]}, attempt{f, child, slots[(i+3)%10]})
	}
	pages := make([]page, len(attempts))
	var wg sync.WaitGroup
	for i, a := range attempts {
		wg.Go(func() { pages[i] = s.book(s.browser(), a.f, a.child, teacher, a.slot) })
	}
	wg.Wait()

	booked := s.bookings(t)
	if len(booked) != 10 {
		t.Fatalf("%d bookings, want 10", len(booked))
	}
	bySlot, byHousehold := map[uuid.UUID]int{}, map[uuid.UUID]int{}
	for _, b := range booked {
		bySlot[b.SlotID]++
		byHousehold[b.HouseholdID]++
	}
	for _, b := range booked {
		if bySlot[b.SlotID] != 1 || byHousehold[b.HouseholdID] != 1 {
			t.Errorf("slot %s held %d times, household %s booked %d times", b.SlotID, bySlot[b.SlotID], b.HouseholdID, byHousehold[b.HouseholdID])
		}
	}
	won, raced, already := 0, 0, 0
	for i, p := range pages {
		switch {
		case p.status == http.StatusSeeOther:
			won++
		case p.status != http.StatusConflict:
			t.Errorf("attempt %d: %d, want 303 or 409", i, p.status)
		case strings.Contains(p.text(tid("booking-error")), "Someone booked "+s.clockOf(attempts[i].slot)+" a moment ago"):
			raced++
			if p.doc.Find(tid("nearest-slot")).Length() == 0 && p.doc.Find(tid("nearest-none")).Length() == 0 {
				t.Errorf("attempt %d lost the race and was offered nothing nor told so", i)
			}
			p.doc.Find(tid("nearest-slot")).Each(func(_ int, sel *goquery.Selection) {
				if v, _ := sel.Attr("data-slot"); v == attempts[i].slot.ID.String() {
					t.Errorf("attempt %d: the slot just lost is offered again", i)
				}
			})
		case strings.Contains(p.text(tid("booking-error")), "already an appointment with this teacher"):
			already++
		default:
			t.Errorf("attempt %d: 409 without a clear reason: %q", i, p.text(tid("booking-error")))
		}
	}
	t.Logf("won %d, lost the race %d, already booked %d", won, raced, already)
	if won != 10 || won+raced+already != len(pages) {
		t.Errorf("won %d, lost the race %d, already booked %d of %d", won, raced, already, len(pages))
	}
}

// The page offers a family only times that fit its other appointments:
// never one that overlaps, nor one inside the travel gap before or after an
// appointment with another teacher; siblings' appointments with two
// teachers are offered back to back first. Booking around the page is
// refused with a clear message.
func TestOffersFitTheFamily(t *testing.T) {
	s := newSchool(t, eveningRules{teachers: 2, slots: 6, travel: 10})
	a, b := s.teachers[0], s.teachers[1]
	tom, amy := s.student(t, "Tom", a), s.student(t, "Amy", b)
	f := s.household(t, []string{"Jo Smith"}, tom, amy)
	br := s.browser()
	as, bs := s.slots(t, a), s.slots(t, b)
	if p := s.book(br, f, tom, a, as[2]); p.status != http.StatusSeeOther {
		t.Fatalf("book Tom: %d %s", p.status, p.text(tid("booking-error")))
	}

	p := br.get(f.link + "?evening=" + s.ev.ID.String() + "&student=" + amy.String() + "&teacher=" + b.ID.String())
	var offered []string
	p.doc.Find(tid("slot")).Each(func(_ int, sel *goquery.Selection) { offered = append(offered, strings.TrimSpace(sel.Text())) })
	label := func(sl store.Slot) string {
		return s.clockOf(sl) + "–" + sl.EndsAt.In(s.zone).Format("15:04")
	}
	// B's slot 2 overlaps, 1 and 3 leave no time to walk over; 0 and 4 are
	// back to back (with the travel gap) with Tom's, so they come first.
	want := []string{label(bs[0]), label(bs[4]), label(bs[5])}
	if !slices.Equal(offered, want) {
		t.Errorf("offered %q, want %q", offered, want)
	}

	for _, c := range []struct {
		slot store.Slot
		want string
	}{
		{bs[2], "overlaps your appointment at " + s.clockOf(as[2])},
		{bs[3], "too little time to get from your appointment at " + s.clockOf(as[2])},
		{bs[1], "too little time"},
	} {
		p := s.book(br, f, amy, b, c.slot)
		if p.status != http.StatusConflict || !strings.Contains(p.text(tid("booking-error")), c.want) {
			t.Errorf("booking %s: %d %q, want 409 saying %q", s.clockOf(c.slot), p.status, p.text(tid("booking-error")), c.want)
		}
	}
	if n := len(s.bookings(t)); n != 1 {
		t.Errorf("%d bookings after refused ones, want 1", n)
	}
	if p := s.book(br, f, amy, b, bs[4]); p.status != http.StatusSeeOther {
		t.Errorf("book Amy back to back: %d %s", p.status, p.text(tid("booking-error")))
	}
}

// A household's calendar file and the mails of a booking, a move and a
// cancellation, parsed back with golang-ical: one event per appointment
// with the booking's id as UID, times in the evening's zone, a SEQUENCE
// that grows with each change, the method each is for, CRLF line ends.
func TestCalendarAndMails(t *testing.T) {
	s := newSchool(t, eveningRules{teachers: 2, slots: 6})
	a, b := s.teachers[0], s.teachers[1]
	tom := s.student(t, "Tom", a, b)
	f := s.household(t, []string{"Jo Smith", "Sam Smith"}, tom)
	br := s.browser()
	as, bs := s.slots(t, a), s.slots(t, b)
	for _, c := range []struct {
		teacher store.User
		slot    store.Slot
	}{{a, as[0]}, {b, bs[2]}} {
		if p := s.book(br, f, tom, c.teacher, c.slot); p.status != http.StatusSeeOther {
			t.Fatalf("book: %d %s", p.status, p.text(tid("booking-error")))
		}
	}
	withA, withB := s.bookingWith(t, a), s.bookingWith(t, b)

	cal := s.calendar(t, br, f, "PUBLISH")
	s.checkEvent(t, cal, withA, as[0], "0", "CONFIRMED")
	s.checkEvent(t, cal, withB, bs[2], "0", "CONFIRMED")
	if n := len(cal.Events()); n != 2 {
		t.Errorf("%d events in the download, want 2", n)
	}
	for _, g := range f.guardians {
		m := s.mailTo(t, "confirmation", emailOf(g), withA.ID)
		s.checkEvent(t, s.attached(t, m, "REQUEST"), withA, as[0], "0", "CONFIRMED")
		if strings.Contains(m.Body, "Tom") && !strings.Contains(m.Body, "/j/") {
			t.Errorf("confirmation to %s has no join link", g)
		}
	}
	reminder := s.pendingMail(t, "reminder:"+withA.ID.String())
	if !reminder.SendAfter.Equal(as[0].StartsAt.Add(-60*time.Minute)) || reminder.ToAddr != emailOf("Jo Smith") {
		t.Errorf("reminder to %s at %v, want Jo at an hour before %v", reminder.ToAddr, reminder.SendAfter, as[0].StartsAt)
	}

	move := f.link + "/appointments/" + withA.ID.String() + "/move"
	if p := br.get(move); p.status != http.StatusOK || p.doc.Find(`[data-slot="`+as[4].ID.String()+`"]`).Length() != 1 {
		t.Fatalf("move page: %d, offers %d slots", p.status, p.doc.Find(tid("slot")).Length())
	}
	if p := br.post(move, url.Values{"slot": {as[4].ID.String()}}); p.status != http.StatusSeeOther {
		t.Fatalf("move: %d %s", p.status, p.text(tid("booking-error")))
	}
	cal = s.calendar(t, br, f, "PUBLISH")
	s.checkEvent(t, cal, withA, as[4], "1", "CONFIRMED")
	s.checkEvent(t, s.attached(t, s.mailTo(t, "change", emailOf("Sam Smith"), withA.ID), "REQUEST"), withA, as[4], "1", "CONFIRMED")
	if r := s.pendingMail(t, "reminder:"+withA.ID.String()); !r.SendAfter.Equal(as[4].StartsAt.Add(-60 * time.Minute)) {
		t.Errorf("reminder after the move at %v, want an hour before %v", r.SendAfter, as[4].StartsAt)
	}

	if p := br.post(f.link+"/appointments/"+withB.ID.String()+"/cancel", nil); p.status != http.StatusSeeOther {
		t.Fatalf("cancel: %d", p.status)
	}
	cancelled := s.attached(t, s.mailTo(t, "cancellation", emailOf("Jo Smith"), withB.ID), "CANCEL")
	s.checkEvent(t, cancelled, withB, bs[2], "1", "CANCELLED")
	if n := len(cancelled.Events()); n != 1 {
		t.Errorf("%d events in the cancellation, want 1", n)
	}
	for _, m := range s.mails(t) {
		if m.Kind == "reminder" && strings.HasSuffix(m.DedupeKey, withB.ID.String()) && !m.Cancelled {
			t.Errorf("reminder %s still pending after the cancellation", m.DedupeKey)
		}
	}
	if n := len(s.calendar(t, br, f, "PUBLISH").Events()); n != 1 {
		t.Errorf("%d events in the download after cancelling, want 1", n)
	}
}

func (s *school) bookingWith(t *testing.T, teacher store.User) store.BookingDetail {
	t.Helper()
	for _, b := range s.bookings(t) {
		if b.TeacherID == teacher.ID {
			return b
		}
	}
	t.Fatalf("no booking with %s", teacher.Name)
	return store.BookingDetail{}
}

// calendar downloads a family's calendar file and checks its method and
// that it conforms to RFC 5545.
func (s *school) calendar(t *testing.T, br *browser, f family, method string) *ics.Calendar {
	t.Helper()
	p := br.get(f.link + "/calendar.ics")
	if p.status != http.StatusOK || !strings.Contains(p.header.Get("Content-Type"), "method="+method) {
		t.Fatalf("calendar: %d %q", p.status, p.header.Get("Content-Type"))
	}
	return parseCalendar(t, []byte(p.body), method)
}

func parseCalendar(t *testing.T, b []byte, method string) *ics.Calendar {
	t.Helper()
	icstest.Check(t, b)
	cal, err := ics.ParseCalendar(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, b)
	}
	for _, p := range cal.CalendarProperties {
		if p.IANAToken == "METHOD" && p.Value != method {
			t.Errorf("METHOD %s, want %s", p.Value, method)
		}
	}
	return cal
}

// checkEvent finds a booking's event by UID and checks its time (local, with
// the evening's TZID), SEQUENCE and STATUS.
func (s *school) checkEvent(t *testing.T, cal *ics.Calendar, b store.BookingDetail, at store.Slot, seq, status string) {
	t.Helper()
	uid := b.ID.String() + "@" + s.cfg.PublicURL.Hostname()
	for _, ev := range cal.Events() {
		if ev.Id() != uid {
			continue
		}
		start := ev.GetProperty(ics.ComponentPropertyDtStart)
		if tz := start.ICalParameters["TZID"]; len(tz) != 1 || tz[0] != "Europe/London" || start.Value != at.StartsAt.In(s.zone).Format("20060102T150405") {
			t.Errorf("%s: DTSTART %v %s, want Europe/London %s", uid, tz, start.Value, at.StartsAt.In(s.zone).Format("20060102T150405"))
		}
		if end := ev.GetProperty(ics.ComponentPropertyDtEnd); end.Value != at.EndsAt.In(s.zone).Format("20060102T150405") {
			t.Errorf("%s: DTEND %s", uid, end.Value)
		}
		if got := ev.GetProperty(ics.ComponentPropertySequence).Value; got != seq {
			t.Errorf("%s: SEQUENCE %s, want %s", uid, got, seq)
		}
		if got := ev.GetProperty(ics.ComponentPropertyStatus).Value; got != status {
			t.Errorf("%s: STATUS %s, want %s", uid, got, status)
		}
		return
	}
	t.Errorf("no event with UID %s", uid)
}

// mailTo is the last queued mail of a kind to an address about a booking.
func (s *school) mailTo(t *testing.T, kind, addr string, booking uuid.UUID) queuedMail {
	t.Helper()
	var found *queuedMail
	for _, m := range s.mails(t) {
		if m.Kind == kind && m.ToAddr == addr && bytes.Contains(m.Attachment, []byte(booking.String())) {
			found = &m
		}
	}
	if found == nil {
		t.Fatalf("no %s mail to %s about %s", kind, addr, booking)
	}
	return *found
}

func (s *school) attached(t *testing.T, m queuedMail, method string) *ics.Calendar {
	t.Helper()
	if !strings.Contains(m.AttachmentType, "text/calendar") || !strings.Contains(m.AttachmentType, "method="+method) {
		t.Errorf("%s mail's attachment is %q", m.Kind, m.AttachmentType)
	}
	return parseCalendar(t, m.Attachment, method)
}

func (s *school) pendingMail(t *testing.T, key string) queuedMail {
	t.Helper()
	for _, m := range s.mails(t) {
		if m.DedupeKey == key && !m.Cancelled {
			return m
		}
	}
	t.Fatalf("no pending mail %s", key)
	return queuedMail{}
}

// Cancelling frees the slot for another family and stops the join links;
// the pre-join page of a live one says the time and when the teacher runs
// late, and the thank-you page leads back to the household's booking page.
func TestCancelFreesSlotAndJoinLinks(t *testing.T) {
	s := newSchool(t, eveningRules{teachers: 1, slots: 4})
	teacher, slots := s.teachers[0], s.slots(t, s.teachers[0])
	tom, ann := s.student(t, "Tom", teacher), s.student(t, "Ann", teacher)
	f, other := s.household(t, []string{"Jo Smith", "Sam Smith"}, tom), s.household(t, []string{"Kim Lee"}, ann)
	br := s.browser()
	if p := s.book(br, f, tom, teacher, slots[1]); p.status != http.StatusSeeOther {
		t.Fatalf("book: %d %s", p.status, p.text(tid("booking-error")))
	}
	p := br.get(f.link)
	links := p.doc.Find(tid("join-link"))
	if links.Length() != 2 {
		t.Fatalf("%d join links, want one per guardian", links.Length())
	}
	if got := p.doc.Find(`label[for]`).FilterFunction(func(_ int, sel *goquery.Selection) bool {
		return strings.HasPrefix(sel.Text(), "Join link for")
	}).First().Text(); !strings.Contains(got, "Jo Smith") {
		t.Errorf("the first join link is %q, want the first guardian's", got)
	}
	join, _ := links.First().Attr("value")
	join = strings.TrimPrefix(join, s.srv.URL)

	room := s.teacherRoom(t, teacher)
	if err := s.store.RunningLate(context.Background(), room, 10); err != nil {
		t.Fatal(err)
	}
	pre := br.get(join)
	if pre.status != http.StatusOK || !strings.Contains(pre.text(tid("prejoin-appointment")), s.clockOf(slots[1])) ||
		!strings.Contains(pre.text(tid("prejoin-late")), "10 minutes late") {
		t.Errorf("pre-join: %d %q %q", pre.status, pre.text(tid("prejoin-appointment")), pre.text(tid("prejoin-late")))
	}
	thanks := br.get(join + "/thanks")
	if thanks.status != http.StatusOK || thanks.attr(tid("follow-up"), "href") != f.link || !strings.Contains(thanks.text(tid("thanks")), teacher.Name) {
		t.Errorf("thanks: %d %q %q", thanks.status, thanks.text(tid("thanks")), thanks.attr(tid("follow-up"), "href"))
	}

	booking := s.bookings(t)[0]
	if p := br.post(f.link+"/appointments/"+booking.ID.String()+"/cancel", nil); p.status != http.StatusSeeOther {
		t.Fatalf("cancel: %d", p.status)
	}
	if p := br.get(join); p.status != http.StatusNotFound && p.status != http.StatusGone {
		t.Errorf("join link after cancelling: %d, want 404 or 410", p.status)
	}
	if p := s.book(br, other, ann, teacher, slots[1]); p.status != http.StatusSeeOther {
		t.Errorf("another family booking the freed slot: %d %s", p.status, p.text(tid("booking-error")))
	}
	if p := br.post(f.link+"/appointments/"+s.bookings(t)[0].ID.String()+"/cancel", nil); p.status != http.StatusNotFound {
		t.Errorf("cancelling another family's appointment: %d, want 404", p.status)
	}
	if n := len(s.bookings(t)); n != 1 {
		t.Errorf("%d bookings, want the other family's 1", n)
	}
}

func (s *school) teacherRoom(t *testing.T, teacher store.User) uuid.UUID {
	t.Helper()
	ts, err := s.store.EveningTeachers(context.Background(), s.ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range ts {
		if tc.TeacherID == teacher.ID {
			return tc.MeetingID
		}
	}
	t.Fatalf("no room for %s", teacher.Name)
	return uuid.Nil
}

// A renewed, unknown or malformed booking link is the same 404, and books
// nothing; outside the booking window the page says so and a booking is
// refused.
func TestBookingLinksAndWindow(t *testing.T) {
	s := newSchool(t, eveningRules{teachers: 1, slots: 4})
	teacher, slots := s.teachers[0], s.slots(t, s.teachers[0])
	tom := s.student(t, "Tom", teacher)
	f := s.household(t, []string{"Jo Smith"}, tom)
	br := s.browser()
	if p := br.get(f.link); p.status != http.StatusOK || p.doc.Find(tid("pick-teacher")).Length() != 1 {
		t.Fatalf("booking page: %d", p.status)
	}

	closed := s.ev.BookingClosesAt
	s.clock.Set(closed)
	p := br.get(f.link)
	if p.doc.Find(tid("pick-teacher")).Length() != 0 || !strings.Contains(p.text(tid("booking-window")), "Booking closed") {
		t.Errorf("after closing: %d pick links, window %q", p.doc.Find(tid("pick-teacher")).Length(), p.text(tid("booking-window")))
	}
	if p := s.book(br, f, tom, teacher, slots[0]); p.status != http.StatusForbidden {
		t.Errorf("booking after the window closed: %d, want 403", p.status)
	}
	s.clock.Set(s.ev.BookingOpensAt.Add(-time.Minute))
	if p := s.book(br, f, tom, teacher, slots[0]); p.status != http.StatusForbidden {
		t.Errorf("booking before the window opened: %d, want 403", p.status)
	}
	if !strings.Contains(br.get(f.link).text(tid("booking-window")), "Booking opens") {
		t.Error("before opening the page does not say when booking opens")
	}
	s.clock.Set(s.ev.BookingOpensAt)

	old := f.link
	if _, err := s.store.RenewHouseholdLink(context.Background(), f.id, []byte("renewed"), auth.NewLinkNonce, s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	unknown := s.household(t, []string{"Nobody"})
	s.exec(t, `DELETE FROM households WHERE id = $1`, unknown.id)
	want := br.get("/b/" + strings.Repeat("A", 43)).text(tid("message-heading"))
	forged := old[:len(old)-1] + "B"
	if forged == old {
		forged = old[:len(old)-1] + "C"
	}
	for _, link := range []string{old, unknown.link, "/b/not-a-token", forged} {
		if p := br.get(link); p.status != http.StatusNotFound || p.text(tid("message-heading")) != want {
			t.Errorf("GET %s: %d %q, want 404 %q", link, p.status, p.text(tid("message-heading")), want)
		}
	}
	if p := s.book(br, family{link: old}, tom, teacher, slots[0]); p.status != http.StatusNotFound {
		t.Errorf("booking from a renewed link: %d, want 404", p.status)
	}
	if n := len(s.bookings(t)); n != 0 {
		t.Errorf("%d bookings, want none", n)
	}
}

// Split households: each of a child's two homes books its own appointment
// and sees only its own; under the shared policy the second home cannot
// book the child with the same teacher again, and is told so.
func TestSplitHouseholds(t *testing.T) {
	for _, c := range []struct {
		split      string
		secondBook int // status of the second household's booking
	}{{"each_household", http.StatusSeeOther}, {"shared", http.StatusConflict}} {
		t.Run(c.split, func(t *testing.T) {
			s := newSchool(t, eveningRules{teachers: 1, slots: 4, split: c.split})
			teacher, slots := s.teachers[0], s.slots(t, s.teachers[0])
			tom := s.student(t, "Tom", teacher)
			mum, dad := s.household(t, []string{"Mum Smith"}, tom), s.household(t, []string{"Dad Jones"}, tom)
			br := s.browser()
			if p := s.book(br, mum, tom, teacher, slots[0]); p.status != http.StatusSeeOther {
				t.Fatalf("mum books: %d %s", p.status, p.text(tid("booking-error")))
			}
			p := s.book(br, dad, tom, teacher, slots[2])
			if p.status != c.secondBook {
				t.Fatalf("dad books: %d %s, want %d", p.status, p.text(tid("booking-error")), c.secondBook)
			}
			if c.secondBook == http.StatusConflict && !strings.Contains(p.text(tid("booking-error")), "already an appointment with this teacher for this child") {
				t.Errorf("dad is told %q", p.text(tid("booking-error")))
			}
			for _, who := range []struct {
				f       family
				own     string
				foreign string
			}{{mum, "Mum Smith", "Dad Jones"}, {dad, "Dad Jones", "Mum Smith"}} {
				page := br.get(who.f.link)
				if strings.Contains(page.body, who.foreign) || strings.Contains(page.body, emailOf(who.foreign)) {
					t.Errorf("%s's page shows the other household", who.own)
				}
				for _, b := range s.bookings(t) {
					shown := page.doc.Find(`[data-booking="`+b.ID.String()+`"]`).Length() == 1
					if mine := b.HouseholdID == who.f.id; shown != mine {
						t.Errorf("%s's page shows booking of household %s: %v", who.own, b.HouseholdID, shown)
					}
				}
			}
		})
	}
}

// Staff book on a family's behalf (booked by staff, the same mails), a
// teacher moves their own appointment but cannot touch another teacher's,
// an administrator cancels any.
func TestStaffBookMoveCancel(t *testing.T) {
	s := newSchool(t, eveningRules{teachers: 2, slots: 4})
	a, b := s.teachers[0], s.teachers[1]
	tom := s.student(t, "Tom", a, b)
	f := s.household(t, []string{"Jo Smith"}, tom)
	evening := "/evenings/" + s.ev.ID.String()
	admin, teacherA, teacherB := s.login(s.admin.Email), s.login(a.Email), s.login(b.Email)

	if p := teacherB.post(evening+"/bookings", url.Values{"household": {f.id.String()}, "student": {tom.String()}, "slot": {s.slots(t, a)[1].ID.String()}}); p.status != http.StatusForbidden {
		t.Errorf("teacher B booking with teacher A: %d, want 403", p.status)
	}
	p := admin.post(evening+"/bookings", url.Values{"household": {f.id.String()}, "student": {tom.String()}, "slot": {s.slots(t, a)[1].ID.String()}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != evening {
		t.Fatalf("admin books: %d %q %s", p.status, p.header.Get("Location"), p.text(tid("message-text")))
	}
	booked := s.bookings(t)
	if len(booked) != 1 || booked[0].BookedBy != "staff" || booked[0].SlotID != s.slots(t, a)[1].ID {
		t.Fatalf("bookings %+v", booked)
	}
	s.mailTo(t, "confirmation", emailOf("Jo Smith"), booked[0].ID)

	path := evening + "/bookings/" + booked[0].ID.String()
	if p := teacherB.post(path+"/cancel", nil); p.status != http.StatusForbidden {
		t.Errorf("teacher B cancelling teacher A's appointment: %d, want 403", p.status)
	}
	if p := teacherA.post(path+"/move", url.Values{"slot": {s.slots(t, b)[3].ID.String()}}); p.status != http.StatusNotFound {
		t.Errorf("moving to another teacher's slot: %d, want 404", p.status)
	}
	if p := teacherA.post(path+"/move", url.Values{"slot": {s.slots(t, a)[3].ID.String()}}); p.status != http.StatusSeeOther {
		t.Errorf("teacher A moving their own appointment: %d %s", p.status, p.text(tid("message-text")))
	}
	if got := s.bookings(t); len(got) != 1 || got[0].SlotID != s.slots(t, a)[3].ID || got[0].Sequence != 1 {
		t.Errorf("after the move: %+v", got)
	}
	if p := admin.post(path+"/cancel", nil); p.status != http.StatusSeeOther {
		t.Errorf("admin cancels: %d", p.status)
	}
	if n := len(s.bookings(t)); n != 0 {
		t.Errorf("%d bookings after cancelling, want 0", n)
	}
	s.mailTo(t, "cancellation", emailOf("Jo Smith"), booked[0].ID)
}

// An address that opens many unknown booking links is made to wait (429);
// a family's own link from the same address still opens.
func TestGuessingBookingLinksIsThrottled(t *testing.T) {
	s := newSchool(t, eveningRules{teachers: 1, slots: 2})
	f := s.household(t, []string{"Jo Smith"}, s.student(t, "Tom", s.teachers[0]))
	br := s.browser()
	statuses := map[int]int{}
	for i := range 30 {
		statuses[br.get("/b/"+strings.Repeat("A", 42)+string(rune('A'+i%26))).status]++
	}
	if statuses[http.StatusNotFound] == 0 || statuses[http.StatusTooManyRequests] == 0 || len(statuses) != 2 {
		t.Errorf("30 guesses answered %v, want 404s then 429s", statuses)
	}
	if p := br.get(f.link); p.status != http.StatusOK {
		t.Errorf("the family's own link after the guesses: %d", p.status)
	}
}

// An appointment that has begun is history: neither the family (whose
// window may stay open into the evening) nor staff can move or cancel it,
// so its record stays in the report and its call is not booked twice.
func TestBegunAppointmentCannotChange(t *testing.T) {
	s := newSchool(t, eveningRules{teachers: 1, slots: 4})
	teacher, slots := s.teachers[0], s.slots(t, s.teachers[0])
	tom := s.student(t, "Tom", teacher)
	f := s.household(t, []string{"Jo Smith"}, tom)
	br := s.browser()
	if p := s.book(br, f, tom, teacher, slots[0]); p.status != http.StatusSeeOther {
		t.Fatalf("book: %d %s", p.status, p.text(tid("booking-error")))
	}
	booking := s.bookings(t)[0]
	s.exec(t, `UPDATE evenings SET booking_closes_at = ends_at WHERE id = $1`, s.ev.ID)
	s.clock.Set(slots[0].StartsAt.Add(2 * time.Minute))
	admin := s.login(s.admin.Email)

	if p := br.get(f.link); p.doc.Find(tid("move")).Length() != 0 {
		t.Error("the booking page offers to move an appointment that has begun")
	}
	mine := f.link + "/appointments/" + booking.ID.String()
	if p := br.post(mine+"/move", url.Values{"slot": {slots[3].ID.String()}}); p.status != http.StatusConflict {
		t.Errorf("the family moving an appointment that has begun: %d, want 409", p.status)
	}
	if p := br.post(mine+"/cancel", nil); p.status != http.StatusConflict {
		t.Errorf("the family cancelling an appointment that has begun: %d, want 409", p.status)
	}
	staff := "/evenings/" + s.ev.ID.String() + "/bookings/" + booking.ID.String()
	if p := admin.post(staff+"/move", url.Values{"slot": {slots[3].ID.String()}}); p.status != http.StatusConflict {
		t.Errorf("staff moving an appointment that has begun: %d, want 409", p.status)
	}
	if p := admin.post(staff+"/cancel", nil); p.status != http.StatusConflict {
		t.Errorf("staff cancelling an appointment that has begun: %d, want 409", p.status)
	}
	if got := s.bookings(t); len(got) != 1 || got[0].SlotID != slots[0].ID || got[0].Sequence != 0 {
		t.Errorf("after the refused changes: %+v", got)
	}
}

// Renewing a household's booking link (it leaked) renews the join links
// its booking page showed: the old ones stop opening the appointment, the
// new ones work, and the reminder queued with the old link is written
// again with the new one.
func TestRenewingABookingLinkRenewsItsJoinLinks(t *testing.T) {
	s := newSchool(t, eveningRules{teachers: 1, slots: 4})
	teacher, slots := s.teachers[0], s.slots(t, s.teachers[0])
	tom := s.student(t, "Tom", teacher)
	f := s.household(t, []string{"Jo Smith"}, tom)
	br := s.browser()
	if p := s.book(br, f, tom, teacher, slots[1]); p.status != http.StatusSeeOther {
		t.Fatalf("book: %d %s", p.status, p.text(tid("booking-error")))
	}
	old := strings.TrimPrefix(br.get(f.link).attr(tid("join-link"), "value"), s.srv.URL)
	booking := s.bookings(t)[0]
	if r := s.pendingMail(t, "reminder:"+booking.ID.String()); !strings.Contains(r.Body, old) {
		t.Fatalf("the reminder does not carry the join link %s", old)
	}

	admin := s.login(s.admin.Email)
	if p := admin.post("/admin/families/"+f.id.String()+"/renew-link", nil); p.status != http.StatusSeeOther {
		t.Fatalf("renew: %d", p.status)
	}
	if p := br.get(old); p.status != http.StatusNotFound && p.status != http.StatusGone {
		t.Errorf("the old join link after renewing: %d, want 404 or 410", p.status)
	}
	if p := br.get(old + "/thanks"); p.status == http.StatusOK {
		t.Error("the old join link still opens the thank-you page (and the new booking link)")
	}
	h, err := s.store.Household(context.Background(), f.id)
	if err != nil {
		t.Fatal(err)
	}
	fresh := "/b/" + auth.NewBookingLinks(s.cfg.Secret).Token(f.id, h.LinkNonce)
	renewed := strings.TrimPrefix(br.get(fresh).attr(tid("join-link"), "value"), s.srv.URL)
	if renewed == "" || renewed == old {
		t.Fatalf("the new booking page shows the join link %q (old %q)", renewed, old)
	}
	if p := br.get(renewed); p.status != http.StatusOK {
		t.Errorf("the new join link: %d", p.status)
	}
	r := s.pendingMail(t, "reminder:"+booking.ID.String())
	if !strings.Contains(r.Body, renewed) || strings.Contains(r.Body, old) || !strings.Contains(r.Body, fresh) {
		t.Errorf("the reminder after renewing carries the old links:\n%s", r.Body)
	}
}
