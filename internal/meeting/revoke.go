package meeting

import (
	"time"

	"github.com/google/uuid"
)

// Revocations end the live connections of a staff sign-in that ended
// (signed out, password changed, account disabled), in whichever process
// ended it.

// StaffSignIn is a staff participant's account and sign-in session.
type StaffSignIn struct{ User, Session uuid.UUID }

// StaffSignIns lists the staff participants (away ones too) by id.
func (s *State) StaffSignIns() map[string]StaffSignIn {
	out := map[string]StaffSignIn{}
	for id, p := range s.people {
		if u, err := uuid.Parse(p.UserID); err == nil {
			sess, _ := uuid.Parse(p.AuthSession)
			out[id] = StaffSignIn{User: u, Session: sess}
		}
	}
	return out
}

// Revoke takes out a participant whose sign-in ended: told why (message)
// if connected, their connection closed, their place (and resume secret)
// gone.
func (s *State) Revoke(now time.Time, id, reason, message string) []Effect {
	p := s.people[id]
	if p == nil {
		return nil
	}
	var fx effects
	s.audit(&fx, now, nil, "signed out of the meeting", p, reason)
	if p.presence != PresenceAway {
		fx.add(Send{To: id, Msg: &Error{Code: "revoked", Message: message}}, Close{Who: id, Reason: reason})
	}
	s.remove(&fx, now, p, reason)
	s.emptied(&fx, now)
	return fx
}
