package testclock

import (
	"sync"
	"testing"
	"time"
)

func TestClockMovesOnlyWhenMoved(t *testing.T) {
	c := New()
	start := c.Now()
	if d := start.Sub(Now()); d > 0 || d < -time.Minute {
		t.Fatalf("a new clock stands at %v, the test clock at %v", start, Now())
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Advance(time.Hour)
		}()
	}
	wg.Wait()
	if got := c.Now().Sub(start); got != 10*time.Hour {
		t.Errorf("advanced %v, want 10h", got)
	}
	at := time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC)
	c.Set(at)
	if !c.Now().Equal(at) {
		t.Errorf("set to %v, reads %v", at, c.Now())
	}
}

func TestNowAdvances(t *testing.T) {
	a := Now()
	if !Poll(10*time.Second, func() bool { return Now().After(a) }) {
		t.Fatal("the test clock does not advance")
	}
	if Fixed() != (len(Environ()) == 1) {
		t.Errorf("fixed %v, environment handed on %v", Fixed(), Environ())
	}
}

func TestPollGivesUp(t *testing.T) {
	if Poll(50*time.Millisecond, func() bool { return false }) {
		t.Error("a condition that never holds was reported as holding")
	}
}
