package web

import (
	"errors"
	"net/http"

	"classmeet/internal/store"
)

// household finds the family a booking link {token} belongs to. An unknown,
// forged, malformed or renewed link is errUnknownLink, the same for each;
// an address that opens too many of them waits (errTooManyGuesses). The
// family's own link never counts against its address.
func (h *handler) household(r *http.Request) (store.Family, error) {
	token := r.PathValue("token")
	f, err := h.familyOf(r, token)
	if !errors.Is(err, errUnknownLink) {
		return f, err
	}
	if _, ok := h.linkGuesses.Try(h.clientIP(r), h.now()); !ok {
		return store.Family{}, errTooManyGuesses
	}
	return store.Family{}, err
}

func (h *handler) familyOf(r *http.Request, token string) (store.Family, error) {
	id, err := h.bookings.InviteeOf(token)
	if err != nil {
		return store.Family{}, errUnknownLink
	}
	f, err := h.store.Family(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Family{}, errUnknownLink
	}
	if err != nil {
		return store.Family{}, err
	}
	if !h.bookings.Matches(token, f.Household.ID, f.Household.LinkNonce) {
		return store.Family{}, errUnknownLink
	}
	return f, nil
}
