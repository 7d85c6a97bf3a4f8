// Package recorder records meetings: each consenting participant's tracks
// into files of their own (VP8/VP9 in IVF, Opus in Ogg) in a local spool,
// then a playable WebM per participant and a manifest that puts every file
// on one timeline, all uploaded to the blob store and checked. A crash
// loses at most the last second: at start, what was left in the spool is
// repaired, uploaded and marked partial.
package recorder

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/blob"
	"classmeet/internal/store"
)

// Config is what a Recorder needs.
type Config struct {
	Store    *store.Store
	Blob     blob.Store
	SpoolDir string // where files are written before upload
	// MinFree is the free space the spool must have for a recording to
	// start: below it, the recording would stop for want of space soon.
	MinFree int64
	Log     *slog.Logger
	// Now stamps recordings and their files; time.Now unless a test's
	// clock stands in for it. Recordings' times are compared with it.
	Now func() time.Time
}

// Recorder starts recording sessions and sees every recording through to
// storage: after a stop, after a crash, after an outage of the store.
type Recorder struct {
	store    *store.Store
	blob     blob.Store
	spool    *os.Root
	spoolDir string
	minFree  int64
	log      *slog.Logger
	now      func() time.Time
	booted   time.Time

	ctx    context.Context // ends when the recorder closes: retries give up
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	starting  map[uuid.UUID]bool // being started, or repaired after a crash
	live      map[uuid.UUID]*Session
	finishing map[uuid.UUID]*job
	deleting  map[uuid.UUID]bool
	closed    bool
}

// job is a recording being finished in the background.
type job struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// New opens (creating) the spool directory.
func New(cfg Config) (*Recorder, error) {
	if err := os.MkdirAll(cfg.SpoolDir, 0o750); err != nil {
		return nil, fmt.Errorf("recorder: spool %s: %w", cfg.SpoolDir, err)
	}
	root, err := os.OpenRoot(cfg.SpoolDir)
	if err != nil {
		return nil, fmt.Errorf("recorder: spool %s: %w", cfg.SpoolDir, err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Recorder{
		store: cfg.Store, blob: cfg.Blob, spool: root, spoolDir: cfg.SpoolDir, minFree: cfg.MinFree, log: cfg.Log, now: cfg.Now, booted: cfg.Now(),
		ctx: ctx, cancel: cancel, starting: map[uuid.UUID]bool{}, live: map[uuid.UUID]*Session{},
		finishing: map[uuid.UUID]*job{}, deleting: map[uuid.UUID]bool{},
	}, nil
}

// Start begins recording id of a meeting. It is the one call that waits
// for the database: a recording that cannot be stored is refused at once,
// and so is one the spool has too little room for (ErrSpoolFull).
func (r *Recorder) Start(ctx context.Context, id, meetingID uuid.UUID, by string, at time.Time) (*Session, error) {
	r.mu.Lock()
	closed := r.closed
	if !closed {
		r.starting[id] = true
	}
	r.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	defer func() {
		r.mu.Lock()
		delete(r.starting, id)
		r.mu.Unlock()
	}()
	if err := r.roomToRecord(); err != nil {
		return nil, err
	}
	err := r.store.CreateRecording(ctx, store.Recording{ID: id, MeetingID: meetingID, StartedBy: by, StartedAt: at, State: store.RecordingActive})
	if err != nil {
		return nil, err
	}
	if err := r.spool.MkdirAll(id.String(), 0o750); err != nil {
		stopped := r.now()
		_ = r.store.SetRecordingState(ctx, id, store.RecordingFailed, &stopped, false)
		return nil, fmt.Errorf("recorder: spool: %w", spoolErr(err))
	}
	s := newSession(r, id, meetingID, at)
	r.mu.Lock()
	r.live[id] = s
	r.mu.Unlock()
	s.log.Info("recording started", "by", by)
	return s, nil
}

// roomToRecord checks that the spool has the free space a recording needs.
func (r *Recorder) roomToRecord() error {
	free, err := freeSpace(r.spoolDir)
	if err != nil {
		return fmt.Errorf("recorder: spool %s: %w", r.spoolDir, err)
	}
	if free < r.minFree {
		r.log.Warn("recording refused: the spool is almost full", "spool", r.spoolDir, "free_bytes", free, "min_free_bytes", r.minFree)
		return fmt.Errorf("%w: %d bytes free, %d needed", ErrSpoolFull, free, r.minFree)
	}
	return nil
}

// spoolErr marks a write error caused by a full disk as ErrSpoolFull.
func spoolErr(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", ErrSpoolFull, err)
	}
	return err
}

// ended hands a stopped session's files on to be finished.
func (r *Recorder) ended(s *Session) {
	r.mu.Lock()
	delete(r.live, s.ID)
	r.mu.Unlock()
	r.finish(s.ID)
}

// finish makes a stopped recording's playable files and manifest and
// uploads everything, in the background, once per recording. A step that
// fails (the spool or the database away) is tried again, backing off, so
// no recording is left "being saved"; Delete cancels it.
func (r *Recorder) finish(id uuid.UUID) {
	r.mu.Lock()
	if r.finishing[id] != nil || r.deleting[id] || r.ctx.Err() != nil {
		r.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(r.ctx)
	j := &job{cancel: cancel, done: make(chan struct{})}
	r.finishing[id] = j
	r.wg.Add(1)
	r.mu.Unlock()
	go func() {
		defer r.wg.Done()
		defer close(j.done)
		defer cancel()
		defer func() {
			r.mu.Lock()
			delete(r.finishing, id)
			r.mu.Unlock()
		}()
		r.completeRetrying(ctx, id)
	}()
}

// completeRetrying completes a recording, trying again after a failure
// until it is done, deleted, or the recorder closes.
func (r *Recorder) completeRetrying(ctx context.Context, id uuid.UUID) {
	delay := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := r.complete(ctx, id)
		switch {
		case err == nil:
			return
		case r.ctx.Err() != nil:
			r.log.Info("recording left to finish at the next start", "recording_id", id, "err", err)
			return
		case ctx.Err() != nil:
			return // deleted
		case errors.Is(err, store.ErrNotFound):
			r.log.Warn("a recording vanished while it was being finished", "recording_id", id)
			return
		}
		r.log.Error("finishing a recording failed; trying again", "recording_id", id, "attempt", attempt, "in", delay, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 30*time.Second)
	}
}

// Busy reports whether a recording is starting, live or being finished.
func (r *Recorder) Busy(id uuid.UUID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.starting[id] || r.live[id] != nil || r.finishing[id] != nil
}

// persist runs a database or storage operation until it succeeds, backing
// off between attempts: an outage delays a recording, it does not lose it.
// It gives up when the recorder closes, or on an error no retry can mend.
func (r *Recorder) persist(what string, fn func(context.Context) error) error {
	return r.persistFor(r.ctx, what, 30*time.Second, fn)
}

// persistIn is persist for a job: it also gives up when ctx ends.
func (r *Recorder) persistIn(ctx context.Context, what string, fn func(context.Context) error) error {
	return r.persistFor(ctx, what, 30*time.Second, fn)
}

func (r *Recorder) persistFor(parent context.Context, what string, timeout time.Duration, fn func(context.Context) error) error {
	delay := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(parent, timeout)
		err := fn(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if permanent(err) || parent.Err() != nil {
			return err
		}
		if attempt == 1 || attempt%10 == 0 {
			r.log.Warn(what+" failed; retrying", "attempt", attempt, "err", err)
		}
		select {
		case <-parent.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(delay*2, 15*time.Second)
	}
}

// permanent reports errors a retry cannot mend: something is gone.
func permanent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, store.ErrNotFound) || errors.Is(err, blob.ErrNotFound)
}

// objectKey is where a file is stored: made of ids the server generated.
func objectKey(meetingID, recordingID, fileID uuid.UUID, ext string) string {
	return "recordings/" + meetingID.String() + "/" + recordingID.String() + "/" + fileID.String() + ext
}

// spoolPath is a spool file's path on disk, for the uploader. Names are
// made by the recorder ("<uuid>/<uuid>.ext"); anything else is refused.
func (r *Recorder) spoolPath(name string) (string, error) {
	if !filepath.IsLocal(name) {
		return "", fmt.Errorf("recorder: refusing spool name %q", name)
	}
	return filepath.Join(r.spoolDir, filepath.FromSlash(name)), nil
}

// Open opens a stored file for download.
func (r *Recorder) Open(ctx context.Context, f store.RecordingFile) (blob.Object, error) {
	if f.State != store.FileUploaded {
		return nil, ErrBusy
	}
	return r.blob.Open(ctx, f.ObjectKey)
}

// Ready reports whether recordings can be stored now.
func (r *Recorder) Ready(ctx context.Context) error { return r.blob.Ready(ctx) }

// Storage names the blob store, for logs and the health check.
func (r *Recorder) Storage() string { return r.blob.String() }

// Delete removes a recording in any state but live: its stored objects,
// anything left in the spool, and its rows. One being finished (or stuck
// retrying) has its finishing cancelled first, and waited for, so nothing
// writes it after it is gone. A live one is ErrBusy: a host stops it.
func (r *Recorder) Delete(ctx context.Context, id uuid.UUID) error {
	r.mu.Lock()
	if r.starting[id] || r.live[id] != nil || r.deleting[id] {
		r.mu.Unlock()
		return ErrBusy
	}
	r.deleting[id] = true
	j := r.finishing[id]
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.deleting, id)
		r.mu.Unlock()
	}()
	if j != nil {
		j.cancel()
		select {
		case <-j.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	rec, err := r.store.RecordingByID(ctx, id)
	if err != nil {
		return err
	}
	files, err := r.store.RecordingFiles(ctx, id)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := r.blob.Delete(ctx, f.ObjectKey); err != nil {
			return err
		}
	}
	if err := r.spool.RemoveAll(id.String()); err != nil {
		return fmt.Errorf("recorder: spool: %w", err)
	}
	if err := r.store.DeleteRecording(ctx, id); err != nil {
		return err
	}
	r.log.Info("recording deleted", "recording_id", id, "meeting_id", rec.MeetingID, "state", rec.State, "files", len(files))
	return nil
}

// Sweep deletes the recordings that stopped before cutoff, and writes
// each deletion to the audit log.
func (r *Recorder) Sweep(ctx context.Context, cutoff time.Time) (int, error) {
	recs, err := r.store.ExpiredRecordings(ctx, cutoff)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, rec := range recs {
		if err := r.Delete(ctx, rec.ID); err != nil {
			return n, err
		}
		n++
		meetingID := rec.MeetingID
		_ = r.store.Audit(ctx, store.AuditEntry{
			At: r.now(), Kind: store.AuditRecording, MeetingID: &meetingID, ActorName: "retention", ActorRole: "system", Action: "recording deleted",
			TargetID: rec.ID.String(), Detail: "recorded " + rec.StartedAt.UTC().Format(time.RFC3339) + ", past the retention period",
		})
	}
	return n, nil
}

// Close stops every live recording and waits, until ctx ends, for the
// recordings being finished; what is left is finished at the next start.
func (r *Recorder) Close(ctx context.Context) {
	r.mu.Lock()
	r.closed = true
	live := make([]*Session, 0, len(r.live))
	for _, s := range r.live {
		live = append(live, s)
	}
	r.mu.Unlock()
	for _, s := range live {
		s.Stop(r.now())
	}
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		r.cancel()
		<-done
	}
	r.cancel()
	_ = r.spool.Close()
}
