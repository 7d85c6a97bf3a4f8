-- +goose Up
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL CHECK (email <> ''),
    name          text NOT NULL CHECK (name <> ''),
    role          text NOT NULL CHECK (role IN ('admin', 'teacher')),
    password_hash text NOT NULL,
    time_zone     text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE sessions (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE meetings (
    id               uuid PRIMARY KEY,
    owner_id         uuid NOT NULL REFERENCES users (id),
    title            text NOT NULL CHECK (title <> ''),
    description      text NOT NULL DEFAULT '',
    starts_at        timestamptz NOT NULL,
    duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 5 AND 720),
    time_zone        text NOT NULL,
    lobby_policy     text NOT NULL CHECK (lobby_policy IN ('everyone_waits', 'invitees_admitted')),
    recording_policy text NOT NULL CHECK (recording_policy IN ('not_allowed', 'host_may_record')),
    -- sequence is the iCalendar SEQUENCE: bumped whenever the invitation changes.
    sequence         integer NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    cancelled_at     timestamptz
);
CREATE INDEX meetings_owner_starts_idx ON meetings (owner_id, starts_at);

CREATE TABLE invitees (
    id         uuid PRIMARY KEY,
    meeting_id uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (name <> ''),
    email      text NOT NULL DEFAULT '',
    child_name text NOT NULL DEFAULT '',
    -- link_nonce is mixed into the link's MAC; a new nonce makes a new link.
    link_nonce bytea NOT NULL,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invitees_meeting_id_idx ON invitees (meeting_id);

-- +goose Down
DROP TABLE invitees;
DROP TABLE meetings;
DROP TABLE sessions;
DROP TABLE users;
