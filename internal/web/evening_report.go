package web

import (
	"net/http"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/export"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
	"classmeet/templates"
)

// eveningReport is the evening's attendance: every appointment planned
// against actual, and each teacher's tally. A teacher sees their own rows.
func (h *handler) eveningReport(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	a, bookings, err := h.reportOf(r, me)
	var notes map[uuid.UUID]store.Note
	if err == nil {
		notes, err = h.store.Notes(r.Context(), a.evening.ID, a.notesScope())
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.ReportView{Evening: a.evening, Zone: eveningZone(a.evening), Notes: notes}
	v.Lines, v.Tallies = schedule.EveningReport(bookings)
	h.render(w, r, http.StatusOK, templates.ReportPage(page(r, "Attendance: "+a.evening.Name), v))
}

// eveningReportCSV is the report's appointments as a spreadsheet.
func (h *handler) eveningReportCSV(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	a, bookings, err := h.reportOf(r, me)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	lines, _ := schedule.EveningReport(bookings)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="evening-report.csv"`)
	_ = export.WriteEveningReportCSV(w, lines, eveningZone(a.evening))
}

func (h *handler) reportOf(r *http.Request, me auth.Identity) (eveningAccess, []store.BookingDetail, error) {
	a, err := h.eveningFor(r, me)
	if err != nil {
		return a, nil, err
	}
	bookings, err := h.store.EveningBookings(r.Context(), a.evening.ID, a.scope())
	return a, bookings, err
}
