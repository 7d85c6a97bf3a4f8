package web

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
)

// Who made or changed a booking: booking windows bind families only.
const (
	byFamily = "family"
	byStaff  = "staff"
)

// bookingRequest is an appointment asked for by a family, or by staff on
// its behalf.
type bookingRequest struct {
	Family    store.Family
	EveningID uuid.UUID
	StudentID uuid.UUID
	TeacherID uuid.UUID // Nil: the slot's (staff name only the slot)
	SlotID    uuid.UUID
	By        string
}

// book makes an appointment: it checks the request, makes the guardians'
// join links and the mails, and has the store book it, which runs the
// household rule in its transaction and lets unique indexes settle races.
// It returns the slot asked for, also when it was taken.
func (h *handler) book(ctx context.Context, req bookingRequest) (familyEvening, store.Slot, error) {
	fe, err := h.loadFamilyEvening(ctx, req.Family, req.EveningID)
	if err != nil {
		return fe, store.Slot{}, err
	}
	if req.By == byFamily && !fe.Evening.BookingOpen(h.now()) {
		return fe, store.Slot{}, errBookingClosed
	}
	slot, err := h.eveningSlot(ctx, fe, req.SlotID)
	if err == nil && req.TeacherID != uuid.Nil && slot.TeacherID != req.TeacherID {
		err = errNotBookable
	}
	if err != nil {
		return fe, store.Slot{}, err
	}
	student, teacher, err := fe.checkPair(req.StudentID, slot.TeacherID)
	if err != nil {
		return fe, slot, err
	}
	nb := store.NewBooking{
		ID: uuid.New(), EveningID: fe.Evening.ID, SlotID: slot.ID, HouseholdID: fe.Family.Household.ID,
		StudentID: student.ID, BookedBy: req.By, ChildName: student.Name, Guardians: bookingGuardians(fe),
		ShareKey: schedule.ShareKey(schedule.SplitPolicy(fe.Evening.SplitPolicy), fe.Family.Household.ID, student.ID),
	}
	entries, err := h.eveningEntries(ctx, fe)
	if err != nil {
		return fe, slot, err
	}
	entries = append(entries, newEntry(fe, nb, slot, student, teacher))
	mails, err := h.appointmentMails(mailConfirmation, fe.Family, entries)
	if err != nil {
		return fe, slot, err
	}
	_, err = h.store.Book(ctx, nb, fe.fitCheck(student.ID, uuid.Nil), mails, h.now())
	return fe, slot, err
}

// eveningSlot is a slot of the evening that has not begun.
func (h *handler) eveningSlot(ctx context.Context, fe familyEvening, id uuid.UUID) (store.Slot, error) {
	slots, err := h.store.Slots(ctx, fe.Evening.ID, uuid.Nil)
	if err != nil {
		return store.Slot{}, err
	}
	i := slices.IndexFunc(slots, func(s store.Slot) bool { return s.ID == id })
	if i < 0 {
		return store.Slot{}, errNotBookable
	}
	if !slots[i].StartsAt.After(h.now()) {
		return slots[i], errSlotPast
	}
	return slots[i], nil
}

// bookingGuardians are who get a join link: the household's first
// guardian, and the second if the evening lets a second guardian join.
func bookingGuardians(fe familyEvening) []store.BookingGuardian {
	n := 1
	if fe.Evening.SecondGuardian {
		n = 2
	}
	gs := fe.Family.Guardians[:min(n, len(fe.Family.Guardians))]
	out := make([]store.BookingGuardian, len(gs))
	for i, g := range gs {
		out[i] = store.BookingGuardian{InviteeID: uuid.New(), Name: g.Name, Email: g.Email, LinkNonce: auth.NewLinkNonce()}
	}
	return out
}

// newEntry is a booking about to be made, as its mails show it.
func newEntry(fe familyEvening, nb store.NewBooking, slot store.Slot, s store.Student, t store.EveningTeacher) calendarEntry {
	b := store.BookingDetail{
		Booking: store.Booking{ID: nb.ID, EveningID: nb.EveningID, SlotID: slot.ID, TeacherID: slot.TeacherID,
			HouseholdID: nb.HouseholdID, StudentID: s.ID, ShareKey: nb.ShareKey, StartsAt: slot.StartsAt,
			EndsAt: slot.EndsAt, BookedBy: nb.BookedBy},
		TeacherName: t.TeacherName, StudentName: s.Name, ClassName: s.ClassName,
	}
	invs := make([]store.Invitee, len(nb.Guardians))
	for i, g := range nb.Guardians {
		bid := nb.ID
		invs[i] = store.Invitee{ID: g.InviteeID, Name: g.Name, Email: g.Email, ChildName: s.Name, LinkNonce: g.LinkNonce, BookingID: &bid}
	}
	return calendarEntry{Booking: b, Evening: fe.Evening, Zone: fe.Zone, Invitees: invs}
}
