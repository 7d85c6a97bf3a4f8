package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"classmeet/internal/auth"
	"classmeet/internal/config"
	"classmeet/internal/meeting"
	"classmeet/internal/sfu"
	"classmeet/internal/store"
	"classmeet/internal/web"
)

func serve(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx, log); err != nil {
		return err
	}
	setupToken, err := setupToken(ctx, st)
	if err != nil {
		return err
	}

	media, err := sfu.New(sfu.Config{
		BindIP: cfg.RTC.BindIP, UDPPort: cfg.RTC.UDPPort, TCPPort: cfg.RTC.TCPPort, PublicIPs: cfg.RTC.PublicIPs, Log: log,
	})
	if err != nil {
		return fmt.Errorf("%w (CLASSMEET_RTC_UDP_PORT, CLASSMEET_RTC_TCP_PORT, CLASSMEET_RTC_BIND_IP)", err)
	}
	defer media.Close()
	outbox := st.NewOutbox(log, 200_000)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		outbox.Close(ctx)
	}()
	hub := meeting.NewHub(meeting.HubConfig{
		Meetings: st,
		Journal:  meeting.OutboxJournal{Outbox: outbox},
		NewMedia: func(id string) meeting.MediaRoom {
			return meeting.SFURoom{Room: media.NewRoom(log.With("meeting_id", id))}
		},
		ICEServers: iceServers(cfg.RTC),
		Grace:      cfg.RTC.Grace,
		Log:        log,
	})
	defer hub.Close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (CLASSMEET_ADDR): %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           web.New(web.Deps{Config: cfg, Store: st, Hub: hub, Log: log, SetupToken: setupToken}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("classmeet serving", "version", version, "addr", ln.Addr().String(), "public_url", cfg.PublicURL.String(),
		"media_udp", media.UDPAddr().String(), "media_tcp", media.TCPAddr().String())
	fmt.Fprintf(stdout, "classmeet is serving on %s\n", cfg.PublicURL)
	if setupToken != "" {
		fmt.Fprintf(stdout, "No accounts exist yet. Open this one-time link to create the first administrator:\n  %s/setup/%s\n", cfg.PublicURL, setupToken)
	} else {
		fmt.Fprintf(stdout, "Sign in at %s/login\n", cfg.PublicURL)
	}

	go sweepSessions(ctx, st, log)
	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			errc <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// setupToken returns a fresh one-time setup token while no account exists.
func setupToken(ctx context.Context, st *store.Store) (string, error) {
	has, err := st.HasUsers(ctx)
	if err != nil || has {
		return "", err
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// iceServers hands browsers the configured STUN/TURN servers, with TURN
// credentials of their own when a shared secret is configured.
func iceServers(rtc config.RTC) func(participant string) []meeting.ICEServer {
	return func(participant string) []meeting.ICEServer {
		if len(rtc.ICEServers) == 0 {
			return nil
		}
		s := meeting.ICEServer{URLs: rtc.ICEServers, Username: rtc.TURNUsername, Credential: rtc.TURNCredential}
		if rtc.TURNSecret != "" {
			s.Username, s.Credential = auth.TURNCredentials(rtc.TURNSecret, participant, 12*time.Hour, time.Now())
		}
		return []meeting.ICEServer{s}
	}
}

// sweepSessions deletes sessions that ended over a day ago, hourly.
func sweepSessions(ctx context.Context, st *store.Store, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := st.DeleteExpiredSessions(ctx, time.Now().Add(-24*time.Hour)); err != nil {
				log.Warn("session sweep failed", "err", err)
			} else if n > 0 {
				log.Debug("sessions swept", "deleted", n)
			}
		}
	}
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
