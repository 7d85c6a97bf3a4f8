package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/a-h/templ"

	"classmeet/internal/auth"
	"classmeet/internal/recorder"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
	"classmeet/templates"
)

// render writes a complete page, or a 500 if it cannot be rendered: the page
// is rendered to a buffer first, so a failure never leaves half a page.
// Rendering is quick and needs no database, so it is not bound by the
// request's database deadline: the 503 page of a request that ran out of
// time must still render.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(context.WithoutCancel(r.Context()), &buf); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// redirect answers a form post by sending the browser to a page (303).
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// page is the layout data of a page for the request's user, if any.
func page(r *http.Request, title string) templates.Page {
	p := templates.Page{Title: title}
	if id, ok := auth.IdentityFrom(r.Context()); ok {
		p.User = &id.User
	}
	return p
}

// fail answers a failed request with a page saying what went wrong.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, heading, text := h.classify(r, err)
	if status == 0 {
		return
	}
	retryLater(w, status)
	h.render(w, r, status, templates.Message(page(r, heading), heading, text))
}

// failJSON answers a failed request from the page's JavaScript.
func (h *handler) failJSON(w http.ResponseWriter, r *http.Request, err error) {
	status, _, text := h.classify(r, err)
	if status == 0 {
		return
	}
	retryLater(w, status)
	writeJSON(w, status, map[string]string{"error": text})
}

// retryLater tells clients when to try again after a 503.
func retryLater(w http.ResponseWriter, status int) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
}

// classify maps an error to the status and words a person should see. This
// is the one place errors become HTTP statuses; unexpected ones are logged,
// never shown. Status 0 means nobody is listening any more.
func (h *handler) classify(r *http.Request, err error) (status int, heading, text string) {
	status, heading, text = http.StatusInternalServerError, "Something went wrong", "Please try again in a moment. If it keeps happening, tell your school's administrator."
	switch {
	case errors.Is(err, context.Canceled):
		return 0, "", "" // the visitor went away
	case errors.Is(err, errUnknownLink):
		status, heading, text = http.StatusNotFound, "This link is not valid", "Check that you opened the whole link from your invitation. If the teacher sent you a new link, use that one."
	case errors.Is(err, store.ErrNotFound):
		status, heading, text = http.StatusNotFound, "Not found", "There is nothing here. The address may be mistyped, or what was here has been removed."
	case errors.Is(err, schedule.ErrLinkRevoked), errors.Is(err, schedule.ErrLinkExpired), errors.Is(err, schedule.ErrMeetingCancelled):
		status, heading, text = http.StatusGone, "This link is no longer valid", capitalize(err.Error())+". If you think this is a mistake, contact the teacher who invited you."
	case errors.Is(err, schedule.ErrRemoved):
		status, heading, text = http.StatusForbidden, "You were removed from this meeting", "The host removed you from this meeting. If you think this is a mistake, contact the teacher who invited you."
	case errors.Is(err, schedule.ErrMeetingEnded):
		status, heading, text = http.StatusGone, "The meeting has ended", "The host ended this meeting for everyone. Thank you for coming."
	case errors.Is(err, schedule.ErrLocked):
		status, heading, text = http.StatusForbidden, "The meeting is locked", "The host is not letting anyone new in just now. Try again later, or contact the teacher who invited you."
	case errors.Is(err, errTooManyGuesses):
		status, heading, text = http.StatusTooManyRequests, "Too many attempts", "Too many links that do not work were opened from this address. Please wait a few minutes and try again."
	case store.IsBookingConflict(err), errors.Is(err, schedule.ErrOverlap), errors.Is(err, schedule.ErrTravelGap), errors.Is(err, errSlotPast),
		errors.Is(err, store.ErrAppointmentBegun):
		status, heading, text = http.StatusConflict, "That appointment cannot be booked", bookingProblem(err)
	case errors.Is(err, errBookingClosed):
		status, heading, text = http.StatusForbidden, "Booking is closed", capitalize(errBookingClosed.Error())+"."
	case errors.Is(err, recorder.ErrBusy):
		status, heading, text = http.StatusConflict, "The recording is still being saved", "A recording can be played, downloaded or deleted once it is saved, usually within a minute of stopping. Please try again shortly."
	case errors.Is(err, errStorage):
		status, heading, text = http.StatusServiceUnavailable, "Recordings are unavailable just now", "classmeet cannot reach the storage that holds recordings. Nothing is lost; please try again in a few minutes."
		h.log.Warn("recording storage unavailable", "path", r.Pattern, "err", err)
	case errors.Is(err, errForbidden):
		status, heading, text = http.StatusForbidden, "Not allowed", "Your account may not do that."
	case errors.Is(err, errTooLarge):
		status, heading, text = http.StatusRequestEntityTooLarge, "Too much data", "What you sent is larger than classmeet accepts."
	case errors.Is(err, errBadRequest):
		status, heading, text = http.StatusBadRequest, "Bad request", "classmeet could not understand that request."
	case errors.Is(err, context.DeadlineExceeded), store.Unavailable(err):
		status, heading, text = http.StatusServiceUnavailable, "Temporarily unavailable", "classmeet cannot reach its database right now. Please try again in a few seconds."
		h.log.Warn("database unavailable", "path", r.Pattern, "err", err)
	case errors.Is(err, errInvalidInput):
		status, heading, text = http.StatusUnprocessableEntity, "Please check what you typed", capitalize(strings.TrimPrefix(err.Error(), errInvalidInput.Error()+": "))
	default:
		h.log.Error("request failed", "method", r.Method, "path", r.Pattern, "err", err)
	}
	return status, heading, text
}

// writeJSON answers with a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, store.ErrNotFound)
}

func (h *handler) crossOrigin(w http.ResponseWriter, r *http.Request) {
	heading := "Request refused"
	h.render(w, r, http.StatusForbidden, templates.Message(page(r, heading), heading,
		"This form was sent from another website, so classmeet refused it. Open classmeet directly and try again."))
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return string(bytes.ToUpper([]byte(s[:1]))) + s[1:]
}
