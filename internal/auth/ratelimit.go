package auth

import (
	"sync"
	"time"
)

// Backoff throttles failures by key (a client address, an account at an
// address). A key may fail free times; each failure after that makes it wait
// twice as long as the one before, from base up to max. A key that stays
// quiet for max after its wait is over starts again from nothing.
//
// It limits whoever fails, not whom they fail against: keyed by address,
// an attacker's failures never make the real owner of an account wait at
// another address.
type Backoff struct {
	free      int
	base, max time.Duration

	mu        sync.Mutex
	keys      map[string]*backoffKey
	lastSweep time.Time
}

type backoffKey struct {
	failures int
	last     time.Time // of the last attempt counted
}

// NewBackoff lets a key fail free times, then waits base, 2·base, … up to max.
func NewBackoff(free int, base, max time.Duration) *Backoff {
	return &Backoff{free: free, base: base, max: max, keys: make(map[string]*backoffKey)}
}

// Try starts an attempt for key. If key must wait, it says how long and
// the attempt is not made. Otherwise the attempt counts as a failure at
// once, so that attempts made together cannot slip past the limit; one
// that succeeds is taken back with Forgive or Reset.
func (b *Backoff) Try(key string, now time.Time) (wait time.Duration, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sweep(now)
	k, found := b.keys[key]
	if !found || b.forgotten(k, now) {
		k = &backoffKey{}
		b.keys[key] = k
	}
	if until := b.until(k); now.Before(until) {
		return until.Sub(now), false
	}
	k.failures++
	k.last = now
	return 0, true
}

// Forgive takes back one attempt of key's that did not fail.
func (b *Backoff) Forgive(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if k, ok := b.keys[key]; ok {
		if k.failures--; k.failures <= 0 {
			delete(b.keys, key)
		}
	}
}

// Reset forgets all of key's failures.
func (b *Backoff) Reset(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.keys, key)
}

// until is when k may try again.
func (b *Backoff) until(k *backoffKey) time.Time {
	if k.failures < b.free {
		return k.last
	}
	wait := b.base
	for i := b.free; i < k.failures && wait < b.max; i++ {
		wait *= 2
	}
	return k.last.Add(min(wait, b.max))
}

func (b *Backoff) forgotten(k *backoffKey, now time.Time) bool {
	return !now.Before(b.until(k).Add(b.max))
}

// sweep drops forgotten keys, at most once per max, so that the map holds
// only keys seen recently.
func (b *Backoff) sweep(now time.Time) {
	if now.Sub(b.lastSweep) < b.max {
		return
	}
	b.lastSweep = now
	for key, k := range b.keys {
		if b.forgotten(k, now) {
			delete(b.keys, key)
		}
	}
}
