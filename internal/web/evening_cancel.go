package web

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"classmeet/internal/auth"
)

// cancelEvening cancels an evening: each appointment not yet begun is
// cancelled as staff would cancel it (its family is sent the cancellation,
// METHOD:CANCEL, and its links stop working), the rooms are cancelled
// (people in them are told), and the rest of its unsent mail is withdrawn.
func (h *handler) cancelEvening(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	a, err := h.managedEvening(r, me)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.cancelAppointments(r.Context(), a.evening.ID); err != nil {
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
	h.auditEvening(r, me, a.evening, "cancelled parents' evening")
	redirect(w, r, "/evenings/"+a.evening.ID.String())
}

// cancelAppointments cancels an evening's appointments that have not begun,
// telling their families. A failure stops before the evening is cancelled,
// so the admin can try again and no family is left uninformed.
func (h *handler) cancelAppointments(ctx context.Context, eveningID uuid.UUID) error {
	bs, err := h.store.EveningBookings(ctx, eveningID, uuid.Nil)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if b.StartedAt != nil {
			continue // held, or being held: it stays on the report
		}
		d, fe, err := h.liveAppointment(ctx, nil, b.ID)
		if err == nil {
			err = h.cancel(ctx, d, fe, byStaff)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
