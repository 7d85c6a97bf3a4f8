package web

import (
	"net/http"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/templates"
)

const outboxPage = 500

// outbox shows administrators every queued message, newest first, of one
// evening or all: to whom, where it stands and the body with its links,
// which without SMTP is how the mail reaches families.
func (h *handler) outbox(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	evening, err := eveningFilter(r.URL.Query().Get("evening"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	mails, err := h.store.Outbox(r.Context(), evening, outboxPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	evenings, err := h.store.Evenings(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.OutboxView{Mails: mails, Evenings: evenings, Evening: evening, SMTP: h.cfg.SMTP != nil,
		More: len(mails) == outboxPage, Zone: userZone(me)}
	h.render(w, r, http.StatusOK, templates.OutboxPage(page(r, "Outbox"), v))
}

// eveningFilter reads the outbox's evening filter: "" for all evenings.
func eveningFilter(v string) (*uuid.UUID, error) {
	if v == "" {
		return nil, nil
	}
	id, err := uuid.Parse(v)
	if err != nil {
		return nil, errBadRequest
	}
	return &id, nil
}
