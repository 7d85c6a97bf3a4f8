package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"classmeet/internal/store"
)

func TestSetupCreatesTheFirstAdminOnce(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	if p := b.get("/login"); !strings.Contains(p.text(tid("form-error")), "not set up yet") {
		t.Errorf("login page before setup does not point at the setup link: %q", p.text(tid("form-error")))
	}
	if p := b.get("/setup/wrong-token"); p.status != http.StatusNotFound {
		t.Errorf("wrong setup token: %d", p.status)
	}
	form := url.Values{"name": {"Head Teacher"}, "email": {"head@school.example"}, "time_zone": {"Europe/London"}, "password": {password}, "password_confirm": {password}}

	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("password_confirm", "something else entirely")
	bad.Set("email", "not-an-email")
	p := b.post("/setup/"+setupToken, bad)
	if p.status != http.StatusUnprocessableEntity || p.text("#f-email-error") == "" || p.text("#f-password_confirm-error") == "" {
		t.Fatalf("bad setup form: %d email=%q confirm=%q", p.status, p.text("#f-email-error"), p.text("#f-password_confirm-error"))
	}
	if has, _ := e.store.HasUsers(t.Context()); has {
		t.Fatal("a refused setup created an account")
	}

	if p := b.post("/setup/"+setupToken, form); p.status != http.StatusSeeOther {
		t.Fatalf("setup: %d", p.status)
	}
	if p := b.get("/admin/users"); p.status != http.StatusOK || p.doc.Find(tid("user-row")).Length() != 1 {
		t.Fatalf("after setup the admin is not signed in: %d", p.status)
	}
	if p := e.browser().get("/setup/" + setupToken); p.status != http.StatusNotFound {
		t.Errorf("setup link after setup: %d", p.status)
	}
	form.Set("email", "second@school.example")
	if p := e.browser().post("/setup/"+setupToken, form); p.status != http.StatusNotFound {
		t.Errorf("second setup: %d", p.status)
	}
}

func TestLoginFailuresSayTheSameThing(t *testing.T) {
	e := newEnv(t)
	e.user("t@school.example", store.RoleTeacher)
	disabled := e.user("gone@school.example", store.RoleTeacher)
	_ = e.store.SetUserDisabled(t.Context(), disabled.ID, true)

	for _, tc := range []struct{ email, pw string }{
		{"t@school.example", "wrong password!"},
		{"nobody@school.example", password},
		{"gone@school.example", password},
	} {
		p := e.browser().post("/login", url.Values{"email": {tc.email}, "password": {tc.pw}})
		if p.status != http.StatusUnauthorized || p.text(tid("form-error")) != "Wrong email or password." {
			t.Errorf("%s: %d %q", tc.email, p.status, p.text(tid("form-error")))
		}
		if p.attr("#f-password", "value") != "" {
			t.Error("the password is echoed back into the form")
		}
	}
	b := e.login("T@School.example")
	if p := b.get("/"); p.status != http.StatusOK {
		t.Errorf("dashboard after login: %d", p.status)
	}
}

// loginFrom posts the sign-in form from a client address (the server
// trusts its proxy's X-Forwarded-For).
func (e *env) loginFrom(addr, email, pw string) page {
	e.t.Helper()
	form := url.Values{"email": {email}, "password": {pw}}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.srv.URL)
	req.Header.Set("X-Forwarded-For", addr)
	return e.browser().do(req)
}

// TestLoginLimitsTheAttackerNotTheOwner: someone trickling wrong passwords
// for a teacher's account from one address waits longer and longer, is
// told so, and never keeps the teacher from signing in elsewhere.
func TestLoginLimitsTheAttackerNotTheOwner(t *testing.T) {
	e := newEnvWith(t, map[string]string{"CLASSMEET_TRUST_PROXY": "true"})
	e.user("t@school.example", store.RoleTeacher)
	const attacker, owner = "203.0.113.9", "198.51.100.7"
	var waits []int
	for i := range 60 {
		p := e.loginFrom(attacker, "t@school.example", fmt.Sprintf("guess number %d", i))
		if q := e.loginFrom(owner, "T@school.example", password); q.status != http.StatusSeeOther {
			t.Fatalf("after %d wrong passwords elsewhere the owner cannot sign in: %d %q", i+1, q.status, q.text(tid("form-error")))
		}
		switch p.status {
		case http.StatusUnauthorized:
			e.clock.Advance(time.Minute) // one wrong password a minute
		case http.StatusTooManyRequests:
			secs, err := strconv.Atoi(p.header.Get("Retry-After"))
			if err != nil || secs <= 0 {
				t.Fatalf("attempt %d: Retry-After %q", i, p.header.Get("Retry-After"))
			}
			if msg := p.text(tid("form-error")); !strings.Contains(msg, "from this address") || !strings.Contains(msg, fmt.Sprintf("in %d second", secs)) {
				t.Errorf("429 says %q (Retry-After %d)", msg, secs)
			}
			waits = append(waits, secs)
			e.clock.Advance(time.Duration(secs) * time.Second) // and back as soon as allowed
		default:
			t.Fatalf("attempt %d: %d", i, p.status)
		}
	}
	if len(waits) < 5 {
		t.Fatalf("the attacker was throttled only %d times: %v", len(waits), waits)
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] < waits[i-1] {
			t.Errorf("the attacker's waits shrink: %v", waits)
			break
		}
	}
	if last := waits[len(waits)-1]; last < 30*60 {
		t.Errorf("after %d throttled attempts the attacker waits only %d s: %v", len(waits), last, waits)
	}
	// The owner at the attacker's address (a shared network, say) is told
	// the truth: this address must wait, and how long.
	p := e.loginFrom(attacker, "t@school.example", password)
	if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" || !strings.Contains(p.text(tid("form-error")), "from this address") {
		t.Errorf("owner at the throttled address: %d Retry-After %q %q", p.status, p.header.Get("Retry-After"), p.text(tid("form-error")))
	}
}

// TestLoginIsLimitedPerAddress: one address trying many accounts waits too.
func TestLoginIsLimitedPerAddress(t *testing.T) {
	e := newEnvWith(t, map[string]string{"CLASSMEET_TRUST_PROXY": "true"})
	e.user("t@school.example", store.RoleTeacher)
	limited := 0
	for i := range 25 {
		if p := e.loginFrom("203.0.113.9", fmt.Sprintf("user%d@school.example", i), "guess"); p.status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 5 {
		t.Errorf("%d of 25 attempts on different accounts from one address limited, want 5 (20 allowed)", limited)
	}
	if p := e.loginFrom("198.51.100.7", "t@school.example", password); p.status != http.StatusSeeOther {
		t.Errorf("sign-in from another address: %d", p.status)
	}
	// An IPv6 attacker holds a whole /64: changing address within it is
	// the same source.
	limited = 0
	for i := range 25 {
		if p := e.loginFrom(fmt.Sprintf("2001:db8:1:2::%x", i+1), fmt.Sprintf("user%d@school.example", i), "guess"); p.status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 5 {
		t.Errorf("%d of 25 attempts from one IPv6 /64 limited, want 5", limited)
	}
	if p := e.loginFrom("2001:db8:1:3::1", "t@school.example", password); p.status != http.StatusSeeOther {
		t.Errorf("sign-in from another /64: %d", p.status)
	}
}

// TestLoginRedirectsOnlyToThisSite: after signing in, "next" leads only to
// a path on this site; anything a browser could read as another host leads
// to the dashboard.
func TestLoginRedirectsOnlyToThisSite(t *testing.T) {
	e := newEnv(t)
	e.user("t@school.example", store.RoleTeacher)
	for _, tc := range []struct{ next, want string }{
		{"/meetings/abc?tab=invitees", "/meetings/abc?tab=invitees"},
		{"/account", "/account"},
		{"", "/"},
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"/\t/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\x00/evil.example", "/"},
		{"/\x7f/evil.example", "/"},
		{"/\u0085/evil.example", "/"},
		{"/%09/evil.example", "/"},
		{"/%0d%0a/evil.example", "/"},
		{"/%2f%2fevil.example", "/"},
		{"/%2F/evil.example", "/"},
		{"/%5cevil.example", "/"},
		{"/a%5cb", "/"},
		{"/%zz", "/"},
		{"https://evil.example", "/"},
		{"https:/evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"\\\\evil.example", "/"},
		{"\t//evil.example", "/"},
		{" /evil", "/"},
		{"evil.example", "/"},
		{"/ok/then\\evil", "/"},
	} {
		e.clock.Advance(time.Hour) // past the sign-in limits
		// The raw answer: Go's client refuses to parse some of these Locations.
		form := url.Values{"email": {"t@school.example"}, "password": {password}, "next": {tc.next}}
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", e.srv.URL)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tc.want {
			t.Errorf("next=%q: %d Location %q, want %q", tc.next, resp.StatusCode, resp.Header.Get("Location"), tc.want)
		}
	}
}

func TestSecureCookieBehindHTTPS(t *testing.T) {
	e := newEnvWith(t, map[string]string{"CLASSMEET_PUBLIC_URL": "https://meet.school.example"})
	e.user("t@school.example", store.RoleTeacher)
	p := e.browser().post("/login", url.Values{"email": {"t@school.example"}, "password": {password}})
	c := p.header.Get("Set-Cookie")
	if !strings.HasPrefix(c, "__Host-classmeet_session=") || !strings.Contains(c, "; Secure") || strings.Contains(c, "Domain=") {
		t.Errorf("Set-Cookie over https = %q", c)
	}
	if hsts := p.header.Get("Strict-Transport-Security"); hsts == "" {
		t.Error("no HSTS over https")
	}
}

func TestLogoutEndsTheSessionEverywhere(t *testing.T) {
	e := newEnv(t)
	e.user("t@school.example", store.RoleTeacher)
	b := e.login("t@school.example")
	u, _ := url.Parse(e.srv.URL)
	stolen := b.c.Jar.Cookies(u)
	if len(stolen) != 1 || stolen[0].Name != "classmeet_session" {
		t.Fatalf("cookies: %+v", stolen)
	}
	if p := b.post("/logout", nil); p.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", p.status)
	}
	replay := e.browser()
	replay.c.Jar.SetCookies(u, stolen)
	if p := replay.get("/"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login") {
		t.Errorf("the logged-out cookie still works: %d %s", p.status, p.header.Get("Location"))
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	e := newEnv(t)
	e.user("t@school.example", store.RoleTeacher)
	p := e.browser().post("/login", url.Values{"email": {"t@school.example"}, "password": {password}})
	c := p.header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(c, want) {
			t.Errorf("Set-Cookie %q lacks %s", c, want)
		}
	}
}

func TestAdminsManageAccounts(t *testing.T) {
	e := newEnv(t)
	admin := e.user("admin@school.example", store.RoleAdmin)
	a := e.login("admin@school.example")
	p := a.post("/admin/users", url.Values{"name": {"Ms Teacher"}, "email": {"teacher@school.example"}, "role": {"teacher"}, "time_zone": {"Europe/Paris"}, "password": {password}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("create teacher: %d", p.status)
	}
	dup := a.post("/admin/users", url.Values{"name": {"Again"}, "email": {"TEACHER@school.example"}, "role": {"teacher"}, "time_zone": {"UTC"}, "password": {password}})
	if dup.status != http.StatusUnprocessableEntity || !strings.Contains(dup.text("#f-email-error"), "already used") {
		t.Errorf("duplicate email: %d %q", dup.status, dup.text("#f-email-error"))
	}
	for name, form := range map[string]url.Values{
		"bad role":     {"name": {"x"}, "email": {"x@school.example"}, "role": {"superuser"}, "time_zone": {"UTC"}, "password": {password}},
		"bad zone":     {"name": {"x"}, "email": {"x@school.example"}, "role": {"teacher"}, "time_zone": {"Mars"}, "password": {password}},
		"short pw":     {"name": {"x"}, "email": {"x@school.example"}, "role": {"teacher"}, "time_zone": {"UTC"}, "password": {"short"}},
		"missing name": {"email": {"x@school.example"}, "role": {"teacher"}, "time_zone": {"UTC"}, "password": {password}},
	} {
		if p := a.post("/admin/users", form); p.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", name, p.status)
		}
	}
	if us, _ := e.store.Users(t.Context()); len(us) != 2 {
		t.Fatalf("%d accounts, want 2", len(us))
	}

	tb := e.login("teacher@school.example")
	if p := tb.get("/admin/users"); p.status != http.StatusForbidden {
		t.Errorf("teacher opens accounts page: %d", p.status)
	}
	if p := tb.post("/admin/users", url.Values{"name": {"x"}, "email": {"y@school.example"}, "role": {"admin"}, "time_zone": {"UTC"}, "password": {password}}); p.status != http.StatusForbidden {
		t.Errorf("teacher creates an admin: %d", p.status)
	}

	teacher, _ := e.store.UserByEmail(t.Context(), "teacher@school.example")
	if p := a.post("/admin/users/"+teacher.ID.String()+"/disable", nil); p.status != http.StatusSeeOther {
		t.Fatalf("disable: %d", p.status)
	}
	if p := tb.get("/"); p.status != http.StatusSeeOther {
		t.Errorf("a disabled teacher's open session still works: %d", p.status)
	}
	if p := a.post("/admin/users/"+admin.ID.String()+"/disable", nil); p.status != http.StatusForbidden {
		t.Errorf("admin disables themselves: %d", p.status)
	}
	if p := a.post("/admin/users/"+teacher.ID.String()+"/enable", nil); p.status != http.StatusSeeOther {
		t.Fatalf("enable: %d", p.status)
	}
	e.login("teacher@school.example")
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	e.user("t@school.example", store.RoleTeacher)
	b, other := e.login("t@school.example"), e.login("t@school.example")
	newPW := "another long password"
	if p := b.post("/account/password", url.Values{"current_password": {"not it at all"}, "password": {newPW}, "password_confirm": {newPW}}); p.status != http.StatusUnprocessableEntity {
		t.Errorf("wrong current password: %d", p.status)
	}
	if p := b.post("/account/password", url.Values{"current_password": {password}, "password": {newPW}, "password_confirm": {newPW}}); p.status != http.StatusSeeOther {
		t.Fatalf("change password: %d", p.status)
	}
	if p := b.get("/account?saved=password"); p.status != http.StatusOK || p.text(tid("notice")) == "" {
		t.Errorf("own session after change: %d", p.status)
	}
	if p := other.get("/"); p.status != http.StatusSeeOther {
		t.Errorf("other session survived the password change: %d", p.status)
	}
	if p := e.browser().post("/login", url.Values{"email": {"t@school.example"}, "password": {newPW}}); p.status != http.StatusSeeOther {
		t.Errorf("login with the new password: %d", p.status)
	}
}

func TestProfileTimeZoneChangesTheDashboard(t *testing.T) {
	e := newEnv(t)
	e.user("t@school.example", store.RoleTeacher)
	b := e.login("t@school.example")
	b.meeting("Zone check")
	if p := b.post("/account/profile", url.Values{"name": {"T"}, "time_zone": {"Nowhere/Land"}}); p.status != http.StatusUnprocessableEntity {
		t.Errorf("bad zone: %d", p.status)
	}
	if p := b.post("/account/profile", url.Values{"name": {"T"}, "time_zone": {"America/New_York"}}); p.status != http.StatusSeeOther {
		t.Fatalf("profile: %d", p.status)
	}
	p := b.get("/")
	when := p.doc.Find(tid("meeting") + " .muted").First().Text()
	local, london, _ := strings.Cut(when, "(")
	// 16:30 in London is 11:30 or 12:30 in New York depending on the season.
	if !regexp.MustCompile(`1[12]:30–1[23]:00 E[SD]T`).MatchString(local) || !strings.Contains(london, "16:30–17:00") || !strings.Contains(london, "in Europe/London") {
		t.Errorf("dashboard time in New York: %q", when)
	}
}

func TestAuditLogForAdminsOnly(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	a := e.login("admin@school.example")
	a.post("/admin/users", url.Values{"name": {"Ms Teacher"}, "email": {"teacher@school.example"}, "role": {"teacher"}, "time_zone": {"UTC"}, "password": {password}})
	teacher, _ := e.store.UserByEmail(t.Context(), "teacher@school.example")
	a.post("/admin/users/"+teacher.ID.String()+"/disable", nil)
	p := a.get("/admin/audit?kind=account")
	rows := p.doc.Find(tid("audit-row"))
	if p.status != http.StatusOK || rows.Length() != 2 || !strings.Contains(rows.First().Text(), "disabled account") {
		t.Fatalf("audit page: %d, %d rows: %q", p.status, rows.Length(), rows.Text())
	}
	a.post("/admin/users/"+teacher.ID.String()+"/enable", nil)
	tb := e.login("teacher@school.example")
	if p := tb.get("/admin/audit"); p.status != http.StatusForbidden {
		t.Errorf("a teacher reads the audit log: %d", p.status)
	}
}
