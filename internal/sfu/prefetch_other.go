//go:build !amd64

package sfu

// prefetchAhead asks for nothing where no prefetch instruction is wired
// in (prefetch_amd64.go).
func prefetchAhead([]*DownTrack, int) {}
