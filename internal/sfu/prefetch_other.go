//go:build !amd64

package sfu

func prefetch4(a, b, c, d uintptr) {}
