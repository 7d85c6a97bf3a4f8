// Package web is classmeet's HTTP face: the route table, one small handler
// per file, and the helpers they share to answer.
package web

import (
	"log/slog"
	"net/http"
	"time"

	"classmeet/internal/auth"
	"classmeet/internal/config"
	"classmeet/internal/live"
	"classmeet/internal/recorder"
	"classmeet/internal/store"
)

// Deps is everything the web layer needs from outside.
type Deps struct {
	Config     config.Config
	Store      *store.Store
	Log        *slog.Logger
	Hub        *live.Hub // the live meetings
	Recorder   *recorder.Recorder
	SetupToken string           // the one-time setup link's token; "" once set up
	Now        func() time.Time // defaults to time.Now
	// Signals counts signaling messages for metrics; nil: a fresh count.
	Signals *SignalCounts
}

type handler struct {
	cfg        config.Config
	store      *store.Store
	log        *slog.Logger
	setupToken string
	now        func() time.Time

	hub        *live.Hub
	signals    *SignalCounts
	pending    pendingSockets // meeting sockets not yet joined, per address
	rec        *recorder.Recorder
	auth       *auth.Authenticator
	passwords  *auth.Passwords
	links      *auth.Links // invitees' join links
	bookings   *auth.Links // households' booking links
	joinTokens *auth.JoinTokens

	loginBySource  *auth.Backoff // failed sign-ins from an address
	loginByAccount *auth.Backoff // failed sign-ins to an account from an address
	linkGuesses    *auth.Backoff // unknown booking links opened from an address
}

// New returns classmeet's whole HTTP handler.
func New(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Signals == nil {
		d.Signals = NewSignalCounts()
	}
	h := &handler{
		cfg:        d.Config,
		store:      d.Store,
		log:        d.Log,
		setupToken: d.SetupToken,
		now:        d.Now,
		auth:       auth.NewAuthenticator(d.Store, auth.NewSessions(d.Config.Secret, d.Config.SessionTTL), d.Config.SecureCookies(), d.Now),
		passwords:  auth.NewPasswords(0),
		links:      auth.NewLinks(d.Config.Secret),
		bookings:   auth.NewBookingLinks(d.Config.Secret),
		joinTokens: auth.NewJoinTokens(d.Config.Secret),
		hub:        d.Hub,
		signals:    d.Signals,
		rec:        d.Recorder,
		// Failures slow down whoever fails: an address after 20 (a school
		// behind one NAT has many teachers), an account at one address
		// after 5 (typos). Each further failure doubles the wait. Nothing
		// is kept per account alone: that would let anyone, anywhere, keep
		// its owner out.
		loginBySource:  auth.NewBackoff(20, 2*time.Second, 15*time.Minute),
		loginByAccount: auth.NewBackoff(5, 2*time.Second, time.Hour),
		// Booking links are unguessable; this only makes trying expensive.
		// A family's own link never counts, so a guesser behind the same
		// address cannot lock it out.
		linkGuesses: auth.NewBackoff(20, time.Second, 15*time.Minute),
	}
	return h.routes()
}
