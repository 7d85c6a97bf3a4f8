package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Role is what an account may do across classmeet (not inside a meeting).
type Role string

const (
	RoleAdmin   Role = "admin"   // manages accounts; may also schedule meetings
	RoleTeacher Role = "teacher" // schedules and hosts meetings
)

// ParseRole accepts the two account roles and nothing else.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleAdmin, RoleTeacher:
		return r, nil
	}
	return "", fmt.Errorf("role must be %q or %q, not %q", RoleTeacher, RoleAdmin, s)
}

// User is a staff account: a teacher or an administrator.
type User struct {
	ID           uuid.UUID  `db:"id"`
	Email        string     `db:"email"`
	Name         string     `db:"name"`
	Role         Role       `db:"role"`
	PasswordHash string     `db:"password_hash"`
	TimeZone     string     `db:"time_zone"`
	CreatedAt    time.Time  `db:"created_at"`
	DisabledAt   *time.Time `db:"disabled_at"`
}

// NewUser is what creating an account needs.
type NewUser struct {
	Email, Name, PasswordHash, TimeZone string
	Role                                Role
}

const userColumns = `id, email, name, role, password_hash, time_zone, created_at, disabled_at`

// CreateUser adds an account. Email addresses are unique regardless of case.
func (s *Store) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	return createUser(ctx, s.pool, nu)
}

// CreateFirstAdmin adds the first administrator, and only while no account
// exists: two people racing through setup get one account, not two.
func (s *Store) CreateFirstAdmin(ctx context.Context, nu NewUser) (User, error) {
	var u User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users)`).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return ErrSetupDone
		}
		nu.Role = RoleAdmin
		var err error
		u, err = createUser(ctx, tx, nu)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("store: create first admin: %w", err)
	}
	return u, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func createUser(ctx context.Context, q querier, nu NewUser) (User, error) {
	u, err := one[User](q.Query(ctx, `
		INSERT INTO users (id, email, name, role, password_hash, time_zone)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+userColumns,
		uuid.New(), strings.TrimSpace(nu.Email), nu.Name, nu.Role, nu.PasswordHash, nu.TimeZone))
	if isUniqueViolation(err, "users_email_key") {
		return User{}, ErrEmailTaken
	}
	if err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	return u, nil
}

// HasUsers reports whether any account exists (false until setup is done).
func (s *Store) HasUsers(ctx context.Context) (bool, error) {
	var exists bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users)`).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("store: has users: %w", err)
	}
	return exists, nil
}

// UserByEmail finds an account by email address, ignoring case.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	u, err := one[User](s.pool.Query(ctx,
		`SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1)`, strings.TrimSpace(email)))
	if err != nil {
		return User{}, fmt.Errorf("store: user by email: %w", err)
	}
	return u, nil
}

// UserByID finds an account.
func (s *Store) UserByID(ctx context.Context, id uuid.UUID) (User, error) {
	u, err := one[User](s.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return User{}, fmt.Errorf("store: user %s: %w", id, err)
	}
	return u, nil
}

// Users lists every account, by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	us, err := all[User](s.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY lower(name), lower(email)`))
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return us, nil
}

// SetUserDisabled disables or re-enables an account. Disabling also ends
// every session of the account at once, and announces it so that its live
// meeting connections end too.
func (s *Store) SetUserDisabled(ctx context.Context, id uuid.UUID, disabled bool) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := affected(tx.Exec(ctx, `
			UPDATE users SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) END
			WHERE id = $1`, id, disabled))
		if err != nil || !disabled {
			return err
		}
		if _, err = tx.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, id); err != nil {
			return err
		}
		return notifyRevocation(ctx, tx, Revocation{User: id, Reason: RevokedAccountDisabled})
	})
	if err != nil {
		return fmt.Errorf("store: set user %s disabled=%v: %w", id, disabled, err)
	}
	return nil
}

// SetPassword replaces an account's password hash and ends every other
// session of the account, so a stolen session dies with the old password
// (and the meeting connections it opened: the change is announced).
func (s *Store) SetPassword(ctx context.Context, id uuid.UUID, hash string, keepSession uuid.UUID) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := affected(tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, id, hash)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			UPDATE sessions SET revoked_at = now()
			WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL`, id, keepSession)
		if err != nil {
			return err
		}
		return notifyRevocation(ctx, tx, Revocation{User: id, Keep: keepSession, Reason: RevokedPasswordChanged})
	})
	if err != nil {
		return fmt.Errorf("store: set password of %s: %w", id, err)
	}
	return nil
}

// UpdateProfile changes an account's display name and time zone.
func (s *Store) UpdateProfile(ctx context.Context, id uuid.UUID, name, timeZone string) error {
	err := affected(s.pool.Exec(ctx, `UPDATE users SET name = $2, time_zone = $3 WHERE id = $1`, id, name, timeZone))
	if err != nil {
		return fmt.Errorf("store: update profile of %s: %w", id, err)
	}
	return nil
}
