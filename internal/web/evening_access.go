package web

import (
	"net/http"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/store"
)

// eveningAccess is an evening and what the signed-in person may do on it.
type eveningAccess struct {
	evening  store.Evening
	teachers []store.EveningTeacher
	manage   bool                  // an administrator, or the teacher who runs it
	me       *store.EveningTeacher // the signed-in teacher, when taking part
	viewer   uuid.UUID             // the signed-in person
	allNotes bool                  // an administrator: reads every teacher's notes
}

// eveningFor loads the {id} evening for someone who runs it or takes part
// in it; to anyone else it does not exist.
func (h *handler) eveningFor(r *http.Request, me auth.Identity) (eveningAccess, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return eveningAccess{}, err
	}
	e, err := h.store.Evening(r.Context(), id)
	if err != nil {
		return eveningAccess{}, err
	}
	ts, err := h.store.EveningTeachers(r.Context(), id)
	if err != nil {
		return eveningAccess{}, err
	}
	a := eveningAccess{evening: e, teachers: ts, manage: managesEvening(me, e), viewer: me.User.ID,
		allNotes: auth.Can(me.User.Role, auth.ManageEvenings)}
	for i := range ts {
		if ts[i].TeacherID == me.User.ID {
			a.me = &ts[i]
		}
	}
	if !a.manage && a.me == nil {
		return eveningAccess{}, store.ErrNotFound
	}
	return a, nil
}

// managesEvening says whether me runs evening e: an administrator, or the
// teacher whose evening it is.
func managesEvening(me auth.Identity, e store.Evening) bool {
	return auth.Can(me.User.Role, auth.ManageEvenings) || e.OwnerID == me.User.ID
}

// managedEvening is eveningFor for those who run the evening only.
func (h *handler) managedEvening(r *http.Request, me auth.Identity) (eveningAccess, error) {
	a, err := h.eveningFor(r, me)
	if err == nil && !a.manage {
		err = store.ErrNotFound
	}
	return a, err
}

// teacher is a teacher of the evening whose schedule the signed-in person
// may see: anyone's for those who run it, their own for a teacher.
func (a eveningAccess) teacher(r *http.Request) (store.EveningTeacher, error) {
	id, err := pathID(r, "teacher")
	if err != nil {
		return store.EveningTeacher{}, err
	}
	for _, t := range a.teachers {
		if t.TeacherID == id && (a.manage || a.me != nil && a.me.TeacherID == id) {
			return t, nil
		}
	}
	return store.EveningTeacher{}, store.ErrNotFound
}

// scope is whose bookings the signed-in person sees: everyone's (uuid.Nil)
// for those who run it, their own for a teacher.
func (a eveningAccess) scope() uuid.UUID {
	if a.manage {
		return uuid.Nil
	}
	return a.me.TeacherID
}

// notesScope is whose private notes the signed-in person reads: every
// teacher's for an administrator, else only their own, also on an evening
// they run (an administrator may have added colleagues to it).
func (a eveningAccess) notesScope() uuid.UUID {
	if a.allNotes {
		return uuid.Nil
	}
	return a.viewer
}
