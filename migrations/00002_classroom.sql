-- +goose Up
ALTER TABLE meetings
    ADD COLUMN unmute_policy text NOT NULL DEFAULT 'self'
        CHECK (unmute_policy IN ('self', 'ask')),
    ADD COLUMN screen_share_policy text NOT NULL DEFAULT 'hosts'
        CHECK (screen_share_policy IN ('hosts', 'everyone')),
    ADD COLUMN locked_at timestamptz;

ALTER TABLE invitees
    ADD COLUMN role text NOT NULL DEFAULT 'participant'
        CHECK (role IN ('participant', 'observer')),
    ADD COLUMN banned_at timestamptz;

-- attendance: one row per participant (a reconnect keeps its row; joining
-- again after leaving makes a new one).
CREATE TABLE attendance (
    participant_id uuid PRIMARY KEY,
    meeting_id     uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    invitee_id     uuid REFERENCES invitees (id) ON DELETE SET NULL,
    user_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    name           text NOT NULL,
    role           text NOT NULL,
    joined_at      timestamptz NOT NULL,
    admitted_at    timestamptz,
    left_at        timestamptz,
    left_reason    text NOT NULL DEFAULT ''
);
CREATE INDEX attendance_meeting_idx ON attendance (meeting_id, joined_at);

CREATE TABLE chat_messages (
    id          uuid PRIMARY KEY,
    meeting_id  uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    sender_id   uuid NOT NULL,
    sender_name text NOT NULL,
    sender_role text NOT NULL,
    recipients  text NOT NULL CHECK (recipients IN ('everyone', 'hosts')),
    body        text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 2000),
    sent_at     timestamptz NOT NULL,
    deleted_at  timestamptz,
    deleted_by  text NOT NULL DEFAULT ''
);
CREATE INDEX chat_messages_meeting_idx ON chat_messages (meeting_id, sent_at);

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    meeting_id  uuid REFERENCES meetings (id) ON DELETE SET NULL,
    actor_id    text NOT NULL DEFAULT '',
    actor_name  text NOT NULL DEFAULT '',
    action      text NOT NULL,
    target_id   text NOT NULL DEFAULT '',
    target_name text NOT NULL DEFAULT '',
    detail      text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_meeting_idx ON audit_log (meeting_id, at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE chat_messages;
DROP TABLE attendance;
ALTER TABLE invitees DROP COLUMN banned_at, DROP COLUMN role;
ALTER TABLE meetings DROP COLUMN locked_at, DROP COLUMN screen_share_policy, DROP COLUMN unmute_policy;
