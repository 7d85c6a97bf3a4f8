package web

import (
	"errors"
	"net/http"
	"strings"

	"classmeet/internal/auth"
	"classmeet/internal/schedule"
	"classmeet/internal/textrule"
	"classmeet/templates"
)

// maxFormBytes bounds every form body; the longest field is a 5,000-character
// description.
const maxFormBytes = 64 << 10

// readForm parses a posted form into a templates.Form holding the named
// fields, refusing bodies over maxFormBytes.
func readForm(w http.ResponseWriter, r *http.Request, names ...string) (templates.Form, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return templates.Form{}, errTooLarge
		}
		return templates.Form{}, errBadRequest
	}
	f := templates.Form{Values: map[string]string{}, Errors: map[string]string{}}
	for _, n := range names {
		f.Values[n] = r.PostForm.Get(n)
	}
	return f, nil
}

// withErrors returns f carrying a validation error's messages per field.
func withErrors(f templates.Form, err error) templates.Form {
	var fe schedule.FieldErrors
	if errors.As(err, &fe) {
		for k, v := range fe {
			f.Errors[k] = v
		}
	} else {
		f.Error = err.Error()
	}
	if f.Error == "" {
		f.Error = "Please correct the fields marked below."
	}
	return f
}

// checkName checks a person's name as typed into a form.
func checkName(f templates.Form, field string) string {
	name, err := textrule.Name(f.Value(field))
	if err != nil {
		f.Errors[field] = err.Error()
	}
	return name
}

// checkZone checks an IANA time zone as typed into a form.
func checkZone(f templates.Form, field string) string {
	z := strings.TrimSpace(f.Value(field))
	if _, err := schedule.LoadZone(z); err != nil {
		f.Errors[field] = err.Error()
	}
	return z
}

// checkNewPassword checks a new password and its confirmation.
func checkNewPassword(f templates.Form, field, confirm string) string {
	pw := f.Value(field)
	if err := auth.CheckPasswordRules(pw); err != nil {
		f.Errors[field] = err.Error()
	} else if confirm != "" && f.Value(confirm) != pw {
		f.Errors[confirm] = "does not match the new password"
	}
	return pw
}

// finish marks f as failed when any field has an error, and reports whether it has none.
func finish(f *templates.Form) bool {
	if len(f.Errors) > 0 && f.Error == "" {
		f.Error = "Please correct the fields marked below."
	}
	return len(f.Errors) == 0 && f.Error == ""
}
