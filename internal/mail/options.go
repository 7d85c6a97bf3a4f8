package mail

import (
	"crypto/tls"
	"log/slog"
	"time"
)

// Option changes how a Worker works.
type Option func(*Worker)

// WithClock sets where the worker takes the time from (default time.Now):
// what is due, when to retry, when a message was sent.
func WithClock(now func() time.Time) Option { return func(w *Worker) { w.now = now } }

// WithLogger sets the logger (default: none).
func WithLogger(log *slog.Logger) Option { return func(w *Worker) { w.log = log } }

// WithPollInterval sets how often the worker looks for due mail when
// nothing woke it (default 5 s).
func WithPollInterval(d time.Duration) Option { return func(w *Worker) { w.poll = d } }

// WithBatch sets how many messages one claim takes, sent over one
// connection (default 20).
func WithBatch(n int) Option { return func(w *Worker) { w.batch = max(n, 1) } }

// WithGiveUpAfter sets how long a failing message is retried before it is
// marked failed (default 24 h).
func WithGiveUpAfter(d time.Duration) Option { return func(w *Worker) { w.giveUp = d } }

// WithTLSConfig sets the TLS configuration for the mail server (e.g. its
// own certificate authority); ServerName defaults to the SMTP host.
func WithTLSConfig(c *tls.Config) Option { return func(w *Worker) { w.tls = c } }
