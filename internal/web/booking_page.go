package web

import (
	"net/http"

	"classmeet/templates"
)

// bookingNotices are what the booking page says after a change.
var bookingNotices = map[string]string{
	"booked":    "Your appointment is booked. Your join links are below; a confirmation is on its way by email.",
	"moved":     "Your appointment has a new time. Your join links stay the same.",
	"cancelled": "Your appointment is cancelled.",
}

// bookingPage is GET /b/{token}: a household's evenings, children, their
// teachers and free times, and its appointments with their join links.
func (h *handler) bookingPage(w http.ResponseWriter, r *http.Request) {
	f, err := h.household(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := h.bookingView(r.Context(), f, pickOf(r.URL.Query()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.Notice = bookingNotices[r.URL.Query().Get("done")]
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusOK, templates.BookingPage(page(r, "Book appointments"), v))
}
