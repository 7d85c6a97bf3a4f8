-- +goose Up
-- meeting_decisions: what hosts decided about each person in a meeting, by
-- identity (an invitation or a staff account): the kinds of media a host
-- stopped, the ones a host allowed back, the role a host gave ('' for the
-- token's), and whether a host sent them to the lobby (no automatic
-- admission). They hold for the rest of the meeting, across restarts.
CREATE TABLE meeting_decisions (
    meeting_id uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    identity   text NOT NULL,
    stopped    text[] NOT NULL DEFAULT '{}',
    allowed    text[] NOT NULL DEFAULT '{}',
    role       text NOT NULL DEFAULT '',
    waits      boolean NOT NULL DEFAULT false,
    decided_at timestamptz NOT NULL,
    PRIMARY KEY (meeting_id, identity)
);

-- +goose Down
DROP TABLE meeting_decisions;
