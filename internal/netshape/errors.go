package netshape

import "errors"

// ErrClosed is returned by a relay that has been closed.
var ErrClosed = errors.New("netshape: closed")
