package web

import (
	"net/http"
	"time"

	"classmeet/internal/auth"
	"classmeet/internal/store"
	"classmeet/templates"
)

// evenings lists the parents' evenings: all of them for an administrator,
// a teacher's own and those they take part in.
func (h *handler) evenings(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	var es []store.Evening
	var err error
	if auth.Can(me.User.Role, auth.ManageEvenings) {
		es, err = h.store.Evenings(r.Context())
	} else {
		es, err = h.store.EveningsOf(r.Context(), me.User.ID)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, templates.EveningListPage(page(r, "Parents' evenings"), templates.EveningListView{Evenings: es}))
}

// eveningZone is the zone an evening's times are shown in.
func eveningZone(e store.Evening) *time.Location {
	if loc, err := time.LoadLocation(e.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}
