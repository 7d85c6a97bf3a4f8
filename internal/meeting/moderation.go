package meeting

import (
	"fmt"
	"time"
)

// mediaState takes what the client says it sends. Turning back on something
// a host stopped needs the meeting's (or a host's) permission; the server
// forwards nothing of it until then, whatever the client sends.
func (s *State) mediaState(fx *effects, now time.Time, p *participant, m *MediaState) error {
	if !p.role.Can(ActPublish) && (m.Audio || m.Video || m.Screen) {
		return refuse("not_allowed", "observers do not send media")
	}
	wanted := map[string]bool{KindAudio: m.Audio, KindVideo: m.Video}
	for kind, on := range wanted {
		if on && p.blocked[kind] && !s.mayResume(p, kind) {
			return refuse("not_allowed", "a host stopped your "+word(kind)+": raise your hand and wait to be allowed")
		}
	}
	for kind, on := range wanted {
		if on && p.blocked[kind] {
			s.restrict(fx, now, p, "", func(pr *person) { pr.blocked[kind], pr.may[kind] = false, false })
		}
	}
	before := s.forwarding(p)
	p.media = *m
	s.syncForwarding(fx, p, before)
	s.updated(fx, p)
	return nil
}

// mayResume reports whether p may turn kind back on after a host stopped
// it. A screen share a host stopped comes back only when a host allows it.
func (s *State) mayResume(p *participant, kind string) bool {
	if !p.role.Can(ActPublish) {
		return false
	}
	selfUnmute := s.policy.Unmute == "self" && kind != KindScreen
	return !p.blocked[kind] || p.role.Can(ActSelfUnmute) || selfUnmute || p.may[kind]
}

func word(kind string) string {
	return map[string]string{KindAudio: "microphone", KindVideo: "camera", KindScreen: "screen share"}[kind]
}

// mute stops one participant's audio, video or screen.
func (s *State) mute(fx *effects, now time.Time, host *participant, id, kind string) error {
	if err := s.may(host, ActMute, "only hosts can mute others"); err != nil {
		return err
	}
	t, err := s.target(id)
	if err != nil {
		return err
	}
	if t.role.moderator() && t.ID != host.ID {
		return refuse("not_allowed", "hosts and co-hosts cannot be muted by others")
	}
	s.block(fx, now, host, t, kind)
	return nil
}

// muteAll stops everyone's audio or video, hosts and co-hosts excepted.
func (s *State) muteAll(fx *effects, now time.Time, host *participant, kind string) error {
	if err := s.may(host, ActMute, "only hosts can mute others"); err != nil {
		return err
	}
	for _, id := range s.order {
		if t := s.people[id]; t.admitted && !t.role.moderator() {
			s.block(fx, now, host, t, kind)
		}
	}
	return nil
}

// block stops kind for t's person, on every device of theirs, until a
// host allows it back.
func (s *State) block(fx *effects, now time.Time, host, t *participant, kind string) {
	s.restrict(fx, now, t, host.Name, func(pr *person) { pr.blocked[kind], pr.may[kind] = true, false })
	s.audit(fx, now, host, "stopped "+word(kind), t, "")
}

// askUnmute asks a participant to turn their microphone back on; it also
// allows them to, as the host asked.
func (s *State) askUnmute(fx *effects, now time.Time, host *participant, id string) error {
	if err := s.may(host, ActMute, "only hosts can ask someone to unmute"); err != nil {
		return err
	}
	t, err := s.target(id)
	if err != nil || !t.admitted {
		return refuse("unknown_participant", "nobody with that id is in the room")
	}
	s.restrict(fx, now, t, host.Name, func(pr *person) { pr.may[KindAudio] = true })
	s.audit(fx, now, host, "asked to unmute", t, "")
	fx.add(Send{To: t.ID, Msg: &AskedToUnmute{By: host.Name}})
	return nil
}

// allow lets a participant turn audio or video back on; allowing someone to
// speak also lowers their hand.
func (s *State) allow(fx *effects, now time.Time, host *participant, id, kind string) error {
	if err := s.may(host, ActMute, "only hosts can allow someone to speak"); err != nil {
		return err
	}
	t, err := s.target(id)
	if err != nil || !t.admitted {
		return refuse("unknown_participant", "nobody with that id is in the room")
	}
	if kind == KindAudio && !t.hand.IsZero() {
		t.hand = time.Time{}
		s.handsChanged(fx)
	}
	s.restrict(fx, now, t, host.Name, func(pr *person) { pr.may[kind] = true })
	s.audit(fx, now, host, "allowed "+word(kind), t, "")
	return nil
}

// setRole promotes or demotes; the host's own role cannot change.
func (s *State) setRole(fx *effects, now time.Time, host *participant, id string, role Role) error {
	if err := s.may(host, ActSetRole, "only the host can change roles"); err != nil {
		return err
	}
	t, err := s.target(id)
	if err != nil || !t.admitted {
		return refuse("unknown_participant", "nobody with that id is in the room")
	}
	if t.role == RoleHost {
		return refuse("not_allowed", "the host's role cannot change")
	}
	s.roleForAll(fx, now, host, t, role)
	return nil
}

// roleForAll gives t's person a role on every device, the ones still in the
// lobby included, and for their joins to come.
func (s *State) roleForAll(fx *effects, now time.Time, host, t *participant, role Role) {
	t.person.role = role
	s.decided(fx, now, t.person)
	for _, d := range s.devices(t) {
		switch {
		case d.role == RoleHost || d.role == role:
		case d.admitted:
			s.changeRole(fx, now, host, d, role)
		default:
			d.role = role
			fx.add(RoleChanged{Who: d.ID, Role: role})
		}
	}
}

// changeRole gives one connection of a person its new role.
func (s *State) changeRole(fx *effects, now time.Time, host, t *participant, role Role) {
	before := s.forwarding(t)
	t.role = role
	if !role.Can(ActRaiseHand) && !t.hand.IsZero() {
		t.hand = time.Time{}
		s.handsChanged(fx)
	}
	s.syncForwarding(fx, t, before)
	fx.add(RoleChanged{Who: t.ID, Role: role})
	s.audit(fx, now, host, "made "+string(role), t, "")
	s.updated(fx, t)
	s.askConsent(fx, t)
	if role.Can(ActRecord) && t.presence == PresenceRoom && s.recording != nil {
		fx.add(Send{To: t.ID, Msg: &Consents{Entries: s.consentEntries()}})
	}
	if role.Can(ActSeeLobby) && t.presence == PresenceRoom {
		fx.add(Send{To: t.ID, Msg: &Lobby{Entries: s.lobbyEntries()}})
	}
}

// removeOther takes someone out; with ban they cannot come back to this meeting.
func (s *State) removeOther(fx *effects, now time.Time, host *participant, id string, ban bool) error {
	if err := s.may(host, ActRemove, "only hosts can remove people"); err != nil {
		return err
	}
	t, err := s.target(id)
	if err != nil {
		return err
	}
	if err := s.outranks(host, t); err != nil {
		return err
	}
	action := "removed"
	if ban {
		action = "removed and banned"
		s.banned[t.Identity] = true
		if t.InviteeID != "" {
			fx.add(Banned{InviteeID: t.InviteeID})
		}
	}
	s.audit(fx, now, host, action, t, "")
	gone := []*participant{t}
	if ban {
		gone = s.devices(t) // a ban holds for every device of theirs
	}
	for _, d := range gone {
		if d.presence != PresenceAway {
			fx.add(Send{To: d.ID, Msg: &Removed{Banned: ban}}, Close{Who: d.ID, Reason: "removed"})
		}
		s.remove(fx, now, d, action)
	}
	return nil
}

// outranks checks that host may remove or move t: nobody touches the host,
// and only the host touches co-hosts.
func (s *State) outranks(host, t *participant) error {
	switch {
	case t.ID == host.ID:
		return refuse("not_allowed", "use leave to leave")
	case t.role == RoleHost:
		return refuse("not_allowed", "the host cannot be removed")
	case t.role == RoleCohost && host.role != RoleHost:
		return refuse("not_allowed", "only the host can remove a co-host")
	}
	return nil
}

// sendToLobby moves someone from the room back to the lobby: the gentle removal.
func (s *State) sendToLobby(fx *effects, now time.Time, host *participant, id string) error {
	if err := s.may(host, ActRemove, "only hosts can send people to the lobby"); err != nil {
		return err
	}
	t, err := s.target(id)
	if err != nil || !t.admitted {
		return refuse("unknown_participant", "nobody with that id is in the room")
	}
	if err := s.outranks(host, t); err != nil {
		return err
	}
	s.audit(fx, now, host, "sent to lobby", t, "")
	t.admitted, t.hand, t.sharing = false, time.Time{}, false
	t.person.waits = true // no automatic admission for them from now on
	s.decided(fx, now, t.person)
	if t.role == RoleCohost {
		t.role = RoleParticipant
		fx.add(RoleChanged{Who: t.ID, Role: t.role})
		s.roleForAll(fx, now, host, t, RoleParticipant)
	}
	if t.presence == PresenceRoom {
		t.presence = PresenceLobby
		fx.add(Send{To: t.ID, Msg: &SentToLobby{}}, Send{To: t.ID, Msg: &LobbyStatus{HostPresent: s.hostPresent()}})
	}
	fx.add(StopMedia{Who: t.ID})
	s.broadcast(fx, t.ID, func() ServerMessage { return &ParticipantLeft{ParticipantID: t.ID} })
	s.handsChanged(fx)
	s.lobbyChanged(fx)
	return nil
}

func (s *State) lock(fx *effects, now time.Time, host *participant, locked bool) error {
	if err := s.may(host, ActLock, "only hosts can lock the meeting"); err != nil {
		return err
	}
	if s.policy.Locked == locked {
		return nil
	}
	s.policy.Locked = locked
	action := "unlocked meeting"
	if locked {
		action = "locked meeting"
	}
	fx.add(LockSaved{Locked: locked})
	s.audit(fx, now, host, action, nil, "")
	s.policyChanged(fx)
	return nil
}

func (s *State) setPolicy(fx *effects, now time.Time, host *participant, m *SetPolicy) error {
	if err := s.may(host, ActSetPolicy, "only hosts can change the meeting's rules"); err != nil {
		return err
	}
	before := map[string][3]bool{}
	for id, p := range s.people {
		before[id] = s.forwarding(p)
	}
	if m.Unmute != nil {
		s.policy.Unmute = *m.Unmute
	}
	if m.ScreenShare != nil {
		s.policy.ScreenShare = *m.ScreenShare
	}
	if m.Chat != nil {
		s.policy.Chat = *m.Chat
	}
	s.audit(fx, now, host, "changed rules", nil, fmt.Sprintf("unmute=%s screen_share=%s chat=%v", s.policy.Unmute, s.policy.ScreenShare, s.policy.Chat))
	for _, id := range s.order {
		s.syncForwarding(fx, s.people[id], before[id])
	}
	s.policyChanged(fx)
	return nil
}

// policyChanged tells everyone in the room the rules, and what they may do.
func (s *State) policyChanged(fx *effects) {
	for _, id := range s.order {
		if p := s.people[id]; p.presence == PresenceRoom {
			fx.add(Send{To: id, Msg: &PolicyChanged{Policy: s.policy}}, Send{To: id, Msg: s.you(p, "")})
		}
	}
}
