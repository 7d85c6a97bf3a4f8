package live

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/meeting"
	"classmeet/internal/store"
)

// Revocations end the live connections of a staff sign-in that ended
// (signed out, password changed, account disabled), in whichever process
// ended it.

// revokedMessages is what someone whose sign-in ended is told as the
// connection closes.
var revokedMessages = map[string]string{
	store.RevokedSignedOut:       "You signed out, so you have left the meeting.",
	store.RevokedPasswordChanged: "Your password was changed, which signed you out here: sign in again to rejoin.",
	store.RevokedAccountDisabled: "Your account was disabled: you can no longer take part in meetings.",
}

func revokedMessage(reason string) string {
	if m := revokedMessages[reason]; m != "" {
		return m
	}
	return "Your sign-in has ended: sign in again to rejoin."
}

// Revoke ends every live connection (and place) the revocation covers, in
// every meeting, and reports how many.
func (h *Hub) Revoke(rv store.Revocation) int {
	if h == nil {
		return 0
	}
	n := 0
	for _, r := range h.liveRooms() {
		n += r.revoke(func(si meeting.StaffSignIn) bool { return rv.Covers(si.User, si.Session) }, rv.Reason)
	}
	return n
}

func (h *Hub) liveRooms() []*room {
	h.mu.Lock()
	defer h.mu.Unlock()
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	return rooms
}

// revoke takes out the staff participants ended says have ended.
func (r *room) revoke(ended func(meeting.StaffSignIn) bool, reason string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dead {
		return 0
	}
	n := 0
	for id, si := range r.state.StaffSignIns() {
		if ended(si) {
			r.log.Info("sign-in ended: participant taken out", "participant_id", id, "reason", reason)
			r.apply(r.state.Revoke(r.hub.cfg.Now(), id, reason, revokedMessage(reason)))
			n++
		}
	}
	return n
}

// Revocations is where a hub hears of ended sign-ins: announced ones, and
// whether a sign-in is still live (to catch up on what it missed while not
// listening).
type Revocations interface {
	ListenRevocations(ctx context.Context, ready func(), fn func(store.Revocation)) error
	SessionUser(ctx context.Context, sessionID uuid.UUID, now time.Time) (store.User, error)
}

// FollowRevocations ends the connections of every sign-in announced as
// ended, until ctx ends. Each time it starts listening (again) it checks
// the sign-ins of everyone connected, so nothing announced while it was
// not listening is missed.
func (h *Hub) FollowRevocations(ctx context.Context, src Revocations) {
	wait := time.Second
	for ctx.Err() == nil {
		err := src.ListenRevocations(ctx, func() {
			wait = time.Second
			h.checkSignIns(ctx, src)
		}, func(rv store.Revocation) { h.Revoke(rv) })
		if ctx.Err() != nil {
			return
		}
		h.cfg.Log.Warn("not hearing of ended sign-ins; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// checkSignIns takes out staff participants whose sign-in is no longer live.
func (h *Hub) checkSignIns(ctx context.Context, src Revocations) {
	for _, r := range h.liveRooms() {
		r.mu.Lock()
		ins := r.state.StaffSignIns()
		r.mu.Unlock()
		for _, si := range ins {
			if live, err := signedIn(ctx, src, si, h.cfg.Now()); err != nil {
				h.cfg.Log.Warn("cannot check a sign-in", "err", err)
			} else if !live {
				r.revoke(func(x meeting.StaffSignIn) bool { return x == si }, "")
			}
		}
	}
}

func signedIn(ctx context.Context, src Revocations, si meeting.StaffSignIn, now time.Time) (bool, error) {
	u, err := src.SessionUser(ctx, si.Session, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil // revoked, expired, or the account disabled
	case err != nil:
		return true, err
	}
	return u.ID == si.User, nil
}
