package web

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"classmeet/internal/auth"
	"classmeet/internal/store"
	"classmeet/templates"
)

const wrongLogin = "Wrong email or password."

// loginForm shows the sign-in page (or the dashboard to the signed-in).
func (h *handler) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, ok, _ := h.auth.Identify(r); ok {
		redirect(w, r, "/")
		return
	}
	f := templates.Form{}
	if has, err := h.store.HasUsers(r.Context()); err == nil && !has {
		f.Error = "classmeet is not set up yet: open the setup link the server printed when it started."
	}
	h.render(w, r, http.StatusOK, templates.LoginPage(page(r, "Sign in"), f, safeNext(r.URL.Query().Get("next"))))
}

// login checks the email and password. Every failure says the same thing,
// and takes about as long, whether or not the account exists.
func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r, "email", "password", "next")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	email := strings.ToLower(strings.TrimSpace(f.Value("email")))
	source := h.source(r)
	account := email + "\x00" + source
	if wait := h.tryLogin(source, account); wait > 0 {
		h.auditLoginFailure(r, email, "sign-in refused: too many failures")
		h.refuseLogin(w, r, f, wait)
		return
	}
	u, err := h.checkLogin(r, email, f.Value("password"))
	if errors.Is(err, errWrongLogin) {
		h.auditLoginFailure(r, email, "sign-in failed")
		f.Error, f.Values["password"] = wrongLogin, ""
		h.render(w, r, http.StatusUnauthorized, templates.LoginPage(page(r, "Sign in"), f, safeNext(f.Value("next"))))
		return
	}
	if err == nil {
		err = h.auth.Login(r.Context(), w, u)
	}
	h.loginBySource.Forgive(source) // signed in, or our fault: not a failure
	if err != nil {
		h.loginByAccount.Forgive(account)
		h.fail(w, r, err)
		return
	}
	h.loginByAccount.Reset(account)
	h.auditBy(r, auth.Identity{User: u}, store.AuditEntry{Kind: store.AuditSignIn, Action: "signed in"})
	redirect(w, r, safeNext(f.Value("next")))
}

// tryLogin counts a sign-in attempt against its address and against the
// account at that address, as a failure until it succeeds; or, if either
// must wait, counts nothing and says how long.
func (h *handler) tryLogin(source, account string) time.Duration {
	now := h.now()
	bySource, okSource := h.loginBySource.Try(source, now)
	byAccount, okAccount := h.loginByAccount.Try(account, now)
	if okSource && okAccount {
		return 0
	}
	if okSource {
		h.loginBySource.Forgive(source)
	}
	if okAccount {
		h.loginByAccount.Forgive(account)
	}
	return max(bySource, byAccount)
}

// refuseLogin answers a sign-in from an address that failed too often,
// saying so and for how long: the owner of the account may be the one
// waiting, and may sign in from elsewhere meanwhile.
func (h *handler) refuseLogin(w http.ResponseWriter, r *http.Request, f templates.Form, wait time.Duration) {
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	f.Error, f.Values["password"] = fmt.Sprintf("Too many failed sign-ins from this address. Try again in %s.", seconds(secs)), ""
	h.render(w, r, http.StatusTooManyRequests, templates.LoginPage(page(r, "Sign in"), f, safeNext(f.Value("next"))))
}

func seconds(n int) string {
	if n == 1 {
		return "1 second"
	}
	return strconv.Itoa(n) + " seconds"
}

func (h *handler) checkLogin(r *http.Request, email, pw string) (store.User, error) {
	u, err := h.store.UserByEmail(r.Context(), email)
	if errors.Is(err, store.ErrNotFound) {
		h.passwords.VerifyNobody(r.Context(), pw)
		return store.User{}, errWrongLogin
	}
	if err != nil {
		return store.User{}, err
	}
	ok, err := h.passwords.Verify(r.Context(), u.PasswordHash, pw)
	if err != nil {
		return store.User{}, err
	}
	if !ok || u.DisabledAt != nil {
		return store.User{}, errWrongLogin
	}
	return u, nil
}

// logout ends the session, and the meeting connections opened with it.
func (h *handler) logout(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	if err := h.auth.Logout(r.Context(), w, me.SessionID); err != nil {
		h.fail(w, r, err)
		return
	}
	h.hub.Revoke(store.Revocation{Session: me.SessionID, Reason: store.RevokedSignedOut})
	h.auditBy(r, me, store.AuditEntry{Kind: store.AuditSignIn, Action: "signed out"})
	redirect(w, r, "/login")
}

// auditLoginFailure records a sign-in that did not happen, under the email
// typed (never the password): the account may not exist.
func (h *handler) auditLoginFailure(r *http.Request, email, action string) {
	if len(email) > 254 {
		email = strings.ToValidUTF8(email[:254], "")
	}
	h.auditRequest(r, store.AuditEntry{Kind: store.AuditSignIn, ActorName: email, ActorRole: "unknown", Action: action})
}

// safeNext keeps a post-login redirect on this site: anything but a
// same-site path becomes "/".
func safeNext(next string) string {
	if !sameSitePath(next) {
		return "/"
	}
	return next
}

// sameSitePath reports whether target may be a redirect target: a path on
// this site. Browsers drop TAB, CR and LF from a URL and read a backslash as
// a slash, so "/\t/evil" and "/\\evil" lead off-site like "//evil"; some
// proxies and servers decode the path once more, so the decoded form must
// pass too. Hence: exactly one leading slash, no backslash, no control
// character, no scheme or host, raw or percent-decoded.
func sameSitePath(target string) bool {
	decoded, err := url.PathUnescape(target)
	if err != nil {
		return false
	}
	for _, p := range []string{target, decoded} {
		if len(p) < 1 || p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsFunc(p, forbiddenInPath) {
			return false
		}
	}
	u, err := url.Parse(target)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == ""
}

// forbiddenInPath: a backslash, or a control character (C0, DEL, C1).
func forbiddenInPath(r rune) bool { return r == '\\' || unicode.IsControl(r) }

// source is who a limit counts a request against: its address, or for
// IPv6 the /64 it belongs to, since one home or phone holds a whole /64 and
// could otherwise step round any limit by changing address.
func (h *handler) source(r *http.Request) string {
	ip, err := netip.ParseAddr(h.clientIP(r))
	if err != nil || ip.Unmap().Is4() {
		return h.clientIP(r)
	}
	return netip.PrefixFrom(ip, 64).Masked().String()
}

// clientIP is the address a request came from: the proxy's X-Forwarded-For
// when we sit behind one we trust, else the TCP peer.
func (h *handler) clientIP(r *http.Request) string {
	if h.cfg.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			return strings.TrimSpace(parts[len(parts)-1])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
