package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/store"
)

// Identity is the signed-in staff member of a request.
type Identity struct {
	User      store.User
	SessionID uuid.UUID
}

type identityKey struct{}

// IdentityFrom returns the request's signed-in user, if any.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// Authenticator turns the session cookie into an Identity. The JWT proves
// who issued it; the sessions table decides whether it still counts, so
// logout and disabling an account take effect at once.
type Authenticator struct {
	store    *store.Store
	sessions *Sessions
	secure   bool
	now      func() time.Time
}

// NewAuthenticator uses Secure, __Host- cookies when secure is true (HTTPS).
// Sessions start, expire and end by now (time.Now in the server).
func NewAuthenticator(st *store.Store, sessions *Sessions, secure bool, now func() time.Time) *Authenticator {
	return &Authenticator{store: st, sessions: sessions, secure: secure, now: now}
}

// CookieName is the session cookie's name: __Host- prefixed over HTTPS,
// which browsers accept only with Secure, Path=/ and no Domain.
func (a *Authenticator) CookieName() string {
	if a.secure {
		return "__Host-classmeet_session"
	}
	return "classmeet_session"
}

// Login starts a session for u and sets its cookie.
func (a *Authenticator) Login(ctx context.Context, w http.ResponseWriter, u store.User) error {
	now := a.now()
	sid, err := a.store.CreateSession(ctx, u.ID, now.Add(a.sessions.TTL()))
	if err != nil {
		return err
	}
	tok, err := a.sessions.Issue(sid, u.ID, now)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: a.CookieName(), Value: tok, Path: "/", MaxAge: int(a.sessions.TTL().Seconds()),
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// Logout ends the session and clears its cookie.
func (a *Authenticator) Logout(ctx context.Context, w http.ResponseWriter, sessionID uuid.UUID) error {
	http.SetCookie(w, &http.Cookie{
		Name: a.CookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode,
	})
	return a.store.RevokeSession(ctx, sessionID, a.now())
}

// Identify returns the identity of the request's session cookie. A missing,
// forged, expired or revoked session is (Identity{}, false, nil); an error
// means the answer is unknown (the database is down, say).
func (a *Authenticator) Identify(r *http.Request) (Identity, bool, error) {
	c, err := r.Cookie(a.CookieName())
	if err != nil {
		return Identity{}, false, nil
	}
	claims, err := a.sessions.Verify(c.Value, a.now())
	if err != nil {
		return Identity{}, false, nil
	}
	u, err := a.store.SessionUser(r.Context(), claims.SessionID, a.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Identity{}, false, nil
	case err != nil:
		return Identity{}, false, fmt.Errorf("auth: identify: %w", err)
	case u.ID != claims.UserID:
		return Identity{}, false, nil
	}
	return Identity{User: u, SessionID: claims.SessionID}, true, nil
}
