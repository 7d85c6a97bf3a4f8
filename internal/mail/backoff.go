package mail

import "time"

// The retry schedule: the first retry 30 s after a failure, each later one
// twice as long after, never more than 30 minutes apart.
const (
	firstRetry = 30 * time.Second
	maxRetry   = 30 * time.Minute
)

// retryAfter is how long to wait after a message's failed-th failure.
func retryAfter(failed int) time.Duration {
	d := firstRetry
	for i := 1; i < failed && d < maxRetry; i++ {
		d *= 2
	}
	return min(d, maxRetry)
}

// exhausted reports whether a message that failed failed times should be
// given up: its next attempt would come more than giveUp after its first.
// Counting attempts instead of reading the clock means time the server was
// stopped does not count against a message.
func exhausted(failed int, giveUp time.Duration) bool {
	var span time.Duration
	for i := 1; i <= failed; i++ {
		span += retryAfter(i)
		if span > giveUp {
			return true
		}
	}
	return false
}
