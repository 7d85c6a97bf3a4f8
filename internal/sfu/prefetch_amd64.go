package sfu

// prefetch4 asks the CPU to bring the cache lines at four addresses in;
// it never faults, whatever the address.
//
//go:noescape
func prefetch4(a, b, c, d uintptr)
