package web

import (
	"context"
	"net/http"
	"strconv"

	"classmeet/internal/auth"
	"classmeet/internal/store"
	"classmeet/templates"
)

const auditPage = 100

// auditLog shows administrators the audit log, newest first.
func (h *handler) auditLog(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	entries, err := h.store.AuditLog(r.Context(), max(before, 0), auditPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.AuditView{Entries: entries, Zone: userZone(me)}
	if len(entries) == auditPage {
		v.Older = entries[len(entries)-1].ID
	}
	h.render(w, r, http.StatusOK, templates.AuditPage(page(r, "Audit log"), v))
}

// audit records a staff member's action on an account.
func (h *handler) audit(ctx context.Context, me auth.Identity, action string, target store.User) {
	err := h.store.Audit(ctx, store.AuditEntry{
		At: h.now(), ActorID: "user:" + me.User.ID.String(), ActorName: me.User.Name, Action: action,
		TargetID: "user:" + target.ID.String(), TargetName: target.Name,
	})
	if err != nil {
		h.log.Warn("audit entry not written", "action", action, "err", err)
	}
}
