package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/pgtest"
	"classmeet/internal/store"
)

// TestJoinTokenUsedOnce: a join token's id is accepted once; expired
// entries are swept, and only they.
func TestJoinTokenUsedOnce(t *testing.T) {
	st := pgtest.NewStore(t)
	ctx := context.Background()
	at := time.Date(2031, 5, 4, 10, 0, 0, 0, time.UTC)
	old, live := uuid.New(), uuid.New()
	if err := st.UseJoinToken(ctx, old, at); err != nil {
		t.Fatal(err)
	}
	if err := st.UseJoinToken(ctx, live, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.UseJoinToken(ctx, old, at); !errors.Is(err, store.ErrTokenUsed) {
		t.Fatalf("second use: %v", err)
	}
	if n, err := st.DeleteExpiredJoinTokens(ctx, at.Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if err := st.UseJoinToken(ctx, live, at.Add(time.Hour)); !errors.Is(err, store.ErrTokenUsed) {
		t.Errorf("the sweep forgot a token that had not expired: %v", err)
	}
}
