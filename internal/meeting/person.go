package meeting

import "time"

// person is what hosts decided about someone, kept by identity (their
// invitation or staff account) for the rest of the meeting: it holds across
// renegotiation, reconnect, resume, rejoin and a second device, so leaving
// and coming back undoes no host's decision.
type person struct {
	identity string
	blocked  map[string]bool // kinds a host stopped: the server forwards none of it
	may      map[string]bool // kinds a host allowed back
	role     Role            // the role a host gave them, or "" for their token's
	hand     time.Time       // a hand still raised when they last left
	waits    bool            // a host sent them to the lobby: only a host admits them
	fanout   allowance       // for messages the whole room receives, on all their devices
	sizes    allowance       // for tile-size reports, on all their devices
	receive  allowance       // for turning received video off and on, on all their devices
}

func newPerson(identity string) *person {
	return &person{identity: identity, blocked: map[string]bool{}, may: map[string]bool{}}
}

// personOf finds (or starts) the record of the person arriving. Without an
// identity there is nothing to tie two joins together.
func (s *State) personOf(a Arrival) *person {
	if a.Identity == "" {
		return newPerson("")
	}
	pr := s.persons[a.Identity]
	if pr == nil {
		pr = newPerson(a.Identity)
		s.persons[a.Identity] = pr
	}
	return pr
}

// devices lists every connection of p's person, p included, in arrival order.
func (s *State) devices(p *participant) []*participant {
	var ds []*participant
	for _, id := range s.order {
		if q := s.people[id]; q.person == p.person {
			ds = append(ds, q)
		}
	}
	return ds
}

// restrict changes what hosts decided about p's person, and makes the media
// and the tiles of every one of their devices follow.
func (s *State) restrict(fx *effects, now time.Time, p *participant, by string, change func(*person)) {
	ds := s.devices(p)
	before := make([][3]bool, len(ds))
	for i, d := range ds {
		before[i] = s.forwarding(d)
	}
	change(p.person)
	s.decided(fx, now, p.person)
	for i, d := range ds {
		s.syncForwarding(fx, d, before[i])
		s.broadcast(fx, d.ID, func() ServerMessage { return &ParticipantUpdated{Participant: d.info()} })
		if d.presence == PresenceRoom {
			fx.add(Send{To: d.ID, Msg: s.you(d, by)})
		}
	}
}

// decided records what hosts decided about pr now.
func (s *State) decided(fx *effects, now time.Time, pr *person) {
	if pr.identity == "" {
		return
	}
	fx.add(Decided{Identity: pr.identity, Stopped: kinds(pr.blocked), Allowed: kinds(pr.may), Role: pr.role, Waits: pr.waits, At: now})
}

// kinds lists the kinds set in m, in order.
func kinds(m map[string]bool) []string {
	var ks []string
	for _, k := range []string{KindAudio, KindVideo, KindScreen} {
		if m[k] {
			ks = append(ks, k)
		}
	}
	return ks
}

// remember takes back what was decided in an earlier life of the meeting.
func (s *State) remember(ds []Decided) {
	for _, d := range ds {
		pr := newPerson(d.Identity)
		for _, k := range d.Stopped {
			pr.blocked[k] = true
		}
		for _, k := range d.Allowed {
			pr.may[k] = true
		}
		pr.role, pr.waits = d.Role, d.Waits
		s.persons[d.Identity] = pr
	}
}
