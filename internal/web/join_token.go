package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/meeting"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
	"classmeet/internal/textrule"
)

// joinResponse is what the page needs to open the meeting's WebSocket.
type joinResponse struct {
	Token  string `json:"token"`
	Socket string `json:"socket"`
}

// joinAsInvitee gives the holder of a valid personal link a short-lived join
// token; the long-lived link itself never opens the WebSocket.
func (h *handler) joinAsInvitee(w http.ResponseWriter, r *http.Request) {
	inv, err := h.invitation(r)
	if err == nil {
		err = schedule.CheckJoin(inv, h.cfg.LinkValidity, h.now())
	}
	name, nerr := displayName(w, r, inv.Invitee.Name)
	if err == nil {
		err = nerr
	}
	if err == nil && meeting.LooksLike(name, inv.HostName) {
		err = fmt.Errorf("%w: that is the host's name: please join under your own", errInvalidInput)
	}
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	role := meeting.RoleParticipant
	if inv.Invitee.Role == store.InviteeObserver {
		role = meeting.RoleObserver
	}
	h.issueJoin(w, r, auth.JoinClaims{
		MeetingID: inv.Meeting.ID, ParticipantID: uuid.New(), Role: string(role), Name: name,
		InviteeID: inv.Invitee.ID, InviteeName: inv.Invitee.Name, Identity: meeting.InviteeIdentity(inv.Invitee.ID.String()),
		Link: auth.LinkFingerprint(inv.Invitee.LinkNonce),
	})
}

// joinAsHost gives the meeting's owner a join token as its host.
func (h *handler) joinAsHost(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	m, err := h.ownedMeeting(r, me)
	if err == nil && m.Cancelled() {
		err = schedule.ErrMeetingCancelled
	}
	name, nerr := displayName(w, r, me.User.Name)
	if err == nil {
		err = nerr
	}
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	h.issueJoin(w, r, auth.JoinClaims{
		MeetingID: m.ID, ParticipantID: uuid.New(), Role: string(meeting.RoleHost), Name: name,
		Identity: "user:" + me.User.ID.String(), SessionID: me.SessionID,
	})
}

func (h *handler) issueJoin(w http.ResponseWriter, r *http.Request, c auth.JoinClaims) {
	tok, err := h.joinTokens.Issue(c, h.now())
	if err != nil {
		h.failJSON(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, joinResponse{Token: tok, Socket: "/meetings/" + c.MeetingID.String() + "/ws"})
}

// displayName reads the name typed on the pre-join page, or def if none.
func displayName(w http.ResponseWriter, r *http.Request, def string) (string, error) {
	f, err := readForm(w, r, "display_name")
	if err != nil {
		return "", err
	}
	typed := f.Value("display_name")
	if strings.TrimSpace(typed) == "" {
		typed = def
	}
	name, err := textrule.Name(typed)
	if err != nil {
		return "", fmt.Errorf("%w: your name %w", errInvalidInput, err)
	}
	return name, nil
}
