package schedule

import "errors"

// Why a personal link no longer opens its meeting.
var (
	ErrLinkRevoked      = errors.New("this link was withdrawn by the teacher")
	ErrLinkExpired      = errors.New("this link has expired: the meeting is over")
	ErrMeetingCancelled = errors.New("this meeting was cancelled")
	ErrRemoved          = errors.New("you were removed from this meeting")
	ErrLocked           = errors.New("the meeting is locked: the host is not letting anyone new in")
	ErrMeetingEnded     = errors.New("the host ended this meeting")
)

// Why an appointment cannot join a household's others.
var (
	ErrOverlap   = errors.New("it overlaps another of your appointments")
	ErrTravelGap = errors.New("it leaves too little time to move to another teacher")
)

// Why an appointments calendar cannot be written.
var (
	ErrNoAppointments = errors.New("there are no appointments to put in a calendar")
	ErrCalendarMethod = errors.New("the calendar method must be PUBLISH, REQUEST or CANCEL")
	ErrBadAppointment = errors.New("the appointment cannot go in a calendar")
)
