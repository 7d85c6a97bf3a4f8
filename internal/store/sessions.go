package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// CreateSession starts a login session for a user, valid until expiresAt.
func (s *Store) CreateSession(ctx context.Context, userID uuid.UUID, expiresAt time.Time) (uuid.UUID, error) {
	id := uuid.New()
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (id, user_id, expires_at) VALUES ($1, $2, $3)`, id, userID, expiresAt)
	if err != nil {
		return uuid.Nil, fmt.Errorf("store: create session: %w", err)
	}
	return id, nil
}

// SessionUser returns the user of a live session at now: not revoked, not
// expired, and its account not disabled. Anything else is ErrNotFound. The
// caller's now, not the database's, decides expiry: it set expires_at too.
func (s *Store) SessionUser(ctx context.Context, sessionID uuid.UUID, now time.Time) (User, error) {
	u, err := one[User](s.pool.Query(ctx, `
		SELECT u.id, u.email, u.name, u.role, u.password_hash, u.time_zone, u.created_at, u.disabled_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND u.disabled_at IS NULL`, sessionID, now))
	if err != nil {
		return User{}, fmt.Errorf("store: session user: %w", err)
	}
	return u, nil
}

// RevokeSession ends a session at now (logout) and announces it, so the
// meeting connections opened with it end too. Ending an ended session is
// not an error.
func (s *Store) RevokeSession(ctx context.Context, sessionID uuid.UUID, now time.Time) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1`, sessionID, now); err != nil {
			return err
		}
		return notifyRevocation(ctx, tx, Revocation{Session: sessionID, Reason: RevokedSignedOut})
	})
	if err != nil {
		return fmt.Errorf("store: revoke session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions that ended before cutoff.
func (s *Store) DeleteExpiredSessions(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
