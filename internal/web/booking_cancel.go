package web

import "net/http"

// cancelAppointment is POST /b/{token}/appointments/{booking}/cancel.
func (h *handler) cancelAppointment(w http.ResponseWriter, r *http.Request) {
	f, err := h.household(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id, err := pathID(r, "booking")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d, fe, err := h.liveAppointment(r.Context(), &f, id)
	if err == nil {
		err = h.cancel(r.Context(), d, fe, byFamily)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, h.householdPath(f.Household)+"?done=cancelled#appointments")
}
