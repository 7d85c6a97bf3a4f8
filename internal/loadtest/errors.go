package loadtest

import "errors"

var (
	// ErrConfig is a configuration the load generator cannot run.
	ErrConfig = errors.New("loadtest: bad configuration")
	// ErrRefused is the server refusing a step of the join path.
	ErrRefused = errors.New("loadtest: refused by the server")
	// ErrNoMedia is a participant that never got the media it waited for.
	ErrNoMedia = errors.New("loadtest: no media")
)
