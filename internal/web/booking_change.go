package web

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"classmeet/internal/store"
)

// liveAppointment is a live booking with its household's evening. With
// a family, it must be that family's (a family changing its own); staff
// pass nil and get the booking's household.
func (h *handler) liveAppointment(ctx context.Context, f *store.Family, id uuid.UUID) (store.BookingDetail, familyEvening, error) {
	d, err := h.store.BookingDetail(ctx, id)
	if err == nil && (d.CancelledAt != nil || f != nil && d.HouseholdID != f.Household.ID) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.BookingDetail{}, familyEvening{}, err
	}
	if f == nil {
		fam, err := h.store.Family(ctx, d.HouseholdID)
		if err != nil {
			return store.BookingDetail{}, familyEvening{}, err
		}
		f = &fam
	}
	fe, err := h.loadFamilyEvening(ctx, *f, d.EveningID)
	return d, fe, err
}

// changeAllowed says whether who may change an appointment of fe now.
func (h *handler) changeAllowed(fe familyEvening, by string) error {
	if by == byFamily && !fe.Evening.BookingOpen(h.now()) {
		return errBookingClosed
	}
	return nil
}

// move moves a live appointment to another free slot of its teacher,
// keeping its id (the calendar UID) and join links; the guardians are
// sent the household's evening again (REQUEST, a higher SEQUENCE) and
// their reminders follow the new time.
func (h *handler) move(ctx context.Context, d store.BookingDetail, fe familyEvening, slotID uuid.UUID, by string) (store.Slot, error) {
	if err := h.changeAllowed(fe, by); err != nil {
		return store.Slot{}, err
	}
	slot, err := h.eveningSlot(ctx, fe, slotID)
	if err == nil && slot.TeacherID != d.TeacherID {
		err = errNotBookable
	}
	if err != nil {
		return slot, err
	}
	entries, err := h.eveningEntries(ctx, fe)
	if err != nil {
		return slot, err
	}
	_, err = h.store.MoveBooking(ctx, d.ID, d.HouseholdID, slot.ID, fe.fitCheck(d.StudentID, d.ID),
		h.changeMails(ctx, mailChange, fe, entries), h.now())
	return slot, err
}

// cancel cancels a live appointment: its slot is free again, its join
// links stop working, its reminders are withdrawn, and its guardians are
// sent the cancellation (METHOD:CANCEL).
func (h *handler) cancel(ctx context.Context, d store.BookingDetail, fe familyEvening, by string) error {
	if err := h.changeAllowed(fe, by); err != nil {
		return err
	}
	entries, err := h.eveningEntries(ctx, fe)
	if err != nil {
		return err
	}
	_, err = h.store.CancelBooking(ctx, d.ID, d.HouseholdID, h.changeMails(ctx, mailCancellation, fe, entries), h.now())
	if err != nil {
		return err
	}
	h.withdrawAppointmentLinks(ctx, d.ID)
	return nil
}

// withdrawAppointmentLinks takes whoever came in through a cancelled
// appointment's links out of the teacher's live room (the lobby included):
// the links no longer work, and neither does a connection made with them.
func (h *handler) withdrawAppointmentLinks(ctx context.Context, bookingID uuid.UUID) {
	invs, err := h.store.BookingInvitees(ctx, []uuid.UUID{bookingID})
	if err != nil {
		// The links are revoked in the database: a new join is refused.
		h.log.ErrorContext(ctx, "withdraw cancelled appointment's links", "booking_id", bookingID, "err", err)
		return
	}
	for _, inv := range invs[bookingID] {
		h.hub.WithdrawLink(inv.MeetingID, inv.ID)
	}
}

// changeMails makes the mails about a booking as the store changed it,
// inside its transaction: the changed booking goes last among the
// household's entries of the evening.
func (h *handler) changeMails(ctx context.Context, kind string, fe familyEvening, entries []calendarEntry) func(store.Booking) []store.NewMail {
	return func(b store.Booking) []store.NewMail {
		i := slices.IndexFunc(entries, func(c calendarEntry) bool { return c.Booking.ID == b.ID })
		if i < 0 {
			return nil
		}
		changed := entries[i]
		changed.Booking.Booking = b
		rest := slices.Delete(slices.Clone(entries), i, i+1)
		mails, err := h.appointmentMails(kind, fe.Family, append(rest, changed))
		if err != nil {
			// The change stands; the family still sees it on its page.
			h.log.ErrorContext(ctx, "appointment mails", "booking_id", b.ID, "kind", kind, "err", err)
		}
		return mails
	}
}
