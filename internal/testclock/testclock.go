// Package testclock is the one clock classmeet's tests take dates from, and
// the one way they wait for something to happen.
//
// Dates: a test that schedules a meeting, issues a token, opens a session or
// stamps a recording takes "now" from Now (or from a Clock started at Now),
// and so does every server the tests start. By default Now is the real time,
// as `make test` runs. Setting CLASSMEET_TEST_NOW to an RFC 3339 time fixes
// where the clock starts for the whole run:
//
//	CLASSMEET_TEST_NOW=2026-10-25T23:30:00Z go test ./internal/web/
//
// From there it advances with the monotonic time since the process started,
// so durations, timeouts and expiries still behave. scripts/test-dates.sh
// runs the date-sensitive packages at a few awkward moments (clock changes,
// year end). A process the tests start (the classmeet binary in e2e, built
// with -tags testclock) is handed the test's current time through Environ.
//
// Waiting: WaitFor polls a condition until it holds or a deadline passes.
// Deadlines are generous, because the machines that run the tests are
// shared and slow; a test never asserts that something happened within a
// short wall-clock window.
package testclock

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// EnvVar fixes the start of the test clock for a whole run (RFC 3339).
const EnvVar = "CLASSMEET_TEST_NOW"

// origin is the fixed start, if any, and the monotonic reading it belongs to.
var origin = sync.OnceValue(func() fixedStart {
	v := os.Getenv(EnvVar)
	if v == "" {
		return fixedStart{}
	}
	at, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		panic(fmt.Sprintf("testclock: %s=%q is not an RFC 3339 time: %v", EnvVar, v, err))
	}
	return fixedStart{at: at, set: true, mono: time.Now()}
})

type fixedStart struct {
	at   time.Time
	set  bool
	mono time.Time // when the process read the variable; carries a monotonic reading
}

// Now is the tests' current time: the real time, or the time CLASSMEET_TEST_NOW
// fixed plus the time elapsed since this process first asked.
func Now() time.Time {
	o := origin()
	if !o.set {
		return time.Now()
	}
	return o.at.Add(time.Since(o.mono))
}

// Fixed reports whether CLASSMEET_TEST_NOW fixed the clock for this run.
func Fixed() bool { return origin().set }

// Environ is what to add to the environment of a process a test starts so
// that its clock reads as Now does: nothing when the clock is the real time.
func Environ() []string {
	if !Fixed() {
		return nil
	}
	return []string{EnvVar + "=" + Now().UTC().Format(time.RFC3339Nano)}
}

// Clock is a clock a test moves by hand. It starts at Now and stands still
// until Set or Advance moves it. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock standing at Now.
func New() *Clock { return &Clock{now: Now()} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// WaitFor polls cond until it holds, and fails the test if it still does not
// after within. Give within generously: on a busy machine what takes
// milliseconds alone can take seconds, and media over WebRTC, with every
// test package running at once, has taken over 20 s to arrive (a minute is
// used for that). A bound that is part of what a test claims (an effect that
// must come promptly after a change) stays as tight as the claim.
func WaitFor(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	if !Poll(within, cond) {
		t.Fatalf("timed out after %v waiting for %s", within, what)
	}
}

// Poll is WaitFor for callers that cannot fail a test (a helper that reports
// an error, a goroutine): it reports whether cond came to hold within.
func Poll(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
