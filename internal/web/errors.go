package web

import (
	"errors"
	"fmt"

	"classmeet/internal/store"
)

// Errors handlers return for fail to turn into a status.
var (
	errForbidden  = errors.New("forbidden")
	errBadRequest = errors.New("bad request")
	errTooLarge   = errors.New("request too large")
	// errInvalidInput wraps a message about what was typed wrong.
	errInvalidInput = errors.New("invalid input")
)

// errStorage means the recording storage could not be reached.
var errStorage = errors.New("recording storage unavailable")

// errUnknownLink is a join link that never was, or was replaced by a new one.
var errUnknownLink = fmt.Errorf("unknown join link: %w", store.ErrNotFound)

var errWrongLogin = errors.New(wrongLogin)
