package meeting

import "time"

// What a teacher changes on the meeting's page reaches the live meeting:
// a withdrawn or replaced personal link takes out everyone who came in
// through it, and a cancelled meeting ends.

// WithdrawLink takes out everyone who joined through an invitation whose
// link was withdrawn, replaced or removed: a leaked link lets nobody stay.
func (s *State) WithdrawLink(now time.Time, inviteeID string) []Effect {
	var fx effects
	for _, id := range s.order {
		p := s.people[id]
		if p.InviteeID != inviteeID || inviteeID == "" {
			continue
		}
		s.audit(&fx, now, nil, "link withdrawn: taken out", p, "")
		if p.presence != PresenceAway {
			fx.add(Send{To: id, Msg: &Error{Code: "link_withdrawn", Message: "The teacher withdrew the link you joined with: ask them for a new one."}},
				Close{Who: id, Reason: "link withdrawn"})
		}
	}
	for _, p := range s.peopleOf(func(p *participant) bool { return p.InviteeID == inviteeID && inviteeID != "" }) {
		s.remove(&fx, now, p, "link withdrawn")
	}
	s.emptied(&fx, now)
	return fx
}

// Cancel ends a meeting its teacher cancelled while people were in it.
func (s *State) Cancel(now time.Time) []Effect {
	var fx effects
	s.end(&fx, now, nil, "The teacher cancelled this meeting.")
	return fx
}

func (s *State) peopleOf(match func(*participant) bool) []*participant {
	var ps []*participant
	for _, id := range s.order {
		if p := s.people[id]; match(p) {
			ps = append(ps, p)
		}
	}
	return ps
}
