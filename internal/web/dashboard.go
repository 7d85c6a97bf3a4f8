package web

import (
	"net/http"

	"classmeet/internal/auth"
	"classmeet/templates"
)

// dashboard lists the teacher's upcoming and recent meetings in their time
// zone, and their rooms on the parents' evenings to come.
func (h *handler) dashboard(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	now := h.now()
	upcoming, err := h.store.UpcomingMeetings(r.Context(), me.User.ID, now)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	past, err := h.store.PastMeetings(r.Context(), me.User.ID, now, 50)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	evenings, err := h.store.UpcomingEveningRooms(r.Context(), me.User.ID, now)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.DashboardView{Upcoming: upcoming, Past: past, Evenings: evenings, Zone: userZone(me)}
	h.render(w, r, http.StatusOK, templates.Dashboard(page(r, "Your meetings"), v))
}
