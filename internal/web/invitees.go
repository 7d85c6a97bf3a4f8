package web

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
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
	inv, err := h.store.AddInvitee(r.Context(), m.ID, ni)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.auditInvitee(r, me, m, inv, "invited "+string(inv.Role))
	redirect(w, r, "/meetings/"+m.ID.String()+"#invitees-h")
}

func (h *handler) removeInvitee(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	h.changeInvitee(w, r, me, "withdrew invitation", h.store.RemoveInvitee)
}

func (h *handler) revokeInvitee(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	h.changeInvitee(w, r, me, "withdrew link", h.store.RevokeInviteeLink)
}

// renewInvitee gives an invitee a new link; the old one stops working.
func (h *handler) renewInvitee(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	h.changeInvitee(w, r, me, "renewed link", func(ctx context.Context, meetingID, id uuid.UUID) error {
		return h.store.RenewInviteeLink(ctx, meetingID, id, auth.NewLinkNonce())
	})
}

// changeInvitee applies change to the {invitee} of the teacher's {id}
// meeting; it is only ever a withdrawal of the link they had.
func (h *handler) changeInvitee(w http.ResponseWriter, r *http.Request, me auth.Identity, action string, change func(ctx context.Context, meetingID, id uuid.UUID) error) {
	m, err := h.ownedMeeting(r, me)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var inv store.Invitee
	id, err := pathID(r, "invitee")
	if err == nil {
		inv, err = h.store.Invitee(r.Context(), m.ID, id) // named before a removal takes the row
	}
	if err == nil {
		err = change(r.Context(), m.ID, id)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.auditInvitee(r, me, m, inv, action)
	h.hub.WithdrawLink(m.ID, id) // whoever came in through the old link leaves
	redirect(w, r, "/meetings/"+m.ID.String()+"#invitees-h")
}

// auditInvitee records what staff did to an invitee's invitation: their
// name, never their link or the child they come for.
func (h *handler) auditInvitee(r *http.Request, me auth.Identity, m store.Meeting, inv store.Invitee, action string) {
	h.auditBy(r, me, store.AuditEntry{Kind: store.AuditInvitation, MeetingID: &m.ID, Action: action,
		TargetID: inv.ID.String(), TargetName: inv.Name})
}
