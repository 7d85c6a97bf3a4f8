package web

import (
	"net/http"

	"classmeet/internal/auth"
)

// cancelEvening cancels an evening: its rooms are cancelled (people in them
// are told) and its unsent mail is withdrawn.
func (h *handler) cancelEvening(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	a, err := h.managedEvening(r, me)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rooms, err := h.store.CancelEvening(r.Context(), a.evening.ID, h.now())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, m := range rooms {
		h.hub.Cancelled(m)
	}
	h.log.Info("evening cancelled", "evening_id", a.evening.ID, "rooms", len(rooms))
	redirect(w, r, "/evenings/"+a.evening.ID.String())
}
