package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/store"
)

// renewFamilyLink gives a household a new booking link, and new join links
// for its appointments to come (its booking page showed them): the old ones
// stop working at once, whoever came in through them leaves the live
// rooms, and the reminders queued with the old links are written again.
func (h *handler) renewFamilyLink(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	id, err := pathID(r, "id")
	var renewed []store.Invitee
	if err == nil {
		renewed, err = h.store.RenewHouseholdLink(r.Context(), id, auth.NewLinkNonce(), auth.NewLinkNonce, h.now())
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, inv := range renewed {
		h.hub.WithdrawLink(inv.MeetingID, inv.ID)
	}
	h.requeueReminders(r.Context(), id, renewed)
	h.log.Info("booking link renewed", "household_id", id, "join_links", len(renewed), "by", me.User.ID)
	h.auditFamily(r, me, id, "renewed booking link")
	redirect(w, r, "/admin/families/"+id.String()+"?renewed=1")
}

// requeueReminders writes a household's pending reminders again with its
// new links (each replaces the old one by its key). The links are renewed
// whatever happens here; a reminder that cannot be written is logged.
func (h *handler) requeueReminders(ctx context.Context, householdID uuid.UUID, renewed []store.Invitee) {
	f, err := h.store.Family(ctx, householdID)
	if err != nil {
		h.log.ErrorContext(ctx, "reminders after renewing a booking link", "household_id", householdID, "err", err)
		return
	}
	bookings, evenings := map[uuid.UUID]bool{}, map[uuid.UUID]bool{}
	for _, inv := range renewed {
		if bookings[*inv.BookingID] {
			continue // a second guardian of the same appointment
		}
		bookings[*inv.BookingID] = true
		d, err := h.store.BookingDetail(ctx, *inv.BookingID)
		if err == nil && !evenings[d.EveningID] {
			evenings[d.EveningID] = true
			err = h.requeueEveningReminders(ctx, f, d.EveningID)
		}
		if err != nil {
			h.log.ErrorContext(ctx, "reminders after renewing a booking link", "household_id", householdID, "err", err)
		}
	}
}

func (h *handler) requeueEveningReminders(ctx context.Context, f store.Family, eveningID uuid.UUID) error {
	fe, err := h.loadFamilyEvening(ctx, f, eveningID)
	if errors.Is(err, errNotBookable) {
		return nil // cancelled, or no longer for this family: nothing to remind of
	}
	if err != nil {
		return err
	}
	entries, err := h.eveningEntries(ctx, fe)
	if err != nil {
		return err
	}
	for _, c := range entries {
		for i, inv := range c.Invitees {
			if inv.Email == "" {
				continue
			}
			if m, ok := h.reminderMail(f, c, inv, i, h.householdURL(f.Household)); ok {
				if err := h.store.EnqueueMail(ctx, m, h.now()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
