package web

import "classmeet/internal/store"

// householdPath is the path of a household's booking page, which is also
// where the family manages its appointments. (The staff pages' own helper
// for the full link may live beside it; this one is what the family's
// pages and mails need.)
func (h *handler) householdPath(hh store.Household) string {
	return "/b/" + h.bookings.Token(hh.ID, hh.LinkNonce)
}

// householdURL is the full booking link, for mails and calendar files.
func (h *handler) householdURL(hh store.Household) string {
	return h.cfg.PublicURL.String() + h.householdPath(hh)
}
