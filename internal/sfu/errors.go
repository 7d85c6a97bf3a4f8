package sfu

import "errors"

var (
	// ErrClosed is returned by a room or peer that has been closed.
	ErrClosed = errors.New("sfu: closed")
	// ErrSourceMismatch is an offer whose labels do not fit what its
	// m-lines carry: audio labelled as a camera, a source twice, and so on.
	ErrSourceMismatch = errors.New("sfu: offer labels do not match its media")
	// ErrTooManyMLines refuses an offer of more m-lines than anyone sends.
	ErrTooManyMLines = errors.New("sfu: too many m-lines in the offer")
	// ErrTooManyLayers refuses simulcast the SFU does not take: layers of
	// audio, more than MaxLayers, rids other than q, h and f.
	ErrTooManyLayers = errors.New("sfu: simulcast layers refused")
	// ErrNoSuchTrack is a size report for a video the peer does not receive.
	ErrNoSuchTrack = errors.New("sfu: no such track")
	// ErrBadVideoSize is a tile size out of bounds.
	ErrBadVideoSize = errors.New("sfu: video size out of bounds")
	// ErrTooManyCandidates refuses ICE candidates beyond MaxCandidates.
	ErrTooManyCandidates = errors.New("sfu: too many ICE candidates")
)
