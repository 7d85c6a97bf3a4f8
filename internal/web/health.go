package web

import (
	"fmt"
	"net/http"
	"strings"
)

// healthz answers while the process is up.
func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz answers 200 only while the database answers, and reports the
// recording storage too. Storage being down does not make classmeet
// unready: meetings run without it, and recordings wait in the spool.
func (h *handler) readyz(w http.ResponseWriter, r *http.Request) {
	var report strings.Builder
	ready := true
	if err := h.store.Ping(r.Context()); err != nil {
		ready = false
		report.WriteString("database: unavailable\n")
	} else {
		report.WriteString("database: ok\n")
	}
	if h.rec != nil {
		if err := h.rec.Ready(r.Context()); err != nil {
			h.log.Warn("recording storage not ready", "err", err)
			fmt.Fprintf(&report, "storage: unavailable (%s); recordings wait in the spool\n", h.rec.Storage())
		} else {
			fmt.Fprintf(&report, "storage: ok (%s)\n", h.rec.Storage())
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !ready {
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_, _ = w.Write([]byte(report.String()))
}
