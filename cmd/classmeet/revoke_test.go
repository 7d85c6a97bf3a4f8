package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"classmeet/internal/meeting"
	"classmeet/internal/pgtest"
	"classmeet/internal/sfu"
	"classmeet/internal/store"
	"classmeet/internal/testclient"
	"classmeet/internal/testclock"
	"classmeet/internal/testserver"
)

// TestUserDisableEndsLiveMeetingConnections: `classmeet user disable`, in
// another process than the server, ends the teacher's meeting connection:
// the server hears of it through PostgreSQL.
func TestUserDisableEndsLiveMeetingConnections(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, url, 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	s := testserver.StartOn(t, st, nil)
	mid, _ := s.Meeting(t, store.LobbyEveryoneWaits)
	host := s.Host(t, mid, testclient.Options{Publish: []sfu.Source{}})

	if _, _, err := runCmd(t, map[string]string{"DATABASE_URL": url}, "", "user", "disable", "--email", s.Teacher.Email); err != nil {
		t.Fatal(err)
	}
	e, err := host.WaitFor(ctx, func(m meeting.ServerMessage) bool { e, ok := m.(*meeting.Error); return ok && e.Code == "revoked" })
	if err != nil {
		t.Fatalf("the disabled teacher's connection was not ended: %v", err)
	}
	t.Logf("told: %s", e.(*meeting.Error).Message)
	testclock.WaitFor(t, "the disabled teacher's socket to close", 10*time.Second, func() bool { return host.Closed() != nil })
	if _, participants := s.Hub.Live(); participants != 0 {
		t.Errorf("%d participants still in the meeting", participants)
	}
}
