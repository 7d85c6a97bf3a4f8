package web

import (
	"net/http"
	"strconv"
	"strings"

	"classmeet/internal/auth"
	"classmeet/templates"
)

// familiesPerPage is how many households a page of the list shows.
const familiesPerPage = 50

// families lists the households for an administrator, searchable by name,
// class or key, with the import form.
func (h *handler) families(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	h.renderFamilies(w, r, http.StatusOK, templates.ImportResult{})
}

func (h *handler) renderFamilies(w http.ResponseWriter, r *http.Request, status int, res templates.ImportResult) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	pg, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pg = min(max(pg, 1), 1_000_000)
	list, err := h.store.Families(r.Context(), q, familiesPerPage, (pg-1)*familiesPerPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	totals, err := h.store.CountRoster(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.FamiliesView{
		Search: q, List: list, Totals: totals, Page: pg,
		Pages: (list.Total + familiesPerPage - 1) / familiesPerPage, Import: res,
	}
	h.render(w, r, status, templates.FamiliesPage(page(r, "Families"), v))
}
