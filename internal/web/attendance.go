package web

import (
	"net/http"

	"classmeet/internal/auth"
	"classmeet/internal/export"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
	"classmeet/templates"
)

// attendance shows who came to the meeting, for how long, who did not, and
// what happened in it.
func (h *handler) attendance(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	m, lines, err := h.attendanceOf(r, me)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	events, err := h.store.MeetingAudit(r.Context(), m.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.AttendanceView{Meeting: m, Zone: userZone(me), Lines: lines, Events: events}
	h.render(w, r, http.StatusOK, templates.AttendancePage(page(r, "Attendance: "+m.Title), v))
}

// attendanceCSV is the attendance as a spreadsheet.
func (h *handler) attendanceCSV(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	_, lines, err := h.attendanceOf(r, me)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="attendance.csv"`)
	_ = export.WriteAttendanceCSV(w, lines, userZone(me))
}

func (h *handler) attendanceOf(r *http.Request, me auth.Identity) (store.Meeting, []schedule.AttendanceLine, error) {
	m, err := h.ownedMeeting(r, me)
	if err != nil {
		return m, nil, err
	}
	invs, err := h.store.Invitees(r.Context(), m.ID)
	if err != nil {
		return m, nil, err
	}
	visits, err := h.store.MeetingAttendance(r.Context(), m.ID)
	if err != nil {
		return m, nil, err
	}
	return m, schedule.Attendance(invs, visits, h.now()), nil
}

// chatText is the meeting's chat as a text file.
func (h *handler) chatText(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	m, err := h.ownedMeeting(r, me)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	msgs, err := h.store.Chat(r.Context(), m.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="chat.txt"`)
	_ = export.WriteChat(w, m.Title, msgs, userZone(me))
}
