package web

import "classmeet/internal/store"

// bookingURL is a household's absolute personal booking link: the one to
// send them, copy for them, or put in their mails.
func (h *handler) bookingURL(household store.Household) string {
	return h.cfg.PublicURL.String() + "/b/" + h.bookings.Token(household.ID, household.LinkNonce)
}
