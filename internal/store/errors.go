package store

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

var (
	// ErrNotFound means no row matched: it does not exist, or it is not yours.
	ErrNotFound = errors.New("not found")
	// ErrEmailTaken means another account already uses that email address.
	ErrEmailTaken = errors.New("an account with that email address already exists")
	// ErrSetupDone means the first administrator has already been created.
	ErrSetupDone = errors.New("classmeet is already set up")
	// ErrTokenUsed means a join token was already used to join.
	ErrTokenUsed = errors.New("this join token was already used")
	// ErrSlotTaken means someone else booked that slot first.
	ErrSlotTaken = errors.New("that appointment was just booked by someone else")
	// ErrAlreadyBooked means the child already has an appointment with that
	// teacher on the evening.
	ErrAlreadyBooked = errors.New("there is already an appointment with this teacher for this child")
	// ErrAppointmentBegun means an appointment's time has come (or its
	// family was let in): it is history, and can no longer be moved or
	// cancelled.
	ErrAppointmentBegun = errors.New("that appointment has already begun")
	// ErrBookingsOrphaned means a change to an evening would leave booked
	// appointments without their slot.
	ErrBookingsOrphaned = errors.New("the change would leave booked appointments without their time")
	// ErrHouseholdKeyTaken means another household already has that key.
	ErrHouseholdKeyTaken = errors.New("another household already has that household key")
)

// Unavailable reports whether err means the database could not be reached
// (as opposed to refusing a query), so the caller should retry later.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Connection exceptions, and the server shutting down or starting up.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	return errors.As(err, &connErr) || errors.As(err, &netErr) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || strings.Contains(err.Error(), "conn closed")
}
