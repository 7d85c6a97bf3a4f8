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
