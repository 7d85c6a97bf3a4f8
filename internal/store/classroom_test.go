package store_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/pgtest"
	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

func TestPoliciesLockAndBan(t *testing.T) {
	st := pgtest.NewStore(t)
	u := newUser(t, st, "t@x")
	p := plan(testclock.Now().Add(time.Hour))
	p.UnmutePolicy, p.ScreenShare = store.UnmuteAsk, store.ScreenShareEveryone
	m, err := st.CreateMeeting(ctx, u.ID, p)
	if err != nil || m.UnmutePolicy != store.UnmuteAsk || m.ScreenShare != store.ScreenShareEveryone {
		t.Fatalf("create with policies: %+v %v", m, err)
	}
	def, _ := st.CreateMeeting(ctx, u.ID, plan(testclock.Now().Add(time.Hour)))
	if def.UnmutePolicy != store.UnmuteSelf || def.ScreenShare != store.ScreenShareHosts {
		t.Errorf("default policies %q %q", def.UnmutePolicy, def.ScreenShare)
	}
	if err := st.SetMeetingLocked(ctx, m.ID, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.MeetingWithHost(ctx, m.ID); got.LockedAt == nil {
		t.Error("not locked")
	}
	_ = st.SetMeetingLocked(ctx, m.ID, false)
	if got, _ := st.MeetingWithHost(ctx, m.ID); got.LockedAt != nil {
		t.Error("still locked")
	}

	obs, err := st.AddInvitee(ctx, m.ID, store.NewInvitee{Name: "Head", Role: store.InviteeObserver, LinkNonce: []byte("n")})
	if err != nil || obs.Role != store.InviteeObserver {
		t.Fatalf("observer: %+v %v", obs, err)
	}
	if err := st.BanInvitee(ctx, m.ID, obs.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Invitee(ctx, m.ID, obs.ID); got.BannedAt == nil {
		t.Error("not banned")
	}
	if err := st.BanInvitee(ctx, def.ID, obs.ID); err == nil {
		t.Error("banned through another meeting")
	}
}

func TestChatAttendanceAudit(t *testing.T) {
	st := pgtest.NewStore(t)
	u := newUser(t, st, "t@x")
	m, _ := st.CreateMeeting(ctx, u.ID, plan(testclock.Now().Add(time.Hour)))
	now := testclock.Now().Truncate(time.Millisecond)
	pid := uuid.New()

	msg := store.ChatMessage{ID: uuid.New(), MeetingID: m.ID, SenderID: pid, SenderName: "Mr Jones", SenderRole: "participant", Recipients: "everyone", Body: "hello", SentAt: now}
	if err := st.AddChat(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if err := st.AddChat(ctx, msg); err != nil {
		t.Errorf("adding twice: %v", err)
	}
	second := msg
	second.ID, second.Body, second.SentAt = uuid.New(), "second", now.Add(time.Second)
	_ = st.AddChat(ctx, second)
	if err := st.DeleteChat(ctx, m.ID, msg.ID, "Ms Smith", now); err != nil {
		t.Fatal(err)
	}
	chat, err := st.Chat(ctx, m.ID)
	if err != nil || len(chat) != 1 || chat[0].Body != "second" {
		t.Fatalf("chat after delete = %+v, %v", chat, err)
	}

	a := store.Attendance{ParticipantID: pid, MeetingID: m.ID, Name: "Mr Jones", Role: "participant", JoinedAt: now}
	if err := st.Arrived(ctx, a); err != nil {
		t.Fatal(err)
	}
	_ = st.EnteredRoom(ctx, pid, now.Add(time.Minute))
	_ = st.EnteredRoom(ctx, pid, now.Add(2*time.Minute)) // the first admission counts
	_ = st.RoleChanged(ctx, pid, "cohost")
	_ = st.Departed(ctx, pid, now.Add(11*time.Minute), "left")
	_ = st.Departed(ctx, pid, now.Add(20*time.Minute), "ended") // the first departure counts
	rows, err := st.MeetingAttendance(ctx, m.ID)
	if err != nil || len(rows) != 1 {
		t.Fatalf("attendance = %+v, %v", rows, err)
	}
	if r := rows[0]; r.InRoom(now) != 10*time.Minute || r.LeftReason != "left" || r.Role != "cohost" {
		t.Errorf("row %+v, in room %v", r, r.InRoom(now))
	}

	for _, action := range []string{"admit", "mute", "remove"} {
		if err := st.Audit(ctx, store.AuditEntry{At: now, MeetingID: &m.ID, ActorName: "Ms Smith", Action: action, TargetName: "Mr Jones"}); err != nil {
			t.Fatal(err)
		}
	}
	_ = st.Audit(ctx, store.AuditEntry{At: now, Action: "login"})
	log, err := st.AuditLog(ctx, store.AuditFilter{}, 2)
	if err != nil || len(log) != 2 || log[0].Action != "login" {
		t.Fatalf("newest audit = %+v, %v", log, err)
	}
	older, _ := st.AuditLog(ctx, store.AuditFilter{Before: log[1].ID}, 10)
	if len(older) != 2 || older[0].Action != "admit" && older[1].Action != "admit" {
		t.Errorf("older page = %+v", older)
	}
	ma, _ := st.MeetingAudit(ctx, m.ID)
	if len(ma) != 3 || ma[0].Action != "admit" {
		t.Errorf("meeting audit = %+v", ma)
	}
}

// TestOutboxSurvivesAnOutage: writes made while PostgreSQL is down wait, in
// order, and are all in the database once it is back.
func TestOutboxSurvivesAnOutage(t *testing.T) {
	c := pgtest.NewCluster(t)
	st := c.Store()
	u := newUser(t, st, "t@x")
	m, _ := st.CreateMeeting(ctx, u.ID, plan(testclock.Now().Add(time.Hour)))
	o := st.NewOutbox(slog.New(slog.DiscardHandler), 10000)
	add := func(body string) {
		msg := store.ChatMessage{ID: uuid.New(), MeetingID: m.ID, SenderID: uuid.New(), SenderName: "x", SenderRole: "participant", Recipients: "everyone", Body: body, SentAt: testclock.Now()}
		o.Add("chat", func(ctx context.Context, s *store.Store) error { return s.AddChat(ctx, msg) })
	}
	add("before")
	testclock.WaitFor(t, "the outbox to drain", 30*time.Second, func() bool { return o.Pending() == 0 })

	c.Stop()
	for i := range 50 {
		add("during " + string(rune('A'+i%26)))
	}
	// The outbox has tried the down database at least once: the writes
	// must still be waiting, not dropped or counted as done.
	testclock.WaitFor(t, "a retry against the stopped database", 30*time.Second, func() bool {
		_, _, retries := o.Stats()
		return retries > 0
	})
	if o.Pending() == 0 {
		t.Fatal("writes vanished while the database was down")
	}
	c.Start()
	testclock.WaitFor(t, "the outbox to drain", 30*time.Second, func() bool { return o.Pending() == 0 })
	o.Close(context.Background())
	chat, err := st.Chat(ctx, m.ID)
	if err != nil || len(chat) != 51 {
		t.Fatalf("%d messages in the database after the outage, want 51 (%v)", len(chat), err)
	}
	if _, dropped, retries := o.Stats(); dropped != 0 || retries == 0 {
		t.Errorf("dropped %d, retried %d", dropped, retries)
	}
}

func TestDecisionsKeepTheLatest(t *testing.T) {
	st := pgtest.NewStore(t)
	ctx := context.Background()
	u, err := st.CreateUser(ctx, store.NewUser{Email: "d@school.example", Name: "D", Role: store.RoleTeacher, PasswordHash: "h", TimeZone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.CreateMeeting(ctx, u.ID, store.MeetingPlan{Title: "T", StartsAt: testclock.Now(), DurationMinutes: 30, TimeZone: "UTC", LobbyPolicy: store.LobbyEveryoneWaits, RecordingPolicy: store.RecordingNotAllowed})
	if err != nil {
		t.Fatal(err)
	}
	at := testclock.Now()
	newer := store.Decision{MeetingID: m.ID, Identity: "invitee:x", Stopped: []string{"audio"}, Role: "observer", Waits: true, DecidedAt: at.Add(time.Second)}
	older := store.Decision{MeetingID: m.ID, Identity: "invitee:x", Allowed: []string{"audio"}, DecidedAt: at}
	for _, d := range []store.Decision{newer, older} { // the older arrives late
		if err := st.SaveDecision(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := st.Decisions(ctx, m.ID)
	if err != nil || len(ds) != 1 {
		t.Fatalf("%v %+v", err, ds)
	}
	if d := ds[0]; len(d.Stopped) != 1 || len(d.Allowed) != 0 || d.Role != "observer" || !d.Waits {
		t.Errorf("kept %+v", d)
	}
}
