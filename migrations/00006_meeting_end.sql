-- +goose Up
-- ended_at: the host ended the meeting for everyone; only the host may open
-- it again (which clears ended_at and sets reopened_at, so an end written
-- late never undoes a reopening that came after it).
ALTER TABLE meetings
    ADD COLUMN ended_at timestamptz,
    ADD COLUMN reopened_at timestamptz;

-- +goose Down
ALTER TABLE meetings DROP COLUMN reopened_at, DROP COLUMN ended_at;
