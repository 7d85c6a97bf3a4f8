-- +goose Up
-- last_seen_at: the last time the server recorded the participant as still
-- in the meeting (every half minute). After a crash, open visits are closed
-- at it.
ALTER TABLE attendance ADD COLUMN last_seen_at timestamptz;

-- +goose Down
ALTER TABLE attendance DROP COLUMN last_seen_at;
