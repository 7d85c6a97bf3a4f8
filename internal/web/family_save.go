package web

import (
	"errors"
	"net/http"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/store"
	"classmeet/templates"
)

// createFamily adds a household typed by hand.
func (h *handler) createFamily(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	h.saveFamilyForm(w, r, uuid.Nil)
}

// updateFamily saves a household's hand form.
func (h *handler) updateFamily(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.saveFamilyForm(w, r, id)
}

// saveFamilyForm checks the hand form with the roster's rules and saves the
// household (id; uuid.Nil: a new one), or shows the form again with what
// is wrong.
func (h *handler) saveFamilyForm(w http.ResponseWriter, r *http.Request, id uuid.UUID) {
	f, slots, err := readFamilyForm(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ros, problems := familyRoster(f, slots)
	var rowErrs store.RowErrors
	if finish(&f) && len(problems) == 0 {
		var saved uuid.UUID
		saved, err = h.store.SaveFamily(r.Context(), id, ros, auth.NewLinkNonce, h.now())
		switch {
		case err == nil:
			redirect(w, r, "/admin/families/"+saved.String()+"?saved=1")
			return
		case errors.Is(err, store.ErrHouseholdKeyTaken):
			f.Errors["household"] = "is already the key of another household"
		case errors.As(err, &rowErrs):
			problems = rowProblems(rowErrs)
		default:
			h.fail(w, r, err)
			return
		}
	}
	if f.Error == "" {
		f.Error = "The family was not saved: please correct what is marked below."
	}
	h.renderFamily(w, r, http.StatusUnprocessableEntity, templates.FamilyView{ID: id, Form: f, ChildSlots: slots, Problems: problems})
}
