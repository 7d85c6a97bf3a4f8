package web_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"classmeet/internal/store"
)

// TestBannedLinkGetsNoRecordings: a parent removed with a ban no longer
// lists, plays or downloads the meeting's recordings, even where invitees
// may: 404, as for any link that does not open them.
func TestBannedLinkGetsNoRecordings(t *testing.T) {
	e := newEnv(t)
	e.user("a@school.example", store.RoleTeacher)
	a := e.login("a@school.example")
	meeting := a.meeting("Parents' evening")
	parentLink := a.invite(meeting, "Mrs Parent")
	a.setAccess(meeting, "invitees")
	mid := uuid.MustParse(strings.TrimPrefix(meeting, "/meetings/"))
	rec, file := e.seedRecording(mid, bytes.Repeat([]byte("recording "), 1000))
	paths := []string{
		parentLink + "/recordings",
		parentLink + "/recordings/" + rec.ID.String(),
		parentLink + "/recordings/" + rec.ID.String() + "/files/" + file.ID.String(),
		parentLink + "/recordings/" + rec.ID.String() + "/download",
	}
	parent := e.browser()
	for _, p := range paths {
		if got := parent.get(p); got.status != http.StatusOK {
			t.Fatalf("before the ban %s: %d", p, got.status)
		}
	}
	invs, err := e.store.Invitees(context.Background(), mid)
	if err != nil || len(invs) != 1 {
		t.Fatal(invs, err)
	}
	if err := e.store.BanInvitee(context.Background(), mid, invs[0].ID); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if got := parent.get(p); got.status != http.StatusNotFound {
			t.Errorf("banned link %s: %d, want 404", p, got.status)
		}
	}
}
