package web

import (
	"net/http"

	"classmeet/internal/auth"
	"classmeet/internal/store"
	"classmeet/templates"
)

var accountNotices = map[string]string{
	"profile":  "Your profile was saved.",
	"password": "Your password was changed. Your other sessions were signed out.",
}

// account shows the signed-in user's profile and password forms.
func (h *handler) account(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	v := templates.AccountView{
		Profile: templates.Form{Values: map[string]string{"name": me.User.Name, "time_zone": me.User.TimeZone}},
		Notice:  accountNotices[r.URL.Query().Get("saved")],
	}
	h.render(w, r, http.StatusOK, templates.AccountPage(page(r, "Your account"), v))
}

func (h *handler) saveProfile(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	f, err := readForm(w, r, "name", "time_zone")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	name, zone := checkName(f, "name"), checkZone(f, "time_zone")
	if !finish(&f) {
		h.render(w, r, http.StatusUnprocessableEntity, templates.AccountPage(page(r, "Your account"), templates.AccountView{Profile: f}))
		return
	}
	if err := h.store.UpdateProfile(r.Context(), me.User.ID, name, zone); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/account?saved=profile")
}

// changePassword needs the current password; it signs out every other
// session, and ends the meeting connections those sessions opened.
func (h *handler) changePassword(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	f, err := readForm(w, r, "current_password", "password", "password_confirm")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ok, err := h.passwords.Verify(r.Context(), me.User.PasswordHash, f.Value("current_password"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !ok {
		f.Errors["current_password"] = "is not your current password"
	}
	pw := checkNewPassword(f, "password", "password_confirm")
	if !finish(&f) {
		v := templates.AccountView{Profile: templates.Form{Values: map[string]string{"name": me.User.Name, "time_zone": me.User.TimeZone}}, Password: templates.Form{Errors: f.Errors, Error: f.Error}}
		h.render(w, r, http.StatusUnprocessableEntity, templates.AccountPage(page(r, "Your account"), v))
		return
	}
	hash, err := h.passwords.Hash(r.Context(), pw)
	if err == nil {
		err = h.store.SetPassword(r.Context(), me.User.ID, hash, me.SessionID)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.hub.Revoke(store.Revocation{User: me.User.ID, Keep: me.SessionID, Reason: store.RevokedPasswordChanged})
	redirect(w, r, "/account?saved=password")
}
