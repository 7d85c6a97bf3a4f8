package meeting

import "errors"

// Refusal is a client message refused; the sender is told why.
type Refusal struct {
	Code, Message string
}

func (r *Refusal) Error() string { return r.Code + ": " + r.Message }

func refuse(code, msg string) error { return &Refusal{Code: code, Message: msg} }

// ErrBadMessage wraps every reason a client message is refused as malformed.
var ErrBadMessage = errors.New("bad message")
