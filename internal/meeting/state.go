package meeting

import (
	"crypto/rand"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Where a participant is.
const (
	PresenceLobby = "lobby" // waiting to be admitted
	PresenceRoom  = "room"  // in the meeting
	PresenceAway  = "away"  // connection lost; may resume within the grace window
)

// InviteeIdentity is the identity (Arrival.Identity) of whoever comes in
// through an invitee's personal link: the one way it is written, so a
// timetable and a join agree on who a family is.
func InviteeIdentity(inviteeID string) string { return "invitee:" + inviteeID }

// Arrival is a participant arriving with a verified join token.
type Arrival struct {
	ID          string
	Name        string
	Role        Role
	InviteeID   string // the invitation of a personal link, or ""
	InviteeName string // the name on that invitation
	UserID      string // the staff account of a host, or ""
	Identity    string // the same person across joins: invitee or user id
	AuthSession string // the staff sign-in the join token came from, or ""
}

type participant struct {
	Arrival
	role      Role // the role now (promotions change it)
	presence  string
	admitted  bool // in the room, or away from it
	resume    string
	arrivedAt time.Time
	awaySince time.Time
	*person              // what hosts decided about them, shared by their devices
	media     MediaState // what the client says it sends
	sharing   bool       // its latest offer included a screen
	hand      time.Time  // zero: hand down
	consent   string     // the answer to the recording on now: "", pending, accepted, declined
	consentAt time.Time
}

// Options are a meeting's settings when it starts.
type Options struct {
	AutoAdmitInvitees bool
	Grace             time.Duration
	Policy            Policy
	History           []ChatEntry // chat of earlier sessions of the meeting
	Recording         bool        // the server can record
	Residue           Residue     // what the meeting's last live session left behind
	Decisions         []Decided   // what hosts decided about people, earlier in the meeting
	Timetable         *Timetable  // a parents' evening room's appointments, or nil
}

// State is one live meeting: who is in the lobby, who is in the room, who is
// reconnecting, what they may do, the chat and the raised hands. It is a
// state machine: each method takes a command, changes the state and returns
// the effects for the caller to carry out in order. It does no I/O and
// reads no clock. Every permission is checked through Role.Can first.
type State struct {
	Meeting MeetingInfo
	opts    Options
	policy  Policy

	people  map[string]*participant
	order   []string           // by arrival
	banned  map[string]bool    // identities removed with a ban
	persons map[string]*person // by identity: what hosts decided, for good
	ended   bool               // the host ended it: only a host's join opens it again
	history []ChatEntry
	// recording is the recording in progress, or nil.
	recording *recordingState
	// tk keeps a parents' evening's time, or is nil.
	tk *timekeeper

	newSecret func() string
	newID     func() string
}

// NewState returns an empty meeting.
func NewState(m MeetingInfo, opts Options) *State {
	s := &State{
		Meeting: m, opts: opts, policy: opts.Policy, people: map[string]*participant{}, banned: map[string]bool{}, persons: map[string]*person{},
		history: slices.Clone(opts.History), newSecret: secret, newID: uuid.NewString, ended: opts.Residue.Ended,
	}
	for _, identity := range opts.Residue.Banned {
		s.banned[identity] = true
	}
	s.remember(opts.Decisions)
	if opts.Timetable != nil {
		s.tk = newTimekeeper(opts.Timetable)
	}
	return s
}

func secret() string { return rand.Text() }

// Join lets a participant in: hosts straight into the room, invitees too when
// the meeting admits them automatically and a host is present, anyone else
// into the lobby.
func (s *State) Join(now time.Time, a Arrival) ([]Effect, error) {
	role := s.roleOf(a)
	switch {
	case s.people[a.ID] != nil:
		return nil, refuse("already_joined", "this join token was already used; reload the page to join again")
	case s.isBanned(a):
		return nil, refuse("removed", "you were removed from this meeting")
	case s.ended && a.Role != RoleHost:
		return nil, refuse("meeting_ended", "the host ended this meeting")
	case s.policy.Locked && !role.Can(ActSkipLobby):
		return nil, refuse("locked", "the meeting is locked: the host is not letting anyone new in")
	case s.connectedAs(a.Identity) >= MaxDevices:
		return nil, refuse("too_many_devices", fmt.Sprintf("you are already in this meeting on %d devices: leave on one of them first", MaxDevices))
	case !role.moderator() && s.posesAsHost(a.Name):
		return nil, refuse("name_taken", "that name is a host's in this meeting: please join under your own name")
	}
	s.ended = false // the host opens it again
	var fx effects
	// The same person joining again (a reloaded page) replaces their
	// disconnected self, so nobody sees a ghost tile. They still go through
	// the lobby: only the resume secret proves a connection is the same one.
	for _, id := range slices.Clone(s.order) {
		if p := s.people[id]; p.Identity == a.Identity && a.Identity != "" && p.presence == PresenceAway {
			s.remove(&fx, now, p, "replaced")
		}
	}
	p := &participant{
		Arrival: a, role: role, resume: s.newSecret(), arrivedAt: now, presence: PresenceLobby,
		media: MediaState{Audio: true, Video: true}, person: s.personOf(a),
	}
	p.hand, p.person.hand = p.person.hand, time.Time{}
	s.people[a.ID] = p
	s.order = append(s.order, a.ID)
	hostWasPresent := s.hostPresent()
	fx.add(Arrived{Who: p.ID, Name: p.Name, Role: p.role, InviteeID: p.InviteeID, UserID: p.UserID, At: now})
	s.audit(&fx, now, p, "joined", nil, "")

	direct := p.role.Can(ActSkipLobby) || (s.autoAdmits(p) && hostWasPresent)
	if direct {
		p.presence, p.admitted = PresenceRoom, true
	}
	fx.add(Send{To: a.ID, Msg: s.welcome(p)})
	if direct {
		s.entered(&fx, now, p)
	} else {
		s.lobbyChanged(&fx)
	}
	if !hostWasPresent && s.hostPresent() {
		s.hostArrived(&fx, now)
	}
	s.keepTime(&fx, now)
	return fx, nil
}

// MaxDevices is how many connections one person (a personal link, a staff
// account) may hold in a meeting at once: a parent on a laptop and a phone
// is fine, a link opened hundreds of times is not.
const MaxDevices = 3

// connectedAs counts the connections of an identity that are not away (an
// away one is replaced when its person joins again).
func (s *State) connectedAs(identity string) int {
	n := 0
	for _, p := range s.people {
		if identity != "" && p.Identity == identity && p.presence != PresenceAway {
			n++
		}
	}
	return n
}

// roleOf is the role someone arrives with: their token's, unless a host
// gave their person another (a promotion or demotion outlasts the join).
func (s *State) roleOf(a Arrival) Role {
	if pr := s.persons[a.Identity]; a.Identity != "" && pr != nil && pr.role != "" && a.Role != RoleHost {
		return pr.role
	}
	return a.Role
}

// posesAsHost reports whether a name looks like the meeting's host's or a
// present moderator's.
func (s *State) posesAsHost(name string) bool {
	if LooksLike(name, s.Meeting.HostName) {
		return true
	}
	for _, p := range s.people {
		if p.role.moderator() && LooksLike(name, p.Name) {
			return true
		}
	}
	return false
}

// Resume reattaches a reconnecting participant, who returns where they were:
// the room, or their place in the lobby. Their hand and any stop a host
// placed on them stay as they were.
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
	if s.isBanned(p.Arrival) {
		return "", nil, refuse("removed", "you were removed from this meeting")
	}
	var fx effects
	hostWasPresent := s.hostPresent()
	if p.admitted {
		p.presence = PresenceRoom
		if !keepMedia {
			fx.add(StopMedia{Who: p.ID}, StartMedia{Who: p.ID})
			s.syncForwarding(&fx, p, [3]bool{true, true, true})
		}
	} else {
		p.presence = PresenceLobby
	}
	fx.add(Send{To: p.ID, Msg: s.welcome(p)})
	if p.admitted {
		s.catchUp(&fx, p)
		s.broadcast(&fx, p.ID, func() ServerMessage { return &ParticipantUpdated{Participant: p.info()} })
	} else {
		s.lobbyChanged(&fx)
	}
	if !hostWasPresent && s.hostPresent() {
		s.hostArrived(&fx, now)
	}
	s.retell(p)
	s.keepTime(&fx, now)
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
	fx.add(ExpireAfter{Who: id, After: s.opts.Grace})
	if wasLobby {
		s.lobbyChanged(&fx)
	} else {
		s.broadcast(&fx, id, func() ServerMessage { return &ParticipantUpdated{Participant: p.info()} })
	}
	if hostWasPresent && !s.hostPresent() {
		s.lobbyStatus(&fx)
	}
	s.keepTime(&fx, now)
	return fx
}

// Expire removes a participant whose grace window has passed.
func (s *State) Expire(now time.Time, id string) []Effect {
	p := s.people[id]
	if p == nil || p.presence != PresenceAway || now.Sub(p.awaySince) < s.opts.Grace {
		return nil
	}
	var fx effects
	s.remove(&fx, now, p, "connection lost")
	s.emptied(&fx, now)
	s.keepTime(&fx, now)
	return fx
}

// Handle carries out a message from a connected participant. A refused
// message returns a *Refusal and changes nothing.
func (s *State) Handle(now time.Time, from string, msg ClientMessage) ([]Effect, error) {
	p := s.people[from]
	if p == nil || p.presence == PresenceAway {
		return nil, refuse("not_joined", "not in this meeting")
	}
	switch msg.(type) {
	case *Leave, *Join, *Resume:
	default:
		if p.presence != PresenceRoom {
			return nil, refuse("not_admitted", "you are waiting in the lobby: nothing but leaving until a host admits you")
		}
	}
	if fansOut(msg) {
		if err := s.fanout(now, p); err != nil {
			return nil, err
		}
	}
	var fx effects
	var err error
	switch m := msg.(type) {
	case *Join, *Resume:
		err = refuse("already_joined", "already joined")
	case *Offer:
		err = s.offer(&fx, now, p, m)
	case *Answer, *Candidate, *RestartICE:
		if !p.role.Can(ActSubscribe) {
			err = refuse("not_allowed", "your role may not receive media")
		} else {
			fx.add(ToMedia{Who: from, Msg: m})
		}
	case *VideoSize:
		err = s.toMedia(&fx, now, p, m, &p.sizes, sizeBurst, sizeRate, "video sizes")
	case *ReceiveVideo:
		err = s.toMedia(&fx, now, p, m, &p.receive, receiveBurst, receiveRate, "video on/off changes")
	case *MediaState:
		err = s.mediaState(&fx, now, p, m)
	case *Admit:
		err = s.admitOne(&fx, now, p, m.Participant)
	case *Deny:
		err = s.deny(&fx, now, p, m)
	case *AdmitAll:
		err = s.admitAll(&fx, now, p)
	case *EndMeeting:
		if err = s.may(p, ActEnd, "only the host can end the meeting"); err == nil {
			s.end(&fx, now, p, "The host ended the meeting.")
		}
	case *Leave:
		s.audit(&fx, now, p, "left", nil, "")
		s.remove(&fx, now, p, "left")
		fx.add(Close{Who: from, Reason: "left"})
		s.emptied(&fx, now)
	case *Mute:
		err = s.mute(&fx, now, p, m.Participant, m.Kind)
	case *MuteAll:
		err = s.muteAll(&fx, now, p, m.Kind)
	case *AskUnmute:
		err = s.askUnmute(&fx, now, p, m.Participant)
	case *Allow:
		err = s.allow(&fx, now, p, m.Participant, m.Kind)
	case *SetRole:
		err = s.setRole(&fx, now, p, m.Participant, m.Role)
	case *Remove:
		err = s.removeOther(&fx, now, p, m.Participant, m.Ban)
	case *SendToLobby:
		err = s.sendToLobby(&fx, now, p, m.Participant)
	case *Lock:
		err = s.lock(&fx, now, p, m.Locked)
	case *SetPolicy:
		err = s.setPolicy(&fx, now, p, m)
	case *Chat:
		err = s.chat(&fx, now, p, m)
	case *DeleteChat:
		err = s.deleteChat(&fx, now, p, m.ID)
	case *RaiseHand:
		err = s.raiseHand(&fx, now, p)
	case *LowerHand:
		err = s.lowerHand(&fx, p, m.Participant)
	case *LowerAllHands:
		err = s.lowerAllHands(&fx, p)
	case *React:
		err = s.react(&fx, p, m.Reaction)
	case *StartRecording:
		err = s.startRecording(&fx, now, p)
	case *StopRecording:
		err = s.stopRecording(&fx, now, p)
	case *Consent:
		err = s.consentTo(&fx, now, p, m.Accept)
	case *Extend:
		err = s.extend(&fx, now, p)
	case *EndAppointment:
		err = s.endAppointment(&fx, now, p)
	case *RunningLateBy:
		err = s.runningLate(&fx, now, p, m.Minutes)
	default:
		err = refuse("bad_message", "unexpected message")
	}
	if err != nil {
		return nil, err
	}
	s.keepTime(&fx, now)
	return fx, nil
}

// may refuses unless p's role may do a.
func (s *State) may(p *participant, a Action, why string) error {
	if !p.role.Can(a) {
		return refuse("not_allowed", why)
	}
	return nil
}

// target finds another participant for a moderator's command.
func (s *State) target(id string) (*participant, error) {
	t := s.people[id]
	if t == nil {
		return nil, refuse("unknown_participant", "nobody with that id is in this meeting")
	}
	return t, nil
}

// offer checks a publishing offer: the role may publish, and a screen only
// when the meeting or the role allows it.
func (s *State) offer(fx *effects, now time.Time, p *participant, m *Offer) error {
	if !p.role.Can(ActPublish) {
		return refuse("not_allowed", "observers see and hear, and do not send media")
	}
	screen := false
	for _, src := range m.Tracks {
		screen = screen || src == "screen" || src == "screen_audio"
	}
	if screen && !s.mayShare(p) {
		return refuse("not_allowed", "only hosts may share their screen in this meeting")
	}
	if screen && !p.sharing && p.blocked[KindScreen] && s.mayResume(p, KindScreen) {
		// A new share, after a host stopped the last and allowed another.
		s.restrict(fx, now, p, "", func(pr *person) { pr.blocked[KindScreen], pr.may[KindScreen] = false, false })
	}
	before := s.forwarding(p)
	p.sharing = screen
	fx.add(ToMedia{Who: p.ID, Msg: m})
	s.syncForwarding(fx, p, before)
	if screen && p.blocked[KindScreen] {
		fx.add(Send{To: p.ID, Msg: &Error{Code: "not_allowed", Message: "a host stopped your screen share: ask a host to let you share again"}})
	}
	return nil
}

func (s *State) mayShare(p *participant) bool {
	return p.role.Can(ActShareScreen) || (p.role.Can(ActPublish) && s.policy.ScreenShare == "everyone")
}

// forwarding is what of p's media reaches others: audio, video, screen.
func (s *State) forwarding(p *participant) [3]bool {
	publish := p.role.Can(ActPublish)
	return [3]bool{publish && !p.blocked[KindAudio], publish && !p.blocked[KindVideo], s.mayShare(p) && !p.blocked[KindScreen]}
}

// syncForwarding tells the media what changed since before.
func (s *State) syncForwarding(fx *effects, p *participant, before [3]bool) {
	if !p.admitted {
		return
	}
	after := s.forwarding(p)
	for i, kind := range []string{KindAudio, KindVideo, KindScreen} {
		if before[i] != after[i] {
			fx.add(Forward{Who: p.ID, Kind: kind, On: after[i]})
		}
	}
}

// entered starts the media of someone now in the room and tells the others.
func (s *State) entered(fx *effects, now time.Time, p *participant) {
	if !p.hand.IsZero() {
		defer s.handsChanged(fx) // a hand they left with, back in the queue
	}
	fx.add(StartMedia{Who: p.ID})
	s.syncForwarding(fx, p, [3]bool{true, true, true})
	fx.add(EnteredRoom{Who: p.ID, At: now})
	s.askConsent(fx, p)
	s.catchUp(fx, p)
	s.broadcast(fx, p.ID, func() ServerMessage { return &ParticipantJoined{Participant: p.info()} })
	s.lobbyChanged(fx)
}

// catchUp tells someone entering (or back in) the room how things stand.
func (s *State) catchUp(fx *effects, p *participant) {
	fx.add(
		Send{To: p.ID, Msg: &PolicyChanged{Policy: s.policy}},
		Send{To: p.ID, Msg: &ChatHistory{Messages: s.historyFor(p)}},
		Send{To: p.ID, Msg: &Hands{Queue: s.handQueue()}},
		Send{To: p.ID, Msg: s.you(p, "")},
	)
	if s.recording != nil {
		fx.add(Send{To: p.ID, Msg: &Recording{RecordingStatus: s.recordingStatus(p)}})
		if p.role.Can(ActRecord) {
			fx.add(Send{To: p.ID, Msg: &Consents{Entries: s.consentEntries()}})
		}
	}
}

func (s *State) end(fx *effects, now time.Time, by *participant, why string) {
	s.audit(fx, now, by, "ended meeting", nil, why)
	s.ended = true
	if by != nil {
		fx.add(EndSaved{At: now})
	}
	s.endRecording(fx, now)
	for _, id := range s.order {
		p := s.people[id]
		if p.presence != PresenceAway {
			fx.add(Send{To: id, Msg: &Ended{Reason: why}}, Close{Who: id, Reason: "ended"})
		}
		if p.admitted {
			fx.add(StopMedia{Who: id})
		}
		fx.add(Departed{Who: id, At: now, Reason: "meeting ended"})
	}
	s.people, s.order = map[string]*participant{}, nil
	fx.add(Emptied{})
}

// Shutdown puts the meeting away as the server stops: the recording stops
// and every visit ends, with the reason in the record. Someone whose
// connection was already lost left when it was lost. The driver closes
// the connections itself.
func (s *State) Shutdown(now time.Time) []Effect {
	var fx effects
	if s.recording != nil {
		s.audit(&fx, now, nil, "recording stopped (server shutdown)", nil, "")
		s.endRecording(&fx, now)
	}
	for _, id := range s.order {
		p := s.people[id]
		at := now
		if p.presence == PresenceAway {
			at = p.awaySince
		}
		fx.add(Departed{Who: id, At: at, Reason: "server shutdown"})
	}
	s.people, s.order = map[string]*participant{}, nil
	return fx
}

// remove takes a participant out and tells those who could see them.
func (s *State) remove(fx *effects, now time.Time, p *participant, reason string) {
	wasAdmitted, wasLobby := p.admitted, !p.admitted
	hostWasPresent := s.hostPresent()
	hadHand := !p.hand.IsZero()
	if hadHand {
		p.person.hand = p.hand // raised again if they come back
	}
	s.forget(p)
	s.leftCall(now, p)
	fx.add(Departed{Who: p.ID, At: now, Reason: reason})
	if wasAdmitted {
		fx.add(StopMedia{Who: p.ID})
		s.broadcast(fx, p.ID, func() ServerMessage { return &ParticipantLeft{ParticipantID: p.ID} })
	}
	if hadHand {
		s.handsChanged(fx)
	}
	if p.consent != "" {
		s.consentsChanged(fx)
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

// emptied puts the meeting away when nobody is left; a recording stops.
func (s *State) emptied(fx *effects, now time.Time) {
	if len(s.people) == 0 {
		s.endRecording(fx, now)
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

// updated tells everyone in the room (the subject included) of p's change.
func (s *State) updated(fx *effects, p *participant) {
	s.broadcast(fx, p.ID, func() ServerMessage { return &ParticipantUpdated{Participant: p.info()} })
	if p.presence == PresenceRoom {
		fx.add(Send{To: p.ID, Msg: s.you(p, "")})
	}
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
		You: Self{ID: p.ID, Name: p.Name, Role: p.role}, Presence: p.presence, Resume: p.resume,
		Meeting: s.Meeting, HostPresent: s.hostPresent(), Participants: []ParticipantInfo{}, Lobby: []LobbyEntry{},
		Recording: s.recordingStatus(p),
	}
	if p.presence == PresenceRoom {
		w.Participants = s.roomInfo(p.ID)
		if p.role.Can(ActSeeLobby) {
			w.Lobby = s.lobbyEntries()
		}
	}
	return w
}

// you is what p may do now.
func (s *State) you(p *participant, by string) *You {
	return &You{
		Role: p.role, AudioBlocked: p.blocked[KindAudio], VideoBlocked: p.blocked[KindVideo], ScreenBlocked: p.blocked[KindScreen],
		MayUnmute: s.mayResume(p, KindAudio), MayVideo: s.mayResume(p, KindVideo), MayShare: s.mayShare(p) && s.mayResume(p, KindScreen),
		MayChat: s.mayChat(p), HandRaised: !p.hand.IsZero(), By: by,
	}
}

func (p *participant) info() ParticipantInfo {
	i := ParticipantInfo{
		ID: p.ID, Name: p.Name, Role: p.role, Presence: p.presence,
		Audio: p.media.Audio && !p.blocked[KindAudio], Video: p.media.Video && !p.blocked[KindVideo], Screen: p.sharing && !p.blocked[KindScreen],
		AudioBlocked: p.blocked[KindAudio], VideoBlocked: p.blocked[KindVideo], ScreenBlocked: p.blocked[KindScreen],
	}
	if !p.hand.IsZero() {
		i.HandRaisedAt = p.hand.UTC().Format(time.RFC3339Nano)
	}
	return i
}

// toMedia passes a client's media request (its choice to receive video
// or not, a tile-size report) on to the media server, within that kind's
// own budget (of burst, refilled at rate a second): each makes the server
// work, and some ask publishers for keyframes. Whether the request makes
// sense for the tracks the sender receives is the media server's to check.
func (s *State) toMedia(fx *effects, now time.Time, p *participant, m ClientMessage, budget *allowance, burst, rate float64, what string) error {
	if !p.role.Can(ActSubscribe) {
		return refuse("not_allowed", "your role may not receive media")
	}
	if !budget.takeOf(now, burst, rate) {
		return refuse("rate_limited", "too many "+what+" at once: slow down")
	}
	fx.add(ToMedia{Who: p.ID, Msg: m})
	return nil
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

// InRoom lists who is admitted, for the driver's quality reports.
func (s *State) InRoom() []ParticipantInfo { return s.roomInfo("") }
