package web

import (
	"errors"
	"net/http"

	"github.com/google/uuid"

	"classmeet/internal/store"
	"classmeet/templates"
)

// bookAppointment is POST /b/{token}/book: a family books a slot for a
// child with a teacher. Losing a race, or a slot that does not fit, is
// answered with the page again saying why (and, after a race, the nearest
// free times).
func (h *handler) bookAppointment(w http.ResponseWriter, r *http.Request) {
	f, err := h.household(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	form, err := readForm(w, r, "evening", "student", "teacher", "slot")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := pick{formID(form.Value("evening")), formID(form.Value("student")), formID(form.Value("teacher"))}
	fe, slot, err := h.book(r.Context(), bookingRequest{Family: f, EveningID: p.Evening, StudentID: p.Student,
		TeacherID: p.Teacher, SlotID: formID(form.Value("slot")), By: byFamily})
	if err != nil {
		h.bookingRefused(w, r, f, fe, slot, p, err)
		return
	}
	redirect(w, r, h.householdPath(f.Household)+"?done=booked#appointments")
}

// bookingRefused shows the booking page again with why a booking failed;
// a slot taken meanwhile names its time and offers the nearest free ones
// that fit. Other failures are the usual error page.
func (h *handler) bookingRefused(w http.ResponseWriter, r *http.Request, f store.Family, fe familyEvening, slot store.Slot, p pick, err error) {
	msg := bookingProblemIn(err, fe.Zone)
	if msg == "" {
		h.fail(w, r, err)
		return
	}
	v, verr := h.bookingView(r.Context(), f, p)
	if verr != nil {
		h.fail(w, r, verr)
		return
	}
	v.Error = msg
	if errors.Is(err, store.ErrSlotTaken) {
		v.Error = "Someone booked " + slot.StartsAt.In(fe.Zone).Format("15:04") + " a moment ago. Please pick another time."
		offered, err := h.offered(r.Context(), fe, slot.TeacherID, p.Student, uuid.Nil)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		v.Nearest = slotViews(nearest(offered, slot.StartsAt, 3), fe, v.Link+"/book", p.Student)
		v.NearestNone = len(v.Nearest) == 0
	}
	h.render(w, r, bookingStatus(err), templates.BookingPage(page(r, "Book appointments"), v))
}

// formID reads an id from a form; anything malformed is Nil, which names nothing.
func formID(s string) uuid.UUID {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil
	}
	return id
}
