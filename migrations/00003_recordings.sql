-- +goose Up
ALTER TABLE meetings
    ADD COLUMN recording_access text NOT NULL DEFAULT 'host'
        CHECK (recording_access IN ('host', 'invitees'));

CREATE TABLE recordings (
    id         uuid PRIMARY KEY,
    meeting_id uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    started_by text NOT NULL,
    started_at timestamptz NOT NULL,
    stopped_at timestamptz,
    -- recording: being written; uploading: stopped, files on their way to
    -- storage; available: all stored; partial: recovered after a crash, or
    -- some files lost; failed: nothing usable.
    state      text NOT NULL CHECK (state IN ('recording', 'uploading', 'available', 'partial', 'failed')),
    recovered  boolean NOT NULL DEFAULT false,
    manifest   jsonb
);
CREATE INDEX recordings_meeting_idx ON recordings (meeting_id, started_at);

CREATE TABLE recording_files (
    id               uuid PRIMARY KEY,
    recording_id     uuid NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    participant_id   uuid,
    participant_name text NOT NULL DEFAULT '',
    kind             text NOT NULL CHECK (kind IN ('audio', 'video', 'webm', 'manifest')),
    source           text NOT NULL DEFAULT '',
    codec            text NOT NULL DEFAULT '',
    segment          integer NOT NULL DEFAULT 1,
    object_key       text NOT NULL UNIQUE,
    spool_name       text NOT NULL,
    -- writing: being recorded to the spool; spooled: complete in the spool;
    -- uploaded: stored and checked; failed: lost.
    state            text NOT NULL CHECK (state IN ('writing', 'spooled', 'uploaded', 'failed')),
    size_bytes       bigint NOT NULL DEFAULT 0,
    sha256           text NOT NULL DEFAULT '',
    started_at       timestamptz,
    duration_ms      bigint NOT NULL DEFAULT 0,
    frames           integer NOT NULL DEFAULT 0,
    -- what the recorder counted: packets, losses, drops, keyframe requests.
    stats            jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recording_files_recording_idx ON recording_files (recording_id);

CREATE TABLE recording_consents (
    recording_id     uuid NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    participant_id   uuid NOT NULL,
    participant_name text NOT NULL,
    accepted         boolean NOT NULL,
    answered_at      timestamptz NOT NULL,
    PRIMARY KEY (recording_id, participant_id)
);

-- +goose Down
DROP TABLE recording_consents;
DROP TABLE recording_files;
DROP TABLE recordings;
ALTER TABLE meetings DROP COLUMN recording_access;
