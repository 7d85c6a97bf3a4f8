//go:build testclock

package main

import (
	"time"

	"classmeet/internal/testclock"
)

// clock is the tests' clock: CLASSMEET_TEST_NOW, when the test that started
// this binary set it, fixes where it starts. Only a binary built with
// -tags testclock (the e2e tests') reads it; a real server cannot be told
// what time it is.
func clock() func() time.Time { return testclock.Now }
