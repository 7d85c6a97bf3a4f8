package auth

import "classmeet/internal/store"

// Action is something an account may be allowed to do.
type Action string

const (
	ManageAccounts   Action = "manage accounts"
	ScheduleMeetings Action = "schedule meetings"
	// ManageRecordings: see, download and delete any meeting's recordings.
	ManageRecordings Action = "manage recordings"
	// ManageEvenings: run every parents' evening (a teacher runs only their own).
	ManageEvenings Action = "manage parents' evenings"
)

// permissions is the one table of what each account role may do.
var permissions = map[store.Role][]Action{
	store.RoleAdmin:   {ManageAccounts, ScheduleMeetings, ManageRecordings, ManageEvenings},
	store.RoleTeacher: {ScheduleMeetings},
}

// Can reports whether role may do action.
func Can(role store.Role, action Action) bool {
	for _, a := range permissions[role] {
		if a == action {
			return true
		}
	}
	return false
}
