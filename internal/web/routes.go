package web

import (
	"net/http"

	"classmeet/static"
)

// routes is the whole route table. Each route says who may use it:
// anyone, h.staff (signed-in teachers and admins) or h.admin.
func (h *handler) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("GET /readyz", h.readyz)
	mux.Handle("GET "+static.Prefix, static.Handler())
	mux.Handle("GET /favicon.ico", static.Favicon())

	mux.HandleFunc("GET /setup/{token}", h.setupForm)
	mux.HandleFunc("POST /setup/{token}", h.setup)
	mux.HandleFunc("GET /login", h.loginForm)
	mux.HandleFunc("POST /login", h.login)
	mux.HandleFunc("POST /logout", h.staff(h.logout))

	mux.HandleFunc("GET /{$}", h.staff(h.dashboard))
	mux.HandleFunc("GET /account", h.staff(h.account))
	mux.HandleFunc("POST /account/profile", h.staff(h.saveProfile))
	mux.HandleFunc("POST /account/password", h.staff(h.changePassword))

	mux.HandleFunc("GET /admin/users", h.admin(h.users))
	mux.HandleFunc("POST /admin/users", h.admin(h.createUser))
	mux.HandleFunc("POST /admin/users/{id}/disable", h.admin(h.disableUser))
	mux.HandleFunc("POST /admin/users/{id}/enable", h.admin(h.enableUser))
	mux.HandleFunc("GET /admin/audit", h.admin(h.auditLog))
	mux.HandleFunc("GET /admin/audit.csv", h.admin(h.auditCSV))
	mux.HandleFunc("GET /admin/outbox", h.admin(h.outbox))
	mux.HandleFunc("POST /admin/outbox/{id}/resend", h.admin(h.resendMail))
	mux.HandleFunc("GET /admin/families", h.admin(h.families))
	mux.HandleFunc("POST /admin/families/import", h.admin(h.importFamilies))
	mux.HandleFunc("GET /admin/families/new", h.admin(h.newFamily))
	mux.HandleFunc("POST /admin/families/new", h.admin(h.createFamily))
	mux.HandleFunc("GET /admin/families/{id}", h.admin(h.showFamily))
	mux.HandleFunc("POST /admin/families/{id}", h.admin(h.updateFamily))
	mux.HandleFunc("POST /admin/families/{id}/renew-link", h.admin(h.renewFamilyLink))

	mux.HandleFunc("GET /meetings/new", h.scheduler(h.newMeeting))
	mux.HandleFunc("POST /meetings", h.scheduler(h.createMeeting))
	mux.HandleFunc("GET /meetings/{id}", h.staff(h.showMeeting))
	mux.HandleFunc("GET /meetings/{id}/edit", h.staff(h.editMeeting))
	mux.HandleFunc("POST /meetings/{id}", h.staff(h.updateMeeting))
	mux.HandleFunc("POST /meetings/{id}/cancel", h.staff(h.cancelMeeting))
	mux.HandleFunc("GET /meetings/{id}/ics", h.staff(h.meetingICS))
	mux.HandleFunc("POST /meetings/{id}/invitees", h.staff(h.addInvitee))
	mux.HandleFunc("POST /meetings/{id}/invitees/{invitee}/remove", h.staff(h.removeInvitee))
	mux.HandleFunc("POST /meetings/{id}/invitees/{invitee}/revoke", h.staff(h.revokeInvitee))
	mux.HandleFunc("POST /meetings/{id}/invitees/{invitee}/renew", h.staff(h.renewInvitee))
	mux.HandleFunc("GET /meetings/{id}/invitees/{invitee}/ics", h.staff(h.inviteeICSForHost))
	mux.HandleFunc("GET /meetings/{id}/room", h.staff(h.hostRoom))
	mux.HandleFunc("GET /meetings/{id}/attendance", h.staff(h.attendance))
	mux.HandleFunc("GET /meetings/{id}/attendance.csv", h.staff(h.attendanceCSV))
	mux.HandleFunc("GET /meetings/{id}/chat.txt", h.staff(h.chatText))
	mux.HandleFunc("POST /meetings/{id}/join", h.staff(h.joinAsHost))
	mux.HandleFunc("GET /meetings/{id}/recordings", h.staff(h.asStaff(h.recordingsPage)))
	mux.HandleFunc("GET /meetings/{id}/recordings/{rec}", h.staff(h.asStaff(h.playback)))
	mux.HandleFunc("GET /meetings/{id}/recordings/{rec}/files/{file}", h.staffFile(h.asStaff(h.recordingFile)))
	mux.HandleFunc("GET /meetings/{id}/recordings/{rec}/download", h.staffFile(h.asStaff(h.recordingZip)))
	mux.HandleFunc("POST /meetings/{id}/recordings/{rec}/delete", h.staff(h.deleteRecording))

	mux.HandleFunc("GET /evenings", h.staff(h.evenings))
	mux.HandleFunc("GET /evenings/new", h.scheduler(h.newEvening))
	mux.HandleFunc("POST /evenings", h.scheduler(h.createEvening))
	mux.HandleFunc("GET /evenings/{id}", h.staff(h.showEvening))
	mux.HandleFunc("GET /evenings/{id}/edit", h.staff(h.editEvening))
	mux.HandleFunc("POST /evenings/{id}", h.staff(h.updateEvening))
	mux.HandleFunc("POST /evenings/{id}/cancel", h.staff(h.cancelEvening))
	mux.HandleFunc("GET /evenings/{id}/teachers/{teacher}/schedule", h.staff(h.teacherSchedule))
	mux.HandleFunc("GET /evenings/{id}/teachers/{teacher}/schedule.csv", h.staff(h.teacherScheduleCSV))
	mux.HandleFunc("GET /evenings/{id}/invite", h.staff(h.invitations))
	mux.HandleFunc("POST /evenings/{id}/invite", h.staff(h.invite))
	mux.HandleFunc("GET /evenings/{id}/appointments/{booking}/notes", h.staff(h.showNote))
	mux.HandleFunc("POST /evenings/{id}/appointments/{booking}/notes", h.staff(h.saveNote))
	mux.HandleFunc("GET /evenings/{id}/report", h.staff(h.eveningReport))
	mux.HandleFunc("GET /evenings/{id}/report.csv", h.staff(h.eveningReportCSV))
	mux.HandleFunc("POST /evenings/{id}/bookings", h.staff(h.staffBook))
	mux.HandleFunc("POST /evenings/{id}/bookings/{booking}/move", h.staff(h.staffMove))
	mux.HandleFunc("POST /evenings/{id}/bookings/{booking}/cancel", h.staff(h.staffCancel))

	// A household's booking page: the link is the family's key (rate limited per address).
	mux.HandleFunc("GET /b/{token}", h.bookingPage)
	mux.HandleFunc("POST /b/{token}/book", h.bookAppointment)
	mux.HandleFunc("GET /b/{token}/calendar.ics", h.householdCalendar)
	mux.HandleFunc("GET /b/{token}/appointments/{booking}/move", h.moveForm)
	mux.HandleFunc("POST /b/{token}/appointments/{booking}/move", h.moveAppointment)
	mux.HandleFunc("POST /b/{token}/appointments/{booking}/cancel", h.cancelAppointment)

	mux.HandleFunc("GET /j/{token}", h.prejoin)
	mux.HandleFunc("GET /j/{token}/thanks", h.appointmentThanks)
	mux.HandleFunc("GET /j/{token}/ics", h.inviteeICS)
	mux.HandleFunc("POST /j/{token}/join", h.joinAsInvitee)
	mux.HandleFunc("GET /j/{token}/recordings", h.asInvitee(h.recordingsPage))
	mux.HandleFunc("GET /j/{token}/recordings/{rec}", h.asInvitee(h.playback))
	mux.HandleFunc("GET /j/{token}/recordings/{rec}/files/{file}", h.asInvitee(h.recordingFile))
	mux.HandleFunc("GET /j/{token}/recordings/{rec}/download", h.asInvitee(h.recordingZip))

	// The live meeting: authenticated by the join token in the first message.
	mux.HandleFunc("GET /meetings/{id}/ws", h.socket)

	mux.HandleFunc("/", h.notFound)

	cop := http.NewCrossOriginProtection()
	_ = cop.AddTrustedOrigin(h.cfg.PublicURL.Scheme + "://" + h.cfg.PublicURL.Host)
	cop.SetDenyHandler(http.HandlerFunc(h.crossOrigin))
	return h.recoverPanics(h.logRequests(securityHeaders(h.cfg.SecureCookies(), cop.Handler(h.refuseTraversal(h.dbDeadline(recordRoute(mux)))))))
}
