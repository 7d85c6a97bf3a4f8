-- +goose Up
-- used_join_tokens: the join tokens already used to join, by their id (jti),
-- so each opens one connection only for its whole life; a row is kept until
-- its token has expired.
CREATE TABLE used_join_tokens (
    jti        uuid PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX used_join_tokens_expires_idx ON used_join_tokens (expires_at);

-- +goose Down
DROP TABLE used_join_tokens;
