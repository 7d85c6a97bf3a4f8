package web

import (
	"errors"
	"net/http"

	"classmeet/internal/schedule"
	"classmeet/internal/store"
	"classmeet/templates"
)

// prejoin is what a personal link opens: the meeting, a camera and
// microphone check, the name to join with, and then the meeting itself.
// After the host ended the meeting it says so, with the recordings if the
// invitee may have them.
func (h *handler) prejoin(w http.ResponseWriter, r *http.Request) {
	inv, err := h.invitation(r)
	if err == nil {
		err = schedule.CheckJoin(inv, h.cfg.LinkValidity, h.now())
	}
	locked, ended := errors.Is(err, schedule.ErrLocked), errors.Is(err, schedule.ErrMeetingEnded)
	if err != nil && !locked && !ended {
		h.fail(w, r, err)
		return
	}
	link := "/j/" + r.PathValue("token")
	v := templates.RoomView{
		Meeting: inv.Meeting, HostName: inv.HostName, DisplayName: inv.Invitee.Name,
		ICSURL: link + "/ics", JoinURL: link + "/join", Locked: locked, Ended: ended,
		CanRecord: h.rec != nil && inv.Meeting.RecordingPolicy == store.RecordingHostMayRecord,
	}
	v.RecordingNow, _ = h.hub.Recording(inv.Meeting.ID)
	v.Appointment = h.prejoinAppointment(r.Context(), inv)
	if inv.Meeting.RecordingAccess == store.RecordingAccessInvitees {
		if recs, err := h.store.MeetingRecordings(r.Context(), inv.Meeting.ID); err == nil {
			for _, rec := range recs {
				if rec.Finished() {
					v.RecordingsURL = link + "/recordings"
				}
			}
		}
	}
	h.render(w, r, http.StatusOK, templates.RoomPage(page(r, inv.Meeting.Title), v))
}

// inviteeICS is the invitee's calendar file. It stays available after a
// cancellation, so their calendar can learn of it (STATUS:CANCELLED).
func (h *handler) inviteeICS(w http.ResponseWriter, r *http.Request) {
	inv, err := h.invitation(r)
	if err == nil {
		err = schedule.CheckLink(inv, h.cfg.LinkValidity, h.now())
	}
	if err != nil && !errors.Is(err, schedule.ErrMeetingCancelled) {
		h.fail(w, r, err)
		return
	}
	host, err := h.store.UserByID(r.Context(), inv.Meeting.OwnerID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	url := h.joinURL(r.PathValue("token"))
	h.writeICS(w, r, schedule.Event{Meeting: inv.Meeting, Host: host, JoinURL: url, Attendees: []store.Invitee{inv.Invitee}})
}

// invitation finds what the {token} link opens. An unknown, forged or
// replaced link is ErrNotFound; the caller checks revocation and expiry.
func (h *handler) invitation(r *http.Request) (store.Invitation, error) {
	token := r.PathValue("token")
	id, err := h.links.InviteeOf(token)
	if err != nil {
		return store.Invitation{}, errUnknownLink
	}
	inv, err := h.store.InvitationFor(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Invitation{}, errUnknownLink
	}
	if err != nil {
		return store.Invitation{}, err
	}
	if !h.links.Matches(token, inv.Invitee.ID, inv.Invitee.LinkNonce) {
		return store.Invitation{}, errUnknownLink
	}
	return inv, nil
}
