package sfu

import (
	"crypto/cipher"
	"unsafe"
)

// hint is where p is, for prefetchAhead to ask for: never dereferenced, so
// it may outlive what it points to (a record ring that grew) and cost no
// more than a useless prefetch.
func hint[T any](p *T) uintptr { return uintptr(unsafe.Pointer(p)) }

// cipherState is where the state of the AEAD a is: the interface's data
// word.
func cipherState(a cipher.AEAD) uintptr {
	return uintptr((*[2]unsafe.Pointer)(unsafe.Pointer(&a))[1])
}
