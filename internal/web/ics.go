package web

import (
	"net/http"

	"classmeet/internal/auth"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
)

// meetingICS is the host's own calendar file. It lists no invitees: a
// download is METHOD:PUBLISH, which has no ATTENDEEs (see writeICS).
func (h *handler) meetingICS(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	m, err := h.ownedMeeting(r, me)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	url := h.cfg.PublicURL.String() + "/meetings/" + m.ID.String()
	h.writeICS(w, r, schedule.Event{Meeting: m, Host: me.User, JoinURL: url})
}

// inviteeICSForHost is the calendar file of one invitee, for the teacher to send.
func (h *handler) inviteeICSForHost(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	m, err := h.ownedMeeting(r, me)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id, err := pathID(r, "invitee")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	inv, err := h.store.Invitee(r.Context(), m.ID, id)
	if err == nil && inv.BookingID != nil {
		err = store.ErrNotFound // an appointment's join link is the family's alone (see renderMeeting)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	url := h.joinURL(h.links.Token(inv.ID, inv.LinkNonce))
	h.writeICS(w, r, schedule.Event{Meeting: m, Host: me.User, JoinURL: url, Attendees: []store.Invitee{inv}})
}

// writeICS sends a meeting's calendar file as a download: METHOD:PUBLISH,
// since it invites nobody (iTIP, RFC 5546), so schedule.ICS writes no
// ATTENDEE; a cancelled meeting's file says STATUS:CANCELLED.
func (h *handler) writeICS(w http.ResponseWriter, r *http.Request, e schedule.Event) {
	e.Domain = h.cfg.PublicURL.Hostname()
	b, err := schedule.ICS(e, schedule.MethodPublish, h.now())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8; method="+string(schedule.MethodPublish))
	w.Header().Set("Content-Disposition", `attachment; filename="meeting.ics"`)
	_, _ = w.Write(b)
}
