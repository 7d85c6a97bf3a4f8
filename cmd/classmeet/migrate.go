package main

import (
	"context"
	"io"
	"log/slog"

	"classmeet/internal/config"
	"classmeet/internal/store"
)

func migrate(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	st, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Migrate(ctx, slog.New(slog.NewTextHandler(stderr, nil)))
}

// openStore connects to DATABASE_URL for the commands that need only the database.
func openStore(ctx context.Context, getenv func(string) string) (*store.Store, error) {
	url, err := config.DatabaseURL(getenv)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, url, 2)
}
