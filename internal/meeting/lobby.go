package meeting

import (
	"strings"
	"time"
)

// admitOne lets one person in from the lobby.
func (s *State) admitOne(fx *effects, now time.Time, host *participant, id string) error {
	t, err := s.lobbyTarget(host, id)
	if err != nil {
		return err
	}
	s.admit(fx, now, host, t)
	return nil
}

func (s *State) admitAll(fx *effects, now time.Time, host *participant) error {
	if err := s.may(host, ActAdmit, "only a host can admit people"); err != nil {
		return err
	}
	for _, q := range s.inLobby() {
		s.admit(fx, now, host, q)
	}
	return nil
}

func (s *State) deny(fx *effects, now time.Time, host *participant, m *Deny) error {
	t, err := s.lobbyTarget(host, m.Participant)
	if err != nil {
		return err
	}
	fx.add(Send{To: t.ID, Msg: &Denied{Message: m.Message}}, Close{Who: t.ID, Reason: "denied"})
	s.audit(fx, now, host, "denied", t, "")
	fx.add(Departed{Who: t.ID, At: now, Reason: "denied"})
	s.forget(t)
	s.lobbyChanged(fx)
	return nil
}

// lobbyTarget checks that host may admit and that id is waiting.
func (s *State) lobbyTarget(host *participant, id string) (*participant, error) {
	if err := s.may(host, ActAdmit, "only a host can admit or deny"); err != nil {
		return nil, err
	}
	t := s.people[id]
	if t == nil || t.presence != PresenceLobby {
		return nil, refuse("unknown_participant", "nobody with that id is waiting in the lobby")
	}
	if s.isBanned(t.Arrival) {
		return nil, refuse("removed", "that person was removed from this meeting")
	}
	return t, nil
}

// isBanned reports whether a's person was removed from the meeting for good.
func (s *State) isBanned(a Arrival) bool { return a.Identity != "" && s.banned[a.Identity] }

// admit moves a participant from the lobby into the room; a nil host means
// the meeting admits invitees by itself.
func (s *State) admit(fx *effects, now time.Time, host *participant, p *participant) {
	if s.isBanned(p.Arrival) {
		return // every way in checks the ban: admit all and automatic admission too
	}
	p.presence, p.admitted = PresenceRoom, true
	if host != nil && p.person.waits {
		p.person.waits = false // a host let them back in
		s.decided(fx, now, p.person)
	}
	s.audit(fx, now, host, "admitted", p, "")
	fx.add(Send{To: p.ID, Msg: &Admitted{Participants: s.roomInfo(p.ID)}})
	s.entered(fx, now, p)
	s.startAppointment(fx, now, p)
}

// hostArrived tells the lobby, and admits invitees if the meeting does so.
func (s *State) hostArrived(fx *effects, now time.Time) {
	s.lobbyStatus(fx)
	for _, q := range s.inLobby() {
		if s.autoAdmits(q) {
			s.admit(fx, now, nil, q)
		}
	}
}

// autoAdmits reports whether the lobby policy lets p in by itself. A family
// coming for an appointment waits for its time whatever the policy: the
// timetable lets them in (keepTime).
func (s *State) autoAdmits(p *participant) bool {
	return s.opts.AutoAdmitInvitees && p.InviteeID != "" && !p.person.waits && !s.timed(p)
}

// lobbyChanged sends the lobby to every host in the room.
func (s *State) lobbyChanged(fx *effects) {
	entries := s.lobbyEntries()
	for _, id := range s.order {
		if p := s.people[id]; p.presence == PresenceRoom && p.role.Can(ActSeeLobby) {
			fx.add(Send{To: id, Msg: &Lobby{Entries: entries}})
		}
	}
}

// lobbyStatus tells everyone waiting whether a host is here.
func (s *State) lobbyStatus(fx *effects) {
	present := s.hostPresent()
	for _, q := range s.inLobby() {
		fx.add(Send{To: q.ID, Msg: &LobbyStatus{HostPresent: present}})
	}
}

func (s *State) hostPresent() bool {
	for _, p := range s.people {
		if p.presence == PresenceRoom && p.role.Can(ActAdmit) {
			return true
		}
	}
	return false
}

func (s *State) inLobby() []*participant {
	var ps []*participant
	for _, id := range s.order {
		if p := s.people[id]; p.presence == PresenceLobby {
			ps = append(ps, p)
		}
	}
	return ps
}

func (s *State) lobbyEntries() []LobbyEntry {
	entries := []LobbyEntry{}
	for _, p := range s.inLobby() {
		entries = append(entries, LobbyEntry{
			ID: p.ID, Name: p.Name, InviteeName: p.InviteeName,
			NameMatches: p.InviteeName != "" && sameName(p.Name, p.InviteeName),
			ArrivedAt:   p.arrivedAt.UTC().Format(time.RFC3339),
		})
	}
	return entries
}

// sameName compares a typed name with an invited one, ignoring case and
// surrounding or repeated spaces.
func sameName(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}
