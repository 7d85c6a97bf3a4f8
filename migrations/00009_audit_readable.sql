-- +goose Up
-- The audit log, readable by an administrator: the address a request came
-- from, the actor's role, a kind to filter by, and the meeting's title as it
-- was when the entry was written (a meeting's row may go; its log stays).
ALTER TABLE audit_log
    ADD COLUMN source        text NOT NULL DEFAULT '',
    ADD COLUMN actor_role    text NOT NULL DEFAULT '',
    ADD COLUMN kind          text NOT NULL DEFAULT '',
    ADD COLUMN meeting_title text NOT NULL DEFAULT '';
UPDATE audit_log a SET meeting_title = m.title FROM meetings m WHERE m.id = a.meeting_id;
UPDATE audit_log SET kind = CASE
    WHEN action LIKE '%recording%' THEN 'recording'
    WHEN meeting_id IS NOT NULL THEN 'room'
    WHEN action LIKE '%account%' THEN 'account'
    ELSE 'other' END;
CREATE INDEX audit_log_kind_idx ON audit_log (kind, id);

-- +goose Down
DROP INDEX audit_log_kind_idx;
ALTER TABLE audit_log DROP COLUMN source, DROP COLUMN actor_role, DROP COLUMN kind, DROP COLUMN meeting_title;
