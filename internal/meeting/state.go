package meeting

import (
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strings"
	"time"
)

// Where a participant is.
const (
	PresenceLobby = "lobby" // waiting to be admitted
	PresenceRoom  = "room"  // in the meeting
	PresenceAway  = "away"  // connection lost; may resume within the grace window
)

// Arrival is a participant arriving with a verified join token.
type Arrival struct {
	ID          string
	Name        string
	Role        Role
	InviteeID   string // the invitation of a personal link, or ""
	InviteeName string // the name on that invitation
	Identity    string // the same person across joins: invitee or user id
}

type participant struct {
	Arrival
	presence  string
	admitted  bool // in the room, or away from it
	resume    string
	arrivedAt time.Time
	awaySince time.Time
	media     MediaState
}

// State is one live meeting: who is in the lobby, who is in the room, who is
// reconnecting. It is a state machine: each method takes a command, changes
// the state and returns the effects for the caller to carry out in order. It
// does no I/O and reads no clock.
type State struct {
	Meeting           MeetingInfo
	AutoAdmitInvitees bool
	Grace             time.Duration

	people    map[string]*participant
	order     []string // by arrival
	newSecret func() string
}

// NewState returns an empty meeting.
func NewState(m MeetingInfo, autoAdmitInvitees bool, grace time.Duration) *State {
	return &State{Meeting: m, AutoAdmitInvitees: autoAdmitInvitees, Grace: grace, people: map[string]*participant{}, newSecret: secret}
}

func secret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Effect is something the caller must do.
type Effect interface{ effect() }

// Send a message to a participant's connection.
type Send struct {
	To  string
	Msg ServerMessage
}

// Close a participant's connection (after the messages sent before it).
type Close struct {
	Who    string
	Reason string
}

// StartMedia makes the participant's media peer: it has been admitted.
type StartMedia struct{ Who string }

// StopMedia closes the participant's media peer.
type StopMedia struct{ Who string }

// ToMedia passes a media message (offer, answer, candidate, restart) to the
// participant's media peer.
type ToMedia struct {
	Who string
	Msg ClientMessage
}

// ExpireAfter asks for Expire(Who) to be called After from now.
type ExpireAfter struct {
	Who   string
	After time.Duration
}

// Emptied says nobody is left: the meeting can be put away.
type Emptied struct{}

func (Send) effect()        {}
func (Close) effect()       {}
func (StartMedia) effect()  {}
func (StopMedia) effect()   {}
func (ToMedia) effect()     {}
func (ExpireAfter) effect() {}
func (Emptied) effect()     {}

// Refusal is a client message refused; the sender is told why.
type Refusal struct {
	Code, Message string
}

func (r *Refusal) Error() string { return r.Code + ": " + r.Message }

func refuse(code, msg string) error { return &Refusal{Code: code, Message: msg} }

// effects collects what a command does.
type effects []Effect

func (e *effects) add(x ...Effect) { *e = append(*e, x...) }

// Join lets a participant in: hosts straight into the room, invitees too when
// the meeting admits them automatically and a host is present, anyone else
// into the lobby.
func (s *State) Join(now time.Time, a Arrival) ([]Effect, error) {
	if s.people[a.ID] != nil {
		return nil, refuse("already_joined", "this join token was already used; reload the page to join again")
	}
	var fx effects
	// The same person joining again (a reloaded page) replaces their
	// disconnected self, so nobody sees a ghost tile. They still go through
	// the lobby: only the resume secret proves a connection is the same one.
	for _, id := range slices.Clone(s.order) {
		if p := s.people[id]; p.Identity == a.Identity && a.Identity != "" && p.presence == PresenceAway {
			s.remove(&fx, p)
		}
	}
	p := &participant{Arrival: a, resume: s.newSecret(), arrivedAt: now, presence: PresenceLobby}
	s.people[a.ID] = p
	s.order = append(s.order, a.ID)
	hostWasPresent := s.hostPresent()
	direct := a.Role.Can(ActSkipLobby) || (s.autoAdmits(p) && hostWasPresent)
	if direct {
		p.presence, p.admitted = PresenceRoom, true
	}
	fx.add(Send{To: a.ID, Msg: s.welcome(p)})
	if direct {
		s.entered(&fx, p)
	} else {
		s.lobbyChanged(&fx)
	}
	if !hostWasPresent && s.hostPresent() {
		s.hostArrived(&fx)
	}
	return fx, nil
}

// Resume reattaches a reconnecting participant, who returns where they were:
// the room, or their place in the lobby.
func (s *State) Resume(now time.Time, secret string, keepMedia bool) (string, []Effect, error) {
	var p *participant
	for _, q := range s.people {
		if q.resume == secret && q.presence == PresenceAway {
			p = q
		}
	}
	if p == nil {
		return "", nil, refuse("resume_expired", "too long away: join again")
	}
	var fx effects
	hostWasPresent := s.hostPresent()
	if p.admitted {
		p.presence = PresenceRoom
		if !keepMedia {
			fx.add(StopMedia{Who: p.ID}, StartMedia{Who: p.ID})
		}
	} else {
		p.presence = PresenceLobby
	}
	fx.add(Send{To: p.ID, Msg: s.welcome(p)})
	if p.admitted {
		s.broadcast(&fx, p.ID, func() ServerMessage { return &ParticipantUpdated{Participant: p.info()} })
	} else {
		s.lobbyChanged(&fx)
	}
	if !hostWasPresent && s.hostPresent() {
		s.hostArrived(&fx)
	}
	return p.ID, fx, nil
}

// Disconnected marks a participant whose connection dropped as away. They
// keep their place for the grace window.
func (s *State) Disconnected(now time.Time, id string) []Effect {
	p := s.people[id]
	if p == nil || p.presence == PresenceAway {
		return nil
	}
	var fx effects
	hostWasPresent := s.hostPresent()
	wasLobby := p.presence == PresenceLobby
	p.presence, p.awaySince = PresenceAway, now
	fx.add(ExpireAfter{Who: id, After: s.Grace})
	if wasLobby {
		s.lobbyChanged(&fx)
	} else {
		s.broadcast(&fx, id, func() ServerMessage { return &ParticipantUpdated{Participant: p.info()} })
	}
	if hostWasPresent && !s.hostPresent() {
		s.lobbyStatus(&fx)
	}
	return fx
}

// Expire removes a participant whose grace window has passed.
func (s *State) Expire(now time.Time, id string) []Effect {
	p := s.people[id]
	if p == nil || p.presence != PresenceAway || now.Sub(p.awaySince) < s.Grace {
		return nil
	}
	var fx effects
	s.remove(&fx, p)
	s.emptied(&fx)
	return fx
}

// Handle carries out a message from a connected participant. A refused
// message returns a *Refusal and changes nothing.
func (s *State) Handle(now time.Time, from string, msg ClientMessage) ([]Effect, error) {
	p := s.people[from]
	if p == nil || p.presence == PresenceAway {
		return nil, refuse("not_joined", "not in this meeting")
	}
	var fx effects
	switch m := msg.(type) {
	case *Join, *Resume:
		return nil, refuse("already_joined", "already joined")
	case *Offer:
		if err := s.mayMedia(p, ActPublish); err != nil {
			return nil, err
		}
		fx.add(ToMedia{Who: from, Msg: m})
	case *Answer, *Candidate, *RestartICE:
		if err := s.mayMedia(p, ActSubscribe); err != nil {
			return nil, err
		}
		fx.add(ToMedia{Who: from, Msg: m})
	case *MediaState:
		if p.presence != PresenceRoom {
			return nil, refuse("not_admitted", "you are waiting in the lobby")
		}
		p.media = *m
		s.broadcast(&fx, from, func() ServerMessage { return &ParticipantUpdated{Participant: p.info()} })
	case *Admit:
		t, err := s.lobbyTarget(p, m.Participant)
		if err != nil {
			return nil, err
		}
		s.admit(&fx, t)
	case *Deny:
		t, err := s.lobbyTarget(p, m.Participant)
		if err != nil {
			return nil, err
		}
		fx.add(Send{To: t.ID, Msg: &Denied{Message: m.Message}}, Close{Who: t.ID, Reason: "denied"})
		s.forget(t)
		s.lobbyChanged(&fx)
	case *AdmitAll:
		if !p.Role.Can(ActAdmit) {
			return nil, refuse("not_allowed", "only a host can admit people")
		}
		for _, q := range s.inLobby() {
			s.admit(&fx, q)
		}
	case *EndMeeting:
		if !p.Role.Can(ActEnd) {
			return nil, refuse("not_allowed", "only a host can end the meeting")
		}
		s.end(&fx)
	case *Leave:
		s.remove(&fx, p)
		fx.add(Close{Who: from, Reason: "left"})
		s.emptied(&fx)
	default:
		return nil, refuse("bad_message", "unexpected message")
	}
	return fx, nil
}

// mayMedia checks that p is in the room and its role may do a.
func (s *State) mayMedia(p *participant, a Action) error {
	if p.presence != PresenceRoom {
		return refuse("not_admitted", "you are waiting in the lobby: no media until a host admits you")
	}
	if !p.Role.Can(a) {
		return refuse("not_allowed", "your role may not "+string(a))
	}
	return nil
}

// lobbyTarget checks that host may admit and that id is waiting.
func (s *State) lobbyTarget(host *participant, id string) (*participant, error) {
	if !host.Role.Can(ActAdmit) {
		return nil, refuse("not_allowed", "only a host can admit or deny")
	}
	t := s.people[id]
	if t == nil || t.presence != PresenceLobby {
		return nil, refuse("unknown_participant", "nobody with that id is waiting in the lobby")
	}
	return t, nil
}

// admit moves a participant from the lobby into the room.
func (s *State) admit(fx *effects, p *participant) {
	p.presence, p.admitted = PresenceRoom, true
	fx.add(Send{To: p.ID, Msg: &Admitted{Participants: s.roomInfo(p.ID)}})
	s.entered(fx, p)
}

// entered starts the media of someone now in the room and tells the others.
func (s *State) entered(fx *effects, p *participant) {
	fx.add(StartMedia{Who: p.ID})
	s.broadcast(fx, p.ID, func() ServerMessage { return &ParticipantJoined{Participant: p.info()} })
	s.lobbyChanged(fx)
}

// hostArrived tells the lobby, and admits invitees if the meeting does so.
func (s *State) hostArrived(fx *effects) {
	s.lobbyStatus(fx)
	for _, q := range s.inLobby() {
		if s.autoAdmits(q) {
			s.admit(fx, q)
		}
	}
}

func (s *State) autoAdmits(p *participant) bool {
	return s.AutoAdmitInvitees && p.InviteeID != ""
}

func (s *State) end(fx *effects) {
	for _, id := range s.order {
		p := s.people[id]
		if p.presence != PresenceAway {
			fx.add(Send{To: id, Msg: &Ended{Reason: "The host ended the meeting."}}, Close{Who: id, Reason: "ended"})
		}
		if p.admitted {
			fx.add(StopMedia{Who: id})
		}
	}
	s.people, s.order = map[string]*participant{}, nil
	fx.add(Emptied{})
}

// remove takes a participant out and tells those who could see them.
func (s *State) remove(fx *effects, p *participant) {
	wasAdmitted, wasLobby := p.admitted, !p.admitted
	hostWasPresent := s.hostPresent()
	s.forget(p)
	if wasAdmitted {
		fx.add(StopMedia{Who: p.ID})
		s.broadcast(fx, p.ID, func() ServerMessage { return &ParticipantLeft{ParticipantID: p.ID} })
	}
	if wasLobby {
		s.lobbyChanged(fx)
	}
	if hostWasPresent && !s.hostPresent() {
		s.lobbyStatus(fx)
	}
}

func (s *State) forget(p *participant) {
	delete(s.people, p.ID)
	s.order = slices.DeleteFunc(s.order, func(id string) bool { return id == p.ID })
}

func (s *State) emptied(fx *effects) {
	if len(s.people) == 0 {
		fx.add(Emptied{})
	}
}

// broadcast sends a message to everyone in the room but one (the subject).
func (s *State) broadcast(fx *effects, except string, msg func() ServerMessage) {
	for _, id := range s.order {
		if p := s.people[id]; id != except && p.presence == PresenceRoom {
			fx.add(Send{To: id, Msg: msg()})
		}
	}
}

// lobbyChanged sends the lobby to every host in the room.
func (s *State) lobbyChanged(fx *effects) {
	entries := s.lobbyEntries()
	for _, id := range s.order {
		if p := s.people[id]; p.presence == PresenceRoom && p.Role.Can(ActSeeLobby) {
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
		if p.presence == PresenceRoom && p.Role.Can(ActAdmit) {
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

// roomInfo lists everyone admitted but one.
func (s *State) roomInfo(except string) []ParticipantInfo {
	infos := []ParticipantInfo{}
	for _, id := range s.order {
		if p := s.people[id]; id != except && p.admitted {
			infos = append(infos, p.info())
		}
	}
	return infos
}

func (s *State) welcome(p *participant) *Welcome {
	w := &Welcome{
		You: Self{ID: p.ID, Name: p.Name, Role: p.Role}, Presence: p.presence, Resume: p.resume,
		Meeting: s.Meeting, HostPresent: s.hostPresent(), Participants: []ParticipantInfo{}, Lobby: []LobbyEntry{},
	}
	if p.presence == PresenceRoom {
		w.Participants = s.roomInfo(p.ID)
		if p.Role.Can(ActSeeLobby) {
			w.Lobby = s.lobbyEntries()
		}
	}
	return w
}

func (p *participant) info() ParticipantInfo {
	return ParticipantInfo{
		ID: p.ID, Name: p.Name, Role: p.Role, Presence: p.presence,
		Audio: p.media.Audio, Video: p.media.Video, Screen: p.media.Screen,
	}
}

// Presence of a participant, or "" if not here (for tests and the driver).
func (s *State) Presence(id string) string {
	if p := s.people[id]; p != nil {
		return p.presence
	}
	return ""
}

// Count is how many participants the meeting holds, away ones included.
func (s *State) Count() int { return len(s.people) }

// sameName compares a typed name with an invited one, ignoring case and
// surrounding or repeated spaces.
func sameName(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}
