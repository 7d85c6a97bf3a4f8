package auth

import "errors"

// ErrInvalidToken is every way a token can be wrong.
var ErrInvalidToken = errors.New("invalid or expired token")
