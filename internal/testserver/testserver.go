// Package testserver runs the whole of classmeet in a test: a real
// PostgreSQL database, the SFU on loopback, the live meeting hub and the web
// handler, with a teacher and helpers to schedule meetings and join them.
package testserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/blob"
	"classmeet/internal/config"
	"classmeet/internal/live"
	"classmeet/internal/meeting"
	"classmeet/internal/pgtest"
	"classmeet/internal/recorder"
	"classmeet/internal/sfu"
	"classmeet/internal/store"
	"classmeet/internal/testclient"
	"classmeet/internal/testclock"
	"classmeet/internal/turnserver"
	"classmeet/internal/web"
)

// Secret is the server secret of every test server.
const Secret = "testserver-secret-0123456789abcdef"

// TeacherPassword is the password of the server's teacher.
const TeacherPassword = "teacher password 123"

// Server is a running classmeet.
type Server struct {
	URL     string
	Store   *store.Store
	Hub     *live.Hub
	SFU     *sfu.SFU
	Config  config.Config
	Teacher store.User
	Outbox  *store.Outbox
	Log     *slog.Logger
	// Signals counts the signaling messages, as serve wires it for metrics.
	Signals *web.SignalCounts
	// Recorder records to CLASSMEET_DATA_DIR (a temporary directory unless
	// set), or to the S3 bucket the CLASSMEET_S3_* variables name.
	Recorder *recorder.Recorder
	// TURN is the embedded TURN relay, when CLASSMEET_TURN_LISTEN is set.
	TURN *turnserver.Server

	mu         sync.Mutex
	mediaJoins map[string]int // participant id -> media peers made
	rooms      map[string]*sfu.Room
}

// Start runs a server on a new database until the test ends. vars override
// configuration.
func Start(t testing.TB, vars map[string]string) *Server {
	t.Helper()
	return StartOn(t, pgtest.NewStore(t), vars)
}

// StartLogged is Start with the server's whole log (every level) written
// to w instead of stderr, for tests that check what the server logs.
func StartLogged(t testing.TB, w io.Writer, vars map[string]string) *Server {
	t.Helper()
	return startOn(t, pgtest.NewStore(t), vars, slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})))
}

// StartOn runs a server on the given store (a private cluster's, say).
func StartOn(t testing.TB, st *store.Store, vars map[string]string) *Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if os.Getenv("CLASSMEET_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return startOn(t, st, vars, log)
}

func startOn(t testing.TB, st *store.Store, vars map[string]string, log *slog.Logger) *Server {
	t.Helper()
	s := &Server{Store: st, Log: log, mediaJoins: map[string]int{}, rooms: map[string]*sfu.Room{}}
	var handler lateHandler
	srv := httptest.NewServer(&handler)
	s.URL = srv.URL
	env := map[string]string{
		"DATABASE_URL": "unused", "CLASSMEET_SECRET": Secret, "CLASSMEET_PUBLIC_URL": srv.URL,
		"CLASSMEET_ADDR": srv.Listener.Addr().String(), "CLASSMEET_RTC_UDP_PORT": "0", "CLASSMEET_RTC_TCP_PORT": "0",
		"CLASSMEET_DATA_DIR": t.TempDir(),
	}
	for k, v := range vars {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	s.Config = cfg
	s.SFU, err = sfu.New(sfu.Config{BindIP: cfg.RTC.BindIP, UDPPort: cfg.RTC.UDPPort, TCPPort: cfg.RTC.TCPPort, Log: s.Log})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RTC.TURN != nil {
		if s.TURN, err = turnserver.Start(*cfg.RTC.TURN, s.SFU.UDPAddr(), cfg.RTC.PublicIPs, s.Log, testclock.Now); err != nil {
			t.Fatal(err)
		}
	}
	s.Outbox = st.NewOutbox(s.Log, 100_000)
	var b blob.Store
	if cfg.Recording.S3 != nil {
		b, err = blob.OpenS3(context.Background(), *cfg.Recording.S3)
	} else {
		b, err = blob.OpenDir(cfg.Recording.LocalDir())
	}
	if err != nil {
		t.Fatal(err)
	}
	s.Recorder, err = recorder.New(recorder.Config{
		Store: st, Blob: b, SpoolDir: cfg.Recording.SpoolDir(), MinFree: cfg.Recording.SpoolMinFree, Log: s.Log, Now: testclock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Hub = live.NewHub(live.HubConfig{
		Meetings: st, Journal: live.OutboxJournal{Outbox: s.Outbox}, NewMedia: s.newMedia,
		Grace: cfg.RTC.Grace, QualityEvery: time.Second, StillThereEvery: time.Second, Recorder: s.Recorder, Log: s.Log, Now: testclock.Now,
		Timetables: st, // as serve wires it: evening rooms keep their timetable
		ICEServers: turnserver.ICEServers(cfg.RTC, s.TURN, testclock.Now),
	})
	s.Signals = web.NewSignalCounts()
	h := web.New(web.Deps{Config: cfg, Store: st, Hub: s.Hub, Recorder: s.Recorder, Log: s.Log, Now: testclock.Now, Signals: s.Signals})
	handler.h.Store(&h)
	follow, stopFollowing := context.WithCancel(context.Background())
	following := make(chan struct{})
	go func() {
		defer close(following)
		s.Hub.FollowRevocations(follow, st)
	}()
	t.Cleanup(func() {
		stopFollowing()
		<-following
		srv.CloseClientConnections()
		srv.Close()
		s.Hub.Close()
		if s.TURN != nil {
			s.TURN.Close()
		}
		s.SFU.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Recorder.Close(ctx)
		s.Outbox.Close(ctx)
	})
	hash, err := auth.NewPasswords(1).Hash(context.Background(), TeacherPassword)
	if err != nil {
		t.Fatal(err)
	}
	s.Teacher, err = st.CreateUser(context.Background(), store.NewUser{
		Email: "teacher@school.example", Name: "Ms Smith", Role: store.RoleTeacher, PasswordHash: hash, TimeZone: "Europe/London",
	})
	if errors.Is(err, store.ErrEmailTaken) { // a server started again on the same database
		s.Teacher, err = st.UserByEmail(context.Background(), "teacher@school.example")
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// lateHandler serves with a handler set after the server started: the
// handler's configuration needs the server's address.
type lateHandler struct{ h atomic.Pointer[http.Handler] }

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*l.h.Load()).ServeHTTP(w, r)
}

// newMedia gives each meeting an SFU room and remembers who got media.
func (s *Server) newMedia(id string) live.MediaRoom {
	r := s.SFU.NewRoom(s.Log.With("meeting_id", id))
	s.mu.Lock()
	s.rooms[id] = r
	s.mu.Unlock()
	return countingRoom{SFURoom: live.SFURoom{Room: r}, s: s}
}

type countingRoom struct {
	live.SFURoom
	s *Server
}

func (c countingRoom) Join(id string, signal func(sfu.Signal)) (live.MediaPeer, error) {
	c.s.mu.Lock()
	c.s.mediaJoins[id]++
	c.s.mu.Unlock()
	return c.SFURoom.Join(id, signal)
}

// MediaJoins is how many media peers (PeerConnection pairs) a participant got.
func (s *Server) MediaJoins(participant string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mediaJoins[participant]
}

// Room is the SFU room of a meeting, once someone has joined it.
func (s *Server) Room(meetingID string) *sfu.Room {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rooms[meetingID]
}

// Meeting schedules a meeting of the teacher's starting now, with one
// invitee per name, and returns its id and their personal link paths.
func (s *Server) Meeting(t testing.TB, policy store.LobbyPolicy, invitees ...string) (string, []string) {
	t.Helper()
	var nis []store.NewInvitee
	for _, name := range invitees {
		nis = append(nis, store.NewInvitee{Name: name})
	}
	return s.MeetingWith(t, Plan(policy), nis...)
}

// Plan is a meeting starting now (by the test clock), for an hour, with the
// given lobby policy.
func Plan(policy store.LobbyPolicy) store.MeetingPlan {
	return store.MeetingPlan{
		Title: "Live test", StartsAt: testclock.Now(), DurationMinutes: 60, TimeZone: "Europe/London",
		LobbyPolicy: policy, RecordingPolicy: store.RecordingNotAllowed,
	}
}

// MeetingWith schedules a meeting as planned with these invitees and
// returns its id and their personal link paths.
func (s *Server) MeetingWith(t testing.TB, plan store.MeetingPlan, invitees ...store.NewInvitee) (string, []string) {
	t.Helper()
	ctx := context.Background()
	m, err := s.Store.CreateMeeting(ctx, s.Teacher.ID, plan)
	if err != nil {
		t.Fatal(err)
	}
	links := auth.NewLinks([]byte(Secret))
	var paths []string
	for _, ni := range invitees {
		ni.LinkNonce = auth.NewLinkNonce()
		inv, err := s.Store.AddInvitee(ctx, m.ID, ni)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, "/j/"+links.Token(inv.ID, inv.LinkNonce))
	}
	return m.ID.String(), paths
}

// LinkToken is an invitee's current personal link token.
func (s *Server) LinkToken(inv store.Invitee) string {
	return auth.NewLinks([]byte(Secret)).Token(inv.ID, inv.LinkNonce)
}

// Drained waits until every journal write reached the database.
func (s *Server) Drained(t testing.TB, within time.Duration) {
	t.Helper()
	testclock.WaitFor(t, "the journal to reach the database", within, func() bool { return s.Outbox.Pending() == 0 })
}

// Host joins a meeting as the teacher; the client leaves when the test ends.
func (s *Server) Host(t testing.TB, meetingID string, opts testclient.Options) *testclient.Client {
	t.Helper()
	c := s.client(t, "host", opts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Login(ctx, s.Teacher.Email, TeacherPassword); err != nil {
		t.Fatal(err)
	}
	if err := c.JoinAsHost(ctx, meetingID); err != nil {
		t.Fatal(err)
	}
	return c
}

// Parent joins through a personal link; the client leaves when the test ends.
func (s *Server) Parent(t testing.TB, link, name string, opts testclient.Options) *testclient.Client {
	t.Helper()
	c := s.client(t, name, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.JoinLink(ctx, link); err != nil {
		t.Fatal(err)
	}
	return c
}

func (s *Server) client(t testing.TB, name string, opts testclient.Options) *testclient.Client {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	c, err := testclient.New(s.URL, name, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// MeetingUUID parses a meeting id.
func MeetingUUID(id string) uuid.UUID { return uuid.MustParse(id) }

// AdmittedRoom joins a host and parents to a new meeting where everyone
// waits, and has the host admit them all.
func (s *Server) AdmittedRoom(t testing.TB, parents []string, opts map[string]testclient.Options) (*testclient.Client, []*testclient.Client) {
	t.Helper()
	mid, links := s.Meeting(t, store.LobbyEveryoneWaits, parents...)
	host := s.Host(t, mid, opts["host"])
	var ps []*testclient.Client
	for i, name := range parents {
		ps = append(ps, s.Parent(t, links[i], name, opts[name]))
	}
	testclient.Expect(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == len(parents) })
	if err := host.Send(&meeting.AdmitAll{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		testclient.Expect[*meeting.Admitted](t, p, nil)
	}
	return host, ps
}
