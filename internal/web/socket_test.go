package web_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/meeting"
	"classmeet/internal/sfu"
	"classmeet/internal/store"
	"classmeet/internal/testclient"
	"classmeet/internal/testclock"
	"classmeet/internal/testserver"
)

func dial(t *testing.T, s *testserver.Server, meetingID, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(s.URL, "http") + "/meetings/" + meetingID + "/ws"
	return websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
}

// refusedFirst sends one first message and returns the error the server
// answers with before it closes with 4403.
func refusedFirst(t *testing.T, s *testserver.Server, meetingID string, first meeting.ClientMessage) *meeting.Error {
	t.Helper()
	ws, _, err := dial(t, s, meetingID, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	b, _ := meeting.EncodeClient(first)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	_, data, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	m, err := meeting.DecodeServer(data)
	e, ok := m.(*meeting.Error)
	if err != nil || !ok {
		t.Fatalf("answer %s", data)
	}
	_, _, err = ws.Read(ctx)
	if websocket.CloseStatus(err) != 4403 {
		t.Errorf("closed with %v, want 4403", err)
	}
	return e
}

func TestJoinTokensAreBoundToTheirMeetingAndExpire(t *testing.T) {
	s := testserver.Start(t, nil)
	a, _ := s.Meeting(t, store.LobbyEveryoneWaits)
	b, _ := s.Meeting(t, store.LobbyEveryoneWaits)
	jt := auth.NewJoinTokens([]byte(testserver.Secret))
	claims := auth.JoinClaims{MeetingID: uuid.MustParse(a), ParticipantID: uuid.New(), Role: "host", Name: "intruder", Identity: "x"}

	tokA, _ := jt.Issue(claims, testclock.Now())
	if e := refusedFirst(t, s, b, &meeting.Join{Header: meeting.Header{Seq: 1}, Token: tokA}); e.Code != "bad_token" {
		t.Errorf("meeting A's token at meeting B: %+v", e)
	}
	expired, _ := jt.Issue(claims, testclock.Now().Add(-auth.JoinTTL-time.Minute))
	if e := refusedFirst(t, s, a, &meeting.Join{Header: meeting.Header{Seq: 1}, Token: expired}); e.Code != "bad_token" {
		t.Errorf("expired token: %+v", e)
	}
	if e := refusedFirst(t, s, a, &meeting.Join{Header: meeting.Header{Seq: 1}, Token: "not-a-token"}); e.Code != "bad_token" {
		t.Errorf("garbage token: %+v", e)
	}
	if e := refusedFirst(t, s, a, &meeting.Resume{Header: meeting.Header{Seq: 1}, Resume: "guessed"}); e.Code != "resume_expired" {
		t.Errorf("guessed resume secret: %+v", e)
	}
	if e := refusedFirst(t, s, a, &meeting.Leave{Header: meeting.Header{Seq: 1}}); e.Code != "bad_message" {
		t.Errorf("a first message that is not join: %+v", e)
	}
	// The personal link itself cannot open the socket: it is not a join token.
	_, links := s.Meeting(t, store.LobbyEveryoneWaits, "parent")
	link := strings.TrimPrefix(links[0], "/j/")
	if e := refusedFirst(t, s, a, &meeting.Join{Header: meeting.Header{Seq: 1}, Token: link}); e.Code != "bad_token" {
		t.Errorf("personal link as a join token: %+v", e)
	}
	if m, p := s.Hub.Live(); p != 0 {
		t.Errorf("%d meetings, %d participants after refused joins", m, p)
	}
}

func TestCrossOriginWebSocketIsRefused(t *testing.T) {
	s := testserver.Start(t, nil)
	mid, _ := s.Meeting(t, store.LobbyEveryoneWaits)
	_, resp, err := dial(t, s, mid, "https://evil.example")
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin upgrade: %v %v", err, resp)
	}
}

func TestOversizedFrameClosesTheSocket(t *testing.T) {
	s := testserver.Start(t, nil)
	mid, _ := s.Meeting(t, store.LobbyEveryoneWaits)
	host := s.Host(t, mid, testclient.Options{Publish: []sfu.Source{}})
	big := `{"type":"media_state","seq":99,"audio":true,"pad":"` + strings.Repeat("x", 70<<10) + `"}`
	if err := host.SendRaw([]byte(big)); err != nil {
		t.Fatal(err)
	}
	testclock.WaitFor(t, "the socket to close", 15*time.Second, func() bool { return host.Closed() != nil })
	if code := websocket.CloseStatus(host.Closed()); code != websocket.StatusMessageTooBig {
		t.Errorf("closed with %v, want 1009", host.Closed())
	}
}

func TestBadMessagesAreRefusedWithReasons(t *testing.T) {
	s := testserver.Start(t, nil)
	mid, _ := s.Meeting(t, store.LobbyEveryoneWaits)
	host := s.Host(t, mid, testclient.Options{Publish: []sfu.Source{}})
	for _, tc := range []struct{ raw, want string }{
		{`{"type":"media_state","seq":50,"audio":true,"Audio":false}`, `"Audio" must be spelled "audio"`},
		{`{"type":"media_state","seq":51,"audio":true,"audio":false}`, `"audio" appears twice`},
		{`{"type":"shout","seq":52}`, `unknown type "shout"`},
		{`{"type":"media_state","seq":53,"volume":11}`, `unknown key "volume"`},
		{`{"type":"media_state","seq":60}`, ""}, // accepted
		{`{"type":"media_state","seq":60}`, "seq must increase"},
		{`{"type":"media_state","seq":40}`, "seq must increase"},
	} {
		raw, want := tc.raw, tc.want
		if want == "" {
			if err := host.SendRaw([]byte(raw)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := host.SendRaw([]byte(raw)); err != nil {
			t.Fatal(err)
		}
		testclient.Expect(t, host, func(e *meeting.Error) bool { return strings.Contains(e.Message, want) })
	}
	if host.Closed() != nil {
		t.Error("refused messages closed the socket")
	}
}

// TestFloodIsLimitedWithoutHurtingOthers: a participant sending thousands
// of messages a second is rate-limited, then cut off; the others keep
// their media and their signaling.
func TestFloodIsLimitedWithoutHurtingOthers(t *testing.T) {
	s := testserver.Start(t, nil)
	host, ps := s.AdmittedRoom(t, []string{"flooder", "jones"}, nil)
	flooder, jones := ps[0], ps[1]
	testclient.HearEachOther(t, []*testclient.Client{host, jones})
	before := jones.Received(host.ID(), sfu.SourceCamera).Packets.Load()

	for i := range 2000 {
		if err := flooder.Send(&meeting.MediaState{Audio: i%2 == 0}); err != nil {
			break // cut off
		}
	}
	testclient.Expect(t, flooder, func(e *meeting.Error) bool { return e.Code == "rate_limited" })
	testclock.WaitFor(t, "the flooder to be cut off", 15*time.Second, func() bool { return flooder.Closed() != nil })

	// The others still talk: a message round trip and media.
	if err := jones.Send(&meeting.MediaState{Audio: true, Video: true}); err != nil {
		t.Fatal(err)
	}
	testclient.Expect(t, host, func(u *meeting.ParticipantUpdated) bool { return u.Participant.ID == jones.ID() && u.Participant.Video })
	testclock.WaitFor(t, "media to keep flowing", 15*time.Second, func() bool {
		return jones.Received(host.ID(), sfu.SourceCamera).Packets.Load() > before+60
	})
	updates := 0
	for _, m := range host.Messages() {
		if u, ok := m.(*meeting.ParticipantUpdated); ok && u.Participant.ID == flooder.ID() {
			updates++
		}
	}
	if updates > 400 {
		t.Errorf("the host received %d of the flooder's updates", updates)
	}
}

// TestWrongTypesAreBadMessagesNotPanics: a first message with a value of the
// wrong JSON type (this one once panicked the connection handler, logging a
// 4 KB stack for each) is refused as a bad message, and the server logs no
// panic.
func TestWrongTypesAreBadMessagesNotPanics(t *testing.T) {
	var log lockedBuffer
	s := testserver.StartLogged(t, &log, nil)
	mid, _ := s.Meeting(t, store.LobbyEveryoneWaits)
	for _, raw := range []string{
		`{"type":"join","seq":1,"token":[[0]]}`,
		`{"type":"join","seq":1,"token":{"a":[0]}}`,
		`{"type":"resume","seq":1,"resume":"r","keep_media":[[true]]}`,
		`{"type":"join","seq":[[1]],"token":"t"}`,
	} {
		ws, _, err := dial(t, s, mid, s.URL)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := ws.Write(ctx, websocket.MessageText, []byte(raw)); err != nil {
			t.Fatal(err)
		}
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("%s: no answer: %v", raw, err)
		}
		if m, err := meeting.DecodeServer(data); err != nil {
			t.Errorf("%s: answer %s", raw, data)
		} else if e, ok := m.(*meeting.Error); !ok || e.Code != "bad_message" {
			t.Errorf("%s: answer %s, want a bad_message error", raw, data)
		}
		_, _, err = ws.Read(ctx)
		if websocket.CloseStatus(err) != 4403 {
			t.Errorf("%s: closed with %v, want 4403", raw, err)
		}
		cancel()
		ws.CloseNow()
	}
	for _, bad := range []string{"panic", "goroutine ", ".go:"} {
		if strings.Contains(log.String(), bad) {
			t.Errorf("the server log has %q:\n%s", bad, log.String())
		}
	}
}

// lockedBuffer is a log destination the server may write from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSocketsThatNeverJoinAreCapped: one address opening meeting sockets
// that never send their join holds a few places at most; closing one frees
// its place.
func TestSocketsThatNeverJoinAreCapped(t *testing.T) {
	s := testserver.Start(t, nil)
	mid, _ := s.Meeting(t, store.LobbyEveryoneWaits)
	var open []*websocket.Conn
	refused := 0
	for range 25 {
		c, resp, err := dial(t, s, mid, s.URL)
		if err != nil {
			if resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("refused socket: %v %+v", err, resp)
			}
			refused++
			continue
		}
		open = append(open, c)
	}
	if len(open) != 20 || refused != 5 {
		t.Fatalf("%d sockets open, %d refused", len(open), refused)
	}
	open[0].CloseNow()
	testclock.WaitFor(t, "a place to free up", 10*time.Second, func() bool {
		c, _, err := dial(t, s, mid, s.URL)
		if err == nil {
			open[0] = c
		}
		return err == nil
	})
	for _, c := range open {
		c.CloseNow()
	}
}
