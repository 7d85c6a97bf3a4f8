package schedule

import (
	"errors"
	"time"

	"classmeet/internal/store"
)

// Why a personal link no longer opens its meeting.
var (
	ErrLinkRevoked      = errors.New("this link was withdrawn by the teacher")
	ErrLinkExpired      = errors.New("this link has expired: the meeting is over")
	ErrMeetingCancelled = errors.New("this meeting was cancelled")
)

// LinkExpiry is when an invitee's link stops working: `validity` after the
// meeting is planned to end, so moving the meeting moves the expiry too.
func LinkExpiry(m store.Meeting, validity time.Duration) time.Time {
	return m.EndsAt().Add(validity)
}

// CheckLink says whether an invitation still opens its meeting at now.
func CheckLink(inv store.Invitation, validity time.Duration, now time.Time) error {
	switch {
	case inv.Invitee.RevokedAt != nil:
		return ErrLinkRevoked
	case inv.Meeting.Cancelled():
		return ErrMeetingCancelled
	case !now.Before(LinkExpiry(inv.Meeting, validity)):
		return ErrLinkExpired
	}
	return nil
}
