package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// UseJoinToken records that the join token jti, valid until expiresAt, is
// being used. It is ErrTokenUsed if it was used before: a join token is good
// for one join, whoever presents it again.
func (s *Store) UseJoinToken(ctx context.Context, jti uuid.UUID, expiresAt time.Time) error {
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO used_join_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING`, jti, expiresAt)
	if err != nil {
		return fmt.Errorf("store: use join token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrTokenUsed
	}
	return nil
}

// DeleteExpiredJoinTokens forgets used join tokens that expired before
// cutoff: they are refused as expired anyway.
func (s *Store) DeleteExpiredJoinTokens(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM used_join_tokens WHERE expires_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("store: delete expired join tokens: %w", err)
	}
	return tag.RowsAffected(), nil
}
