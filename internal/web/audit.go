package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/export"
	"classmeet/internal/store"
	"classmeet/templates"
)

const auditPage = 100

// auditFilter reads the audit log's filter form (a GET form, so a
// filtered page can be bookmarked and exported).
func auditFilter(r *http.Request) store.AuditFilter {
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	return store.AuditFilter{Meeting: q.Get("meeting"), Person: q.Get("person"), Kind: q.Get("kind"), Before: max(before, 0)}
}

// auditQuery is the filter as a query string, paged from before.
func auditQuery(f store.AuditFilter, before int64) string {
	q := url.Values{}
	for k, v := range map[string]string{"meeting": f.Meeting, "person": f.Person, "kind": f.Kind} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if before != 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	return q.Encode()
}

// auditLog shows administrators the audit log, newest first, filtered.
func (h *handler) auditLog(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	f := auditFilter(r)
	entries, err := h.store.AuditLog(r.Context(), f, auditPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.AuditView{Entries: entries, Zone: userZone(me), Filter: f, Kinds: store.AuditKinds(),
		CSV: "/admin/audit.csv?" + auditQuery(f, 0)}
	if len(entries) == auditPage {
		v.Older = "/admin/audit?" + auditQuery(f, entries[len(entries)-1].ID)
	}
	h.render(w, r, http.StatusOK, templates.AuditPage(page(r, "Audit log"), v))
}

// auditCSVPage is how many entries the CSV export reads at a time.
const auditCSVPage = 500

// auditCSV is every entry the filter matches, as a spreadsheet. It is
// streamed a page at a time (keyset on the id, newest first), so memory
// does not grow with the log and no connection is held while a slow
// client reads; entries written meanwhile are newer and not included.
func (h *handler) auditCSV(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	f := auditFilter(r)
	es, err := h.store.AuditLog(r.Context(), f, auditCSVPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="audit-log.csv"`)
	w.Header().Set("Cache-Control", "private, no-store")
	out, err := export.NewAuditCSV(w, userZone(me))
	for err == nil {
		if err = out.Write(es); err != nil || len(es) < auditCSVPage {
			break
		}
		f.Before = es[len(es)-1].ID
		es, err = h.store.AuditLog(r.Context(), f, auditCSVPage)
	}
	if err != nil {
		// The status is sent; a cut-off file is all the client can be told.
		h.log.Warn("audit csv cut short", "err", err)
	}
}

// audit records a staff member's action on an account.
func (h *handler) audit(r *http.Request, me auth.Identity, action string, target store.User) {
	h.auditBy(r, me, store.AuditEntry{Kind: store.AuditAccount, Action: action,
		TargetID: "user:" + target.ID.String(), TargetName: target.Name})
}

// auditBy records what a signed-in member of staff did.
func (h *handler) auditBy(r *http.Request, me auth.Identity, e store.AuditEntry) {
	e.ActorID, e.ActorName, e.ActorRole = "user:"+me.User.ID.String(), me.User.Name, string(me.User.Role)
	h.auditRequest(r, e)
}

// auditRequest records an entry a request made, with the address it came
// from. The entry is the school's record, not the request's outcome: a
// failure to write it is logged, not shown.
func (h *handler) auditRequest(r *http.Request, e store.AuditEntry) {
	e.At, e.Source = h.now(), h.clientIP(r)
	if err := h.store.Audit(r.Context(), e); err != nil {
		h.log.Warn("audit entry not written", "action", e.Action, "err", err)
	}
}

// auditMeeting records what staff did to a meeting's plan.
func (h *handler) auditMeeting(r *http.Request, me auth.Identity, meetingID uuid.UUID, action, detail string) {
	h.auditBy(r, me, store.AuditEntry{Kind: store.AuditMeeting, MeetingID: &meetingID, Action: action, Detail: detail})
}
