// Package metrics serves classmeet's Prometheus metrics. Nothing is counted
// here: at each scrape a collector reads the live state (the SFU's atomic
// counters, the meetings' census, the signaling counts, a few cheap queries)
// into one registry of its own. Label values come from fixed sets only
// (kind, presence, state, reason, type): never a name, a title, an id or a
// token.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"classmeet/internal/meeting"
	"classmeet/internal/sfu"
)

// Meetings counts the live meetings and who is in them (live.Hub).
type Meetings interface {
	Census() (meetings int, people meeting.Census)
}

// Signals counts signaling messages by type and refusals by code (web.SignalCounts).
type Signals interface {
	Snapshot() (in, out, refusals map[string]uint64)
}

// Database answers the scrape's two queries (store.Store).
type Database interface {
	MailQueueDepth(ctx context.Context) (waiting, failed int, err error)
	RecordingsByState(ctx context.Context) (map[string]int, error)
}

// Journal is the queue of writes waiting for the database (store.Outbox).
type Journal interface{ Pending() int }

// Spool is where recordings are written first (recorder.Recorder).
type Spool interface{ SpoolFree() (int64, error) }

// Sources are what the metrics read; a nil source is left out.
type Sources struct {
	SFU      *sfu.Counters
	Meetings Meetings
	Signals  Signals
	Database Database
	Journal  Journal
	Spool    Spool
	Log      *slog.Logger
	// QueryTimeout bounds the scrape's database queries (2 s if zero).
	QueryTimeout time.Duration
}

// NewRegistry holds classmeet's collector and the Go runtime and process
// collectors.
func NewRegistry(src Sources) *prometheus.Registry {
	if src.QueryTimeout == 0 {
		src.QueryTimeout = 2 * time.Second
	}
	if src.Log == nil {
		src.Log = slog.New(slog.DiscardHandler)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&collector{src: src},
	)
	return reg
}

// Handler serves the registry's metrics.
func Handler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

// Server serves /metrics on a listener of its own, apart from the web
// server: it is for the monitoring network, not the public address.
type Server struct {
	srv  *http.Server
	addr net.Addr
	done chan struct{}
}

// Listen starts serving reg's metrics on addr (host:port).
func Listen(addr string, reg *prometheus.Registry, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s (CLASSMEET_METRICS_ADDR): %w", addr, err)
	}
	s := &Server{
		srv: &http.Server{
			Handler: Handler(reg), ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		addr: ln.Addr(), done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	return s, nil
}

// Addr is where the metrics are served.
func (s *Server) Addr() net.Addr { return s.addr }

// Close stops serving, letting a scrape under way finish until ctx ends.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}
