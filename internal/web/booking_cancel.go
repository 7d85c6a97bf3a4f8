package web

import (
	"net/http"

	"classmeet/internal/store"
)

// cancelAppointment is POST /b/{token}/appointments/{booking}/cancel.
func (h *handler) cancelAppointment(w http.ResponseWriter, r *http.Request) {
	f, d, fe, err := h.familyAppointment(r)
	if err == nil {
		err = h.cancel(r.Context(), d, fe, byFamily)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, h.householdPath(f.Household)+"?done=cancelled#appointments")
}

// familyAppointment is the household of the {token} link and its live
// appointment {booking}; another household's is not found.
func (h *handler) familyAppointment(r *http.Request) (store.Family, store.BookingDetail, familyEvening, error) {
	f, err := h.household(r)
	if err != nil {
		return store.Family{}, store.BookingDetail{}, familyEvening{}, err
	}
	id, err := pathID(r, "booking")
	if err != nil {
		return f, store.BookingDetail{}, familyEvening{}, err
	}
	d, fe, err := h.liveAppointment(r.Context(), &f, id)
	return f, d, fe, err
}
