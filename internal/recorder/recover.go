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
// last frame or page cut off, the IVF frame count set), and it is finished
// as partial. One "uploading" carries on uploading. Spool directories of
// recordings that are finished or gone are removed. No recording is left
// in state "recording".
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
			if err := r.repair(ctx, rec); err != nil {
				r.log.Error("recovering a recording failed", "recording_id", rec.ID, "err", err)
				continue
			}
		}
		r.finish(rec.ID)
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

// repair closes the files of a recording whose server died.
func (r *Recorder) repair(ctx context.Context, rec store.Recording) error {
	files, err := r.store.RecordingFiles(ctx, rec.ID)
	if err != nil {
		return err
	}
	last := rec.StartedAt
	for _, f := range files {
		if f.State == store.FileWriting && (f.Kind == store.FileAudio || f.Kind == store.FileVideo) {
			if err := r.repairFile(ctx, &f); err != nil {
				return err
			}
		}
		if f.StartedAt != nil && f.State != store.FileFailed {
			last = maxTime(last, f.StartedAt.Add(time.Duration(f.DurationMS)*time.Millisecond))
		}
	}
	return r.store.SetRecordingState(ctx, rec.ID, store.RecordingUploading, &last, true)
}

// repairFile makes one track file valid and records what it holds; an
// empty or missing one is dropped.
func (r *Recorder) repairFile(ctx context.Context, f *store.RecordingFile) error {
	fh, err := r.spool.OpenFile(f.SpoolName, os.O_RDWR, 0)
	if err != nil {
		r.log.Warn("a recording file is missing from the spool", "file_id", f.ID, "err", err)
		f.State = store.FileFailed
		return r.store.UpdateRecordingFile(ctx, *f)
	}
	var frames int
	var dur time.Duration
	if f.Kind == store.FileAudio {
		var granule uint64
		var pages int
		granule, pages, err = repairOgg(fh)
		if err == nil && granule > opusPreSkip {
			frames, dur = pages-2, samplesToDuration(granule-opusPreSkip, 48000)
		}
	} else {
		var n uint32
		var lastPTS uint64
		n, lastPTS, err = repairIVF(fh)
		if err == nil && n > 0 {
			per := uint64(3000) // a frame at 30 a second, in 90 kHz ticks
			if n > 1 {
				per = lastPTS / uint64(n-1)
			}
			frames, dur = int(n), samplesToDuration(lastPTS+per, ivfTimebase)
		}
	}
	st, serr := fh.Stat()
	fh.Close()
	if err != nil || frames <= 0 || serr != nil {
		r.log.Info("dropping an empty recording file", "file_id", f.ID, "err", err)
		_ = r.spool.Remove(f.SpoolName)
		f.State = store.FileFailed
		return r.store.DeleteRecordingFile(ctx, f.ID)
	}
	f.State, f.Frames, f.DurationMS, f.SizeBytes = store.FileSpooled, frames, dur.Milliseconds(), st.Size()
	f.Stats = []byte(`{"recovered":true}`)
	return r.store.UpdateRecordingFile(ctx, *f)
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
