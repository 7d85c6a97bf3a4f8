package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Invitee is a person invited to a meeting, with their personal join link.
type Invitee struct {
	ID        uuid.UUID   `db:"id"`
	MeetingID uuid.UUID   `db:"meeting_id"`
	Name      string      `db:"name"`
	Email     string      `db:"email"`
	ChildName string      `db:"child_name"`
	Role      InviteeRole `db:"role"`
	LinkNonce []byte      `db:"link_nonce"`
	RevokedAt *time.Time  `db:"revoked_at"`
	BannedAt  *time.Time  `db:"banned_at"`
	CreatedAt time.Time   `db:"created_at"`
	BookingID *uuid.UUID  `db:"booking_id"` // the parents' evening appointment the link is for, or nil
}

// InviteeRole is how an invitee takes part.
type InviteeRole string

const (
	InviteeParticipant InviteeRole = "participant" // speaks, is seen, chats
	InviteeObserver    InviteeRole = "observer"    // sees and hears only
)

// NewInvitee is what inviting someone needs.
type NewInvitee struct {
	Name, Email, ChildName string
	Role                   InviteeRole
	LinkNonce              []byte
}

// Invitation is what a personal link opens: the invitee, their meeting, and
// the name of the host.
type Invitation struct {
	Invitee  Invitee
	Meeting  Meeting
	HostName string
}

const inviteeColumns = `id, meeting_id, name, email, child_name, role, link_nonce, revoked_at, banned_at, created_at, booking_id`

// AddInvitee invites someone to a meeting that is not cancelled.
func (s *Store) AddInvitee(ctx context.Context, meetingID uuid.UUID, ni NewInvitee) (Invitee, error) {
	inv, err := one[Invitee](s.pool.Query(ctx, `
		INSERT INTO invitees (id, meeting_id, name, email, child_name, role, link_nonce)
		SELECT $1, id, $3, $4, $5, $6, $7 FROM meetings WHERE id = $2 AND cancelled_at IS NULL
		RETURNING `+inviteeColumns,
		uuid.New(), meetingID, ni.Name, ni.Email, ni.ChildName, ni.role(), ni.LinkNonce))
	if err != nil {
		return Invitee{}, fmt.Errorf("store: add invitee to %s: %w", meetingID, err)
	}
	return inv, nil
}

func (ni NewInvitee) role() InviteeRole {
	if ni.Role == "" {
		return InviteeParticipant
	}
	return ni.Role
}

// BanInvitee keeps a removed invitee out of the meeting: their link stops
// opening it.
func (s *Store) BanInvitee(ctx context.Context, meetingID, id uuid.UUID) error {
	err := affected(s.pool.Exec(ctx, `
		UPDATE invitees SET banned_at = coalesce(banned_at, now()) WHERE id = $1 AND meeting_id = $2`, id, meetingID))
	if err != nil {
		return fmt.Errorf("store: ban invitee %s: %w", id, err)
	}
	return nil
}

// Invitees lists a meeting's invitees in the order they were invited.
func (s *Store) Invitees(ctx context.Context, meetingID uuid.UUID) ([]Invitee, error) {
	invs, err := all[Invitee](s.pool.Query(ctx,
		`SELECT `+inviteeColumns+` FROM invitees WHERE meeting_id = $1 ORDER BY created_at, id`, meetingID))
	if err != nil {
		return nil, fmt.Errorf("store: invitees of %s: %w", meetingID, err)
	}
	return invs, nil
}

// Invitee returns one invitee of a meeting.
func (s *Store) Invitee(ctx context.Context, meetingID, id uuid.UUID) (Invitee, error) {
	inv, err := one[Invitee](s.pool.Query(ctx,
		`SELECT `+inviteeColumns+` FROM invitees WHERE id = $1 AND meeting_id = $2`, id, meetingID))
	if err != nil {
		return Invitee{}, fmt.Errorf("store: invitee %s: %w", id, err)
	}
	return inv, nil
}

// RemoveInvitee uninvites someone; their link stops working.
func (s *Store) RemoveInvitee(ctx context.Context, meetingID, id uuid.UUID) error {
	err := affected(s.pool.Exec(ctx, `DELETE FROM invitees WHERE id = $1 AND meeting_id = $2`, id, meetingID))
	if err != nil {
		return fmt.Errorf("store: remove invitee %s: %w", id, err)
	}
	return nil
}

// RevokeInviteeLink stops an invitee's link from working.
func (s *Store) RevokeInviteeLink(ctx context.Context, meetingID, id uuid.UUID) error {
	err := affected(s.pool.Exec(ctx, `
		UPDATE invitees SET revoked_at = coalesce(revoked_at, now())
		WHERE id = $1 AND meeting_id = $2`, id, meetingID))
	if err != nil {
		return fmt.Errorf("store: revoke link of %s: %w", id, err)
	}
	return nil
}

// RenewInviteeLink gives an invitee a new link: the nonce changes, so every
// earlier link of theirs stops working and the new one works.
func (s *Store) RenewInviteeLink(ctx context.Context, meetingID, id uuid.UUID, nonce []byte) error {
	err := affected(s.pool.Exec(ctx, `
		UPDATE invitees SET link_nonce = $3, revoked_at = NULL
		WHERE id = $1 AND meeting_id = $2`, id, meetingID, nonce))
	if err != nil {
		return fmt.Errorf("store: renew link of %s: %w", id, err)
	}
	return nil
}

// InvitationFor returns what an invitee's link opens.
func (s *Store) InvitationFor(ctx context.Context, inviteeID uuid.UUID) (Invitation, error) {
	inv, err := one[Invitee](s.pool.Query(ctx, `SELECT `+inviteeColumns+` FROM invitees WHERE id = $1`, inviteeID))
	if err != nil {
		return Invitation{}, fmt.Errorf("store: invitation %s: %w", inviteeID, err)
	}
	m, err := s.MeetingWithHost(ctx, inv.MeetingID)
	if err != nil {
		return Invitation{}, err
	}
	return Invitation{Invitee: inv, Meeting: m.Meeting, HostName: m.HostName}, nil
}
