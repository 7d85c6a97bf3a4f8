package web

import (
	"net/http"
	"strconv"
	"time"

	"classmeet/internal/auth"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
	"classmeet/templates"
)

var planFields = []string{"title", "description", "date", "time", "duration", "time_zone", "lobby_policy", "recording_policy", "recording_access", "unmute_policy", "screen_share_policy"}

// newMeeting shows an empty meeting form: tomorrow at 16:00 for 30 minutes,
// in the teacher's time zone.
func (h *handler) newMeeting(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	tomorrow := h.now().In(userZone(me)).AddDate(0, 0, 1)
	f := templates.Form{Values: map[string]string{
		"date": tomorrow.Format("2006-01-02"), "time": "16:00", "duration": "30", "time_zone": me.User.TimeZone,
		"lobby_policy": string(store.LobbyEveryoneWaits), "recording_policy": string(store.RecordingNotAllowed),
		"recording_access": string(store.RecordingAccessHost),
		"unmute_policy":    string(store.UnmuteSelf), "screen_share_policy": string(store.ScreenShareHosts),
	}}
	h.render(w, r, http.StatusOK, templates.MeetingFormPage(page(r, "Schedule a meeting"), templates.MeetingFormView{Form: f, Action: "/meetings"}))
}

// createMeeting schedules a meeting and opens its page to invite people.
func (h *handler) createMeeting(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	plan, ok := h.readPlan(w, r, "/meetings", false)
	if !ok {
		return
	}
	m, err := h.store.CreateMeeting(r.Context(), me.User.ID, plan)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.auditMeeting(r, me, m.ID, "scheduled meeting", templates.Span(m, zoneNamed(m.TimeZone)))
	redirect(w, r, "/meetings/"+m.ID.String())
}

// editMeeting shows the form filled with the meeting as planned, in its own zone.
func (h *handler) editMeeting(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	m, err := h.ownedMeeting(r, me)
	if err == nil && (m.Cancelled() || m.EveningID != nil) {
		err = store.ErrNotFound // an evening's room changes with its evening
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	loc, _ := time.LoadLocation(m.TimeZone)
	start := m.StartsAt.In(loc)
	f := templates.Form{Values: map[string]string{
		"title": m.Title, "description": m.Description, "date": start.Format("2006-01-02"), "time": start.Format("15:04"),
		"duration": strconv.Itoa(m.DurationMinutes), "time_zone": m.TimeZone,
		"lobby_policy": string(m.LobbyPolicy), "recording_policy": string(m.RecordingPolicy),
		"recording_access": string(m.RecordingAccess), "unmute_policy": string(m.UnmutePolicy), "screen_share_policy": string(m.ScreenShare),
	}}
	v := templates.MeetingFormView{Form: f, Action: "/meetings/" + m.ID.String(), Edit: true}
	h.render(w, r, http.StatusOK, templates.MeetingFormPage(page(r, "Edit meeting"), v))
}

func (h *handler) updateMeeting(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	m, err := h.ownedMeeting(r, me)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	plan, ok := h.readPlan(w, r, "/meetings/"+m.ID.String(), true)
	if !ok {
		return
	}
	updated, err := h.store.UpdateMeeting(r.Context(), me.User.ID, m.ID, plan)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.auditMeeting(r, me, m.ID, "edited meeting", templates.Span(updated, zoneNamed(updated.TimeZone)))
	redirect(w, r, "/meetings/"+m.ID.String())
}

// readPlan reads and checks the meeting form; when it is wrong, it has
// already answered with the form and its errors.
func (h *handler) readPlan(w http.ResponseWriter, r *http.Request, action string, edit bool) (store.MeetingPlan, bool) {
	f, err := readForm(w, r, planFields...)
	if err != nil {
		h.fail(w, r, err)
		return store.MeetingPlan{}, false
	}
	plan, err := schedule.ParsePlan(schedule.PlanInput{
		Title: f.Value("title"), Description: f.Value("description"), Date: f.Value("date"), Time: f.Value("time"),
		Duration: f.Value("duration"), TimeZone: f.Value("time_zone"),
		LobbyPolicy: f.Value("lobby_policy"), RecordingPolicy: f.Value("recording_policy"),
		RecordingAccess: f.Value("recording_access"), UnmutePolicy: f.Value("unmute_policy"), ScreenShare: f.Value("screen_share_policy"),
	}, h.now())
	if err != nil {
		v := templates.MeetingFormView{Form: withErrors(f, err), Action: action, Edit: edit}
		h.render(w, r, http.StatusUnprocessableEntity, templates.MeetingFormPage(page(r, "Schedule a meeting"), v))
		return store.MeetingPlan{}, false
	}
	return plan, true
}

// ownedMeeting loads the {id} meeting if the signed-in teacher owns it.
func (h *handler) ownedMeeting(r *http.Request, me auth.Identity) (store.Meeting, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return store.Meeting{}, err
	}
	return h.store.OwnedMeeting(r.Context(), me.User.ID, id)
}
