package web

import (
	"net/http"

	"classmeet/internal/auth"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
	"classmeet/templates"
)

// showMeeting is the teacher's page for a meeting: when, policies, invitees
// and their personal links.
func (h *handler) showMeeting(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	m, err := h.ownedMeeting(r, me)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.renderMeeting(w, r, me, m, http.StatusOK, templates.Form{})
}

func (h *handler) renderMeeting(w http.ResponseWriter, r *http.Request, me auth.Identity, m store.Meeting, status int, f templates.Form) {
	invs, err := h.store.Invitees(r.Context(), m.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	recs, err := h.store.MeetingRecordings(r.Context(), m.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.MeetingView{Meeting: m, Zone: userZone(me), Form: f, LinkExpiry: schedule.LinkExpiry(m, h.cfg.LinkValidity), Recordings: len(recs)}
	for _, inv := range invs {
		row := templates.InviteeRow{Invitee: inv}
		// An appointment's join link is the family's alone: its thank-you
		// page leads to their booking link, which opens their appointments
		// with every teacher.
		if inv.BookingID == nil {
			row.Link = h.joinURL(h.links.Token(inv.ID, inv.LinkNonce))
		}
		v.Invitees = append(v.Invitees, row)
	}
	h.render(w, r, status, templates.MeetingPage(page(r, m.Title), v))
}

// joinURL is the absolute personal link for a link token.
func (h *handler) joinURL(token string) string {
	return h.cfg.PublicURL.String() + "/j/" + token
}

func (h *handler) cancelMeeting(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	m, err := h.ownedMeeting(r, me)
	if err == nil {
		err = h.store.CancelMeeting(r.Context(), me.User.ID, m.ID)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.hub.Cancelled(m.ID)
	h.log.Info("meeting cancelled", "meeting_id", m.ID)
	h.auditMeeting(r, me, m.ID, "cancelled meeting", "")
	redirect(w, r, "/meetings/"+m.ID.String())
}
