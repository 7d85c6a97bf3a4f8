package web

import (
	"net/http"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/store"
	"classmeet/templates"
)

// newFamily shows the empty hand form for a household.
func (h *handler) newFamily(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	form := templates.Form{Values: map[string]string{}, Errors: map[string]string{}}
	h.renderFamily(w, r, http.StatusOK, templates.FamilyView{Form: form, ChildSlots: []int{4, 4}})
}

// showFamily shows a household's hand form and booking link.
func (h *handler) showFamily(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	id, err := pathID(r, "id")
	var f store.Family
	if err == nil {
		f, err = h.store.Family(r.Context(), id)
	}
	staff, serr := h.staffAccounts(r)
	if err == nil {
		err = serr
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.FamilyView{ID: id}
	v.Form, v.ChildSlots = familyForm(f, staff)
	switch {
	case r.URL.Query().Has("saved"):
		v.Notice = "The family was saved."
	case r.URL.Query().Has("renewed"):
		v.Notice = "The household has a new booking link; the old one no longer works."
	}
	h.renderFamily(w, r, http.StatusOK, v)
}

// renderFamily renders the hand form with the staff to pick teachers from
// and, for a stored household, its booking link.
func (h *handler) renderFamily(w http.ResponseWriter, r *http.Request, status int, v templates.FamilyView) {
	var err error
	if v.Staff, err = h.staffAccounts(r); err == nil && v.ID != uuid.Nil {
		var hh store.Household
		if hh, err = h.store.Household(r.Context(), v.ID); err == nil {
			v.BookingLink = h.householdURL(hh)
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	title := "New family"
	if v.ID != uuid.Nil {
		title = "Family"
	}
	h.render(w, r, status, templates.FamilyPage(page(r, title), v))
}

// staffAccounts lists the enabled staff accounts: the teachers a child may have.
func (h *handler) staffAccounts(r *http.Request) ([]store.User, error) {
	us, err := h.store.Users(r.Context())
	staff := us[:0]
	for _, u := range us {
		if u.DisabledAt == nil {
			staff = append(staff, u)
		}
	}
	return staff, err
}
