package recorder

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/store"
)

// Recover finishes what a crash or a shutdown left behind. A recording
// still "recording" lost its server: its spool files are repaired (a torn
// last frame or page cut off, the IVF length set), and it is finished
// as partial. One "uploading" carries on uploading, once its spooled track
// files are checked: one that ends mid-frame is repaired and the recording
// is partial, never available. Spool directories of recordings that are
// finished or gone are removed. No recording is left in state "recording".
func (r *Recorder) Recover(ctx context.Context) error {
	recs, err := r.store.UnfinishedRecordings(ctx)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, rec := range recs {
		known[rec.ID.String()] = true
		if r.Busy(rec.ID) || !rec.StartedAt.Before(r.booted) {
			continue // this process's own
		}
		if rec.State == store.RecordingActive {
			r.log.Warn("recovering a recording cut short", "recording_id", rec.ID, "meeting_id", rec.MeetingID)
		}
		r.recoverOne(ctx, rec)
	}
	entries, err := fs.ReadDir(r.spool.FS(), ".")
	if err != nil {
		return err
	}
	for _, e := range entries {
		id, err := uuid.Parse(e.Name())
		if err != nil || known[e.Name()] || r.Busy(id) {
			continue
		}
		rec, err := r.store.RecordingByID(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		case rec.State == store.RecordingActive || rec.State == store.RecordingUploading:
			continue
		}
		r.log.Info("removing a spool directory left over", "recording_id", id)
		_ = r.spool.RemoveAll(e.Name())
	}
	return nil
}

// repair checks the track files of a recording whose server stopped and
// makes each valid. A recording that was still recording, or any of whose
// files was cut, is marked recovered (it will be partial).
func (r *Recorder) repair(ctx context.Context, rec store.Recording) error {
	files, err := r.store.RecordingFiles(ctx, rec.ID)
	if err != nil {
		return err
	}
	cut := rec.State == store.RecordingActive
	last := rec.StartedAt
	for _, f := range files {
		if (f.State == store.FileWriting || f.State == store.FileSpooled) && (f.Kind == store.FileAudio || f.Kind == store.FileVideo) {
			wasCut, err := r.repairFile(ctx, &f)
			if err != nil {
				return err
			}
			cut = cut || wasCut
		}
		if f.StartedAt != nil && f.State != store.FileFailed {
			last = maxTime(last, f.StartedAt.Add(time.Duration(f.DurationMS)*time.Millisecond))
		}
	}
	var stopped *time.Time
	if rec.State == store.RecordingActive {
		stopped = &last
	}
	if !cut && rec.State == store.RecordingUploading {
		return nil
	}
	if err := r.store.SetRecordingState(ctx, rec.ID, store.RecordingUploading, stopped, cut); err != nil {
		return err
	}
	if rec.State != store.RecordingActive {
		return nil
	}
	meetingID := rec.MeetingID
	return r.store.Audit(ctx, store.AuditEntry{
		At: last, Kind: store.AuditRecording, MeetingID: &meetingID, ActorName: "classmeet", ActorRole: "system", Action: "recording stopped (server restart)",
		TargetID: rec.ID.String(), Detail: "the server stopped while recording; kept up to its last sample, as partial",
	})
}

// repairFile makes one track file valid and records what it holds; an
// empty or missing one is dropped. A file still being written when the
// server stopped, or one that had to be cut, is reported cut.
func (r *Recorder) repairFile(ctx context.Context, f *store.RecordingFile) (cut bool, err error) {
	got, err := r.repairTrack(f.SpoolName, f.Kind)
	if errors.Is(err, fs.ErrNotExist) {
		r.log.Warn("a recording file is missing from the spool", "file_id", f.ID, "err", err)
		f.State = store.FileFailed
		return true, r.store.UpdateRecordingFile(ctx, *f)
	}
	if err != nil || got.frames <= 0 {
		r.log.Info("dropping an empty recording file", "file_id", f.ID, "err", err)
		_ = r.spool.Remove(f.SpoolName)
		f.State = store.FileFailed
		return true, r.store.DeleteRecordingFile(ctx, f.ID)
	}
	if f.State == store.FileSpooled && !got.cut {
		return false, nil // closed whole before the server stopped
	}
	r.log.Warn("a recording file was cut short; repaired", "file_id", f.ID, "frames", got.frames)
	f.State, f.Frames, f.DurationMS, f.SizeBytes = store.FileSpooled, got.frames, got.duration.Milliseconds(), got.size
	f.Stats = []byte(`{"recovered":true}`)
	return true, r.store.UpdateRecordingFile(ctx, *f)
}

// repaired is what a track file holds once repaired.
type repaired struct {
	frames   int
	duration time.Duration
	size     int64
	cut      bool // something was cut off its end
}

// repairTrack makes a spooled IVF or Ogg file valid, cutting a torn last
// frame or page off its end: the one repair, after a crash or after a
// write failure.
func (r *Recorder) repairTrack(name, kind string) (repaired, error) {
	fh, err := r.spool.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return repaired{}, err
	}
	defer fh.Close()
	before, err := fh.Stat()
	if err != nil {
		return repaired{}, err
	}
	var got repaired
	if kind == store.FileAudio {
		granule, pages, err := repairOgg(fh)
		if err != nil {
			return got, err
		}
		if granule > opusPreSkip {
			got.frames, got.duration = pages-2, samplesToDuration(granule-opusPreSkip, 48000)
		}
	} else {
		n, lastPTS, err := repairIVF(fh)
		if err != nil {
			return got, err
		}
		if n > 0 {
			got.frames, got.duration = int(n), samplesToDuration(ivfLength(n, lastPTS), ivfTimebase)
		}
	}
	after, err := fh.Stat()
	if err != nil {
		return got, err
	}
	got.size, got.cut = after.Size(), after.Size() != before.Size()
	return got, nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// recoverOne repairs a recording left behind and has it finished. While it
// is repaired it counts as starting, so a delete meanwhile is refused as
// busy rather than racing the repair.
func (r *Recorder) recoverOne(ctx context.Context, rec store.Recording) {
	r.mu.Lock()
	if r.deleting[rec.ID] {
		r.mu.Unlock()
		return
	}
	r.starting[rec.ID] = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.starting, rec.ID)
		r.mu.Unlock()
	}()
	if err := r.repair(ctx, rec); err != nil {
		r.log.Error("recovering a recording failed", "recording_id", rec.ID, "err", err)
		return
	}
	r.finish(rec.ID)
}
