package web

import "classmeet/internal/store"

// householdPath is the path of a household's booking page, which is also
// where the family manages its appointments.
func (h *handler) householdPath(hh store.Household) string {
	return "/b/" + h.bookings.Token(hh.ID, hh.LinkNonce)
}

// householdURL is a household's absolute booking link: the one to send
// them, copy for them, or put in their mails and calendar files.
func (h *handler) householdURL(hh store.Household) string {
	return h.cfg.PublicURL.String() + h.householdPath(hh)
}
