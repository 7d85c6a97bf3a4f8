package web

import (
	"net/http"

	"classmeet/internal/auth"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
	"classmeet/templates"
)

// hostRoom is the host's way into their meeting: the same page parents use,
// joining as host.
func (h *handler) hostRoom(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	m, err := h.ownedMeeting(r, me)
	if err == nil && m.Cancelled() {
		err = schedule.ErrMeetingCancelled
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.RoomView{
		Meeting: m, HostName: me.User.Name, DisplayName: me.User.Name, IsHost: true,
		ICSURL: "/meetings/" + m.ID.String() + "/ics", JoinURL: "/meetings/" + m.ID.String() + "/join",
		CanRecord: h.rec != nil && m.RecordingPolicy == store.RecordingHostMayRecord, Ended: m.Ended(),
	}
	v.RecordingNow, _ = h.hub.Recording(m.ID)
	p := page(r, m.Title)
	p.Wide = true
	h.render(w, r, http.StatusOK, templates.RoomPage(p, v))
}
