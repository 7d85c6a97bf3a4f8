package meeting

// Role is what a participant is in a meeting.
type Role string

const (
	RoleHost        Role = "host"        // the teacher who owns the meeting
	RoleParticipant Role = "participant" // everyone else
)

// Action is something a participant may be allowed to do in a meeting.
type Action string

const (
	ActPublish   Action = "publish"    // send audio, video, screen
	ActSubscribe Action = "subscribe"  // receive others' media
	ActSkipLobby Action = "skip lobby" // enter without being admitted
	ActSeeLobby  Action = "see lobby"  // see who is waiting
	ActAdmit     Action = "admit"      // admit, deny, admit all
	ActEnd       Action = "end meeting"
)

// permissions is the one table of what each role may do. Every check in the
// meeting goes through Role.Can.
var permissions = map[Role]map[Action]bool{
	RoleHost: {
		ActPublish: true, ActSubscribe: true, ActSkipLobby: true, ActSeeLobby: true, ActAdmit: true, ActEnd: true,
	},
	RoleParticipant: {
		ActPublish: true, ActSubscribe: true,
	},
}

// Can reports whether the role may do a.
func (r Role) Can(a Action) bool { return permissions[r][a] }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { _, ok := permissions[r]; return ok }
