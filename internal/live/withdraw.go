package live

import (
	"github.com/google/uuid"

	"classmeet/internal/meeting"
)

// WithdrawLink takes out of the live meeting (if any) everyone who came in
// through the invitation's link.
func (h *Hub) WithdrawLink(meetingID, inviteeID uuid.UUID) {
	h.live(meetingID, func(s *meeting.State) []meeting.Effect { return s.WithdrawLink(h.cfg.Now(), inviteeID.String()) })
}

// Cancelled ends the live meeting (if any) its teacher cancelled.
func (h *Hub) Cancelled(meetingID uuid.UUID) {
	h.live(meetingID, func(s *meeting.State) []meeting.Effect { return s.Cancel(h.cfg.Now()) })
}

// live runs a command on a meeting if it is live in this server.
func (h *Hub) live(meetingID uuid.UUID, cmd func(*meeting.State) []meeting.Effect) {
	if h == nil {
		return
	}
	h.mu.Lock()
	r := h.rooms[meetingID.String()]
	h.mu.Unlock()
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.dead {
		r.apply(cmd(r.state))
	}
}
