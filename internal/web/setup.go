package web

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"classmeet/internal/schedule"
	"classmeet/internal/store"
	"classmeet/templates"
)

var setupFields = []string{"name", "email", "time_zone", "password", "password_confirm"}

// setupForm shows the one-time page that creates the first administrator.
func (h *handler) setupForm(w http.ResponseWriter, r *http.Request) {
	if err := h.checkSetup(r); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, templates.SetupPage(page(r, "Set up classmeet"), templates.Form{}, r.URL.Path))
}

func (h *handler) setup(w http.ResponseWriter, r *http.Request) {
	if err := h.checkSetup(r); err != nil {
		h.fail(w, r, err)
		return
	}
	f, err := readForm(w, r, setupFields...)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	nu := store.NewUser{Name: checkName(f, "name"), Email: strings.TrimSpace(f.Value("email")), TimeZone: checkZone(f, "time_zone")}
	if err := schedule.CheckEmail(nu.Email); err != nil {
		f.Errors["email"] = err.Error()
	}
	pw := checkNewPassword(f, "password", "password_confirm")
	if !finish(&f) {
		h.render(w, r, http.StatusUnprocessableEntity, templates.SetupPage(page(r, "Set up classmeet"), f, r.URL.Path))
		return
	}
	if nu.PasswordHash, err = h.passwords.Hash(r.Context(), pw); err != nil {
		h.fail(w, r, err)
		return
	}
	u, err := h.store.CreateFirstAdmin(r.Context(), nu)
	if errors.Is(err, store.ErrSetupDone) {
		h.fail(w, r, store.ErrNotFound) // someone else finished setup first
		return
	}
	if err == nil {
		err = h.auth.Login(r.Context(), w, u)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("first administrator created", "user_id", u.ID)
	redirect(w, r, "/admin/users")
}

// checkSetup accepts only this process's setup token, and only while no
// account exists.
func (h *handler) checkSetup(r *http.Request) error {
	token := r.PathValue("token")
	if h.setupToken == "" || subtle.ConstantTimeCompare([]byte(token), []byte(h.setupToken)) != 1 {
		return store.ErrNotFound
	}
	has, err := h.store.HasUsers(r.Context())
	if err != nil {
		return err
	}
	if has {
		return store.ErrNotFound // the link is spent
	}
	return nil
}
