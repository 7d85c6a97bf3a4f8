package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"classmeet/internal/meeting"
	"classmeet/internal/pgtest"
	"classmeet/internal/store"
	"classmeet/internal/testclock"
	"classmeet/internal/testserver"
)

// TestFrozenDatabaseAnswers503: with the database frozen (connections open,
// no answers), every request that needs it answers 503 with Retry-After
// within its deadline instead of hanging, and all works again once the
// database answers.
func TestFrozenDatabaseAnswers503(t *testing.T) {
	st, db := pgtest.NewProxiedStore(t)
	const deadline = 2 * time.Second
	s := testserver.StartOn(t, st, map[string]string{"CLASSMEET_DB_TIMEOUT": deadline.String()})
	mid, links := s.Meeting(t, store.LobbyEveryoneWaits, "parent")
	// Generous: the deadline plus time for a busy machine; a hang is minutes.
	c := newSiteClient(t, s.URL, deadline+10*time.Second)
	if resp := c.post("/login", url.Values{"email": {s.Teacher.Email}, "password": {testserver.TeacherPassword}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	anon := newSiteClient(t, s.URL, deadline+10*time.Second)
	requests := map[string]func() *http.Response{
		"login": func() *http.Response {
			return anon.post("/login", url.Values{"email": {s.Teacher.Email}, "password": {testserver.TeacherPassword}})
		},
		"dashboard":       func() *http.Response { return c.get("/") },
		"join page":       func() *http.Response { return anon.get(links[0]) },
		"join token":      func() *http.Response { return anon.post(links[0]+"/join", url.Values{"display_name": {"Parent"}}) },
		"host join token": func() *http.Response { return c.post("/meetings/"+mid+"/join", url.Values{}) },
		"WebSocket join":  func() *http.Response { return c.socket(t, mid, "") },
		"meeting page":    func() *http.Response { return c.get("/meetings/" + mid) },
	}

	db.Freeze()
	for name, do := range requests {
		resp := do()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s with the database frozen: %d, Retry-After %q", name, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}

	db.Thaw()
	want := map[string]int{
		"login": http.StatusSeeOther, "dashboard": http.StatusOK, "join page": http.StatusOK, "join token": http.StatusOK,
		"host join token": http.StatusOK, "WebSocket join": http.StatusSwitchingProtocols, "meeting page": http.StatusOK,
	}
	for name, do := range requests {
		var got int
		testclock.Poll(20*time.Second, func() bool { got = do().StatusCode; return got == want[name] })
		if got != want[name] {
			t.Errorf("%s after the database thawed: %d, want %d", name, got, want[name])
		}
	}
}

// siteClient is a same-origin browser that keeps cookies and does not
// follow redirects, with a time limit on each request.
type siteClient struct {
	base string
	c    *http.Client
}

func newSiteClient(t *testing.T, base string, limit time.Duration) *siteClient {
	jar, _ := cookiejar.New(nil)
	return &siteClient{base: base, c: &http.Client{Jar: jar, Timeout: limit, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (s *siteClient) do(req *http.Request) *http.Response {
	resp, err := s.c.Do(req)
	if err != nil {
		return &http.Response{StatusCode: 0, Header: http.Header{"X-Error": {err.Error()}}}
	}
	resp.Body.Close()
	return resp
}

func (s *siteClient) get(path string) *http.Response {
	req, _ := http.NewRequest(http.MethodGet, s.base+path, nil)
	return s.do(req)
}

func (s *siteClient) post(path string, form url.Values) *http.Response {
	req, _ := http.NewRequest(http.MethodPost, s.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return s.do(req)
}

// socket asks for a host join token and joins the meeting with it. The
// answer is the upgrade's, or 101 once the meeting welcomed us.
func (s *siteClient) socket(t *testing.T, meetingID, _ string) *http.Response {
	t.Helper()
	var tok string
	if resp := s.postJSON("/meetings/"+meetingID+"/join", &tok); resp.StatusCode != http.StatusOK {
		// Without a fresh token, try a made-up one: the upgrade is checked first.
		tok = "no-token"
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.c.Timeout)
	defer cancel()
	u := "ws" + strings.TrimPrefix(s.base, "http") + "/meetings/" + meetingID + "/ws"
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {s.base}}})
	if err != nil {
		if resp == nil {
			return &http.Response{StatusCode: 0, Header: http.Header{"X-Error": {err.Error()}}}
		}
		return resp
	}
	defer ws.CloseNow()
	b, _ := meeting.EncodeClient(&meeting.Join{Header: meeting.Header{Seq: 1}, Token: tok})
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		return &http.Response{StatusCode: 0, Header: http.Header{}}
	}
	_, data, err := ws.Read(ctx)
	if err != nil {
		return &http.Response{StatusCode: 0, Header: http.Header{"X-Error": {err.Error()}}}
	}
	m, _ := meeting.DecodeServer(data)
	if e, ok := m.(*meeting.Error); ok && e.Code == "unavailable" {
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"(in the error)"}}}
	}
	if _, ok := m.(*meeting.Welcome); !ok {
		return &http.Response{StatusCode: 0, Header: http.Header{"X-Answer": {string(data)}}}
	}
	return resp
}

// postJSON posts an empty form and decodes the "token" of the answer.
func (s *siteClient) postJSON(path string, tok *string) *http.Response {
	req, _ := http.NewRequest(http.MethodPost, s.base+path, strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := s.c.Do(req)
	if err != nil {
		return &http.Response{StatusCode: 0, Header: http.Header{}}
	}
	defer resp.Body.Close()
	var body struct {
		Token string `json:"token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	*tok = body.Token
	return resp
}
