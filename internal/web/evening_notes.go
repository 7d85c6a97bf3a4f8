package web

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"classmeet/internal/auth"
	"classmeet/internal/store"
)

// maxNoteLen is the longest note, in characters (the database checks it too).
const maxNoteLen = 10000

// saveNote writes the teacher's private note on an appointment: its own
// teacher or an administrator may; to anyone else it does not exist. The
// room saves with fetch and gets 204; a form post goes back to the evening.
// The note is never logged.
func (h *handler) saveNote(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	fail := h.fail
	if wantsJSON(r) {
		fail = h.failJSON
	}
	b, err := h.noteBooking(r, me)
	var body string
	if err == nil {
		body, err = readNote(w, r)
	}
	if err == nil {
		err = h.store.SaveNote(r.Context(), b.ID, me.User.ID, body, h.now())
	}
	if err != nil {
		fail(w, r, err)
		return
	}
	if wantsJSON(r) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	redirect(w, r, "/evenings/"+b.EveningID.String())
}

// noteBooking is the {booking} of the {id} evening, if me may write on it.
func (h *handler) noteBooking(r *http.Request, me auth.Identity) (store.BookingDetail, error) {
	eveningID, err := pathID(r, "id")
	if err != nil {
		return store.BookingDetail{}, err
	}
	id, err := pathID(r, "booking")
	if err != nil {
		return store.BookingDetail{}, err
	}
	b, err := h.store.BookingDetail(r.Context(), id)
	if err != nil {
		return b, err
	}
	if b.EveningID != eveningID || (b.TeacherID != me.User.ID && !auth.Can(me.User.Role, auth.ManageEvenings)) {
		return store.BookingDetail{}, store.ErrNotFound
	}
	return b, nil
}

func readNote(w http.ResponseWriter, r *http.Request) (string, error) {
	f, err := readForm(w, r, "notes")
	if err != nil {
		return "", err
	}
	body := strings.TrimSpace(f.Value("notes"))
	if !utf8.ValidString(body) || utf8.RuneCountInString(body) > maxNoteLen {
		return "", fmt.Errorf("%w: notes must be at most %d characters of text", errInvalidInput, maxNoteLen)
	}
	return body, nil
}

// wantsJSON reports whether the page's script, not a form, sent the request.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}
