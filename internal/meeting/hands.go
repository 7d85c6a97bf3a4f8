package meeting

import (
	"slices"
	"time"
)

func (s *State) raiseHand(fx *effects, now time.Time, p *participant) error {
	if err := s.may(p, ActRaiseHand, "your role does not raise hands"); err != nil {
		return err
	}
	if p.hand.IsZero() {
		p.hand = now
		s.handsChanged(fx)
		s.handShown(fx, p)
	}
	return nil
}

// lowerHand lowers one's own hand or, for hosts, someone else's.
func (s *State) lowerHand(fx *effects, p *participant, id string) error {
	t := p
	if id != "" && id != p.ID {
		if err := s.may(p, ActLowerHands, "only hosts can lower someone else's hand"); err != nil {
			return err
		}
		var err error
		if t, err = s.target(id); err != nil {
			return err
		}
	}
	if !t.hand.IsZero() {
		t.hand = time.Time{}
		s.handsChanged(fx)
		s.handShown(fx, t)
	}
	return nil
}

func (s *State) lowerAllHands(fx *effects, host *participant) error {
	if err := s.may(host, ActLowerHands, "only hosts can lower everyone's hands"); err != nil {
		return err
	}
	for _, id := range s.order {
		if t := s.people[id]; !t.hand.IsZero() {
			t.hand = time.Time{}
			s.handShown(fx, t)
		}
	}
	s.handsChanged(fx)
	return nil
}

// handShown tells the room of p's hand going up or down, so their tile and
// their row in the people list show it. Someone still in the lobby has no
// tile: the room hears nothing of them.
func (s *State) handShown(fx *effects, p *participant) {
	if p.admitted {
		s.updated(fx, p)
	}
}

// handQueue lists raised hands, first raised first.
func (s *State) handQueue() []HandEntry {
	var ps []*participant
	for _, id := range s.order {
		if p := s.people[id]; !p.hand.IsZero() && p.admitted {
			ps = append(ps, p)
		}
	}
	slices.SortStableFunc(ps, func(a, b *participant) int { return a.hand.Compare(b.hand) })
	q := []HandEntry{}
	for _, p := range ps {
		q = append(q, HandEntry{Participant: p.ID, Name: p.Name, RaisedAt: p.hand.UTC().Format(time.RFC3339Nano)})
	}
	return q
}

// handsChanged sends the queue to everyone in the room.
func (s *State) handsChanged(fx *effects) {
	q := s.handQueue()
	for _, id := range s.order {
		if p := s.people[id]; p.presence == PresenceRoom {
			fx.add(Send{To: id, Msg: &Hands{Queue: q}})
		}
	}
}

// react shows a quick reaction to everyone in the room.
func (s *State) react(fx *effects, p *participant, reaction string) error {
	if err := s.may(p, ActReact, "your role does not react"); err != nil {
		return err
	}
	for _, id := range s.order {
		if q := s.people[id]; q.presence == PresenceRoom {
			fx.add(Send{To: id, Msg: &Reaction{Participant: p.ID, Reaction: reaction}})
		}
	}
	return nil
}
