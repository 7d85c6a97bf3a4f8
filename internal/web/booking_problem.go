package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"classmeet/internal/schedule"
	"classmeet/internal/store"
)

// bookingProblem says why an appointment could not be booked or moved, in
// words for the family; with loc, it names the time of the appointment a
// slot clashes with (only ever one of the household's own).
func bookingProblem(err error) string {
	return bookingProblemIn(err, nil)
}

func bookingProblemIn(err error, loc *time.Location) string {
	var clash *schedule.ClashError
	at := ""
	if errors.As(err, &clash) && loc != nil {
		at = " at " + clash.With.Start.In(loc).Format("15:04")
	}
	switch {
	case errors.Is(err, store.ErrSlotTaken):
		return "Someone else booked that time a moment ago. Please pick another."
	case errors.Is(err, store.ErrAlreadyBooked):
		return "There is already an appointment with this teacher for this child on this evening (it may have been booked by the child's other household). Cancel it first to book another time, or change its time."
	case errors.Is(err, schedule.ErrOverlap):
		return fmt.Sprintf("That time overlaps your appointment%s. Please pick another.", at)
	case errors.Is(err, schedule.ErrTravelGap):
		return fmt.Sprintf("That time leaves too little time to get from your appointment%s with another teacher. Please pick another.", at)
	case errors.Is(err, errSlotPast):
		return "That time has already begun. Please pick a later one."
	case errors.Is(err, store.ErrAppointmentBegun):
		return "This appointment has already begun, so it can no longer be moved or cancelled."
	case errors.Is(err, errBookingClosed):
		return "Booking for this evening is not open, so appointments cannot be booked, moved or cancelled here. Please contact the school."
	}
	return ""
}

// bookingStatus is the status of a page that answers a refused booking.
func bookingStatus(err error) int {
	if errors.Is(err, errBookingClosed) {
		return http.StatusForbidden
	}
	return http.StatusConflict
}
