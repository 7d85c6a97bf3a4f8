package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Recording states.
const (
	RecordingActive    = "recording"
	RecordingUploading = "uploading"
	RecordingAvailable = "available"
	RecordingPartial   = "partial"
	RecordingFailed    = "failed"
)

// Recording is one recording session of a meeting: from start to stop.
type Recording struct {
	ID        uuid.UUID       `db:"id"`
	MeetingID uuid.UUID       `db:"meeting_id"`
	StartedBy string          `db:"started_by"`
	StartedAt time.Time       `db:"started_at"`
	StoppedAt *time.Time      `db:"stopped_at"`
	State     string          `db:"state"`
	Recovered bool            `db:"recovered"`
	Manifest  json.RawMessage `db:"manifest"`
}

// Finished reports whether the recording can be played and downloaded:
// available, or partial.
func (r Recording) Finished() bool {
	return r.State == RecordingAvailable || r.State == RecordingPartial
}

// RecordingSummary is a recording with its files' totals.
type RecordingSummary struct {
	Recording
	SizeBytes    int64 `db:"size_bytes"`
	Participants int   `db:"participants"`
}

// File kinds and states.
const (
	FileAudio    = "audio"
	FileVideo    = "video"
	FileWebM     = "webm"
	FileManifest = "manifest"

	FileWriting  = "writing"
	FileSpooled  = "spooled"
	FileUploaded = "uploaded"
	FileFailed   = "failed"
)

// RecordingFile is one file of a recording: a track segment, a
// participant's playable WebM, or the manifest.
type RecordingFile struct {
	ID              uuid.UUID  `db:"id"`
	RecordingID     uuid.UUID  `db:"recording_id"`
	ParticipantID   *uuid.UUID `db:"participant_id"`
	ParticipantName string     `db:"participant_name"`
	Kind            string     `db:"kind"`
	Source          string     `db:"source"`
	Codec           string     `db:"codec"`
	Segment         int        `db:"segment"`
	ObjectKey       string     `db:"object_key"`
	SpoolName       string     `db:"spool_name"`
	State           string     `db:"state"`
	SizeBytes       int64      `db:"size_bytes"`
	SHA256          string     `db:"sha256"`
	StartedAt       *time.Time `db:"started_at"`
	DurationMS      int64      `db:"duration_ms"`
	Frames          int        `db:"frames"`
	Stats           []byte     `db:"stats"`
	CreatedAt       time.Time  `db:"created_at"`
}

// Consent is a participant's answer to being recorded.
type Consent struct {
	RecordingID     uuid.UUID `db:"recording_id"`
	ParticipantID   uuid.UUID `db:"participant_id"`
	ParticipantName string    `db:"participant_name"`
	Accepted        bool      `db:"accepted"`
	AnsweredAt      time.Time `db:"answered_at"`
}

const recordingColumns = `id, meeting_id, started_by, started_at, stopped_at, state, recovered, manifest`

const fileColumns = `id, recording_id, participant_id, participant_name, kind, source, codec, segment, object_key,
	spool_name, state, size_bytes, sha256, started_at, duration_ms, frames, stats, created_at`

// CreateRecording records that a recording started.
func (s *Store) CreateRecording(ctx context.Context, r Recording) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO recordings (id, meeting_id, started_by, started_at, state) VALUES ($1, $2, $3, $4, $5)`,
		r.ID, r.MeetingID, r.StartedBy, r.StartedAt, r.State)
	if err != nil {
		return fmt.Errorf("store: create recording: %w", err)
	}
	return nil
}

// SetRecordingState moves a recording on; stopped sets when it stopped (if not yet set).
func (s *Store) SetRecordingState(ctx context.Context, id uuid.UUID, state string, stopped *time.Time, recovered bool) error {
	err := affected(s.pool.Exec(ctx, `
		UPDATE recordings SET state = $2, stopped_at = coalesce(stopped_at, $3), recovered = recovered OR $4 WHERE id = $1`,
		id, state, stopped, recovered))
	if err != nil {
		return fmt.Errorf("store: recording %s state %s: %w", id, state, err)
	}
	return nil
}

// SetRecordingManifest stores the manifest of a recording.
func (s *Store) SetRecordingManifest(ctx context.Context, id uuid.UUID, manifest []byte) error {
	err := affected(s.pool.Exec(ctx, `UPDATE recordings SET manifest = $2 WHERE id = $1`, id, manifest))
	if err != nil {
		return fmt.Errorf("store: recording %s manifest: %w", id, err)
	}
	return nil
}

// MeetingRecordings lists a meeting's recordings, newest first.
func (s *Store) MeetingRecordings(ctx context.Context, meetingID uuid.UUID) ([]RecordingSummary, error) {
	rs, err := all[RecordingSummary](s.pool.Query(ctx, `
		SELECT r.id, r.meeting_id, r.started_by, r.started_at, r.stopped_at, r.state, r.recovered, r.manifest,
			coalesce((SELECT sum(size_bytes) FROM recording_files f WHERE f.recording_id = r.id AND f.kind IN ('audio', 'video')), 0)::bigint AS size_bytes,
			(SELECT count(DISTINCT participant_id) FROM recording_files f WHERE f.recording_id = r.id AND f.participant_id IS NOT NULL)::int AS participants
		FROM recordings r WHERE r.meeting_id = $1 ORDER BY r.started_at DESC`, meetingID))
	if err != nil {
		return nil, fmt.Errorf("store: recordings of %s: %w", meetingID, err)
	}
	return rs, nil
}

// MeetingRecording returns a recording of a meeting; one of another
// meeting is ErrNotFound.
func (s *Store) MeetingRecording(ctx context.Context, meetingID, id uuid.UUID) (Recording, error) {
	r, err := one[Recording](s.pool.Query(ctx, `SELECT `+recordingColumns+` FROM recordings WHERE id = $1 AND meeting_id = $2`, id, meetingID))
	if err != nil {
		return Recording{}, fmt.Errorf("store: recording %s: %w", id, err)
	}
	return r, nil
}

// RecordingByID returns any recording (for the recorder itself).
func (s *Store) RecordingByID(ctx context.Context, id uuid.UUID) (Recording, error) {
	r, err := one[Recording](s.pool.Query(ctx, `SELECT `+recordingColumns+` FROM recordings WHERE id = $1`, id))
	if err != nil {
		return Recording{}, fmt.Errorf("store: recording %s: %w", id, err)
	}
	return r, nil
}

// UnfinishedRecordings lists recordings still recording or uploading:
// after a restart, the recorder finishes them.
func (s *Store) UnfinishedRecordings(ctx context.Context) ([]Recording, error) {
	rs, err := all[Recording](s.pool.Query(ctx, `SELECT `+recordingColumns+` FROM recordings WHERE state IN ('recording', 'uploading') ORDER BY started_at`))
	if err != nil {
		return nil, fmt.Errorf("store: unfinished recordings: %w", err)
	}
	return rs, nil
}

// ExpiredRecordings lists finished recordings that stopped before cutoff.
func (s *Store) ExpiredRecordings(ctx context.Context, cutoff time.Time) ([]Recording, error) {
	rs, err := all[Recording](s.pool.Query(ctx, `
		SELECT `+recordingColumns+` FROM recordings WHERE state IN ('available', 'partial', 'failed') AND stopped_at < $1`, cutoff))
	if err != nil {
		return nil, fmt.Errorf("store: expired recordings: %w", err)
	}
	return rs, nil
}

// DeleteRecording removes a recording's rows (files and consents with it).
func (s *Store) DeleteRecording(ctx context.Context, id uuid.UUID) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM recordings WHERE id = $1`, id); err != nil {
		return fmt.Errorf("store: delete recording %s: %w", id, err)
	}
	return nil
}

// AddRecordingFile records a new file of a recording.
func (s *Store) AddRecordingFile(ctx context.Context, f RecordingFile) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO recording_files (id, recording_id, participant_id, participant_name, kind, source, codec, segment,
			object_key, spool_name, state, started_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		f.ID, f.RecordingID, f.ParticipantID, f.ParticipantName, f.Kind, f.Source, f.Codec, f.Segment,
		f.ObjectKey, f.SpoolName, f.State, f.StartedAt)
	if err != nil {
		return fmt.Errorf("store: add recording file: %w", err)
	}
	return nil
}

// UpdateRecordingFile stores what is known of a file now.
func (s *Store) UpdateRecordingFile(ctx context.Context, f RecordingFile) error {
	err := affected(s.pool.Exec(ctx, `
		UPDATE recording_files SET state = $2, size_bytes = $3, sha256 = $4, started_at = $5, duration_ms = $6, frames = $7,
			stats = coalesce($8, stats)
		WHERE id = $1`, f.ID, f.State, f.SizeBytes, f.SHA256, f.StartedAt, f.DurationMS, f.Frames, nullJSON(f.Stats)))
	if err != nil {
		return fmt.Errorf("store: update recording file %s: %w", f.ID, err)
	}
	return nil
}

// RecordingFiles lists a recording's files by participant, kind, source and segment.
func (s *Store) RecordingFiles(ctx context.Context, recordingID uuid.UUID) ([]RecordingFile, error) {
	fs, err := all[RecordingFile](s.pool.Query(ctx, `
		SELECT `+fileColumns+` FROM recording_files WHERE recording_id = $1
		ORDER BY participant_name, participant_id, kind, source, segment`, recordingID))
	if err != nil {
		return nil, fmt.Errorf("store: files of recording %s: %w", recordingID, err)
	}
	return fs, nil
}

// RecordingFile returns one file of a recording.
func (s *Store) RecordingFile(ctx context.Context, recordingID, id uuid.UUID) (RecordingFile, error) {
	f, err := one[RecordingFile](s.pool.Query(ctx, `SELECT `+fileColumns+` FROM recording_files WHERE id = $1 AND recording_id = $2`, id, recordingID))
	if err != nil {
		return RecordingFile{}, fmt.Errorf("store: recording file %s: %w", id, err)
	}
	return f, nil
}

// SetConsent stores a participant's answer (the latest counts).
func (s *Store) SetConsent(ctx context.Context, c Consent) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO recording_consents (recording_id, participant_id, participant_name, accepted, answered_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (recording_id, participant_id) DO UPDATE SET accepted = EXCLUDED.accepted, answered_at = EXCLUDED.answered_at`,
		c.RecordingID, c.ParticipantID, c.ParticipantName, c.Accepted, c.AnsweredAt)
	if err != nil {
		return fmt.Errorf("store: consent: %w", err)
	}
	return nil
}

// Consents lists the answers given for a recording.
func (s *Store) Consents(ctx context.Context, recordingID uuid.UUID) ([]Consent, error) {
	cs, err := all[Consent](s.pool.Query(ctx, `
		SELECT recording_id, participant_id, participant_name, accepted, answered_at
		FROM recording_consents WHERE recording_id = $1 ORDER BY answered_at`, recordingID))
	if err != nil {
		return nil, fmt.Errorf("store: consents of %s: %w", recordingID, err)
	}
	return cs, nil
}

// nullJSON passes empty JSON as NULL, so an update keeps what is there.
func nullJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// DeleteRecordingFile removes one file's row.
func (s *Store) DeleteRecordingFile(ctx context.Context, id uuid.UUID) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM recording_files WHERE id = $1`, id); err != nil {
		return fmt.Errorf("store: delete recording file %s: %w", id, err)
	}
	return nil
}
