package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/store"
)

// staffHandler is a handler for signed-in teachers and administrators.
type staffHandler func(http.ResponseWriter, *http.Request, auth.Identity)

// staff lets signed-in staff through and sends anyone else to the login page.
func (h *handler) staff(next staffHandler) http.HandlerFunc {
	return h.signedIn(next, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()))
			return
		}
		redirect(w, r, "/login")
	})
}

// staffFile is staff for downloads: someone not signed in gets "not
// found", as for a guessed address, rather than a login page.
func (h *handler) staffFile(next staffHandler) http.HandlerFunc {
	return h.signedIn(next, func(w http.ResponseWriter, r *http.Request) { h.fail(w, r, store.ErrNotFound) })
}

// signedIn lets signed-in staff through to next, and answers anyone else
// with anonymous.
func (h *handler) signedIn(next staffHandler, anonymous http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok, err := h.auth.Identify(r)
		switch {
		case err != nil:
			h.fail(w, r, err)
		case !ok:
			anonymous(w, r)
		default:
			next(w, r.WithContext(auth.WithIdentity(r.Context(), id)), id)
		}
	}
}

// admin is staff for administrators only.
func (h *handler) admin(next staffHandler) http.HandlerFunc {
	return h.staffWho(auth.ManageAccounts, next)
}

// scheduler is staff who may schedule meetings.
func (h *handler) scheduler(next staffHandler) http.HandlerFunc {
	return h.staffWho(auth.ScheduleMeetings, next)
}

// staffWho is staff whose role may do a; others are refused.
func (h *handler) staffWho(a auth.Action, next staffHandler) http.HandlerFunc {
	return h.staff(func(w http.ResponseWriter, r *http.Request, id auth.Identity) {
		if !auth.Can(id.User.Role, a) {
			h.fail(w, r, errForbidden)
			return
		}
		next(w, r, id)
	})
}

// pathID parses a UUID path parameter. Anything else is "not found": a
// malformed id names nothing, and the answer must not differ from a guess.
func pathID(r *http.Request, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue(name))
	if err != nil || id.Version() != 4 {
		return uuid.Nil, store.ErrNotFound
	}
	return id, nil
}

// userZone is the signed-in user's time zone.
func userZone(me auth.Identity) *time.Location {
	if loc, err := time.LoadLocation(me.User.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}
