package web

import (
	"net/http"

	"classmeet/internal/auth"
)

// renewFamilyLink gives a household a new booking link: the old one stops
// working at once.
func (h *handler) renewFamilyLink(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	id, err := pathID(r, "id")
	if err == nil {
		err = h.store.RenewHouseholdLink(r.Context(), id, auth.NewLinkNonce(), h.now())
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("booking link renewed", "household_id", id, "by", me.User.ID)
	redirect(w, r, "/admin/families/"+id.String()+"?renewed=1")
}
