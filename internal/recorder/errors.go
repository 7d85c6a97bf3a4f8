package recorder

import "errors"

// ErrBusy means a recording is still being recorded or saved.
var ErrBusy = errors.New("recorder: the recording is still being saved")

// ErrClosed means the recorder is shutting down.
var ErrClosed = errors.New("recorder: shutting down")

// ErrSpoolFull means the spool has no room: a recording is not started,
// or one being written stops.
var ErrSpoolFull = errors.New("recorder: the spool is full")

// errNotRecordable marks a track whose codec the recorder cannot write.
var errNotRecordable = errors.New("recorder: codec not recordable")
