// Package web is classmeet's HTTP face: the route table, one small handler
// per file, and the helpers they share to answer.
package web

import (
	"log/slog"
	"net/http"
	"time"

	"classmeet/internal/auth"
	"classmeet/internal/config"
	"classmeet/internal/meeting"
	"classmeet/internal/recorder"
	"classmeet/internal/store"
)

// Deps is everything the web layer needs from outside.
type Deps struct {
	Config     config.Config
	Store      *store.Store
	Log        *slog.Logger
	Hub        *meeting.Hub // the live meetings
	Recorder   *recorder.Recorder
	SetupToken string           // the one-time setup link's token; "" once set up
	Now        func() time.Time // defaults to time.Now
}

type handler struct {
	cfg        config.Config
	store      *store.Store
	log        *slog.Logger
	setupToken string
	now        func() time.Time

	hub        *meeting.Hub
	rec        *recorder.Recorder
	auth       *auth.Authenticator
	passwords  *auth.Passwords
	links      *auth.Links
	joinTokens *auth.JoinTokens

	loginByIP      *auth.Limiter
	loginByAccount *auth.Limiter
}

// New returns classmeet's whole HTTP handler.
func New(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
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
		joinTokens: auth.NewJoinTokens(d.Config.Secret),
		hub:        d.Hub,
		rec:        d.Recorder,
		// An IP may try 20 logins at once, then one every 6 s; an account 5,
		// then one a minute: enough for typos, far too few for guessing.
		loginByIP:      auth.NewLimiter(6*time.Second, 20),
		loginByAccount: auth.NewLimiter(time.Minute, 5),
	}
	return h.routes()
}
