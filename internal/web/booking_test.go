package web_test

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"

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
