package web

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/store"
)

// staffBook is POST /evenings/{id}/bookings (household, student, slot):
// staff book on a family's behalf, with the same checks (but no booking
// window) and the same mails.
func (h *handler) staffBook(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	eveningID, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	form, err := readForm(w, r, "household", "student", "slot")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	slotID := formID(form.Value("slot"))
	f, err := h.store.Family(r.Context(), formID(form.Value("household")))
	if err == nil {
		err = h.mayHandleSlot(r.Context(), me, eveningID, slotID)
	}
	var fe familyEvening
	var slot store.Slot
	if err == nil {
		fe, slot, err = h.book(r.Context(), bookingRequest{Family: f, EveningID: eveningID,
			StudentID: formID(form.Value("student")), SlotID: slotID, By: byStaff})
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.auditAppointment(r, me, fe, f.Household.ID, guardianNames(f), slot.TeacherID, slot.StartsAt, "booked appointment")
	redirect(w, r, "/evenings/"+eveningID.String())
}

// staffMove is POST /evenings/{id}/bookings/{booking}/move (slot).
func (h *handler) staffMove(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	form, err := readForm(w, r, "slot")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d, fe, err := h.staffAppointment(r, me)
	var slot store.Slot
	if err == nil {
		slot, err = h.move(r.Context(), d, fe, formID(form.Value("slot")), byStaff)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.auditAppointment(r, me, fe, d.HouseholdID, d.Family, slot.TeacherID, slot.StartsAt, "moved appointment")
	redirect(w, r, "/evenings/"+d.EveningID.String())
}

// staffCancel is POST /evenings/{id}/bookings/{booking}/cancel.
func (h *handler) staffCancel(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	d, fe, err := h.staffAppointment(r, me)
	if err == nil {
		err = h.cancel(r.Context(), d, fe, byStaff)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.auditAppointment(r, me, fe, d.HouseholdID, d.Family, d.TeacherID, d.StartsAt, "cancelled appointment")
	redirect(w, r, "/evenings/"+d.EveningID.String())
}

// staffAppointment is the live booking {booking} of evening {id}, if me
// may change it.
func (h *handler) staffAppointment(r *http.Request, me auth.Identity) (store.BookingDetail, familyEvening, error) {
	eveningID, err := pathID(r, "id")
	if err != nil {
		return store.BookingDetail{}, familyEvening{}, err
	}
	id, err := pathID(r, "booking")
	if err != nil {
		return store.BookingDetail{}, familyEvening{}, err
	}
	d, fe, err := h.liveAppointment(r.Context(), nil, id)
	if err == nil && d.EveningID != eveningID {
		err = store.ErrNotFound
	}
	if err == nil && !mayHandle(me, fe.Evening, d.TeacherID) {
		err = errForbidden
	}
	return d, fe, err
}

// mayHandleSlot says whether me may book slotID of an evening.
func (h *handler) mayHandleSlot(ctx context.Context, me auth.Identity, eveningID, slotID uuid.UUID) error {
	e, err := h.store.Evening(ctx, eveningID)
	if err != nil {
		return err
	}
	slots, err := h.store.Slots(ctx, eveningID, uuid.Nil)
	if err != nil {
		return err
	}
	for _, s := range slots {
		if s.ID == slotID {
			if !mayHandle(me, e, s.TeacherID) {
				return errForbidden
			}
			return nil
		}
	}
	return errNotBookable
}

// mayHandle says whether me may book, move or cancel appointments with a
// teacher on an evening: administrators and the evening's owner any, a
// teacher only their own.
func mayHandle(me auth.Identity, e store.Evening, teacherID uuid.UUID) bool {
	return managesEvening(me, e) || teacherID == me.User.ID
}
