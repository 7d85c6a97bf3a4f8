package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Why a staff member's sign-ins ended: the reason their live meeting
// connections are told.
const (
	RevokedSignedOut       = "signed_out"
	RevokedPasswordChanged = "password_changed"
	RevokedAccountDisabled = "account_disabled"
)

// revocationChannel is the PostgreSQL NOTIFY channel on which every ended
// sign-in is announced, so that a server ends the live connections opened
// with it even when another process (the command line) ended it.
const revocationChannel = "classmeet_revocations"

// Revocation names the sign-ins that ended: one session, or every session
// of a user but Keep.
type Revocation struct {
	Session uuid.UUID `json:"session,omitzero"`
	User    uuid.UUID `json:"user,omitzero"`
	Keep    uuid.UUID `json:"keep,omitzero"`
	Reason  string    `json:"reason"`
}

// Covers reports whether a connection opened by user with session ended.
func (r Revocation) Covers(user, session uuid.UUID) bool {
	if r.Session != uuid.Nil && r.Session == session {
		return true
	}
	return r.User != uuid.Nil && r.User == user && (session == uuid.Nil || session != r.Keep)
}

// notifyRevocation announces r when tx commits (NOTIFY is transactional).
func notifyRevocation(ctx context.Context, tx pgx.Tx, r Revocation) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, revocationChannel, string(b))
	return err
}

// ListenRevocations calls ready once it is listening, then fn with every
// revocation announced, until ctx ends or the connection fails. It uses a
// connection of its own, outside the pool.
func (s *Store) ListenRevocations(ctx context.Context, ready func(), fn func(Revocation)) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("store: listen for revocations: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+revocationChannel); err != nil {
		return fmt.Errorf("store: listen for revocations: %w", err)
	}
	ready()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("store: wait for revocations: %w", err)
		}
		var r Revocation
		if json.Unmarshal([]byte(n.Payload), &r) == nil {
			fn(r)
		}
	}
}
