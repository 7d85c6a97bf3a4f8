package gopeers

import (
	"fmt"
	"testing"
	"time"

	"classmeet/internal/meeting"
	"classmeet/internal/sfu"
	"classmeet/internal/store"
	"classmeet/internal/testclient"
	"classmeet/internal/testclock"
	"classmeet/internal/testserver"
)

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	testclock.WaitFor(t, what, d, cond)
}

func msg[T meeting.ServerMessage](t *testing.T, c *testclient.Client, pred func(T) bool) T {
	t.Helper()
	return testclient.Expect(t, c, pred)
}

func TestHostAdmitsParentAndTheySeeEachOther(t *testing.T) {
	s := testserver.Start(t, nil)
	mid, links := s.Meeting(t, store.LobbyEveryoneWaits, "Mr Jones")
	host := s.Host(t, mid, testclient.Options{})
	parent := s.Parent(t, links[0], "Mr Jones", testclient.Options{})
	if p := parent.Welcome().Presence; p != meeting.PresenceLobby {
		t.Fatalf("parent entered %q", p)
	}
	lobby := msg(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == 1 })
	if e := lobby.Entries[0]; e.Name != "Mr Jones" || !e.NameMatches {
		t.Errorf("lobby entry %+v", e)
	}
	if err := host.Send(&meeting.Admit{Participant: parent.ID()}); err != nil {
		t.Fatal(err)
	}
	msg[*meeting.Admitted](t, parent, nil)
	for _, src := range []sfu.Source{sfu.SourceMicrophone, sfu.SourceCamera} {
		waitFor(t, "parent receives host "+string(src)+" "+host.ID()+" "+fmt.Sprint(parent.ReceivedTracks()), 60*time.Second, func() bool { return parent.Received(host.ID(), src).Packets.Load() > 20 })
		waitFor(t, "host receives parent "+string(src), 60*time.Second, func() bool { return host.Received(parent.ID(), src).Packets.Load() > 20 })
	}
}
