package web

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
)

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (WebSockets).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// routeKey holds, in a request's context, where the mux records the route
// pattern it matched: the mux sets Pattern on its own copy of the request.
type routeKey struct{}

// logRequests logs each request by its route pattern, never its path: paths
// of join links carry tokens.
func (h *handler) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start, route := time.Now(), new(string)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), routeKey{}, route)))
		switch *route {
		case "GET /healthz", "GET /readyz", "GET /static/":
			return
		}
		h.log.Debug("request", "method", r.Method, "route", *route, "status", sw.status, "took", time.Since(start))
	})
}

// recordRoute tells logRequests which route the mux matched.
func recordRoute(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if route, ok := r.Context().Value(routeKey{}).(*string); ok {
			*route = r.Pattern
		}
	})
}

// recoverPanics turns a panic in a handler into a logged 500.
func (h *handler) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				h.log.Error("panic", "route", r.Pattern, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				h.fail(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// refuseTraversal answers 400 to any path that tries to climb out or hide
// a separator or a NUL: "..", an encoded dot, backslash or NUL. No path
// reaches a file or object key, but such a request never means well, and
// is refused before routing rather than redirected to a cleaned path.
func (h *handler) refuseTraversal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := strings.ToLower(r.URL.EscapedPath())
		if strings.Contains(r.URL.Path, "..") || strings.ContainsAny(r.URL.Path, "\\\x00") ||
			strings.Contains(raw, "%2e") || strings.Contains(raw, "%5c") || strings.Contains(raw, "%00") || strings.Contains(raw, "%2f") {
			h.fail(w, r, errBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// undeadlinedKey holds a request's context from before dbDeadline.
type undeadlinedKey struct{}

// dbDeadline gives each request a deadline (CLASSMEET_DB_TIMEOUT) for its
// database work: a database that stops answering without closing its
// connections (frozen, or cut off by a silent network) makes requests fail
// with 503, not hang. A long transfer that follows the database work (a
// recording's bytes) runs under transferContext instead.
func (h *handler) dbDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), undeadlinedKey{}, r.Context())
		ctx, cancel := context.WithTimeout(ctx, h.cfg.DBTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// transferContext is the request's context without dbDeadline's deadline,
// for sending what may take longer than a database query: it still ends
// when the client goes away.
func transferContext(r *http.Request) context.Context {
	if ctx, ok := r.Context().Value(undeadlinedKey{}).(context.Context); ok {
		return ctx
	}
	return r.Context()
}
