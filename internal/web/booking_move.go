package web

import (
	"net/http"

	"classmeet/templates"
)

// moveForm is GET /b/{token}/appointments/{booking}/move: the other free
// times of the appointment's teacher that fit the household.
func (h *handler) moveForm(w http.ResponseWriter, r *http.Request) {
	h.renderMove(w, r, http.StatusOK, nil)
}

// moveAppointment is POST /b/{token}/appointments/{booking}/move (slot).
func (h *handler) moveAppointment(w http.ResponseWriter, r *http.Request) {
	form, err := readForm(w, r, "slot")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, d, fe, err := h.familyAppointment(r)
	if err == nil {
		_, err = h.move(r.Context(), d, fe, formID(form.Value("slot")), byFamily)
	}
	if bookingProblem(err) != "" {
		h.renderMove(w, r, bookingStatus(err), err)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, h.householdPath(f.Household)+"?done=moved#appointments")
}

// renderMove shows the move page, saying why the last move failed if it did.
func (h *handler) renderMove(w http.ResponseWriter, r *http.Request, status int, failed error) {
	f, d, fe, err := h.familyAppointment(r)
	if err == nil && !fe.Evening.BookingOpen(h.now()) {
		err = errBookingClosed
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	offered, err := h.offered(r.Context(), fe, d.TeacherID, d.StudentID, d.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	link := h.householdPath(f.Household)
	v := templates.MoveView{Back: link + "#appointments", Error: bookingProblemIn(failed, fe.Zone),
		Appointment: h.appointmentView(calendarEntry{Booking: d, Evening: fe.Evening, Zone: fe.Zone}, nil, link),
		Slots:       slotViews(offered, fe, r.URL.Path, d.StudentID)}
	h.render(w, r, status, templates.MovePage(page(r, "Change an appointment"), v))
}
