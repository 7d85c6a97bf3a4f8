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

// Why a family (or staff for them) cannot book, move or cancel.
var (
	// errBookingClosed: the evening's booking window is not open.
	errBookingClosed = errors.New("booking for this evening is not open")
	// errNotBookable: the child is not the household's, the teacher does
	// not teach the child or take part, or the slot is not theirs. Said the
	// same way for each, and as "not found" to a guess.
	errNotBookable = fmt.Errorf("no such appointment to book: %w", store.ErrNotFound)
	// errSlotPast: the appointment time has already begun.
	errSlotPast = errors.New("that appointment time has already begun")
	// errTooManyGuesses: an address tried too many unknown booking links.
	errTooManyGuesses = errors.New("too many unknown links from this address")
)
