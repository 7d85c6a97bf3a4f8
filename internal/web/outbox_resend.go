package web

import (
	"net/http"

	"classmeet/internal/auth"
)

// resendMail queues a failed message again, to go out at once (or, without
// SMTP, to wait on the outbox page as queued).
func (h *handler) resendMail(w http.ResponseWriter, r *http.Request, _ auth.Identity) {
	id, err := pathID(r, "id")
	if err == nil {
		err = h.store.ResendMail(r.Context(), id, h.now())
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("mail queued again", "mail_id", id)
	back := "/admin/outbox"
	if evening, err := eveningFilter(r.PostFormValue("evening")); err == nil && evening != nil {
		back += "?evening=" + evening.String()
	}
	redirect(w, r, back)
}
