package meeting

// Role is what a participant is in a meeting.
type Role string

const (
	RoleHost        Role = "host"        // the teacher who owns the meeting
	RoleCohost      Role = "cohost"      // promoted by a host to help run it
	RoleParticipant Role = "participant" // speaks, is seen, chats
	RoleObserver    Role = "observer"    // sees and hears only (a school leader sitting in)
)

// Action is something a participant may be allowed to do in a meeting.
type Action string

const (
	ActPublish      Action = "publish"      // send microphone and camera
	ActShareScreen  Action = "share screen" // always, whatever the meeting's policy
	ActSubscribe    Action = "subscribe"    // receive others' media
	ActSkipLobby    Action = "skip lobby"   // enter without being admitted
	ActSeeLobby     Action = "see lobby"    // see who is waiting
	ActAdmit        Action = "admit"        // admit, deny, admit all
	ActEnd          Action = "end meeting"
	ActMute         Action = "mute others"   // stop someone's audio, video or screen; ask and allow them back
	ActRemove       Action = "remove others" // remove, ban, send back to the lobby
	ActLock         Action = "lock"
	ActSetRole      Action = "set roles" // promote and demote co-hosts, make observers
	ActSetPolicy    Action = "set policy"
	ActChat         Action = "chat" // while the meeting's chat is open
	ActChatAlways   Action = "chat even when closed"
	ActModerateChat Action = "moderate chat" // delete messages
	ActRaiseHand    Action = "raise hand"
	ActLowerHands   Action = "lower others' hands"
	ActReact        Action = "react"
	ActSeeQuality   Action = "see connection details"
	ActSelfUnmute   Action = "unmute without asking" // whatever the meeting's policy
	ActRecord       Action = "record"                // start and stop recording; see who consented
	ActKeepTime     Action = "keep time"             // a parents' evening's timetable: see it (children's names too), extend, end, running late
)

// permissions is the one table of what each role may do. Every check in the
// meeting goes through Role.Can.
var permissions = map[Role]map[Action]bool{
	RoleHost: {
		ActPublish: true, ActShareScreen: true, ActSubscribe: true, ActSkipLobby: true, ActSeeLobby: true,
		ActAdmit: true, ActEnd: true, ActMute: true, ActRemove: true, ActLock: true, ActSetRole: true,
		ActSetPolicy: true, ActChat: true, ActChatAlways: true, ActModerateChat: true, ActLowerHands: true,
		ActReact: true, ActSeeQuality: true, ActSelfUnmute: true, ActRecord: true, ActKeepTime: true,
	},
	RoleCohost: {
		ActPublish: true, ActShareScreen: true, ActSubscribe: true, ActSeeLobby: true,
		ActAdmit: true, ActMute: true, ActRemove: true, ActLock: true,
		ActSetPolicy: true, ActChat: true, ActChatAlways: true, ActModerateChat: true, ActLowerHands: true,
		ActReact: true, ActSeeQuality: true, ActSelfUnmute: true, ActRecord: true,
	},
	RoleParticipant: {
		ActPublish: true, ActSubscribe: true, ActChat: true, ActRaiseHand: true, ActReact: true,
	},
	RoleObserver: {
		ActSubscribe: true,
	},
}

// Can reports whether the role may do a.
func (r Role) Can(a Action) bool { return permissions[r][a] }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { _, ok := permissions[r]; return ok }

// moderator reports whether r runs the meeting (host or co-host): they are
// never muted, removed or moved by others' mute-all.
func (r Role) moderator() bool { return r.Can(ActMute) }
