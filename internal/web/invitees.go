package web

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/schedule"
)

// addInvitee invites someone and gives them a personal link.
func (h *handler) addInvitee(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	m, err := h.ownedMeeting(r, me)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, err := readForm(w, r, "name", "email", "child_name", "role")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ni, err := schedule.ParseInvitee(schedule.InviteeInput{Name: f.Value("name"), Email: f.Value("email"), ChildName: f.Value("child_name"), Role: f.Value("role")})
	if err != nil {
		h.renderMeeting(w, r, me, m, http.StatusUnprocessableEntity, withErrors(f, err))
		return
	}
	ni.LinkNonce = auth.NewLinkNonce()
	if _, err := h.store.AddInvitee(r.Context(), m.ID, ni); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/meetings/"+m.ID.String()+"#invitees-h")
}

func (h *handler) removeInvitee(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	h.changeInvitee(w, r, me, h.store.RemoveInvitee)
}

func (h *handler) revokeInvitee(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	h.changeInvitee(w, r, me, h.store.RevokeInviteeLink)
}

// renewInvitee gives an invitee a new link; the old one stops working.
func (h *handler) renewInvitee(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	h.changeInvitee(w, r, me, func(ctx context.Context, meetingID, id uuid.UUID) error {
		return h.store.RenewInviteeLink(ctx, meetingID, id, auth.NewLinkNonce())
	})
}

// changeInvitee applies change to the {invitee} of the teacher's {id}
// meeting; it is only ever a withdrawal of the link they had.
func (h *handler) changeInvitee(w http.ResponseWriter, r *http.Request, me auth.Identity, change func(ctx context.Context, meetingID, id uuid.UUID) error) {
	m, err := h.ownedMeeting(r, me)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id, err := pathID(r, "invitee")
	if err == nil {
		err = change(r.Context(), m.ID, id)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.hub.WithdrawLink(m.ID, id) // whoever came in through the old link leaves
	redirect(w, r, "/meetings/"+m.ID.String()+"#invitees-h")
}
