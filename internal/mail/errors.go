package mail

import "errors"

// ErrRefused means the mail server refused a message for good (a 5xx
// answer): it is not tried again until an admin sends it again.
var ErrRefused = errors.New("mail: the mail server refused the message")

// ErrUnsendable means a queued message cannot be made into mail (a bad
// address): trying again would not help.
var ErrUnsendable = errors.New("mail: the message cannot be sent")
