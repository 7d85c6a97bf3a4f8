package web

import (
	"fmt"
	"net/http"
	"strconv"

	"classmeet/internal/auth"
	"classmeet/internal/store"
	"classmeet/templates"
)

// invitations lists the households an evening is for with their booking
// links, to copy for those without an email address. Only administrators
// see the links: a booking link opens the family's appointments with every
// teacher, and a teacher running an evening of their own may change only
// theirs (they may still email the families their links).
func (h *handler) invitations(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	a, err := h.managedEvening(r, me)
	var hs []store.InvitedHousehold
	if err == nil {
		hs, err = h.store.EveningHouseholds(r.Context(), a.evening.ID)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.InviteView{Evening: a.evening}
	if n, err := strconv.Atoi(r.URL.Query().Get("queued")); err == nil {
		v.Queued = strconv.Itoa(n)
	}
	for _, hh := range hs {
		row := templates.InviteRow{Household: hh}
		if auth.Can(me.User.Role, auth.ManageEvenings) {
			row.Link = h.householdURL(hh.Household)
		}
		for _, g := range hh.Guardians {
			if g.Email != "" {
				row.Emails++
			}
		}
		v.Households = append(v.Households, row)
	}
	h.render(w, r, http.StatusOK, templates.InvitePage(page(r, "Booking links"), v))
}

// invite queues a booking invitation to every guardian with an email
// address of every household the evening is for. Inviting again replaces
// the invitations not sent yet instead of adding to them.
func (h *handler) invite(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	a, err := h.managedEvening(r, me)
	if err == nil && a.evening.CancelledAt != nil {
		err = store.ErrNotFound
	}
	var hs []store.InvitedHousehold
	if err == nil {
		hs, err = h.store.EveningHouseholds(r.Context(), a.evening.ID)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	n := 0
	for _, hh := range hs {
		for _, g := range hh.Guardians {
			if g.Email == "" {
				continue
			}
			if err := h.store.EnqueueMail(r.Context(), h.invitationMail(a.evening, hh, g), h.now()); err != nil {
				h.fail(w, r, err)
				return
			}
			n++
		}
	}
	h.log.Info("booking invitations queued", "evening_id", a.evening.ID, "mails", n)
	redirect(w, r, fmt.Sprintf("/evenings/%s/invite?queued=%d", a.evening.ID, n))
}

// invitationMail is one guardian's invitation to book. Its key is the
// household's and the guardian's, so each guardian has one waiting at most.
func (h *handler) invitationMail(e store.Evening, hh store.InvitedHousehold, g store.Guardian) store.NewMail {
	loc := eveningZone(e)
	body := fmt.Sprintf("Dear %s,\n\nyou are invited to book appointments with your child's teachers at %s, %s.\n\n"+
		"Booking is open from %s until %s. Book with your household's personal link:\n\n%s\n\n"+
		"This link is for your household only: please do not pass it on.\n",
		g.Name, e.Name, templates.When(e.StartsAt, loc), templates.When(e.BookingOpensAt, loc),
		templates.When(e.BookingClosesAt, loc), h.householdURL(hh.Household))
	return store.NewMail{
		DedupeKey: "invite:" + e.ID.String() + ":" + hh.ID.String() + ":" + g.ID.String(),
		Kind:      store.MailBookingInvitation, ToName: g.Name, ToAddr: g.Email,
		Subject: "Book your appointments: " + e.Name, Body: body,
		EveningID: &e.ID, HouseholdID: &hh.ID,
	}
}
