// Package e2e drives the real classmeet binary with a real browser: Debian's
// Chromium, headless, with its fake camera and microphone.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"classmeet/internal/auth"
	"classmeet/internal/pgtest"
	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "classmeet-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "classmeet")
	// -tags testclock: the server takes its time from CLASSMEET_TEST_NOW when
	// a run sets it, as the tests do (see internal/testclock).
	build := exec.Command("go", "build", "-tags", "testclock", "-o", binary, "../cmd/classmeet")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build classmeet:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running classmeet process.
type server struct {
	URL      string
	SetupURL string // printed on first start
	Env      []string
	DB       string // its database
	DataDir  string // its spool, and its recordings unless S3 is set

	// ahead is how far the server's clock is ahead of the test's (see
	// startServerAt).
	ahead time.Duration

	cmd    *exec.Cmd
	mu     sync.Mutex
	output strings.Builder
}

const e2eSecret = "e2e-secret-0123456789abcdef0123456789"

var setupLine = regexp.MustCompile(`(http://\S+/setup/\S+)`)

// startServer runs classmeet on a new database and a free port until the test ends.
func startServer(t *testing.T, extraEnv ...string) *server {
	t.Helper()
	return startServerAt(t, 0, extraEnv...)
}

// startServerAt is startServer with the server's clock `ahead` of the
// test's: a test of something that happens at a whole minute (a parents'
// evening's appointments) starts the server just before one instead of
// waiting for it. The server's clock still runs at the real speed.
func startServerAt(t *testing.T, ahead time.Duration, extraEnv ...string) *server {
	t.Helper()
	port := freePort(t)
	db := pgtest.NewDatabase(t)
	s := &server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), DB: db, DataDir: t.TempDir(), ahead: ahead}
	s.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + db,
		"CLASSMEET_SECRET=" + e2eSecret,
		fmt.Sprintf("CLASSMEET_ADDR=127.0.0.1:%d", port),
		"CLASSMEET_LOG_LEVEL=debug",
		"CLASSMEET_RTC_UDP_PORT=0",
		"CLASSMEET_RTC_TCP_PORT=0",
		"CLASSMEET_DATA_DIR=" + s.DataDir,
	}, extraEnv...)
	s.start(t)
	return s
}

func (s *server) start(t *testing.T) {
	t.Helper()
	s.cmd = exec.Command(binary, "serve")
	// The server's clock starts where the test's stands now (or s.ahead of
	// it), at every start.
	s.cmd.Env = slices.Clone(s.Env)
	if s.ahead != 0 {
		s.cmd.Env = append(s.cmd.Env, testclock.EnvVar+"="+s.Now().UTC().Format(time.RFC3339Nano))
	} else {
		s.cmd.Env = append(s.cmd.Env, testclock.Environ()...)
	}
	stdout, _ := s.cmd.StdoutPipe()
	stderr, _ := s.cmd.StderrPipe()
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	setup := make(chan string, 1)
	go s.collect(stdout, setup)
	go s.collect(stderr, nil)
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		if t.Failed() {
			t.Logf("classmeet output:\n%s", s.Output())
		}
	})
	ready := testclock.Poll(30*time.Second, func() bool {
		resp, err := http.Get(s.URL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if !ready {
		t.Fatalf("classmeet did not become ready:\n%s", s.Output())
	}
	select {
	case s.SetupURL = <-setup:
	case <-time.After(time.Second):
	}
}

func (s *server) collect(r io.Reader, setup chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		s.mu.Lock()
		s.output.WriteString(line + "\n")
		s.mu.Unlock()
		if m := setupLine.FindStringSubmatch(line); m != nil && setup != nil {
			setup <- m[1]
		}
	}
}

// Output is everything the process printed so far.
func (s *server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.output.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// chromiumFlags are TESTING.md's: fake devices, no background traffic.
var chromiumFlags = []chromedp.ExecAllocatorOption{
	chromedp.ExecPath("/usr/bin/chromium"),
	chromedp.Flag("headless", true),
	chromedp.Flag("use-fake-device-for-media-stream", true),
	chromedp.Flag("use-fake-ui-for-media-stream", true),
	chromedp.Flag("auto-select-desktop-capture-source", "Entire screen"),
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
	chromedp.Flag("no-first-run", true),
	chromedp.Flag("no-sandbox", true),
	chromedp.Flag("disable-gpu", true),
	chromedp.Flag("disable-quic", true),
	chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	chromedp.Flag("disable-dev-shm-usage", true),
	chromedp.WindowSize(1280, 900),
}

// newChromium starts one browser for the test; people get contexts of it.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromiumFlags...)
	root, cancelRoot := chromedp.NewContext(alloc)
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() { cancelRoot(); cancelAlloc() })
	return root
}

// person is one visitor: a browser context of their own (own cookies, own
// camera), as if on their own computer. Uncaught JavaScript exceptions on
// their pages fail the test.
type person struct {
	t    *testing.T
	name string
	ctx  context.Context

	mu     sync.Mutex
	errors []string
}

func newPerson(t *testing.T, chromium context.Context, name string) *person {
	t.Helper()
	p := &person{t: t, name: name}
	ctx, cancel := chromedp.NewContext(chromium, chromedp.WithNewBrowserContext(), chromedp.WithListener(func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			p.mu.Lock()
			d := e.ExceptionDetails
			desc := d.Text
			if d.Exception != nil {
				desc += " " + d.Exception.Description
			}
			p.errors = append(p.errors, fmt.Sprintf("%s (%s:%d)", desc, d.URL, d.LineNumber+1))
			p.mu.Unlock()
		}
	}))
	p.ctx = ctx
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, e := range p.errors {
			t.Errorf("%s: uncaught JavaScript exception: %s", name, e)
		}
		cancel()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: new browser context: %v", name, err)
	}
	return p
}

// do runs steps, failing the test with what the person was doing.
func (p *person) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	p.doWithin(what, 30*time.Second, steps...)
}

// doWithin is do, with a bound of its own on how long the steps may take.
func (p *person) doWithin(what string, within time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, within)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(p.ctx, chromedp.Location())
		p.t.Fatalf("%s: %s (at %s): %v", p.name, what, loc, err)
	}
}

// eval evaluates a JavaScript expression on the person's page, awaiting
// it if it is a promise.
func eval[T any](p *person, js string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v", p.name, js, err)
	}
	return v
}

// waitFor polls a JavaScript predicate until it is true, for up to a
// minute: a bound on a hang, not a speed (what a page waits for, media
// above all, can take a browser on a busy two-core machine many seconds).
func (p *person) waitFor(what, predicate string) {
	p.t.Helper()
	p.doWithin(what, 70*time.Second, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](predicate, chromedp.WithPollingTimeout(60*time.Second))(ctx, t)
		return chromedp.Void{}, err
	})
}

func tid(id string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + id + `"]`) }

// text returns the trimmed text of the first element matching sel.
func (p *person) text(sel chromedp.CSS) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`(document.querySelector(%q)?.textContent ?? "").trim()`, string(sel)))
}

// addTeacher makes a teacher account with the command line, as an administrator would.
func (s *server) addTeacher(t *testing.T, email, name, password string) {
	t.Helper()
	s.addUser(t, email, name, "teacher", password)
}

// addUser makes an account of any role with the command line.
func (s *server) addUser(t *testing.T, email, name, role, password string) {
	t.Helper()
	cmd := exec.Command(binary, "user", "add", "--email", email, "--name", name, "--role", role, "--time-zone", "Europe/London")
	cmd.Env = s.Env
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
}

// login signs a person in.
func (p *person) login(srv *server, email, password string) {
	p.t.Helper()
	p.do("log in",
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(tid("login-form")),
		chromedp.SetValue(chromedp.CSS("#f-email"), email),
		chromedp.SetValue(chromedp.CSS("#f-password"), password),
		chromedp.Click(chromedp.CSS(`[data-testid="login-form"] button[type=submit]`)),
		chromedp.WaitVisible(tid("new-meeting")),
	)
}

// schedule makes a meeting starting today through the form, invites people,
// and returns the meeting page's URL and their personal links.
func (p *person) schedule(title string, invitees ...string) (string, []string) {
	p.t.Helper()
	p.do("schedule "+title,
		chromedp.Click(tid("new-meeting")),
		chromedp.WaitVisible(tid("meeting-form")),
		chromedp.SetValue(chromedp.CSS("#f-title"), title),
		chromedp.SetValue(chromedp.CSS("#f-date"), testclock.Now().In(time.UTC).AddDate(0, 0, 1).Format("2006-01-02")),
		chromedp.SetValue(chromedp.CSS("#f-time_zone"), "UTC"),
		chromedp.SetValue(chromedp.CSS("#f-time"), "09:00"),
		chromedp.Click(chromedp.CSS(`[data-testid="meeting-form"] button[type=submit]`)),
		chromedp.WaitVisible(tid("meeting-title")),
	)
	for i, name := range invitees {
		p.do("invite "+name,
			chromedp.SetValue(chromedp.CSS("#f-name"), name),
			chromedp.Click(chromedp.CSS(`[data-testid="invitee-form"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-testid="invitee"]:nth-child(%d)`, i+1))),
		)
	}
	links := eval[[]string](p, `[...document.querySelectorAll('[data-testid="invitee-link"]')].map(i => i.value)`)
	return eval[string](p, `location.origin + location.pathname`), links
}

// Now is the server's time.
func (s *server) Now() time.Time { return testclock.Now().Add(s.ahead) }

// Pid is the server process's id.
func (s *server) Pid() int { return s.cmd.Process.Pid }

// seedMeeting makes, straight in the database, a meeting of the teacher's
// starting now with one invitee per name, and returns its id and links.
func (s *server) seedMeeting(t *testing.T, teacherEmail string, policy store.LobbyPolicy, invitees ...string) (string, []string) {
	t.Helper()
	return s.seedMeetingPlan(t, teacherEmail, store.MeetingPlan{
		Title: "Seeded", StartsAt: testclock.Now(), DurationMinutes: 60, TimeZone: "UTC",
		LobbyPolicy: policy, RecordingPolicy: store.RecordingHostMayRecord,
	}, invitees...)
}

// seedMeetingPlan is seedMeeting with the whole plan given.
func (s *server) seedMeetingPlan(t *testing.T, teacherEmail string, plan store.MeetingPlan, invitees ...string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, s.DB, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.UserByEmail(ctx, teacherEmail)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.CreateMeeting(ctx, u.ID, plan)
	if err != nil {
		t.Fatal(err)
	}
	links := auth.NewLinks([]byte(e2eSecret))
	var paths []string
	for _, name := range invitees {
		inv, err := st.AddInvitee(ctx, m.ID, store.NewInvitee{Name: name, LinkNonce: auth.NewLinkNonce()})
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, "/j/"+links.Token(inv.ID, inv.LinkNonce))
	}
	return m.ID.String(), paths
}

// joinRoom takes a person from a personal link (or the host's room page)
// through the pre-join page.
func (p *person) joinRoom(url string) {
	p.t.Helper()
	p.do("join", chromedp.Navigate(url), chromedp.WaitEnabled(tid("join")), chromedp.Click(tid("join")))
}

// enterRoom joins at url and waits until in the room.
func (p *person) enterRoom(url string) {
	p.t.Helper()
	p.joinRoom(url)
	p.do("be in the room", chromedp.WaitVisible(tid("room")))
}

// click clicks the first element a JavaScript expression yields.
func (p *person) click(what, expr string) {
	p.t.Helper()
	p.waitFor(what, `!!(`+expr+`)`)
	p.do(what, chromedp.Evaluate[chromedp.Void](`(`+expr+`).click()`))
}
