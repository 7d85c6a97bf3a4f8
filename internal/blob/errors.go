package blob

import "errors"

// ErrNotFound means no object has the key.
var ErrNotFound = errors.New("blob: not found")

// ErrMismatch means the stored copy differs from the file uploaded.
var ErrMismatch = errors.New("blob: stored copy does not match")
