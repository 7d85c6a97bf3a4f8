package store

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Outbox writes to the database in the background, in order, retrying while
// the database is unreachable, so a live meeting never waits for PostgreSQL
// and a short outage loses nothing. Writes wait in memory (at most `limit`).
type Outbox struct {
	store *Store
	log   *slog.Logger
	limit int

	mu      sync.Mutex
	queue   []outboxItem
	wake    chan struct{}
	closing chan struct{}
	done    chan struct{}

	written, dropped, retries atomic.Uint64
}

type outboxItem struct {
	what  string
	write func(context.Context, *Store) error
}

// NewOutbox starts an outbox writing to the store.
func (s *Store) NewOutbox(log *slog.Logger, limit int) *Outbox {
	o := &Outbox{store: s, log: log, limit: limit, wake: make(chan struct{}, 1), closing: make(chan struct{}), done: make(chan struct{})}
	go o.run()
	return o
}

// Add queues a write. When the queue is full the write is dropped and counted.
func (o *Outbox) Add(what string, write func(context.Context, *Store) error) {
	o.mu.Lock()
	if len(o.queue) >= o.limit {
		o.mu.Unlock()
		o.dropped.Add(1)
		o.log.Error("outbox full: a write was dropped", "what", what)
		return
	}
	o.queue = append(o.queue, outboxItem{what: what, write: write})
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Pending is how many writes wait.
func (o *Outbox) Pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.queue)
}

// Stats counts writes done, dropped (full queue or a write the database
// refused outright) and retried.
func (o *Outbox) Stats() (written, dropped, retries uint64) {
	return o.written.Load(), o.dropped.Load(), o.retries.Load()
}

func (o *Outbox) run() {
	defer close(o.done)
	backoff := 100 * time.Millisecond
	for {
		o.mu.Lock()
		var item *outboxItem
		if len(o.queue) > 0 {
			item = &o.queue[0]
		}
		o.mu.Unlock()
		if item == nil {
			select {
			case <-o.wake:
				continue
			case <-o.closing:
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := item.write(ctx, o.store)
		cancel()
		switch {
		case err == nil:
			o.written.Add(1)
			backoff = 100 * time.Millisecond
		case Unavailable(err) || ctx.Err() != nil:
			o.retries.Add(1)
			if backoff == 100*time.Millisecond {
				o.log.Warn("database unavailable; keeping writes until it returns", "pending", o.Pending(), "err", err)
			}
			select {
			case <-time.After(backoff):
			case <-o.closing:
				return
			}
			backoff = min(backoff*2, 5*time.Second)
			continue // the same item again
		default:
			o.dropped.Add(1)
			o.log.Error("outbox write refused", "what", item.what, "err", err)
		}
		o.mu.Lock()
		o.queue = o.queue[1:]
		o.mu.Unlock()
	}
}

// Close waits up to ctx for the queue to drain, then stops.
func (o *Outbox) Close(ctx context.Context) {
	for o.Pending() > 0 && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	close(o.closing)
	<-o.done
	if n := o.Pending(); n > 0 {
		o.log.Error("outbox closed with writes not done", "pending", n)
	}
}
