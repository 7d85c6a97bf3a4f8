package web

import (
	"net/http"

	"classmeet/internal/auth"
)

// showNote is GET /evenings/{id}/appointments/{booking}/notes: the note as
// the room's notes box loads it (JSON), for the appointment's teacher or an
// administrator; to anyone else it does not exist. Never cached.
func (h *handler) showNote(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	b, err := h.noteBooking(r, me)
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	n, err := h.store.NoteOn(r.Context(), b.ID)
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"notes": n.Body})
}
