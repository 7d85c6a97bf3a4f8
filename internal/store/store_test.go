package store_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/pgtest"
	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

var ctx = context.Background()

func newUser(t *testing.T, st *store.Store, email string) store.User {
	t.Helper()
	u, err := st.CreateUser(ctx, store.NewUser{Email: email, Name: "Ms " + email, PasswordHash: "h", TimeZone: "Europe/London", Role: store.RoleTeacher})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func plan(start time.Time) store.MeetingPlan {
	return store.MeetingPlan{
		Title: "Year 7 parents", StartsAt: start, DurationMinutes: 30, TimeZone: "Europe/London",
		LobbyPolicy: store.LobbyEveryoneWaits, RecordingPolicy: store.RecordingNotAllowed,
	}
}

func TestMigrateTwiceIsHarmless(t *testing.T) {
	st := pgtest.NewStore(t)
	if err := st.Migrate(ctx, discard()); err != nil {
		t.Fatal(err)
	}
}

func TestUsers(t *testing.T) {
	st := pgtest.NewStore(t)
	if has, err := st.HasUsers(ctx); err != nil || has {
		t.Fatalf("HasUsers on empty = %v, %v", has, err)
	}
	u := newUser(t, st, "Ann@School.example")
	if has, _ := st.HasUsers(ctx); !has {
		t.Error("HasUsers after create = false")
	}
	if _, err := st.CreateUser(ctx, store.NewUser{Email: "ann@school.EXAMPLE", Name: "x", PasswordHash: "h", TimeZone: "UTC", Role: store.RoleTeacher}); !errors.Is(err, store.ErrEmailTaken) {
		t.Errorf("duplicate email in other case: %v", err)
	}
	got, err := st.UserByEmail(ctx, " ann@school.example ")
	if err != nil || got.ID != u.ID {
		t.Fatalf("UserByEmail = %v, %v", got.ID, err)
	}
	if _, err := st.UserByEmail(ctx, "nobody@x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown email: %v", err)
	}
	if got, err := st.UserByID(ctx, u.ID); err != nil || got.Email != "Ann@School.example" {
		t.Errorf("UserByID = %+v, %v", got, err)
	}
	if _, err := st.UserByID(ctx, uuid.New()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if err := st.UpdateProfile(ctx, u.ID, "Ann Smith", "America/New_York"); err != nil {
		t.Fatal(err)
	}
	newUser(t, st, "bob@school.example")
	us, err := st.Users(ctx)
	if err != nil || len(us) != 2 || us[0].Name != "Ann Smith" || us[0].TimeZone != "America/New_York" {
		t.Fatalf("Users = %+v, %v", us, err)
	}
}

func TestConcurrentSignUpsOfOneEmailMakeOneAccount(t *testing.T) {
	st := pgtest.NewStore(t)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			email := "same@school.example"
			if i%2 == 1 {
				email = "SAME@school.example"
			}
			_, err := st.CreateUser(ctx, store.NewUser{Email: email, Name: "n", PasswordHash: "h", TimeZone: "UTC", Role: store.RoleTeacher})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrEmailTaken):
			t.Errorf("unexpected error: %v", err)
		}
	}
	us, _ := st.Users(ctx)
	if ok != 1 || len(us) != 1 {
		t.Fatalf("%d sign-ups succeeded, %d accounts exist; want 1 and 1", ok, len(us))
	}
}

func TestConcurrentFirstAdminsMakeOneAccount(t *testing.T) {
	st := pgtest.NewStore(t)
	const n = 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := st.CreateFirstAdmin(ctx, store.NewUser{Email: uuid.NewString() + "@x", Name: "admin", PasswordHash: "h", TimeZone: "UTC"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrSetupDone):
				t.Errorf("attempt %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	us, _ := st.Users(ctx)
	if ok != 1 || len(us) != 1 || us[0].Role != store.RoleAdmin {
		t.Fatalf("%d setups succeeded, accounts %+v; want exactly one admin", ok, us)
	}
}

func TestSessions(t *testing.T) {
	st := pgtest.NewStore(t)
	u := newUser(t, st, "t@x")
	sid, err := st.CreateSession(ctx, u.ID, testclock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := st.SessionUser(ctx, sid, testclock.Now()); err != nil || got.ID != u.ID {
		t.Fatalf("SessionUser = %v, %v", got.ID, err)
	}

	if err := st.RevokeSession(ctx, sid, testclock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SessionUser(ctx, sid, testclock.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoked session: %v", err)
	}
	if err := st.RevokeSession(ctx, sid, testclock.Now()); err != nil {
		t.Errorf("second revoke: %v", err)
	}

	expired, _ := st.CreateSession(ctx, u.ID, testclock.Now().Add(-time.Second))
	if _, err := st.SessionUser(ctx, expired, testclock.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired session: %v", err)
	}
	if n, err := st.DeleteExpiredSessions(ctx, testclock.Now()); err != nil || n != 2 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want 2", n, err)
	}
}

func TestDisablingEndsSessions(t *testing.T) {
	st := pgtest.NewStore(t)
	u := newUser(t, st, "t@x")
	sid, _ := st.CreateSession(ctx, u.ID, testclock.Now().Add(time.Hour))
	if err := st.SetUserDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SessionUser(ctx, sid, testclock.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session of disabled user: %v", err)
	}
	if err := st.SetUserDisabled(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SessionUser(ctx, sid, testclock.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("re-enabling must not revive an ended session: %v", err)
	}
	got, _ := st.UserByID(ctx, u.ID)
	if got.DisabledAt != nil {
		t.Error("still disabled after re-enabling")
	}
	if err := st.SetUserDisabled(ctx, uuid.New(), true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("disable unknown user: %v", err)
	}
}

func TestSetPasswordEndsOtherSessions(t *testing.T) {
	st := pgtest.NewStore(t)
	u := newUser(t, st, "t@x")
	keep, _ := st.CreateSession(ctx, u.ID, testclock.Now().Add(time.Hour))
	other, _ := st.CreateSession(ctx, u.ID, testclock.Now().Add(time.Hour))
	if err := st.SetPassword(ctx, u.ID, "new-hash", keep); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SessionUser(ctx, keep, testclock.Now()); err != nil {
		t.Errorf("current session ended: %v", err)
	}
	if _, err := st.SessionUser(ctx, other, testclock.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other session survived: %v", err)
	}
	got, _ := st.UserByID(ctx, u.ID)
	if got.PasswordHash != "new-hash" {
		t.Errorf("hash = %q", got.PasswordHash)
	}
}

func TestMeetings(t *testing.T) {
	st := pgtest.NewStore(t)
	a, b := newUser(t, st, "a@x"), newUser(t, st, "b@x")
	now := testclock.Now().Truncate(time.Second)
	m, err := st.CreateMeeting(ctx, a.ID, plan(now.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if !m.EndsAt().Equal(now.Add(90 * time.Minute)) {
		t.Errorf("EndsAt = %v", m.EndsAt())
	}
	past, _ := st.CreateMeeting(ctx, a.ID, plan(now.Add(-2*time.Hour)))

	if _, err := st.OwnedMeeting(ctx, b.ID, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other teacher reads meeting: %v", err)
	}
	if _, err := st.UpdateMeeting(ctx, b.ID, m.ID, plan(now)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other teacher updates meeting: %v", err)
	}
	if err := st.CancelMeeting(ctx, b.ID, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other teacher cancels meeting: %v", err)
	}

	p := plan(now.Add(2 * time.Hour))
	p.Title, p.RecordingPolicy = "Moved", store.RecordingHostMayRecord
	up, err := st.UpdateMeeting(ctx, a.ID, m.ID, p)
	if err != nil || up.Title != "Moved" || up.Sequence != 1 || up.RecordingPolicy != store.RecordingHostMayRecord {
		t.Fatalf("UpdateMeeting = %+v, %v", up, err)
	}

	upcoming, err := st.UpcomingMeetings(ctx, a.ID, now)
	if err != nil || len(upcoming) != 1 || upcoming[0].ID != m.ID {
		t.Fatalf("upcoming = %+v, %v", upcoming, err)
	}
	pastList, err := st.PastMeetings(ctx, a.ID, now, 10)
	if err != nil || len(pastList) != 1 || pastList[0].ID != past.ID {
		t.Fatalf("past = %+v, %v", pastList, err)
	}
	if bs, _ := st.UpcomingMeetings(ctx, b.ID, now); len(bs) != 0 {
		t.Errorf("teacher b sees %d meetings", len(bs))
	}

	if err := st.CancelMeeting(ctx, a.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.CancelMeeting(ctx, a.ID, m.ID); err != nil {
		t.Errorf("second cancel: %v", err)
	}
	got, _ := st.OwnedMeeting(ctx, a.ID, m.ID)
	if !got.Cancelled() || got.Sequence != 2 {
		t.Errorf("after cancel: cancelled=%v sequence=%d, want true and 2", got.Cancelled(), got.Sequence)
	}
	if _, err := st.UpdateMeeting(ctx, a.ID, m.ID, p); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of cancelled meeting: %v", err)
	}
	mh, err := st.MeetingWithHost(ctx, m.ID)
	if err != nil || mh.HostName != a.Name {
		t.Errorf("MeetingWithHost = %+v, %v", mh, err)
	}
}

func TestInvitees(t *testing.T) {
	st := pgtest.NewStore(t)
	a := newUser(t, st, "a@x")
	m, _ := st.CreateMeeting(ctx, a.ID, plan(testclock.Now().Add(time.Hour)))
	other, _ := st.CreateMeeting(ctx, a.ID, plan(testclock.Now().Add(time.Hour)))

	inv, err := st.AddInvitee(ctx, m.ID, store.NewInvitee{Name: "Mr Jones", Email: "j@x", ChildName: "Sam", LinkNonce: []byte("n1")})
	if err != nil {
		t.Fatal(err)
	}
	second, _ := st.AddInvitee(ctx, m.ID, store.NewInvitee{Name: "Mrs Patel", LinkNonce: []byte("n2")})
	list, err := st.Invitees(ctx, m.ID)
	if err != nil || len(list) != 2 || list[0].ID != inv.ID || list[1].ID != second.ID {
		t.Fatalf("Invitees = %+v, %v", list, err)
	}
	if _, err := st.Invitee(ctx, other.ID, inv.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("invitee through another meeting: %v", err)
	}

	if err := st.RevokeInviteeLink(ctx, m.ID, inv.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Invitee(ctx, m.ID, inv.ID)
	if got.RevokedAt == nil {
		t.Error("not revoked")
	}
	if err := st.RenewInviteeLink(ctx, m.ID, inv.ID, []byte("n3")); err != nil {
		t.Fatal(err)
	}
	got, _ = st.Invitee(ctx, m.ID, inv.ID)
	if got.RevokedAt != nil || string(got.LinkNonce) != "n3" {
		t.Errorf("after renew: %+v", got)
	}
	if err := st.RevokeInviteeLink(ctx, other.ID, inv.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoke through another meeting: %v", err)
	}

	invitation, err := st.InvitationFor(ctx, inv.ID)
	if err != nil || invitation.Meeting.ID != m.ID || invitation.HostName != a.Name || invitation.Invitee.ChildName != "Sam" {
		t.Fatalf("InvitationFor = %+v, %v", invitation, err)
	}

	if err := st.RemoveInvitee(ctx, m.ID, inv.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.InvitationFor(ctx, inv.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removed invitee's invitation: %v", err)
	}
	if err := st.RemoveInvitee(ctx, m.ID, inv.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second remove: %v", err)
	}

	if err := st.CancelMeeting(ctx, a.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddInvitee(ctx, m.ID, store.NewInvitee{Name: "late", LinkNonce: []byte("x")}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("invite to cancelled meeting: %v", err)
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
