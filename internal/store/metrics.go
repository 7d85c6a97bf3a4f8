package store

import (
	"context"
	"fmt"
)

// MailQueueDepth counts the mail not sent yet: waiting to be sent (or
// retried), and given up on after retrying (until someone sends it again).
// Metrics read it at every scrape: one count over the unsent rows.
func (s *Store) MailQueueDepth(ctx context.Context) (waiting, failed int, err error) {
	err = s.pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE failed_at IS NULL), count(*) FILTER (WHERE failed_at IS NOT NULL)
		FROM mail_queue WHERE sent_at IS NULL AND cancelled_at IS NULL`).Scan(&waiting, &failed)
	if err != nil {
		return 0, 0, fmt.Errorf("store: mail queue depth: %w", err)
	}
	return waiting, failed, nil
}

// RecordingStates lists the recording states (RecordingActive, ...), the
// fixed set RecordingsByState counts.
func RecordingStates() []string {
	return []string{RecordingActive, RecordingUploading, RecordingAvailable, RecordingPartial, RecordingFailed}
}

// RecordingsByState counts the recordings in each state; every state of
// RecordingStates() is present, zero or not.
func (s *Store) RecordingsByState(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT state, count(*)::int FROM recordings GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("store: recordings by state: %w", err)
	}
	defer rows.Close()
	counts := map[string]int{}
	for _, st := range RecordingStates() {
		counts[st] = 0
	}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("store: recordings by state: %w", err)
		}
		counts[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: recordings by state: %w", err)
	}
	return counts, nil
}
