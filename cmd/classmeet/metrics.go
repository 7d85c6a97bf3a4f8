package main

import (
	"context"
	"log/slog"
	"time"

	"classmeet/internal/metrics"
)

// startMetrics serves Prometheus metrics on addr (CLASSMEET_METRICS_ADDR),
// if set; stop stops serving.
func startMetrics(addr string, src metrics.Sources, log *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	srv, err := metrics.Listen(addr, metrics.NewRegistry(src), log)
	if err != nil {
		return nil, err
	}
	log.Info("metrics serving", "addr", srv.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	}, nil
}
