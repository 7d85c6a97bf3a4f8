package meeting

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 16, 30, 0, 0, time.UTC)

func newTestState(autoAdmit bool) *State {
	return newStateWith(Options{AutoAdmitInvitees: autoAdmit, Grace: time.Minute, Policy: Policy{Unmute: "self", ScreenShare: "hosts", Chat: true}})
}

func newStateWith(opts Options) *State {
	s := NewState(MeetingInfo{ID: "m1", Title: "Parents' evening"}, opts)
	n, m := 0, 0
	s.newSecret = func() string { n++; return fmt.Sprintf("secret-%d", n) }
	s.newID = func() string { m++; return fmt.Sprintf("msg-%d", m) }
	return s
}

var (
	host   = Arrival{ID: "host", Name: "Ms Smith", Role: RoleHost, Identity: "user-1"}
	jones  = Arrival{ID: "jones", Name: "mr  JONES", Role: RoleParticipant, InviteeID: "inv-1", InviteeName: "Mr Jones", Identity: "inv-1"}
	patel  = Arrival{ID: "patel", Name: "Priya", Role: RoleParticipant, InviteeID: "inv-2", InviteeName: "Mrs Patel", Identity: "inv-2"}
	outsid = Arrival{ID: "guest", Name: "Guest", Role: RoleParticipant, Identity: "guest"}
)

func mustJoin(t *testing.T, s *State, a Arrival) []Effect {
	t.Helper()
	fx, err := s.Join(t0, a)
	if err != nil {
		t.Fatalf("join %s: %v", a.ID, err)
	}
	return fx
}

func mustHandle(t *testing.T, s *State, from string, m ClientMessage) []Effect {
	t.Helper()
	fx, err := s.Handle(t0, from, m)
	if err != nil {
		t.Fatalf("%s %T: %v", from, m, err)
	}
	return fx
}

// sent returns the messages sent to one participant, in order.
func sent(fx []Effect, to string) []ServerMessage {
	var ms []ServerMessage
	for _, e := range fx {
		if s, ok := e.(Send); ok && s.To == to {
			ms = append(ms, s.Msg)
		}
	}
	return ms
}

func has(fx []Effect, want Effect) bool {
	for _, e := range fx {
		if reflect.DeepEqual(e, want) {
			return true
		}
	}
	return false
}

func first[T ServerMessage](t *testing.T, ms []ServerMessage) T {
	t.Helper()
	for _, m := range ms {
		if v, ok := m.(T); ok {
			return v
		}
	}
	var zero T
	t.Fatalf("no %T among %d messages", zero, len(ms))
	return zero
}

func TestHostEntersDirectlyAndParentsWait(t *testing.T) {
	s := newTestState(false)
	fx := mustJoin(t, s, jones)
	w := first[*Welcome](t, sent(fx, "jones"))
	if w.Presence != PresenceLobby || w.HostPresent || w.Resume != "secret-1" || w.Meeting.Title != "Parents' evening" {
		t.Errorf("parent's welcome: %+v", w)
	}
	if has(fx, StartMedia{Who: "jones"}) {
		t.Fatal("media started for someone in the lobby")
	}

	fx = mustJoin(t, s, host)
	hw := first[*Welcome](t, sent(fx, "host"))
	if hw.Presence != PresenceRoom || len(hw.Lobby) != 1 || hw.Lobby[0].ID != "jones" || !hw.Lobby[0].NameMatches || hw.Lobby[0].InviteeName != "Mr Jones" {
		t.Errorf("host's welcome: %+v", hw)
	}
	if !has(fx, StartMedia{Who: "host"}) {
		t.Error("host's media not started")
	}
	if st := first[*LobbyStatus](t, sent(fx, "jones")); !st.HostPresent {
		t.Error("the lobby was not told the host arrived")
	}

	fx = mustJoin(t, s, patel)
	lobby := first[*Lobby](t, sent(fx, "host"))
	if len(lobby.Entries) != 2 || lobby.Entries[1].ID != "patel" || lobby.Entries[1].NameMatches {
		t.Errorf("lobby after a second arrival: %+v", lobby.Entries)
	}
	if len(sent(fx, "jones")) != 0 {
		t.Error("someone waiting learned of another arrival")
	}
}

func TestAdmitAndDeny(t *testing.T) {
	s := newTestState(false)
	mustJoin(t, s, host)
	mustJoin(t, s, jones)
	mustJoin(t, s, patel)

	fx := mustHandle(t, s, "host", &Admit{Participant: "jones"})
	if !has(fx, StartMedia{Who: "jones"}) || s.Presence("jones") != PresenceRoom {
		t.Fatal("admitted participant has no media or is not in the room")
	}
	adm := first[*Admitted](t, sent(fx, "jones"))
	if len(adm.Participants) != 1 || adm.Participants[0].ID != "host" {
		t.Errorf("admitted sees %+v", adm.Participants)
	}
	if j := first[*ParticipantJoined](t, sent(fx, "host")); j.Participant.ID != "jones" {
		t.Errorf("host told of %+v", j.Participant)
	}
	if l := first[*Lobby](t, sent(fx, "host")); len(l.Entries) != 1 {
		t.Errorf("lobby after admit: %+v", l.Entries)
	}

	fx = mustHandle(t, s, "host", &Deny{Participant: "patel", Message: "Please book another slot."})
	if d := first[*Denied](t, sent(fx, "patel")); d.Message != "Please book another slot." {
		t.Errorf("denied message %q", d.Message)
	}
	if !has(fx, Close{Who: "patel", Reason: "denied"}) || s.Presence("patel") != "" || has(fx, StartMedia{Who: "patel"}) {
		t.Error("a denied participant stays, or got media")
	}
	if _, err := s.Handle(t0, "host", &Admit{Participant: "patel"}); !isRefusal(err, "unknown_participant") {
		t.Errorf("admit the denied: %v", err)
	}
	if _, err := s.Handle(t0, "host", &Admit{Participant: "jones"}); !isRefusal(err, "unknown_participant") {
		t.Errorf("admit someone already in: %v", err)
	}
}

func TestAdmitAll(t *testing.T) {
	s := newTestState(false)
	mustJoin(t, s, jones)
	mustJoin(t, s, patel)
	mustJoin(t, s, host)
	fx := mustHandle(t, s, "host", &AdmitAll{})
	for _, id := range []string{"jones", "patel"} {
		if !has(fx, StartMedia{Who: id}) || s.Presence(id) != PresenceRoom {
			t.Errorf("%s not admitted", id)
		}
	}
}

func isRefusal(err error, code string) bool {
	var r *Refusal
	return errors.As(err, &r) && r.Code == code
}

// TestRoleActionTable checks every role against every message: allowed ones
// have effects, refused ones return a Refusal and no effects. The target of
// a moderator's command is "p", an admitted participant; "waiting" is in the lobby.
func TestRoleActionTable(t *testing.T) {
	messages := map[string]func() ClientMessage{
		"offer":           func() ClientMessage { return &Offer{PC: "pub", SDP: "v=0", Tracks: map[string]string{"0": "camera"}} },
		"offer screen":    func() ClientMessage { return &Offer{PC: "pub", SDP: "v=0", Tracks: map[string]string{"0": "screen"}} },
		"answer":          func() ClientMessage { return &Answer{PC: "sub", SDP: "v=0"} },
		"candidate":       func() ClientMessage { return &Candidate{PC: "pub"} },
		"restart_ice":     func() ClientMessage { return &RestartICE{} },
		"media_state":     func() ClientMessage { return &MediaState{Audio: true} },
		"admit":           func() ClientMessage { return &Admit{Participant: "waiting"} },
		"deny":            func() ClientMessage { return &Deny{Participant: "waiting"} },
		"admit_all":       func() ClientMessage { return &AdmitAll{} },
		"end_meeting":     func() ClientMessage { return &EndMeeting{} },
		"leave":           func() ClientMessage { return &Leave{} },
		"mute":            func() ClientMessage { return &Mute{Participant: "p", Kind: KindAudio} },
		"mute_all":        func() ClientMessage { return &MuteAll{Kind: KindAudio} },
		"ask_unmute":      func() ClientMessage { return &AskUnmute{Participant: "p"} },
		"allow":           func() ClientMessage { return &Allow{Participant: "p", Kind: KindAudio} },
		"set_role":        func() ClientMessage { return &SetRole{Participant: "p", Role: RoleCohost} },
		"remove":          func() ClientMessage { return &Remove{Participant: "p"} },
		"send_to_lobby":   func() ClientMessage { return &SendToLobby{Participant: "p"} },
		"lock":            func() ClientMessage { return &Lock{Locked: true} },
		"set_policy":      func() ClientMessage { return &SetPolicy{Chat: ptr(false)} },
		"chat":            func() ClientMessage { return &Chat{Text: "hi", To: "everyone"} },
		"delete_chat":     func() ClientMessage { return &DeleteChat{ID: "msg-1"} },
		"raise_hand":      func() ClientMessage { return &RaiseHand{} },
		"lower_hand":      func() ClientMessage { return &LowerHand{Participant: "p"} },
		"lower_all_hands": func() ClientMessage { return &LowerAllHands{} },
		"react":           func() ClientMessage { return &React{Reaction: "clap"} },
	}
	everyone := []string{"answer", "candidate", "restart_ice", "leave"}
	speaker := append([]string{"offer", "media_state", "chat", "react"}, everyone...)
	moderator := append([]string{"offer screen", "admit", "deny", "admit_all", "mute", "mute_all", "ask_unmute", "allow",
		"remove", "send_to_lobby", "lock", "set_policy", "delete_chat", "lower_hand", "lower_all_hands"}, speaker...)
	allowed := map[string][]string{
		"host":        append([]string{"end_meeting", "set_role"}, moderator...),
		"cohost":      moderator,
		"participant": append([]string{"raise_hand"}, speaker...),
		"observer":    everyone,
		"lobby":       {"leave"},
	}
	for who, list := range allowed {
		ok := map[string]bool{}
		for _, m := range list {
			ok[m] = true
		}
		for name, mk := range messages {
			t.Run(who+"/"+name, func(t *testing.T) {
				s := newTestState(false)
				mustJoin(t, s, host)
				mustJoin(t, s, Arrival{ID: "p", Name: "P", Role: RoleParticipant, Identity: "p"})
				mustJoin(t, s, Arrival{ID: "actor", Name: "A", Role: RoleParticipant, Identity: "a"})
				mustJoin(t, s, Arrival{ID: "waiting", Name: "W", Role: RoleParticipant, Identity: "w"})
				mustHandle(t, s, "host", &Admit{Participant: "p"})
				mustHandle(t, s, "p", &RaiseHand{})
				mustHandle(t, s, "p", &Chat{Text: "first", To: "everyone"}) // msg-1
				from := "actor"
				switch who {
				case "host":
					from = "host"
				case "cohost", "participant", "observer":
					mustHandle(t, s, "host", &Admit{Participant: "actor"})
					if who != "participant" {
						mustHandle(t, s, "host", &SetRole{Participant: "actor", Role: Role(who)})
					}
				}
				fx, err := s.Handle(t0, from, mk())
				if ok[name] && (err != nil || len(fx) == 0) {
					t.Errorf("refused: %v", err)
				}
				if !ok[name] && (err == nil || len(fx) != 0) {
					t.Errorf("allowed: %d effects", len(fx))
				}
			})
		}
	}
}

func TestLobbyGetsNoMedia(t *testing.T) {
	s := newTestState(false)
	mustJoin(t, s, host)
	mustJoin(t, s, jones)
	for _, m := range []ClientMessage{&Offer{PC: "pub", SDP: "v=0"}, &Answer{PC: "sub", SDP: "v=0"}, &Candidate{PC: "sub"}, &RestartICE{}, &Chat{Text: "hi", To: "everyone"}, &RaiseHand{}} {
		fx, err := s.Handle(t0, "jones", m)
		if !isRefusal(err, "not_admitted") || len(fx) != 0 {
			t.Errorf("%T from the lobby: %v, %d effects", m, err, len(fx))
		}
	}
}

func TestAutoAdmitInviteesOnceAHostIsHere(t *testing.T) {
	s := newTestState(true)
	mustJoin(t, s, jones)
	if s.Presence("jones") != PresenceLobby {
		t.Fatal("an invitee entered before the host")
	}
	mustJoin(t, s, outsid)
	fx := mustJoin(t, s, host)
	if !has(fx, StartMedia{Who: "jones"}) || s.Presence("jones") != PresenceRoom {
		t.Error("the waiting invitee was not admitted when the host arrived")
	}
	if s.Presence("guest") != PresenceLobby {
		t.Error("someone without an invitation skipped the lobby")
	}
	fx = mustJoin(t, s, patel)
	if w := first[*Welcome](t, sent(fx, "patel")); w.Presence != PresenceRoom {
		t.Error("an invitee arriving after the host waited")
	}
}

func TestEndMeeting(t *testing.T) {
	s := newTestState(false)
	mustJoin(t, s, host)
	mustJoin(t, s, jones)
	mustJoin(t, s, patel)
	mustHandle(t, s, "host", &Admit{Participant: "jones"})
	fx := mustHandle(t, s, "host", &EndMeeting{})
	for _, id := range []string{"host", "jones", "patel"} {
		if first[*Ended](t, sent(fx, id)) == nil || !has(fx, Close{Who: id, Reason: "ended"}) {
			t.Errorf("%s not told and closed", id)
		}
	}
	if !has(fx, StopMedia{Who: "jones"}) || !has(fx, StopMedia{Who: "host"}) || has(fx, StopMedia{Who: "patel"}) || !has(fx, Emptied{}) || s.Count() != 0 {
		t.Error("media or state left behind")
	}
}

func TestReconnectWithinGrace(t *testing.T) {
	s := newTestState(false)
	mustJoin(t, s, host)
	mustJoin(t, s, jones)
	mustHandle(t, s, "host", &Admit{Participant: "jones"})

	fx := s.Disconnected(t0, "jones")
	if !has(fx, ExpireAfter{Who: "jones", After: time.Minute}) || s.Presence("jones") != PresenceAway {
		t.Fatal("not away with a grace timer")
	}
	if u := first[*ParticipantUpdated](t, sent(fx, "host")); u.Participant.Presence != PresenceAway {
		t.Error("host not told jones is reconnecting")
	}
	if _, err := s.Handle(t0, "jones", &MediaState{}); err == nil {
		t.Error("an away participant's message was accepted")
	}
	if fx := s.Expire(t0.Add(59*time.Second), "jones"); len(fx) != 0 {
		t.Error("expired before the grace window ended")
	}
	id, fx, err := s.Resume(t0.Add(59*time.Second), "secret-2", true)
	if err != nil || id != "jones" {
		t.Fatalf("resume: %q %v", id, err)
	}
	if w := first[*Welcome](t, sent(fx, "jones")); w.Presence != PresenceRoom || len(w.Participants) != 1 {
		t.Errorf("resumed into %+v", w)
	}
	if has(fx, StartMedia{Who: "jones"}) || has(fx, StopMedia{Who: "jones"}) {
		t.Error("media restarted although the client kept it")
	}
	if u := first[*ParticipantUpdated](t, sent(fx, "host")); u.Participant.Presence != PresenceRoom {
		t.Error("host not told jones is back")
	}
	// The expiry armed at the disconnect is harmless after a resume.
	if fx := s.Expire(t0.Add(2*time.Minute), "jones"); len(fx) != 0 {
		t.Error("a stale expiry removed a resumed participant")
	}

	s.Disconnected(t0.Add(3*time.Minute), "jones")
	_, fx, _ = s.Resume(t0.Add(3*time.Minute), "secret-2", false)
	if !has(fx, StopMedia{Who: "jones"}) || !has(fx, StartMedia{Who: "jones"}) {
		t.Error("a client with new PeerConnections got no fresh media peer")
	}
}

func TestGraceExpiry(t *testing.T) {
	s := newTestState(false)
	mustJoin(t, s, host)
	mustJoin(t, s, jones)
	mustHandle(t, s, "host", &Admit{Participant: "jones"})
	s.Disconnected(t0, "jones")
	fx := s.Expire(t0.Add(time.Minute), "jones")
	if !has(fx, StopMedia{Who: "jones"}) || first[*ParticipantLeft](t, sent(fx, "host")).ParticipantID != "jones" {
		t.Error("expired participant not removed from the room")
	}
	if _, _, err := s.Resume(t0.Add(time.Minute), "secret-2", true); !isRefusal(err, "resume_expired") {
		t.Errorf("resume after expiry: %v", err)
	}
	// Joining again after the grace window goes through the lobby.
	mustJoin(t, s, Arrival{ID: "jones-2", Name: "Mr Jones", Role: RoleParticipant, InviteeID: "inv-1", Identity: "inv-1"})
	if s.Presence("jones-2") != PresenceLobby {
		t.Error("a rejoin after the grace window skipped the lobby")
	}
}

func TestLobbyReconnectKeepsItsPlace(t *testing.T) {
	s := newTestState(false)
	mustJoin(t, s, host)
	mustJoin(t, s, jones)
	mustJoin(t, s, patel)
	fx := s.Disconnected(t0, "jones")
	if l := first[*Lobby](t, sent(fx, "host")); len(l.Entries) != 1 {
		t.Errorf("host still sees the disconnected one waiting: %+v", l.Entries)
	}
	_, fx, err := s.Resume(t0.Add(time.Second), "secret-2", true)
	if err != nil || s.Presence("jones") != PresenceLobby || has(fx, StartMedia{Who: "jones"}) {
		t.Fatalf("resume from the lobby: %v %s", err, s.Presence("jones"))
	}
	if l := first[*Lobby](t, sent(fx, "host")); len(l.Entries) != 2 || l.Entries[0].ID != "jones" {
		t.Errorf("lobby order after resume: %+v", l.Entries)
	}
}

func TestRejoinReplacesTheDisconnectedSelf(t *testing.T) {
	s := newTestState(false)
	mustJoin(t, s, host)
	mustJoin(t, s, jones)
	mustHandle(t, s, "host", &Admit{Participant: "jones"})
	s.Disconnected(t0, "jones")
	fx := mustJoin(t, s, Arrival{ID: "jones-2", Name: "Mr Jones", Role: RoleParticipant, InviteeID: "inv-1", Identity: "inv-1"})
	if first[*ParticipantLeft](t, sent(fx, "host")).ParticipantID != "jones" || s.Presence("jones") != "" {
		t.Error("the old, disconnected tile stays")
	}
	if s.Presence("jones-2") != PresenceLobby {
		t.Error("a fresh join skipped the lobby")
	}
	if _, err := s.Join(t0, Arrival{ID: "jones-2", Role: RoleParticipant}); !isRefusal(err, "already_joined") {
		t.Errorf("a replayed join token: %v", err)
	}
}

func TestHostLeavingTellsTheLobby(t *testing.T) {
	s := newTestState(false)
	mustJoin(t, s, host)
	mustJoin(t, s, jones)
	fx := mustHandle(t, s, "host", &Leave{})
	if st := first[*LobbyStatus](t, sent(fx, "jones")); st.HostPresent {
		t.Error("lobby thinks the host is still here")
	}
	if !has(fx, Close{Who: "host", Reason: "left"}) || !has(fx, StopMedia{Who: "host"}) {
		t.Error("leaving host not closed")
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
