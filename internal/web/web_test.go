package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"classmeet/internal/auth"
	"classmeet/internal/blob"
	"classmeet/internal/config"
	"classmeet/internal/pgtest"
	"classmeet/internal/recorder"
	"classmeet/internal/store"
	"classmeet/internal/testclock"
	"classmeet/internal/web"
)

// env is a classmeet web server on a fresh database, with a clock tests can move.
type env struct {
	t     *testing.T
	srv   *httptest.Server
	store *store.Store
	cfg   config.Config
	blob  *blob.Dir
	rec   *recorder.Recorder
	clock *testclock.Clock // the server's time; it stands still until a test moves it
	dbURL string           // the database's, for rows no page writes yet
}

const setupToken = "test-setup-token-0123456789"

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with some configuration variables set.
func newEnvWith(t *testing.T, vars map[string]string) *env {
	t.Helper()
	e := &env{t: t, dbURL: pgtest.NewDatabase(t), clock: testclock.New()}
	e.store = pgtest.OpenStore(t, e.dbURL)
	var h http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	cfg, err := config.Load(func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return map[string]string{
			"DATABASE_URL": "unused", "CLASSMEET_SECRET": "0123456789abcdef0123456789abcdef",
			"CLASSMEET_PUBLIC_URL": e.srv.URL, "CLASSMEET_LINK_VALIDITY": "24h",
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	e.cfg = cfg
	if e.blob, err = blob.OpenDir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	e.rec, err = recorder.New(recorder.Config{Store: e.store, Blob: e.blob, SpoolDir: t.TempDir(), Log: slog.New(slog.DiscardHandler), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.rec.Close(context.Background()) })
	h = web.New(web.Deps{Config: cfg, Store: e.store, Recorder: e.rec, Log: slog.New(slog.DiscardHandler), SetupToken: setupToken, Now: e.clock.Now})
	return e
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	e *env
	c *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status int
	header http.Header
	body   string
	doc    *goquery.Document
}

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	return page{status: resp.StatusCode, header: resp.Header, body: string(body), doc: doc}
}

// follow makes the browser follow redirects, as a real one does.
func (b *browser) follow() *browser {
	b.c.CheckRedirect = nil
	return b
}

func (b *browser) get(path string) page {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	return b.do(req)
}

// post sends a form as a same-origin browser would.
func (b *browser) post(path string, form url.Values) page {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

func (p page) text(sel string) string { return strings.TrimSpace(p.doc.Find(sel).First().Text()) }

func (p page) attr(sel, name string) string {
	v, _ := p.doc.Find(sel).First().Attr(name)
	return v
}

func tid(id string) string { return `[data-testid="` + id + `"]` }

const password = "a long enough password"

// user creates an account directly in the store.
func (e *env) user(email string, role store.Role) store.User {
	e.t.Helper()
	hash, err := auth.NewPasswords(1).Hash(context.Background(), password)
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := e.store.CreateUser(context.Background(), store.NewUser{Email: email, Name: "Name of " + email, Role: role, PasswordHash: hash, TimeZone: "Europe/London"})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// login signs a new browser in as email.
func (e *env) login(email string) *browser {
	e.t.Helper()
	b := e.browser()
	p := b.post("/login", url.Values{"email": {email}, "password": {password}})
	if p.status != http.StatusSeeOther {
		e.t.Fatalf("login %s: %d %s", email, p.status, p.text(tid("form-error")))
	}
	return b
}

// meeting schedules a meeting through the form and returns its path.
func (b *browser) meeting(title string) string {
	b.e.t.Helper()
	start := b.e.clock.Now().Add(48 * time.Hour).In(mustZone("Europe/London"))
	p := b.post("/meetings", url.Values{
		"title": {title}, "date": {start.Format("2006-01-02")}, "time": {"16:30"}, "duration": {"30"},
		"time_zone": {"Europe/London"}, "lobby_policy": {"everyone_waits"}, "recording_policy": {"not_allowed"}, "unmute_policy": {"self"}, "screen_share_policy": {"hosts"},
	})
	if p.status != http.StatusSeeOther {
		b.e.t.Fatalf("create meeting: %d %v", p.status, p.doc.Find(".error").Text())
	}
	return p.header.Get("Location")
}

// invite adds an invitee and returns their personal link's path.
func (b *browser) invite(meetingPath, name string) string {
	b.e.t.Helper()
	before := b.get(meetingPath).doc.Find(tid("invitee-link")).Length()
	if p := b.post(meetingPath+"/invitees", url.Values{"name": {name}, "child_name": {"Sam"}}); p.status != http.StatusSeeOther {
		b.e.t.Fatalf("invite: %d", p.status)
	}
	links := b.get(meetingPath).doc.Find(tid("invitee-link"))
	if links.Length() != before+1 {
		b.e.t.Fatalf("%d links after inviting, want %d", links.Length(), before+1)
	}
	link, _ := links.Last().Attr("value")
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(link, b.e.srv.URL+"/j/") {
		b.e.t.Fatalf("link %q", link)
	}
	return u.Path
}

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}
