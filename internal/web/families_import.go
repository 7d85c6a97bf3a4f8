package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"classmeet/internal/auth"
	"classmeet/internal/roster"
	"classmeet/internal/store"
	"classmeet/templates"
)

// importTimeout bounds an import's transaction: a whole school's file takes
// longer than an ordinary request's database deadline.
const importTimeout = 2 * time.Minute

// importFamilies imports the school's roster file: all of it, or nothing
// and every line that is wrong.
func (h *handler) importFamilies(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	ros, errs, err := h.readRosterUpload(w, r)
	if err == nil && len(errs) == 0 {
		ctx, cancel := context.WithTimeout(transferContext(r), importTimeout)
		defer cancel()
		var counts store.RosterCounts
		counts, err = h.store.ImportRoster(ctx, ros, auth.NewLinkNonce, h.now())
		if err == nil {
			h.log.Info("roster imported", "by", me.User.ID, "students", len(ros.Students), "households", len(ros.Households))
			h.auditImport(r, me, counts)
			h.renderFamilies(w, r, http.StatusOK, templates.ImportResult{Counts: &counts})
			return
		}
		if errors.As(err, &errs) {
			err = nil
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.renderFamilies(w, r, http.StatusUnprocessableEntity, templates.ImportResult{Errors: errs})
}

// readRosterUpload reads the uploaded file and finds every problem in it,
// its teachers' included. A file refused as a whole is one problem of no line.
func (h *handler) readRosterUpload(w http.ResponseWriter, r *http.Request) (store.Roster, store.RowErrors, error) {
	r.Body = http.MaxBytesReader(w, r.Body, roster.MaxBytes+maxFormBytes)
	file, err := uploadedFile(r, "file")
	if errors.Is(err, io.EOF) {
		return store.Roster{}, store.RowErrors{{Reason: "Choose the school's CSV file to import."}}, nil
	}
	if err != nil {
		return store.Roster{}, nil, err
	}
	ros, err := roster.Parse(file)
	var errs store.RowErrors
	switch {
	case errors.As(err, &errs):
	case errors.Is(err, roster.ErrTooLarge), errors.Is(err, roster.ErrTooManyRows), errors.Is(err, roster.ErrEmpty):
		return store.Roster{}, store.RowErrors{{Reason: capitalize(errors.Unwrap(err).Error()) + "."}}, nil
	case err != nil:
		return store.Roster{}, nil, uploadError(err)
	default:
		return ros, nil, nil // ImportRoster checks the teachers
	}
	more, err := h.store.CheckRosterTeachers(r.Context(), ros)
	errs = append(errs, more...)
	errs.Sort()
	return ros, errs, err
}

// uploadedFile is the named file of a multipart form; io.EOF if it has none.
func uploadedFile(r *http.Request, name string) (io.Reader, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errBadRequest
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			return nil, uploadError(err)
		}
		if part.FormName() == name && part.FileName() != "" {
			return part, nil
		}
	}
}

func uploadError(err error) error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return io.EOF
	case errors.As(err, &tooBig):
		return errTooLarge
	}
	return errors.Join(errBadRequest, err)
}
