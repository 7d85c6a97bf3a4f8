package meeting

import (
	"slices"
	"testing"
	"time"
)

// inRoom joins host, jones and patel and admits the two.
func inRoom(t *testing.T, opts Options) *State {
	t.Helper()
	s := newStateWith(opts)
	mustJoin(t, s, host)
	mustJoin(t, s, jones)
	mustJoin(t, s, patel)
	mustHandle(t, s, "host", &AdmitAll{})
	return s
}

func policy(unmute, screen string) Options {
	return Options{Grace: time.Minute, Policy: Policy{Unmute: unmute, ScreenShare: screen, Chat: true}}
}

func audits(fx []Effect) []string {
	var as []string
	for _, e := range fx {
		if a, ok := e.(Audited); ok {
			as = append(as, a.Action)
		}
	}
	return as
}

func TestMuteUnderSelfUnmute(t *testing.T) {
	s := inRoom(t, policy("self", "hosts"))
	fx := mustHandle(t, s, "host", &Mute{Participant: "jones", Kind: KindAudio})
	if !has(fx, Forward{Who: "jones", Kind: KindAudio, On: false}) {
		t.Fatal("the server still forwards jones's audio")
	}
	you := first[*You](t, sent(fx, "jones"))
	if !you.AudioBlocked || !you.MayUnmute || you.By != "Ms Smith" {
		t.Errorf("jones is told %+v", you)
	}
	if u := first[*ParticipantUpdated](t, sent(fx, "patel")); !u.Participant.AudioBlocked || u.Participant.Audio {
		t.Errorf("patel sees %+v", u.Participant)
	}
	if !slices.Contains(audits(fx), "stopped microphone") {
		t.Errorf("audit %v", audits(fx))
	}
	fx = mustHandle(t, s, "jones", &MediaState{Audio: true, Video: true})
	if !has(fx, Forward{Who: "jones", Kind: KindAudio, On: true}) {
		t.Error("self-unmute did not resume forwarding")
	}
}

func TestAskToSpeak(t *testing.T) {
	s := inRoom(t, policy("ask", "hosts"))
	mustHandle(t, s, "host", &Mute{Participant: "jones", Kind: KindAudio})
	fx, err := s.Handle(t0, "jones", &MediaState{Audio: true, Video: true})
	if !isRefusal(err, "not_allowed") || len(fx) != 0 {
		t.Fatalf("unmute without permission: %v", err)
	}
	mustHandle(t, s, "jones", &RaiseHand{})
	fx = mustHandle(t, s, "host", &Allow{Participant: "jones", Kind: KindAudio})
	if first[*You](t, sent(fx, "jones")).MayUnmute != true {
		t.Error("jones is not told he may unmute")
	}
	if q := first[*Hands](t, sent(fx, "host")); len(q.Queue) != 0 {
		t.Error("allowing to speak did not lower the hand")
	}
	fx = mustHandle(t, s, "jones", &MediaState{Audio: true, Video: true})
	if !has(fx, Forward{Who: "jones", Kind: KindAudio, On: true}) {
		t.Error("allowed unmute did not resume forwarding")
	}
	// Permission is used up: muted again, asking again.
	mustHandle(t, s, "host", &Mute{Participant: "jones", Kind: KindAudio})
	if _, err := s.Handle(t0, "jones", &MediaState{Audio: true}); !isRefusal(err, "not_allowed") {
		t.Errorf("second unmute: %v", err)
	}
	// A host asking counts as allowing.
	fx = mustHandle(t, s, "host", &AskUnmute{Participant: "jones"})
	if a := first[*AskedToUnmute](t, sent(fx, "jones")); a.By != "Ms Smith" {
		t.Errorf("asked by %q", a.By)
	}
	mustHandle(t, s, "jones", &MediaState{Audio: true})
}

func TestMuteAllSparesModerators(t *testing.T) {
	s := inRoom(t, policy("self", "hosts"))
	mustHandle(t, s, "host", &SetRole{Participant: "patel", Role: RoleCohost})
	fx := mustHandle(t, s, "host", &MuteAll{Kind: KindVideo})
	if !has(fx, Forward{Who: "jones", Kind: KindVideo, On: false}) {
		t.Error("jones's video still forwarded")
	}
	if has(fx, Forward{Who: "patel", Kind: KindVideo, On: false}) || has(fx, Forward{Who: "host", Kind: KindVideo, On: false}) {
		t.Error("a moderator was muted")
	}
	if _, err := s.Handle(t0, "patel", &Mute{Participant: "host", Kind: KindAudio}); !isRefusal(err, "not_allowed") {
		t.Errorf("co-host mutes the host: %v", err)
	}
}

func TestScreenSharePolicy(t *testing.T) {
	s := inRoom(t, policy("self", "hosts"))
	screen := &Offer{PC: "pub", SDP: "v=0", Tracks: map[string]string{"0": "microphone", "1": "screen"}}
	if _, err := s.Handle(t0, "jones", screen); !isRefusal(err, "not_allowed") {
		t.Fatalf("participant shares under hosts-only: %v", err)
	}
	fx := mustHandle(t, s, "host", &SetPolicy{ScreenShare: ptr("everyone")})
	if p := first[*PolicyChanged](t, sent(fx, "jones")); p.Policy.ScreenShare != "everyone" {
		t.Errorf("policy %+v", p.Policy)
	}
	mustHandle(t, s, "jones", screen)
	fx = mustHandle(t, s, "host", &Mute{Participant: "jones", Kind: KindScreen})
	if !has(fx, Forward{Who: "jones", Kind: KindScreen, On: false}) {
		t.Error("stopped screen still forwarded")
	}
	// The same share renegotiated stays stopped, and so does a new share
	// (the sharer is told why) until a host allows one.
	fx = mustHandle(t, s, "jones", screen)
	if has(fx, Forward{Who: "jones", Kind: KindScreen, On: true}) {
		t.Error("renegotiating undid the host's stop")
	}
	unshare := &Offer{PC: "pub", SDP: "v=0", Tracks: map[string]string{"0": "microphone"}}
	mustHandle(t, s, "jones", unshare)
	fx = mustHandle(t, s, "jones", screen)
	if has(fx, Forward{Who: "jones", Kind: KindScreen, On: true}) {
		t.Error("removing and adding the screen again undid the host's stop")
	}
	if e := first[*Error](t, sent(fx, "jones")); e.Code != "not_allowed" {
		t.Errorf("the sharer is told %+v", e)
	}
	mustHandle(t, s, "jones", unshare)
	mustHandle(t, s, "host", &Allow{Participant: "jones", Kind: KindScreen})
	fx = mustHandle(t, s, "jones", screen)
	if !has(fx, Forward{Who: "jones", Kind: KindScreen, On: true}) {
		t.Error("a new share the host allowed is not forwarded")
	}
	fx = mustHandle(t, s, "host", &SetPolicy{ScreenShare: ptr("hosts")})
	if !has(fx, Forward{Who: "jones", Kind: KindScreen, On: false}) {
		t.Error("going back to hosts-only left a participant's screen forwarded")
	}
}

func TestObserverSeesAndHearsOnly(t *testing.T) {
	s := inRoom(t, policy("self", "everyone"))
	mustJoin(t, s, Arrival{ID: "head", Name: "Head", Role: RoleObserver, InviteeID: "inv-9", Identity: "inv-9"})
	mustHandle(t, s, "host", &Admit{Participant: "head"})
	for _, m := range []ClientMessage{
		&Offer{PC: "pub", SDP: "v=0", Tracks: map[string]string{"0": "camera"}},
		&Chat{Text: "hello", To: "everyone"}, &RaiseHand{}, &MediaState{Audio: true},
	} {
		if _, err := s.Handle(t0, "head", m); !isRefusal(err, "not_allowed") {
			t.Errorf("observer %T: %v", m, err)
		}
	}
	mustHandle(t, s, "head", &Answer{PC: "sub", SDP: "v=0"})
	// Making a participant an observer stops their media at once.
	fx := mustHandle(t, s, "host", &SetRole{Participant: "jones", Role: RoleObserver})
	for _, k := range []string{KindAudio, KindVideo, KindScreen} {
		if !has(fx, Forward{Who: "jones", Kind: k, On: false}) {
			t.Errorf("observer's %s still forwarded", k)
		}
	}
	if !has(fx, RoleChanged{Who: "jones", Role: RoleObserver}) || !slices.Contains(audits(fx), "made observer") {
		t.Error("role change not recorded")
	}
}

func TestRemoveAndBan(t *testing.T) {
	s := inRoom(t, policy("self", "hosts"))
	fx := mustHandle(t, s, "host", &Remove{Participant: "jones", Ban: true})
	if r := first[*Removed](t, sent(fx, "jones")); !r.Banned {
		t.Error("jones not told he was banned")
	}
	for _, e := range []Effect{Close{Who: "jones", Reason: "removed"}, StopMedia{Who: "jones"}, Banned{InviteeID: "inv-1"}} {
		if !has(fx, e) {
			t.Errorf("missing %#v", e)
		}
	}
	if l := first[*ParticipantLeft](t, sent(fx, "patel")); l.ParticipantID != "jones" {
		t.Error("patel still sees jones")
	}
	if _, err := s.Join(t0, Arrival{ID: "jones-again", Role: RoleParticipant, InviteeID: "inv-1", Identity: "inv-1"}); !isRefusal(err, "removed") {
		t.Errorf("banned rejoin: %v", err)
	}
	mustHandle(t, s, "host", &Remove{Participant: "patel"})
	mustJoin(t, s, Arrival{ID: "patel-again", Role: RoleParticipant, InviteeID: "inv-2", Identity: "inv-2"})
	if _, err := s.Handle(t0, "host", &Remove{Participant: "host"}); !isRefusal(err, "not_allowed") {
		t.Errorf("host removes themselves: %v", err)
	}
}

func TestSendToLobby(t *testing.T) {
	s := inRoom(t, policy("self", "hosts"))
	fx := mustHandle(t, s, "host", &SendToLobby{Participant: "jones"})
	first[*SentToLobby](t, sent(fx, "jones"))
	if !has(fx, StopMedia{Who: "jones"}) || s.Presence("jones") != PresenceLobby {
		t.Fatal("not back in the lobby without media")
	}
	if _, err := s.Handle(t0, "jones", &Chat{Text: "hi", To: "everyone"}); !isRefusal(err, "not_admitted") {
		t.Errorf("chat from the lobby: %v", err)
	}
	fx = mustHandle(t, s, "host", &Admit{Participant: "jones"})
	if !has(fx, StartMedia{Who: "jones"}) {
		t.Error("readmitted without media")
	}
}

func TestLock(t *testing.T) {
	s := inRoom(t, policy("self", "hosts"))
	fx := mustHandle(t, s, "host", &Lock{Locked: true})
	if !has(fx, LockSaved{Locked: true}) || !slices.Contains(audits(fx), "locked meeting") {
		t.Error("lock not recorded")
	}
	if _, err := s.Join(t0, outsid); !isRefusal(err, "locked") {
		t.Errorf("join a locked meeting: %v", err)
	}
	mustJoin(t, s, Arrival{ID: "host-2", Name: "Ms Smith", Role: RoleHost, Identity: "user-1"})
	s.Disconnected(t0, "jones")
	if _, _, err := s.Resume(t0, "secret-2", true); err != nil {
		t.Errorf("resume while locked: %v", err)
	}
	mustHandle(t, s, "host", &Lock{Locked: false})
	mustJoin(t, s, outsid)
}

func TestChat(t *testing.T) {
	s := inRoom(t, policy("self", "hosts"))
	mustJoin(t, s, outsid) // waits in the lobby
	fx := mustHandle(t, s, "jones", &Chat{Text: "  Hello <b>all</b>  ", To: "everyone"})
	for _, to := range []string{"host", "jones", "patel"} {
		m := first[*ChatMessage](t, sent(fx, to)).Message
		if m.From != "jones" || m.FromName != "mr  JONES" || m.Text != "Hello <b>all</b>" {
			t.Errorf("%s got %+v", to, m)
		}
	}
	if len(sent(fx, "guest")) != 0 {
		t.Error("someone in the lobby read the chat")
	}
	saved := false
	for _, e := range fx {
		if c, ok := e.(ChatSaved); ok && c.Entry.Text == "Hello <b>all</b>" {
			saved = true
		}
	}
	if !saved {
		t.Error("chat not kept")
	}

	fx = mustHandle(t, s, "patel", &Chat{Text: "private question", To: "hosts"})
	if len(sent(fx, "jones")) != 0 || len(sent(fx, "host")) != 1 || len(sent(fx, "patel")) != 1 {
		t.Error("a message to the hosts reached the wrong people")
	}
	// A late arrival gets the history they may see.
	late := Arrival{ID: "late", Name: "Late", Role: RoleParticipant, Identity: "late"}
	mustJoin(t, s, late)
	fx = mustHandle(t, s, "host", &Admit{Participant: "late"})
	h := first[*ChatHistory](t, sent(fx, "late"))
	if len(h.Messages) != 1 || h.Messages[0].Text != "Hello <b>all</b>" {
		t.Errorf("late history %+v", h.Messages)
	}

	fx = mustHandle(t, s, "host", &DeleteChat{ID: "msg-1"})
	if first[*ChatDeleted](t, sent(fx, "jones")).ID != "msg-1" || !has(fx, ChatRemoved{ID: "msg-1", By: "Ms Smith", At: t0}) {
		t.Error("deletion not sent or kept")
	}
	if !slices.Contains(audits(fx), "deleted chat message") {
		t.Error("deletion not audited")
	}
	if _, err := s.Handle(t0, "host", &DeleteChat{ID: "msg-1"}); !isRefusal(err, "unknown_message") {
		t.Errorf("delete twice: %v", err)
	}

	mustHandle(t, s, "host", &SetPolicy{Chat: ptr(false)})
	if _, err := s.Handle(t0, "jones", &Chat{Text: "hi", To: "everyone"}); !isRefusal(err, "not_allowed") {
		t.Errorf("chat while closed: %v", err)
	}
	mustHandle(t, s, "host", &Chat{Text: "I can still write", To: "everyone"})
}

func TestHandQueue(t *testing.T) {
	s := inRoom(t, policy("self", "hosts"))
	mustJoin(t, s, outsid)
	mustHandle(t, s, "host", &Admit{Participant: "guest"})
	if _, err := s.Handle(t0.Add(time.Second), "patel", &RaiseHand{}); err != nil {
		t.Fatal(err)
	}
	s.Handle(t0.Add(2*time.Second), "guest", &RaiseHand{})
	fx, _ := s.Handle(t0.Add(3*time.Second), "jones", &RaiseHand{})
	q := first[*Hands](t, sent(fx, "host")).Queue
	if len(q) != 3 || q[0].Participant != "patel" || q[1].Participant != "guest" || q[2].Participant != "jones" {
		t.Fatalf("queue %+v", q)
	}
	// A hand survives a reconnect.
	s.Disconnected(t0, "patel")
	_, fx, _ = s.Resume(t0, "secret-3", true)
	if first[*You](t, sent(fx, "patel")).HandRaised != true || len(first[*Hands](t, sent(fx, "patel")).Queue) != 3 {
		t.Error("the hand was lost in the reconnect")
	}
	mustHandle(t, s, "jones", &LowerHand{})
	if _, err := s.Handle(t0, "jones", &LowerHand{Participant: "patel"}); !isRefusal(err, "not_allowed") {
		t.Errorf("participant lowers another's hand: %v", err)
	}
	fx = mustHandle(t, s, "host", &LowerHand{Participant: "patel"})
	if q := first[*Hands](t, sent(fx, "guest")).Queue; len(q) != 1 || q[0].Participant != "guest" {
		t.Errorf("after lowering: %+v", q)
	}
	fx = mustHandle(t, s, "host", &LowerAllHands{})
	if q := first[*Hands](t, sent(fx, "jones")).Queue; len(q) != 0 {
		t.Errorf("after lowering all: %+v", q)
	}
	fx = mustHandle(t, s, "jones", &React{Reaction: "clap"})
	if r := first[*Reaction](t, sent(fx, "patel")); r.Participant != "jones" || r.Reaction != "clap" {
		t.Errorf("reaction %+v", r)
	}
}

func TestAttendanceAndAuditAreKept(t *testing.T) {
	s := newTestState(false)
	var all []Effect
	keep := func(fx []Effect, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, fx...)
	}
	keep(s.Join(t0, host))
	keep(s.Join(t0, jones))
	keep(s.Join(t0, patel))
	keep(s.Handle(t0, "host", &Admit{Participant: "jones"}))
	keep(s.Handle(t0, "host", &Deny{Participant: "patel"}))
	keep(s.Handle(t0, "host", &Mute{Participant: "jones", Kind: KindAudio}))
	keep(s.Handle(t0, "host", &SetRole{Participant: "jones", Role: RoleCohost}))
	keep(s.Handle(t0, "host", &Lock{Locked: true}))
	keep(s.Handle(t0, "jones", &Chat{Text: "x", To: "everyone"}))
	keep(s.Handle(t0, "host", &DeleteChat{ID: "msg-1"}))
	keep(s.Handle(t0, "host", &Remove{Participant: "jones"}))
	keep(s.Handle(t0, "host", &Leave{}))
	want := []string{"joined", "joined", "joined", "admitted", "denied", "stopped microphone", "made cohost",
		"locked meeting", "deleted chat message", "removed", "left"}
	if got := audits(all); !slices.Equal(got, want) {
		t.Errorf("audit\n got %v\nwant %v", got, want)
	}
	for _, e := range []Effect{
		Arrived{Who: "jones", Name: "mr  JONES", Role: RoleParticipant, InviteeID: "inv-1", At: t0},
		EnteredRoom{Who: "jones", At: t0}, Departed{Who: "patel", At: t0, Reason: "denied"},
		Departed{Who: "jones", At: t0, Reason: "removed"}, Departed{Who: "host", At: t0, Reason: "left"},
	} {
		if !has(all, e) {
			t.Errorf("attendance lacks %#v", e)
		}
	}
}

// A hand going up or down reaches everyone in the room as an update of the
// person, so their tile shows it; someone in the lobby stays unseen.
func TestHandsUpdateTheParticipant(t *testing.T) {
	s := newTestState(false)
	mustJoin(t, s, host)
	mustJoin(t, s, jones)
	mustJoin(t, s, patel)
	mustHandle(t, s, "host", &AdmitAll{})

	fx := mustHandle(t, s, "jones", &RaiseHand{})
	for _, to := range []string{"host", "patel"} {
		u := first[*ParticipantUpdated](t, sent(fx, to))
		if u.Participant.ID != "jones" || u.Participant.HandRaisedAt != t0.Format(time.RFC3339Nano) {
			t.Fatalf("%s told %+v, want jones's hand raised at %s", to, u.Participant, t0)
		}
	}
	if y := first[*You](t, sent(fx, "jones")); !y.HandRaised {
		t.Fatalf("jones told %+v, want hand_raised", y)
	}

	fx = mustHandle(t, s, "jones", &LowerHand{})
	if u := first[*ParticipantUpdated](t, sent(fx, "patel")); u.Participant.ID != "jones" || u.Participant.HandRaisedAt != "" {
		t.Fatalf("patel told %+v after the hand went down", u.Participant)
	}

	mustHandle(t, s, "jones", &RaiseHand{})
	mustHandle(t, s, "patel", &RaiseHand{})
	fx = mustHandle(t, s, "host", &LowerAllHands{})
	lowered := map[string]bool{}
	for _, m := range sent(fx, "host") {
		if u, ok := m.(*ParticipantUpdated); ok && u.Participant.HandRaisedAt == "" {
			lowered[u.Participant.ID] = true
		}
	}
	if !lowered["jones"] || !lowered["patel"] {
		t.Fatalf("host told of lowered hands %v, want jones and patel", lowered)
	}

	// A hand kept from an earlier visit, lowered while its owner waits in
	// the lobby, tells the room nothing about them.
	mustHandle(t, s, "jones", &RaiseHand{})
	mustHandle(t, s, "jones", &Leave{})
	again := jones
	again.ID = "jones-2"
	mustJoin(t, s, again)
	fx = mustHandle(t, s, "host", &LowerHand{Participant: "jones-2"})
	for _, m := range sent(fx, "host") {
		if u, ok := m.(*ParticipantUpdated); ok {
			t.Fatalf("host told of %+v, who waits in the lobby", u.Participant)
		}
	}
}
