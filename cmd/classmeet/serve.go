package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"classmeet/internal/blob"
	"classmeet/internal/config"
	"classmeet/internal/live"
	"classmeet/internal/metrics"
	"classmeet/internal/recorder"
	"classmeet/internal/sfu"
	"classmeet/internal/store"
	"classmeet/internal/turnserver"
	"classmeet/internal/web"
)

func serve(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	tuneGC(getenv)
	now := clock()
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
	relay, err := startTURN(cfg.RTC, media, log, now)
	if err != nil {
		return err
	}
	if relay != nil {
		defer relay.Close()
	}
	rec, err := newRecorder(ctx, cfg.Recording, st, log, now)
	if err != nil {
		return err
	}
	defer func() {
		// Recordings still uploading get 10 s; what is left is finished at the next start.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rec.Close(ctx)
	}()
	outbox := st.NewOutbox(log, 200_000)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		outbox.Close(ctx)
	}()
	stopMail, err := startMail(ctx, cfg.SMTP, st, log, now)
	if err != nil {
		return err
	}
	defer stopMail()
	hub := live.NewHub(live.HubConfig{
		Meetings:   st,
		Timetables: st,
		Journal:    live.OutboxJournal{Outbox: outbox},
		NewMedia: func(id string) live.MediaRoom {
			return live.SFURoom{Room: media.NewRoom(log.With("meeting_id", id))}
		},
		ICEServers: turnserver.ICEServers(cfg.RTC, relay, now),
		Grace:      cfg.RTC.Grace,
		Recorder:   rec,
		Log:        log,
		Now:        now,
	})
	defer hub.Close()
	signals := web.NewSignalCounts()
	stopMetrics, err := startMetrics(cfg.MetricsAddr, metrics.Sources{
		SFU: media.Counters(), Meetings: hub, Signals: signals, Database: st, Journal: outbox, Spool: rec, Log: log,
	}, log)
	if err != nil {
		return err
	}
	defer stopMetrics()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (CLASSMEET_ADDR): %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           web.New(web.Deps{Config: cfg, Store: st, Hub: hub, Recorder: rec, Log: log, SetupToken: setupToken, Now: now, Signals: signals}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("classmeet serving", "version", version, "addr", ln.Addr().String(), "public_url", cfg.PublicURL.String(),
		"media_udp", media.UDPAddr().String(), "media_tcp", media.TCPAddr().String())
	greet(stdout, cfg, setupToken)
	startBackground(ctx, cfg, st, hub, rec, log, now)
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
	return rand.Text(), nil
}

// startTURN runs the embedded TURN relay when CLASSMEET_TURN_LISTEN is set;
// it relays to the SFU's media port only.
func startTURN(rtc config.RTC, media *sfu.SFU, log *slog.Logger, now func() time.Time) (*turnserver.Server, error) {
	if rtc.TURN == nil {
		return nil, nil
	}
	relay, err := turnserver.Start(*rtc.TURN, media.UDPAddr(), rtc.PublicIPs, log, now)
	if err != nil {
		return nil, fmt.Errorf("%w (CLASSMEET_TURN_*)", err)
	}
	log.Info("TURN relay", "udp_tcp", relay.UDPAddr().String(), "tls", rtc.TURN.TLSListen,
		"relay_ports", fmt.Sprintf("%d-%d", rtc.TURN.RelayMinPort, rtc.TURN.RelayMaxPort))
	return relay, nil
}

// greet tells whoever started the server where it serves, and how to make
// the first account when there is none.
func greet(stdout io.Writer, cfg config.Config, setupToken string) {
	fmt.Fprintf(stdout, "classmeet is serving on %s\n", cfg.PublicURL)
	if setupToken != "" {
		fmt.Fprintf(stdout, "No accounts exist yet. Open this one-time link to create the first administrator:\n  %s/setup/%s\n", cfg.PublicURL, setupToken)
	} else {
		fmt.Fprintf(stdout, "Sign in at %s/login\n", cfg.PublicURL)
	}
}

// startBackground closes what a crash left open and starts the server's
// background work: sweeps, following ended sign-ins, recovering recordings.
func startBackground(ctx context.Context, cfg config.Config, st *store.Store, hub *live.Hub, rec *recorder.Recorder, log *slog.Logger, now func() time.Time) {
	// Nothing is live yet: visits a crash left open are closed now.
	if n, err := st.CloseAbandonedAttendance(ctx, "server restart"); err != nil {
		log.Error("closing attendance left open failed", "err", err)
	} else if n > 0 {
		log.Warn("attendance left open by a stop closed at the last time known", "visits", n)
	}
	go sweepSessions(ctx, st, log, now)
	// A sign-in ended anywhere (here, or by `classmeet user`) ends its meeting connections.
	go hub.FollowRevocations(ctx, st)
	go func() {
		if err := rec.Recover(ctx); err != nil {
			log.Error("recovering recordings failed", "err", err)
		}
	}()
	go sweepRecordings(ctx, rec, cfg.Recording.Retention, log, now)
}

// sweepSessions deletes sessions that ended over a day ago, and used join
// tokens that expired, hourly.
func sweepSessions(ctx context.Context, st *store.Store, log *slog.Logger, now func() time.Time) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := st.DeleteExpiredSessions(ctx, now().Add(-24*time.Hour)); err != nil {
				log.Warn("session sweep failed", "err", err)
			} else if n > 0 {
				log.Debug("sessions swept", "deleted", n)
			}
			// Kept a while past expiry: a token is refused as expired only after its leeway.
			if n, err := st.DeleteExpiredJoinTokens(ctx, now().Add(-time.Hour)); err != nil {
				log.Warn("used join token sweep failed", "err", err)
			} else if n > 0 {
				log.Debug("used join tokens swept", "deleted", n)
			}
		}
	}
}

// newRecorder opens the recording store (the S3 bucket, or a directory)
// and the spool.
func newRecorder(ctx context.Context, cfg config.Recording, st *store.Store, log *slog.Logger, now func() time.Time) (*recorder.Recorder, error) {
	var b blob.Store
	if cfg.S3 != nil {
		s3, err := blob.OpenS3(ctx, *cfg.S3)
		if err != nil {
			return nil, fmt.Errorf("%w (CLASSMEET_S3_*)", err)
		}
		b = s3
	} else {
		dir, err := blob.OpenDir(cfg.LocalDir())
		if err != nil {
			return nil, fmt.Errorf("%w (CLASSMEET_DATA_DIR)", err)
		}
		b = dir
	}
	if err := b.Ready(ctx); err != nil {
		log.Warn("recording storage is not ready; recordings wait in the spool until it is", "storage", b.String(), "err", err)
	}
	rec, err := recorder.New(recorder.Config{Store: st, Blob: b, SpoolDir: cfg.SpoolDir(), MinFree: cfg.SpoolMinFree, Log: log, Now: now})
	if err != nil {
		return nil, fmt.Errorf("%w (CLASSMEET_DATA_DIR)", err)
	}
	log.Info("recordings", "storage", b.String(), "spool", cfg.SpoolDir(), "retention_days", int(cfg.Retention/(24*time.Hour)))
	return rec, nil
}

// sweepRecordings deletes recordings past the retention period, hourly.
func sweepRecordings(ctx context.Context, rec *recorder.Recorder, retention time.Duration, log *slog.Logger, now func() time.Time) {
	if retention <= 0 {
		return
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := rec.Sweep(ctx, now().Add(-retention)); err != nil {
			log.Warn("recording retention sweep failed", "err", err)
		} else if n > 0 {
			log.Info("recordings past their retention deleted", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
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

// serverGCPercent is the garbage collector's target for the server. The
// live heap of a classmeet server is small and mostly long-lived (packet
// rings, connections); the collector's work grows with the live heap, not
// with the headroom, so halving Go's default headroom (100 %) costs little
// CPU and keeps about a third less memory resident (docs/performance.md).
const serverGCPercent = 50

// tuneGC sets serverGCPercent unless the operator chose with GOGC.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serverGCPercent)
	}
}
