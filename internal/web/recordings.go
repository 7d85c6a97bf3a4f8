package web

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/blob"
	"classmeet/internal/recorder"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
	"classmeet/internal/textrule"
	"classmeet/templates"
)

// Recordings are seen and downloaded by the meeting's teacher and the
// school's administrators, and, where the meeting allows it, by invitees
// from their personal links. Anyone else gets "not found", whatever they
// guess. Every file goes through here: object keys never leave the server.

// viewer is who is looking at a meeting's recordings, and from where.
type viewer struct {
	meeting   store.Meeting
	base      string // URL of the recordings list
	actorID   string
	actorName string
	actorRole string // the account's role, or "invitee"
	staff     bool   // the teacher or an administrator, not an invitee
	zone      *time.Location
}

// staffViewer is the meeting's teacher, or an administrator.
func (h *handler) staffViewer(r *http.Request, me auth.Identity) (viewer, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return viewer{}, err
	}
	var m store.Meeting
	if auth.Can(me.User.Role, auth.ManageRecordings) {
		mh, err := h.store.MeetingWithHost(r.Context(), id)
		if err != nil {
			return viewer{}, err
		}
		m = mh.Meeting
	} else if m, err = h.store.OwnedMeeting(r.Context(), me.User.ID, id); err != nil {
		return viewer{}, err
	}
	return viewer{
		meeting: m, base: "/meetings/" + m.ID.String() + "/recordings", actorID: me.User.ID.String(),
		actorName: me.User.Name, actorRole: string(me.User.Role), staff: true, zone: userZone(me),
	}, nil
}

// inviteeViewer is an invitee with a working link, not banned, to a
// meeting whose recordings invitees may download. Any other link is "not
// found".
func (h *handler) inviteeViewer(r *http.Request) (viewer, error) {
	inv, err := h.invitation(r)
	if err != nil {
		return viewer{}, store.ErrNotFound
	}
	if err := schedule.CheckLink(inv, h.cfg.LinkValidity, h.now()); err != nil || inv.Invitee.BannedAt != nil ||
		inv.Meeting.RecordingAccess != store.RecordingAccessInvitees {
		return viewer{}, store.ErrNotFound
	}
	return viewer{
		meeting: inv.Meeting, base: "/j/" + r.PathValue("token") + "/recordings", actorID: inv.Invitee.ID.String(),
		actorName: inv.Invitee.Name, actorRole: "invitee", zone: zoneNamed(inv.Meeting.TimeZone),
	}, nil
}

func zoneNamed(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

// viewerHandler answers for a viewer, or with the error finding one.
type viewerHandler func(w http.ResponseWriter, r *http.Request, v viewer, err error)

// asStaff serves a recordings page to the meeting's teacher or an administrator.
func (h *handler) asStaff(next viewerHandler) staffHandler {
	return func(w http.ResponseWriter, r *http.Request, me auth.Identity) {
		v, err := h.staffViewer(r, me)
		next(w, r, v, err)
	}
}

// asInvitee serves a recordings page to an invitee with a working link.
func (h *handler) asInvitee(next viewerHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := h.inviteeViewer(r)
		next(w, r, v, err)
	}
}

// recording finds the {rec} recording of the viewer's meeting.
func (h *handler) recording(r *http.Request, v viewer) (store.Recording, error) {
	id, err := pathID(r, "rec")
	if err != nil {
		return store.Recording{}, err
	}
	return h.store.MeetingRecording(r.Context(), v.meeting.ID, id)
}

// recordingsPage lists a meeting's recordings with their files.
func (h *handler) recordingsPage(w http.ResponseWriter, r *http.Request, v viewer, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	recs, err := h.store.MeetingRecordings(r.Context(), v.meeting.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	view := templates.RecordingsView{Meeting: v.meeting, Zone: v.zone, Base: v.base, Staff: v.staff}
	for _, rec := range recs {
		if !v.staff && !rec.Finished() {
			continue // invitees see finished recordings only
		}
		files, err := h.store.RecordingFiles(r.Context(), rec.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		consents, err := h.store.Consents(r.Context(), rec.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		view.Recordings = append(view.Recordings, templates.RecordingEntry(rec.Recording, files, consents))
	}
	h.render(w, r, http.StatusOK, templates.RecordingsPage(page(r, "Recordings: "+v.meeting.Title), view))
}

// playback is a page that plays a recording: every participant's video
// side by side, on one timeline from the manifest.
func (h *handler) playback(w http.ResponseWriter, r *http.Request, v viewer, err error) {
	var rec store.Recording
	if err == nil {
		rec, err = h.recording(r, v)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var m recorder.Manifest
	if !rec.Finished() || len(rec.Manifest) == 0 {
		h.fail(w, r, recorder.ErrBusy)
		return
	}
	if err := json.Unmarshal(rec.Manifest, &m); err != nil {
		h.fail(w, r, err)
		return
	}
	view := templates.PlaybackView{Meeting: v.meeting, Recording: rec, Zone: v.zone, Base: v.base}
	for _, p := range m.Participants {
		for _, f := range p.Playable {
			view.Tiles = append(view.Tiles, templates.PlaybackTile{
				Name: p.Name, Screen: f.Source == "screen", StartMS: f.StartMS, DurationMS: f.DurationMS,
				URL: v.base + "/" + rec.ID.String() + "/files/" + f.FileID,
			})
		}
	}
	view.DurationMS = m.DurationMS
	h.render(w, r, http.StatusOK, templates.PlaybackPage(page(r, "Recording: "+v.meeting.Title), view))
}

// recordingFile streams one file, with ranges (for seeking in a player).
// The download links say ?download=1 and the player's sources do not, so
// the audit log tells "downloaded <file>" from "watched <file>". Each is
// written once, at the first range; the further ranges a player asks for
// while playing are not.
func (h *handler) recordingFile(w http.ResponseWriter, r *http.Request, v viewer, err error) {
	var rec store.Recording
	var f store.RecordingFile
	if err == nil {
		rec, err = h.recording(r, v)
	}
	if err == nil {
		var fileID uuid.UUID
		if fileID, err = pathID(r, "file"); err == nil {
			f, err = h.store.RecordingFile(r.Context(), rec.ID, fileID)
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	obj, err := h.openFile(r, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer obj.Close()
	name := recorder.FileName(f)
	if rg := r.Header.Get("Range"); rg == "" || strings.HasPrefix(rg, "bytes=0-") {
		verb := "watched "
		if r.URL.Query().Get("download") == "1" {
			verb = "downloaded "
		}
		h.auditRecording(r, v, rec, verb+name, "")
	}
	w.Header().Set("Content-Type", recorder.ContentType(f.Kind))
	w.Header().Set("Content-Disposition", disposition(name))
	w.Header().Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, name, obj.ModTime(), obj)
}

func (h *handler) openFile(r *http.Request, f store.RecordingFile) (blob.Object, error) {
	if h.rec == nil {
		return nil, store.ErrNotFound
	}
	obj, err := h.rec.Open(transferContext(r), f)
	switch {
	case errors.Is(err, blob.ErrNotFound):
		return nil, fmt.Errorf("recording file %s: %w", f.ID, store.ErrNotFound)
	case errors.Is(err, recorder.ErrBusy):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("%w: %w", errStorage, err)
	}
	return obj, nil
}

// recordingZip streams every file of a recording as one zip, file by
// file from storage: nothing is staged in memory or on disk. Media is
// already compressed, so entries are stored as they are.
func (h *handler) recordingZip(w http.ResponseWriter, r *http.Request, v viewer, err error) {
	var rec store.Recording
	var files []store.RecordingFile
	if err == nil {
		rec, err = h.recording(r, v)
	}
	if err == nil && !rec.Finished() {
		err = recorder.ErrBusy
	}
	if err == nil {
		files, err = h.store.RecordingFiles(r.Context(), rec.ID)
	}
	// Storage is checked before answering, so an outage is a proper error
	// page rather than a broken download.
	if err == nil && (h.rec == nil || h.rec.Ready(r.Context()) != nil) {
		err = errStorage
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	folder := textrule.FileName(v.meeting.Title, "recording") + " " + rec.StartedAt.In(v.zone).Format("2006-01-02 15.04")
	h.auditRecording(r, v, rec, "downloaded "+folder+".zip", "all files")
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", disposition(folder+".zip"))
	w.Header().Set("Cache-Control", "private, no-store")
	zw := zip.NewWriter(w)
	used := map[string]bool{}
	for _, f := range files {
		if f.State != store.FileUploaded {
			continue
		}
		obj, err := h.openFile(r, f)
		if err != nil {
			h.log.Warn("zip of a recording cut short", "recording_id", rec.ID, "err", err)
			return // the client sees a truncated zip, which every unzip reports
		}
		name := recorder.FileName(f)
		for n := 2; used[name]; n++ {
			name = fmt.Sprintf("%d %s", n, recorder.FileName(f))
		}
		used[name] = true
		entry, err := zw.CreateHeader(&zip.FileHeader{Name: folder + "/" + name, Method: zip.Store, Modified: obj.ModTime()})
		if err == nil {
			_, err = io.Copy(entry, obj)
		}
		obj.Close()
		if err != nil {
			h.log.Warn("zip of a recording cut short", "recording_id", rec.ID, "err", err)
			return
		}
	}
	_ = zw.Close()
}

// deleteRecording removes a recording for good (staff only).
func (h *handler) deleteRecording(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	v, err := h.staffViewer(r, me)
	var rec store.Recording
	if err == nil {
		rec, err = h.recording(r, v)
	}
	if err == nil && h.rec == nil {
		err = store.ErrNotFound
	}
	if err == nil {
		err = h.rec.Delete(r.Context(), rec.ID)
		if err != nil && !errors.Is(err, recorder.ErrBusy) && !errors.Is(err, store.ErrNotFound) && !store.Unavailable(err) {
			err = fmt.Errorf("%w: %w", errStorage, err)
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.auditRecording(r, v, rec, "deleted recording", "recorded "+rec.StartedAt.In(v.zone).Format("2 Jan 2006 15:04"))
	redirect(w, r, v.base)
}

func (h *handler) auditRecording(r *http.Request, v viewer, rec store.Recording, action, detail string) {
	meetingID := v.meeting.ID
	h.auditRequest(r, store.AuditEntry{
		Kind: store.AuditRecording, MeetingID: &meetingID, ActorID: v.actorID, ActorName: v.actorName,
		ActorRole: v.actorRole, Action: action, TargetID: rec.ID.String(), Detail: detail,
	})
}

// disposition names a download; non-ASCII names are encoded (RFC 6266).
func disposition(name string) string {
	if d := mime.FormatMediaType("attachment", map[string]string{"filename": name}); d != "" {
		return d
	}
	return `attachment; filename="recording"`
}
