package meeting

import (
	"fmt"
	"testing"
	"time"
)

// rejoin is jones leaving and coming back on a new connection with the same
// personal link, in a meeting that admits invitees by itself.
func rejoin(t *testing.T, s *State, id string) []Effect {
	t.Helper()
	mustHandle(t, s, "jones", &Leave{})
	a := jones
	a.ID = id
	return mustJoin(t, s, a)
}

func TestStopsOutlastARejoin(t *testing.T) {
	for _, kind := range []string{KindAudio, KindVideo} {
		t.Run(kind, func(t *testing.T) {
			opts := policy("ask", "everyone")
			opts.AutoAdmitInvitees = true
			s := inRoom(t, opts)
			mustHandle(t, s, "host", &Mute{Participant: "jones", Kind: kind})
			fx := rejoin(t, s, "jones-2")
			if !has(fx, Forward{Who: "jones-2", Kind: kind, On: false}) {
				t.Fatalf("jones is back with his %s forwarded", kind)
			}
			if you := first[*You](t, sent(fx, "jones-2")); !you.blockedKind(kind) {
				t.Errorf("jones is told %+v", you)
			}
			if _, err := s.Handle(t0, "jones-2", &MediaState{Audio: true, Video: true}); !isRefusal(err, "not_allowed") {
				t.Errorf("turning it on after the rejoin: %v", err)
			}
			mustHandle(t, s, "host", &Allow{Participant: "jones-2", Kind: kind})
			fx = mustHandle(t, s, "jones-2", &MediaState{Audio: true, Video: true})
			if !has(fx, Forward{Who: "jones-2", Kind: kind, On: true}) {
				t.Error("allowed, and still stopped")
			}
		})
	}
}

func (y *You) blockedKind(kind string) bool {
	return map[string]bool{KindAudio: y.AudioBlocked, KindVideo: y.VideoBlocked, KindScreen: y.ScreenBlocked}[kind]
}

func TestStopsReachASecondDevice(t *testing.T) {
	opts := policy("ask", "everyone")
	opts.AutoAdmitInvitees = true
	s := inRoom(t, opts)
	phone := jones
	phone.ID = "jones-phone"
	mustJoin(t, s, phone)
	fx := mustHandle(t, s, "host", &Mute{Participant: "jones", Kind: KindAudio})
	for _, id := range []string{"jones", "jones-phone"} {
		if !has(fx, Forward{Who: id, Kind: KindAudio, On: false}) {
			t.Errorf("%s still heard after the mute", id)
		}
	}
	laptop := jones
	laptop.ID = "jones-laptop"
	if fx := mustJoin(t, s, laptop); !has(fx, Forward{Who: "jones-laptop", Kind: KindAudio, On: false}) {
		t.Error("a third device joins heard")
	}
	fx = mustHandle(t, s, "host", &Remove{Participant: "jones-phone", Ban: true})
	for _, id := range []string{"jones", "jones-phone", "jones-laptop"} {
		if !has(fx, Close{Who: id, Reason: "removed"}) {
			t.Errorf("the ban left %s in", id)
		}
	}
}

func TestScreenStopOutlastsARejoin(t *testing.T) {
	opts := policy("self", "everyone")
	opts.AutoAdmitInvitees = true
	s := inRoom(t, opts)
	screen := &Offer{PC: "pub", SDP: "v=0", Tracks: map[string]string{"0": "microphone", "1": "screen"}}
	mustHandle(t, s, "jones", screen)
	mustHandle(t, s, "host", &Mute{Participant: "jones", Kind: KindScreen})
	rejoin(t, s, "jones-2")
	if fx := mustHandle(t, s, "jones-2", screen); has(fx, Forward{Who: "jones-2", Kind: KindScreen, On: true}) {
		t.Error("a rejoin undid the host's stop of the screen share")
	}
	if first[*You](t, sent(mustHandle(t, s, "jones-2", &RaiseHand{}), "jones-2")).MayShare {
		t.Error("jones is told he may share")
	}
}

func TestRoleAndHandOutlastARejoin(t *testing.T) {
	opts := policy("self", "everyone")
	opts.AutoAdmitInvitees = true
	s := inRoom(t, opts)
	mustHandle(t, s, "patel", &RaiseHand{})
	mustHandle(t, s, "jones", &RaiseHand{})
	mustHandle(t, s, "host", &SetRole{Participant: "patel", Role: RoleObserver})
	mustHandle(t, s, "patel", &Leave{})
	back := patel
	back.ID = "patel-2"
	fx := mustJoin(t, s, back)
	if w := first[*Welcome](t, sent(fx, "patel-2")); w.You.Role != RoleObserver {
		t.Errorf("patel is back as %s", w.You.Role)
	}
	fx = rejoin(t, s, "jones-2")
	q := first[*Hands](t, sent(fx, "host")).Queue
	if len(q) != 1 || q[0].Participant != "jones-2" {
		t.Errorf("hands after jones's rejoin: %+v", q)
	}
}

func TestAPersonJoinsFromAFewDevicesAtMost(t *testing.T) {
	s := inRoom(t, policy("self", "hosts"))
	for i := 2; i <= MaxDevices; i++ {
		a := jones
		a.ID = fmt.Sprintf("jones-%d", i)
		mustJoin(t, s, a)
	}
	extra := jones
	extra.ID = "jones-extra"
	if _, err := s.Join(t0, extra); !isRefusal(err, "too_many_devices") {
		t.Fatalf("device %d: %v", MaxDevices+1, err)
	}
	mustHandle(t, s, "jones-2", &Leave{})
	mustJoin(t, s, extra)
}

func TestOneParticipantCannotSwampTheRoom(t *testing.T) {
	s := inRoom(t, policy("self", "hosts"))
	sent := 0
	for range 100 {
		if _, err := s.Handle(t0, "jones", &React{Reaction: "clap"}); err == nil {
			sent++
		} else if !isRefusal(err, "rate_limited") {
			t.Fatal(err)
		}
	}
	if sent != fanoutBurst {
		t.Errorf("%d reactions went out at once, want %d", sent, fanoutBurst)
	}
	for _, m := range []ClientMessage{&RaiseHand{}, &LowerHand{}, &MediaState{Audio: true}} {
		if _, err := s.Handle(t0, "jones", m); !isRefusal(err, "rate_limited") {
			t.Errorf("%T past the budget: %v", m, err)
		}
	}
	if _, err := s.Handle(t0.Add(time.Second), "jones", &React{Reaction: "clap"}); err != nil {
		t.Errorf("a second later: %v", err)
	}
	if _, err := s.Handle(t0, "patel", &React{Reaction: "clap"}); err != nil {
		t.Errorf("another participant is limited too: %v", err)
	}
}

func TestDemotionReachesDevicesInTheLobby(t *testing.T) {
	opts := policy("self", "hosts")
	opts.AutoAdmitInvitees = true
	s := newStateWith(opts)
	mustJoin(t, s, host)
	mustJoin(t, s, jones)
	mustHandle(t, s, "host", &SetRole{Participant: "jones", Role: RoleCohost})
	phone := jones
	phone.ID = "jones-phone"
	mustJoin(t, s, phone)
	// Sent to the lobby: no longer a co-host on any device, and not let
	// back in automatically, though the meeting admits invitees by itself.
	fx := mustHandle(t, s, "host", &SendToLobby{Participant: "jones"})
	if !has(fx, RoleChanged{Who: "jones-phone", Role: RoleParticipant}) {
		t.Error("the co-host's phone kept the role")
	}
	mustHandle(t, s, "jones", &Leave{})
	back := jones
	back.ID = "jones-back"
	if w := first[*Welcome](t, sent(mustJoin(t, s, back), "jones-back")); w.Presence != PresenceLobby {
		t.Errorf("sent to the lobby, rejoined into %q", w.Presence)
	}
	mustHandle(t, s, "host", &SetRole{Participant: "jones-phone", Role: RoleObserver})
	fx = mustHandle(t, s, "host", &Admit{Participant: "jones-back"})
	if w := first[*You](t, sent(fx, "jones-back")); w.Role != RoleObserver {
		t.Errorf("a device waiting in the lobby was admitted as %s", w.Role)
	}
}
