package recorder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/store"
	"classmeet/internal/textrule"
)

// complete takes a stopped recording to storage: playable WebMs, every
// file uploaded and checked, then the manifest. Each step is recorded in
// the database, so a crash or a shutdown part-way resumes where it was.
// Uploads come before the manifest: they empty the spool, so a spool that
// filled up has room for the manifest.
func (r *Recorder) complete(ctx context.Context, id uuid.UUID) error {
	var rec store.Recording
	if err := r.persistIn(ctx, "load recording", func(ctx context.Context) (err error) {
		rec, err = r.store.RecordingByID(ctx, id)
		return err
	}); err != nil {
		return err
	}
	files, err := r.files(ctx, id)
	if err != nil {
		return err
	}
	if err := r.playables(ctx, rec, &files); err != nil {
		return err
	}
	if err := r.uploadAll(ctx, files, false); err != nil {
		return err
	}
	if err := r.manifest(ctx, rec, &files); err != nil {
		return err
	}
	if err := r.uploadAll(ctx, files, true); err != nil {
		return err
	}
	uploaded, failed := 0, 0
	for _, f := range files {
		switch f.State {
		case store.FileUploaded:
			uploaded++
		case store.FileFailed:
			failed++
		}
	}
	state := store.RecordingAvailable
	switch {
	case uploaded == 0:
		state = store.RecordingFailed
	case rec.Recovered || failed > 0:
		state = store.RecordingPartial
	}
	if err := r.persistIn(ctx, "finish recording", func(ctx context.Context) error {
		return r.store.SetRecordingState(ctx, id, state, nil, false)
	}); err != nil {
		return err
	}
	_ = r.spool.RemoveAll(id.String())
	r.log.Info("recording stored", "recording_id", id, "state", state, "files", uploaded, "failed", failed)
	return nil
}

// uploadAll uploads the spooled files: the media, or the manifest.
func (r *Recorder) uploadAll(ctx context.Context, files []store.RecordingFile, manifest bool) error {
	for i := range files {
		if files[i].State != store.FileSpooled || (files[i].Kind == store.FileManifest) != manifest {
			continue
		}
		if err := r.upload(ctx, &files[i]); err != nil && ctx.Err() != nil {
			return err
		}
	}
	return nil
}

func (r *Recorder) files(ctx context.Context, id uuid.UUID) ([]store.RecordingFile, error) {
	var files []store.RecordingFile
	err := r.persistIn(ctx, "load recording files", func(ctx context.Context) (err error) {
		files, err = r.store.RecordingFiles(ctx, id)
		return err
	})
	return files, err
}

// playable names one WebM: a participant's camera and microphone, or
// their screen share.
type playable struct {
	participant uuid.UUID
	source      string // camera or screen
}

func playableSource(trackSource string) string {
	if trackSource == "screen" || trackSource == "screen_audio" {
		return "screen"
	}
	return "camera"
}

// playables makes a WebM per participant (camera and microphone) and one
// per screen share, from the spooled tracks, unless already made. One cut
// short by a crash is made again.
func (r *Recorder) playables(ctx context.Context, rec store.Recording, files *[]store.RecordingFile) error {
	made := map[playable]bool{}
	for _, f := range *files {
		if f.Kind != store.FileWebM || f.ParticipantID == nil {
			continue
		}
		if f.State == store.FileWriting {
			_ = r.spool.Remove(f.SpoolName)
			if err := r.persistIn(ctx, "remove unfinished webm", func(ctx context.Context) error {
				return r.store.DeleteRecordingFile(ctx, f.ID)
			}); err != nil {
				return err
			}
			continue
		}
		made[playable{*f.ParticipantID, f.Source}] = true
	}
	*files = slices.DeleteFunc(*files, func(f store.RecordingFile) bool { return f.Kind == store.FileWebM && f.State == store.FileWriting })

	groups := map[playable][]store.RecordingFile{}
	var order []playable
	for _, f := range *files {
		if f.ParticipantID == nil || f.State != store.FileSpooled || f.StartedAt == nil || (f.Kind != store.FileAudio && f.Kind != store.FileVideo) {
			continue
		}
		k := playable{*f.ParticipantID, playableSource(f.Source)}
		if made[k] {
			continue
		}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], f)
	}
	for _, k := range order {
		tracks := groups[k]
		origin := *tracks[0].StartedAt
		for _, f := range tracks {
			origin = minTime(origin, *f.StartedAt)
		}
		in := muxInput{videoCodec: codecVP8}
		videoCodec := ""
		for _, f := range tracks {
			seg := muxSegment{name: f.SpoolName, offset: f.StartedAt.Sub(origin)}
			if f.Kind == store.FileAudio {
				in.audio = append(in.audio, seg)
				continue
			}
			if videoCodec == "" {
				videoCodec = f.Codec
			}
			if f.Codec == videoCodec { // one codec a WebM track
				in.video = append(in.video, seg)
			}
		}
		if videoCodec == "vp9" {
			in.videoCodec = codecVP9
		}
		f, err := r.makePlayable(ctx, rec, k.participant, tracks[0].ParticipantName, k.source, origin, in)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			r.log.Error("making a playable webm failed", "recording_id", rec.ID, "participant_id", k.participant, "err", err)
			continue
		}
		*files = append(*files, f)
	}
	return nil
}

func (r *Recorder) makePlayable(ctx context.Context, rec store.Recording, participant uuid.UUID, name, source string, origin time.Time, in muxInput) (store.RecordingFile, error) {
	id := uuid.New()
	f := store.RecordingFile{
		ID: id, RecordingID: rec.ID, ParticipantID: &participant, ParticipantName: name, Kind: store.FileWebM,
		Source: source, Codec: "webm", Segment: 1, ObjectKey: objectKey(rec.MeetingID, rec.ID, id, ".webm"),
		SpoolName: rec.ID.String() + "/" + id.String() + ".webm", State: store.FileWriting, StartedAt: &origin,
	}
	if err := r.persistIn(ctx, "add webm", func(ctx context.Context) error { return r.store.AddRecordingFile(ctx, f) }); err != nil {
		return f, err
	}
	d, err := writeWebM(r.spool, f.SpoolName, in)
	if err != nil {
		_ = r.spool.Remove(f.SpoolName)
		_ = r.persistIn(ctx, "remove failed webm", func(ctx context.Context) error { return r.store.DeleteRecordingFile(ctx, f.ID) })
		return f, err
	}
	if st, err := r.spool.Stat(f.SpoolName); err == nil {
		f.SizeBytes = st.Size()
	}
	f.DurationMS, f.State = d.Milliseconds(), store.FileSpooled
	return f, r.persistIn(ctx, "update webm", func(ctx context.Context) error { return r.store.UpdateRecordingFile(ctx, f) })
}

// upload stores a spooled file, checks the stored copy, and removes the
// spool copy. A store that is down is retried until it comes back.
func (r *Recorder) upload(ctx context.Context, f *store.RecordingFile) error {
	path, err := r.spoolPath(f.SpoolName)
	if err != nil {
		return err
	}
	var size int64
	var sum string
	err = r.persistFor(ctx, "upload "+f.ObjectKey, 10*time.Minute, func(ctx context.Context) error {
		info, err := r.blob.Put(ctx, f.ObjectKey, path, ContentType(f.Kind))
		size, sum = info.Size, info.SHA256
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		r.log.Error("a recording file is lost", "file_id", f.ID, "err", err)
		f.State = store.FileFailed
		return r.persistIn(ctx, "mark file failed", func(ctx context.Context) error { return r.store.UpdateRecordingFile(ctx, *f) })
	}
	f.State, f.SizeBytes, f.SHA256 = store.FileUploaded, size, sum
	if err := r.persistIn(ctx, "mark file uploaded", func(ctx context.Context) error { return r.store.UpdateRecordingFile(ctx, *f) }); err != nil {
		return err
	}
	if err := r.spool.Remove(f.SpoolName); err != nil && !errors.Is(err, fs.ErrNotExist) {
		r.log.Warn("spool copy not removed", "file", f.SpoolName, "err", err)
	}
	return nil
}

// ContentType is the media type of a kind of recording file.
func ContentType(kind string) string {
	switch kind {
	case store.FileAudio:
		return "audio/ogg"
	case store.FileVideo:
		return "video/x-ivf"
	case store.FileWebM:
		return "video/webm"
	}
	return "application/json"
}

// Manifest describes a recording: who was recorded, which files hold
// what, and where each starts on the recording's timeline.
type Manifest struct {
	Version      int                   `json:"version"`
	RecordingID  string                `json:"recording_id"`
	MeetingID    string                `json:"meeting_id"`
	StartedAt    time.Time             `json:"started_at"`
	StoppedAt    time.Time             `json:"stopped_at"`
	DurationMS   int64                 `json:"duration_ms"`
	Recovered    bool                  `json:"recovered"`
	Participants []ManifestParticipant `json:"participants"`
	// Declined lists who said no: none of their media is in the recording.
	Declined []ManifestConsent `json:"declined"`
}

// ManifestParticipant is one recorded participant.
type ManifestParticipant struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	ConsentedAt *time.Time     `json:"consented_at,omitempty"`
	Tracks      []ManifestFile `json:"tracks"`   // the track segments, as recorded
	Playable    []ManifestFile `json:"playable"` // WebM: camera and microphone; a screen share
}

// ManifestFile is one file and its place on the timeline.
type ManifestFile struct {
	FileID     string          `json:"file_id"`
	File       string          `json:"file"` // its name in a download
	Kind       string          `json:"kind"`
	Source     string          `json:"source"`
	Codec      string          `json:"codec"`
	Segment    int             `json:"segment"`
	StartMS    int64           `json:"start_ms"` // from the recording's start
	DurationMS int64           `json:"duration_ms"`
	Frames     int             `json:"frames,omitempty"`
	SizeBytes  int64           `json:"size_bytes"`
	SHA256     string          `json:"sha256"`
	Stats      json.RawMessage `json:"stats,omitempty"`
}

// ManifestConsent is a participant's answer.
type ManifestConsent struct {
	ID   string    `json:"id"`
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

// manifest writes the recording's manifest to the spool and the database.
func (r *Recorder) manifest(ctx context.Context, rec store.Recording, files *[]store.RecordingFile) error {
	for _, f := range *files {
		if f.Kind == store.FileManifest && f.State == store.FileUploaded {
			return nil
		}
	}
	var consents []store.Consent
	if err := r.persistIn(ctx, "load consents", func(ctx context.Context) (err error) {
		consents, err = r.store.Consents(ctx, rec.ID)
		return err
	}); err != nil {
		return err
	}
	m, err := r.buildManifest(rec, *files, consents)
	if err != nil {
		return err
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	var row *store.RecordingFile
	for i := range *files {
		if (*files)[i].Kind == store.FileManifest {
			row = &(*files)[i]
		}
	}
	if row == nil {
		id := uuid.New()
		*files = append(*files, store.RecordingFile{
			ID: id, RecordingID: rec.ID, Kind: store.FileManifest, Codec: "json", Segment: 1,
			ObjectKey: objectKey(rec.MeetingID, rec.ID, id, ".json"), SpoolName: rec.ID.String() + "/" + id.String() + ".json",
			State: store.FileWriting, StartedAt: &rec.StartedAt,
		})
		row = &(*files)[len(*files)-1]
		if err := r.persistIn(ctx, "add manifest", func(ctx context.Context) error { return r.store.AddRecordingFile(ctx, *row) }); err != nil {
			return err
		}
	}
	if err := writeSpool(r.spool, row.SpoolName, body); err != nil {
		return err
	}
	row.State, row.SizeBytes, row.DurationMS = store.FileSpooled, int64(len(body)), m.DurationMS
	if err := r.persistIn(ctx, "store manifest", func(ctx context.Context) error {
		if err := r.store.SetRecordingManifest(ctx, rec.ID, body); err != nil {
			return err
		}
		return r.store.UpdateRecordingFile(ctx, *row)
	}); err != nil {
		return err
	}
	return nil
}

func (r *Recorder) buildManifest(rec store.Recording, files []store.RecordingFile, consents []store.Consent) (Manifest, error) {
	m := Manifest{
		Version: 1, RecordingID: rec.ID.String(), MeetingID: rec.MeetingID.String(), StartedAt: rec.StartedAt.UTC(),
		Recovered: rec.Recovered, Participants: []ManifestParticipant{}, Declined: []ManifestConsent{},
	}
	if rec.StoppedAt != nil {
		m.StoppedAt = rec.StoppedAt.UTC()
	}
	byID := map[string]*ManifestParticipant{}
	var order []string
	var end int64
	for _, f := range files {
		if f.ParticipantID == nil || f.State == store.FileFailed || f.State == store.FileWriting {
			continue
		}
		pid := f.ParticipantID.String()
		p := byID[pid]
		if p == nil {
			p = &ManifestParticipant{ID: pid, Name: f.ParticipantName, Tracks: []ManifestFile{}, Playable: []ManifestFile{}}
			byID[pid] = p
			order = append(order, pid)
		}
		mf := ManifestFile{
			FileID: f.ID.String(), File: FileName(f), Kind: f.Kind, Source: f.Source, Codec: f.Codec, Segment: f.Segment,
			DurationMS: f.DurationMS, Frames: f.Frames, SizeBytes: f.SizeBytes, SHA256: f.SHA256,
		}
		if len(f.Stats) > 2 {
			mf.Stats = json.RawMessage(f.Stats)
		}
		if f.StartedAt != nil {
			mf.StartMS = f.StartedAt.Sub(rec.StartedAt).Milliseconds()
		}
		if mf.SHA256 == "" && f.State == store.FileSpooled {
			sum, err := r.spoolSum(f.SpoolName)
			if err != nil {
				return m, err
			}
			mf.SHA256 = sum
		}
		end = max(end, mf.StartMS+mf.DurationMS)
		if f.Kind == store.FileWebM {
			p.Playable = append(p.Playable, mf)
		} else {
			p.Tracks = append(p.Tracks, mf)
		}
	}
	for _, c := range consents {
		pid := c.ParticipantID.String()
		if !c.Accepted {
			m.Declined = append(m.Declined, ManifestConsent{ID: pid, Name: c.ParticipantName, At: c.AnsweredAt.UTC()})
			continue
		}
		if p := byID[pid]; p != nil {
			at := c.AnsweredAt.UTC()
			p.ConsentedAt = &at
		}
	}
	for _, pid := range order {
		m.Participants = append(m.Participants, *byID[pid])
	}
	m.DurationMS = end
	if rec.StoppedAt != nil {
		m.DurationMS = max(end, rec.StoppedAt.Sub(rec.StartedAt).Milliseconds())
	}
	return m, nil
}

func (r *Recorder) spoolSum(name string) (string, error) {
	f, err := r.spool.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeSpool(root *os.Root, name string, body []byte) error {
	f, err := root.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// FileName is a file's name in a download: who, what, which segment.
func FileName(f store.RecordingFile) string {
	if f.Kind == store.FileManifest {
		return "manifest.json"
	}
	name := textrule.FileName(f.ParticipantName, "participant")
	switch f.Kind {
	case store.FileWebM:
		if f.Source == "screen" {
			return name + " - screen.webm"
		}
		return name + ".webm"
	case store.FileAudio:
		return fmt.Sprintf("%s - %s %d.ogg", name, strings.ReplaceAll(f.Source, "_", " "), f.Segment)
	}
	return fmt.Sprintf("%s - %s %d.ivf", name, f.Source, f.Segment)
}
