package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// ChatMessage is one message written in a meeting.
type ChatMessage struct {
	ID         uuid.UUID  `db:"id"`
	MeetingID  uuid.UUID  `db:"meeting_id"`
	SenderID   uuid.UUID  `db:"sender_id"`
	SenderName string     `db:"sender_name"`
	SenderRole string     `db:"sender_role"`
	Recipients string     `db:"recipients"` // "everyone" or "hosts"
	Body       string     `db:"body"`
	SentAt     time.Time  `db:"sent_at"`
	DeletedAt  *time.Time `db:"deleted_at"`
	DeletedBy  string     `db:"deleted_by"`
}

const chatColumns = `id, meeting_id, sender_id, sender_name, sender_role, recipients, body, sent_at, deleted_at, deleted_by`

// AddChat stores a chat message; storing it again is not an error.
func (s *Store) AddChat(ctx context.Context, m ChatMessage) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO chat_messages (id, meeting_id, sender_id, sender_name, sender_role, recipients, body, sent_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
		m.ID, m.MeetingID, m.SenderID, m.SenderName, m.SenderRole, m.Recipients, m.Body, m.SentAt)
	if err != nil {
		return fmt.Errorf("store: add chat message: %w", err)
	}
	return nil
}

// DeleteChat marks a message deleted by a host.
func (s *Store) DeleteChat(ctx context.Context, meetingID, id uuid.UUID, by string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE chat_messages SET deleted_at = coalesce(deleted_at, $3), deleted_by = $4
		WHERE id = $1 AND meeting_id = $2`, id, meetingID, at, by)
	if err != nil {
		return fmt.Errorf("store: delete chat message: %w", err)
	}
	return nil
}

// Chat lists a meeting's messages that were not deleted, oldest first.
func (s *Store) Chat(ctx context.Context, meetingID uuid.UUID) ([]ChatMessage, error) {
	ms, err := all[ChatMessage](s.pool.Query(ctx, `
		SELECT `+chatColumns+` FROM chat_messages
		WHERE meeting_id = $1 AND deleted_at IS NULL ORDER BY sent_at, id`, meetingID))
	if err != nil {
		return nil, fmt.Errorf("store: chat of %s: %w", meetingID, err)
	}
	return ms, nil
}
