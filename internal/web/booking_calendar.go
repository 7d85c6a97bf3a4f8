package web

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/schedule"
	"classmeet/internal/store"
)

// calendarEntry is one appointment of a household as its calendar files,
// mails and pages show it.
type calendarEntry struct {
	Booking  store.BookingDetail
	Evening  store.Evening
	Zone     *time.Location
	Invitees []store.Invitee // its guardians' join links
}

// eveningEntries are the household's live appointments on an evening.
func (h *handler) eveningEntries(ctx context.Context, fe familyEvening) ([]calendarEntry, error) {
	ids := make([]uuid.UUID, len(fe.Booked))
	for i, b := range fe.Booked {
		ids[i] = b.ID
	}
	invs, err := h.store.BookingInvitees(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]calendarEntry, len(fe.Booked))
	for i, b := range fe.Booked {
		out[i] = calendarEntry{Booking: b, Evening: fe.Evening, Zone: fe.Zone, Invitees: byGuardian(invs[b.ID], fe.Family.Guardians)}
	}
	return out, nil
}

// byGuardian orders a booking's invitees as the household orders its
// guardians, so its main contact comes first (their links are made in one
// transaction, at one instant).
func byGuardian(invs []store.Invitee, gs []store.Guardian) []store.Invitee {
	pos := func(inv store.Invitee) int {
		return slices.IndexFunc(gs, func(g store.Guardian) bool { return g.Name == inv.Name })
	}
	slices.SortStableFunc(invs, func(a, b store.Invitee) int { return cmp.Compare(pos(a), pos(b)) })
	return invs
}

// householdEntries are the household's live appointments on every evening
// it may still book, the soonest first.
func (h *handler) householdEntries(ctx context.Context, f store.Family) ([]calendarEntry, []familyEvening, error) {
	evenings, err := h.store.HouseholdEvenings(ctx, f.Household.ID, h.now())
	if err != nil {
		return nil, nil, err
	}
	var all []calendarEntry
	fes := make([]familyEvening, 0, len(evenings))
	for _, e := range evenings {
		fe, err := h.loadFamilyEvening(ctx, f, e.ID)
		if err != nil {
			return nil, nil, err
		}
		entries, err := h.eveningEntries(ctx, fe)
		if err != nil {
			return nil, nil, err
		}
		fes = append(fes, fe)
		all = append(all, entries...)
	}
	return all, fes, nil
}

// joinLink is the personal join link of a booking's guardian named name,
// else the first live one: a calendar downloaded from the booking page
// is the household's, not one guardian's.
func (h *handler) joinLink(invs []store.Invitee, name string) string {
	var first *store.Invitee
	for i, inv := range invs {
		if inv.RevokedAt != nil {
			continue
		}
		if inv.Name == name {
			return h.joinURL(h.links.Token(inv.ID, inv.LinkNonce))
		}
		if first == nil {
			first = &invs[i]
		}
	}
	if first == nil {
		return ""
	}
	return h.joinURL(h.links.Token(first.ID, first.LinkNonce))
}

// event is an appointment in a calendar file for the guardian named
// guardian ("" for the household's download). Its UID is the booking's id,
// so a move updates the same event (with a higher SEQUENCE).
func (h *handler) event(c calendarEntry, guardian, manage string) schedule.AppointmentEvent {
	var attendees []string
	for _, inv := range c.Invitees {
		attendees = append(attendees, inv.Email)
	}
	return schedule.AppointmentEvent{
		UID:       c.Booking.ID.String() + "@" + h.cfg.PublicURL.Hostname(),
		Sequence:  c.Booking.Sequence,
		Span:      schedule.Span{Start: c.Booking.StartsAt, End: c.Booking.EndsAt},
		Zone:      c.Zone,
		Summary:   c.Evening.Name + ": " + c.Booking.TeacherName + " (" + childLabel(c.Booking) + ")",
		JoinURL:   h.joinLink(c.Invitees, guardian),
		ManageURL: manage,
		Cancelled: c.Booking.CancelledAt != nil,
		Attendees: attendees,
	}
}

func childLabel(b store.BookingDetail) string {
	if b.ClassName == "" {
		return b.StudentName
	}
	return b.StudentName + ", " + b.ClassName
}

// calendar renders entries as one calendar file for a guardian.
func (h *handler) calendar(entries []calendarEntry, guardian, manage string, m schedule.CalendarMethod) ([]byte, error) {
	evs := make([]schedule.AppointmentEvent, len(entries))
	for i, c := range entries {
		evs[i] = h.event(c, guardian, manage)
	}
	return schedule.Appointments(evs, m, h.now())
}

// householdCalendar is GET /b/{token}/calendar.ics: every live appointment
// of the household, to add to a calendar (METHOD:PUBLISH).
func (h *handler) householdCalendar(w http.ResponseWriter, r *http.Request) {
	f, err := h.household(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	entries, _, err := h.householdEntries(r.Context(), f)
	if err == nil && len(entries) == 0 {
		err = store.ErrNotFound
	}
	var b []byte
	if err == nil {
		b, err = h.calendar(entries, "", h.householdURL(f.Household), schedule.MethodPublish)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8; method=PUBLISH")
	w.Header().Set("Content-Disposition", `attachment; filename="appointments.ics"`)
	_, _ = w.Write(b)
}
