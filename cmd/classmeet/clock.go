//go:build !testclock

package main

import "time"

// clock is the server's time source: the real time. The e2e tests build the
// binary with -tags testclock to put it on their clock instead.
func clock() func() time.Time { return time.Now }
