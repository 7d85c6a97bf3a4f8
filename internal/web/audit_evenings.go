package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/store"
)

// What staff do to parents' evenings, families and appointments, for the
// audit log. Families are named by their guardians and appointments by
// teacher and time: never a child's name, a link or a note.

// auditEvening records an evening created or cancelled.
func (h *handler) auditEvening(r *http.Request, me auth.Identity, e store.Evening, action string) {
	h.auditBy(r, me, store.AuditEntry{Kind: store.AuditEvening, Action: action,
		TargetID: "evening:" + e.ID.String(), TargetName: e.Name})
}

// auditImport records a roster import and what it changed.
func (h *handler) auditImport(r *http.Request, me auth.Identity, c store.RosterCounts) {
	detail := fmt.Sprintf("students %s; households %s; guardians %s",
		changeText(c.Students), changeText(c.Households), changeText(c.Guardians))
	h.auditBy(r, me, store.AuditEntry{Kind: store.AuditFamilies, Action: "imported families", Detail: detail})
}

func changeText(c store.Change) string {
	return fmt.Sprintf("%d new, %d updated, %d removed", c.Created, c.Updated, c.Removed)
}

// auditFamily records something done to a household (its booking link).
func (h *handler) auditFamily(r *http.Request, me auth.Identity, householdID uuid.UUID, action string) {
	name := ""
	if f, err := h.store.Family(r.Context(), householdID); err == nil {
		name = guardianNames(f)
	}
	h.auditBy(r, me, store.AuditEntry{Kind: store.AuditFamilies, Action: action,
		TargetID: "household:" + householdID.String(), TargetName: name})
}

func guardianNames(f store.Family) string {
	names := make([]string, 0, len(f.Guardians))
	for _, g := range f.Guardians {
		names = append(names, g.Name)
	}
	return strings.Join(names, ", ")
}

// auditAppointment records an appointment staff booked, moved or
// cancelled for a family: with whom and when (the new time, for a move),
// in the teacher's room for the evening.
func (h *handler) auditAppointment(r *http.Request, me auth.Identity, fe familyEvening, householdID uuid.UUID,
	family string, teacherID uuid.UUID, at time.Time, action string,
) {
	e := store.AuditEntry{Kind: store.AuditBooking, Action: action,
		TargetID: "household:" + householdID.String(), TargetName: family}
	teacher := ""
	for _, t := range fe.Teachers {
		if t.TeacherID == teacherID {
			e.MeetingID, teacher = &t.MeetingID, t.TeacherName+", "
		}
	}
	e.Detail = fe.Evening.Name + ": " + teacher + at.In(fe.Zone).Format("Mon 2 Jan 2006 15:04")
	h.auditBy(r, me, e)
}
