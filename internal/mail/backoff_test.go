package mail

import (
	"testing"
	"time"
)

func TestRetryAfterDoublesUpToHalfAnHour(t *testing.T) {
	tests := []struct {
		failed int
		want   time.Duration
	}{
		{1, 30 * time.Second}, {2, time.Minute}, {3, 2 * time.Minute}, {4, 4 * time.Minute},
		{6, 16 * time.Minute}, {7, 30 * time.Minute}, {8, 30 * time.Minute}, {1000, 30 * time.Minute},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.failed); got != tt.want {
			t.Errorf("retryAfter(%d) = %v, want %v", tt.failed, got, tt.want)
		}
	}
}

func TestExhaustedAfterADayOfTrying(t *testing.T) {
	// The failure after which the next attempt would fall more than a day
	// after the first: 31.5 min for the first six, then every 30 min.
	last := 0
	for n := 1; n < 100; n++ {
		if exhausted(n, 24*time.Hour) {
			last = n
			break
		}
	}
	var span time.Duration
	for i := 1; i < last; i++ {
		span += retryAfter(i)
	}
	if last == 0 || span > 24*time.Hour || span < 23*time.Hour {
		t.Fatalf("gives up after failure %d, %v after the first attempt; want about a day", last, span)
	}
	if exhausted(1, 24*time.Hour) || !exhausted(1, 10*time.Second) {
		t.Error("one failure: exhausted only when the give-up time is shorter than the first retry")
	}
}
