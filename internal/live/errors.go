package live

import "errors"

// ErrMeetingGone means the meeting was cancelled or does not exist.
var ErrMeetingGone = errors.New("live: this meeting is cancelled or does not exist")
