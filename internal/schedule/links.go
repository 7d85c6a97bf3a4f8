package schedule

import (
	"time"

	"classmeet/internal/store"
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

// CheckJoin says whether an invitation may enter its meeting now: the link
// works, its holder was not removed for good, the host has not ended the
// meeting, and it is not locked.
func CheckJoin(inv store.Invitation, validity time.Duration, now time.Time) error {
	if err := CheckLink(inv, validity, now); err != nil {
		return err
	}
	switch {
	case inv.Invitee.BannedAt != nil:
		return ErrRemoved
	case inv.Meeting.Ended():
		return ErrMeetingEnded
	case inv.Meeting.LockedAt != nil:
		return ErrLocked
	}
	return nil
}
