package web

import (
	"errors"
	"net/http"
	"strings"

	"classmeet/internal/auth"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
	"classmeet/templates"
)

// users lists every account for an administrator.
func (h *handler) users(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	notice := ""
	if r.URL.Query().Get("added") != "" {
		notice = "The account was added. Tell them their email and initial password."
	}
	h.renderUsers(w, r, http.StatusOK, templates.UsersView{Notice: notice})
}

func (h *handler) renderUsers(w http.ResponseWriter, r *http.Request, status int, v templates.UsersView) {
	us, err := h.store.Users(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.Users = us
	h.render(w, r, status, templates.UsersPage(page(r, "Accounts"), v))
}

// createUser adds a teacher or administrator account.
func (h *handler) createUser(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	f, err := readForm(w, r, "name", "email", "role", "time_zone", "password")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	nu := store.NewUser{Name: checkName(f, "name"), Email: strings.TrimSpace(f.Value("email")), TimeZone: checkZone(f, "time_zone")}
	if err := schedule.CheckEmail(nu.Email); err != nil {
		f.Errors["email"] = err.Error()
	}
	if nu.Role, err = store.ParseRole(f.Value("role")); err != nil {
		f.Errors["role"] = err.Error()
	}
	pw := checkNewPassword(f, "password", "")
	if finish(&f) {
		nu.PasswordHash, err = h.passwords.Hash(r.Context(), pw)
		var u store.User
		if err == nil {
			u, err = h.store.CreateUser(r.Context(), nu)
		}
		if err == nil {
			h.audit(r, me, "added "+string(u.Role)+" account", u)
		}
		if errors.Is(err, store.ErrEmailTaken) {
			f.Errors["email"] = "is already used by another account"
			finish(&f)
		} else if err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if len(f.Errors) > 0 {
		f.Values["password"] = ""
		h.renderUsers(w, r, http.StatusUnprocessableEntity, templates.UsersView{Form: f})
		return
	}
	redirect(w, r, "/admin/users?added=1")
}

func (h *handler) disableUser(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	h.setDisabled(w, r, me, true)
}

func (h *handler) enableUser(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	h.setDisabled(w, r, me, false)
}

// setDisabled disables or re-enables an account; nobody can lock themselves
// out. A disabled account's meeting connections end at once.
func (h *handler) setDisabled(w http.ResponseWriter, r *http.Request, me auth.Identity, disabled bool) {
	id, err := pathID(r, "id")
	if err == nil && id == me.User.ID {
		err = errForbidden
	}
	if err == nil {
		err = h.store.SetUserDisabled(r.Context(), id, disabled)
	}
	if err == nil && disabled {
		h.hub.Revoke(store.Revocation{User: id, Reason: store.RevokedAccountDisabled})
	}
	var u store.User
	if err == nil {
		u, err = h.store.UserByID(r.Context(), id)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	action := "enabled account"
	if disabled {
		action = "disabled account"
	}
	h.audit(r, me, action, u)
	redirect(w, r, "/admin/users")
}
