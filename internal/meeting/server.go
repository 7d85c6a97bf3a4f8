package meeting

// ServerMessage is a message the server sends.
type ServerMessage interface{ header() *Header }

// Self describes the receiving participant.
type Self struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
}

// MeetingInfo describes the meeting.
type MeetingInfo struct {
	ID              string `json:"id"`
	Title           string `json:"title"`
	HostName        string `json:"host_name"`
	RecordingPolicy string `json:"recording_policy"`
	LobbyPolicy     string `json:"lobby_policy"`
}

// ParticipantInfo is what others see of a participant in the room.
type ParticipantInfo struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Role     Role   `json:"role"`
	Presence string `json:"presence"` // "room", or "away" while reconnecting
	Audio    bool   `json:"audio"`
	Video    bool   `json:"video"`
	Screen   bool   `json:"screen"`
	// Blocked: a host stopped it; the server forwards none of it.
	AudioBlocked  bool   `json:"audio_blocked"`
	VideoBlocked  bool   `json:"video_blocked"`
	ScreenBlocked bool   `json:"screen_blocked"`
	HandRaisedAt  string `json:"hand_raised_at"` // RFC 3339, or "" with the hand down
}

// Policy is the meeting's rules right now.
type Policy struct {
	Unmute      string `json:"unmute"`       // "self" or "ask"
	ScreenShare string `json:"screen_share"` // "hosts" or "everyone"
	Chat        bool   `json:"chat"`         // participants may write
	Locked      bool   `json:"locked"`       // nobody new may knock
}

// ChatEntry is one chat message as people see it. The sender is whoever sent
// it, as the server knows them, never what a message claims.
type ChatEntry struct {
	ID       string `json:"id"`
	From     string `json:"from"`
	FromName string `json:"from_name"`
	FromRole Role   `json:"from_role"`
	To       string `json:"to"` // "everyone" or "hosts"
	Text     string `json:"text"`
	At       string `json:"at"` // RFC 3339 with milliseconds
}

// HandEntry is one raised hand in the queue.
type HandEntry struct {
	Participant string `json:"participant"`
	Name        string `json:"name"`
	RaisedAt    string `json:"raised_at"`
}

// QualityDetail is one participant's connection figures.
type QualityDetail struct {
	Level    string  `json:"level"` // good, weak, bad
	Loss     float64 `json:"loss"`  // fraction of packets lost, 0..1, the worse direction
	RTTMs    float64 `json:"rtt_ms"`
	JitterMs float64 `json:"jitter_ms"`
}

// LobbyEntry is what hosts see of someone waiting.
type LobbyEntry struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	InviteeName string `json:"invitee_name"` // "" when not a personal link
	NameMatches bool   `json:"name_matches"` // the typed name is the invited name
	ArrivedAt   string `json:"arrived_at"`   // RFC 3339
}

// ICEServer is RTCIceServer.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Welcome answers a join or resume.
type Welcome struct {
	Header
	You          Self              `json:"you"`
	Presence     string            `json:"presence"` // "lobby" or "room"
	Resume       string            `json:"resume"`
	Meeting      MeetingInfo       `json:"meeting"`
	HostPresent  bool              `json:"host_present"`
	Participants []ParticipantInfo `json:"participants"`
	Lobby        []LobbyEntry      `json:"lobby"`
	ICEServers   []ICEServer       `json:"ice_servers"`
	Recording    RecordingStatus   `json:"recording"`
}

// RecordingStatus says whether the meeting is being recorded, and what the
// receiver answered: "pending" (asked, no answer yet), "accepted",
// "declined", or "" (not asked: in the lobby, or not sending media).
type RecordingStatus struct {
	Active    bool   `json:"active"`
	StartedAt string `json:"started_at,omitempty"` // RFC 3339
	By        string `json:"by,omitempty"`         // who started it
	Consent   string `json:"consent"`
}

// Recording tells everyone, in the room and in the lobby, that recording
// started or stopped, and asks for consent where it is needed.
type Recording struct {
	Header
	RecordingStatus
}

// ConsentEntry is one participant's answer, for hosts.
type ConsentEntry struct {
	Participant string `json:"participant"`
	Name        string `json:"name"`
	Answer      string `json:"answer"` // pending, accepted or declined
	At          string `json:"at"`     // RFC 3339, "" while pending
}

// Consents is everyone's answer to being recorded, sent to hosts whenever
// it changes while recording is on.
type Consents struct {
	Header
	Entries []ConsentEntry `json:"entries"`
}

// LobbyStatus tells someone waiting whether a host has arrived.
type LobbyStatus struct {
	Header
	HostPresent bool `json:"host_present"`
}

// Lobby is the whole lobby, sent to hosts whenever it changes.
type Lobby struct {
	Header
	Entries []LobbyEntry `json:"entries"`
}

// Admitted lets a waiting participant in: it may now start its media.
type Admitted struct {
	Header
	Participants []ParticipantInfo `json:"participants"`
}

// Denied turns a waiting participant away; the connection then closes.
type Denied struct {
	Header
	Message string `json:"message"`
}

// ParticipantJoined, ParticipantUpdated and ParticipantLeft keep everyone's
// list of who is in the room current.
type ParticipantJoined struct {
	Header
	Participant ParticipantInfo `json:"participant"`
}

type ParticipantUpdated struct {
	Header
	Participant ParticipantInfo `json:"participant"`
}

type ParticipantLeft struct {
	Header
	ParticipantID string `json:"participant_id"`
}

// TrackInfo names the participant and source behind a subscribed track.
type TrackInfo struct {
	Participant string `json:"participant"`
	Source      string `json:"source"`
}

// ServerOffer is the server's offer on the client's receiving PeerConnection;
// Tracks says, by mid, whose media each m-line carries.
type ServerOffer struct {
	Header
	PC     string               `json:"pc"`
	SDP    string               `json:"sdp"`
	Tracks map[string]TrackInfo `json:"tracks"`
}

// VideoPaused lists the videos the server holds back from this participant
// because its link cannot carry even their lowest layer (audio first): all
// of them, or none. Each resumes at a keyframe when the link allows.
type VideoPaused struct {
	Header
	Tracks []TrackInfo `json:"tracks"`
}

// ServerAnswer answers the client's publishing offer.
type ServerAnswer struct {
	Header
	PC  string `json:"pc"`
	SDP string `json:"sdp"`
}

// Ended says the meeting is over; the connection then closes.
type Ended struct {
	Header
	Reason string `json:"reason"`
}

// You tells a participant what the meeting lets them do now.
type You struct {
	Header
	Role          Role   `json:"role"`
	AudioBlocked  bool   `json:"audio_blocked"`  // a host stopped your microphone
	VideoBlocked  bool   `json:"video_blocked"`  // a host stopped your camera
	ScreenBlocked bool   `json:"screen_blocked"` // a host stopped your screen share
	MayUnmute     bool   `json:"may_unmute"`     // you may turn your microphone back on
	MayVideo      bool   `json:"may_video"`      // you may turn your camera back on
	MayShare      bool   `json:"may_share"`      // you may share your screen
	MayChat       bool   `json:"may_chat"`
	HandRaised    bool   `json:"hand_raised"`
	By            string `json:"by"` // who changed it, if a host did
}

// PolicyChanged is the meeting's rules, sent on entering and on every change.
type PolicyChanged struct {
	Header
	Policy Policy `json:"policy"`
}

// AskedToUnmute is a host's request to turn the microphone back on.
type AskedToUnmute struct {
	Header
	By string `json:"by"`
}

// Removed tells a participant a host removed them; the socket then closes.
type Removed struct {
	Header
	Banned bool `json:"banned"`
}

// SentToLobby tells a participant a host moved them back to the lobby.
type SentToLobby struct{ Header }

// ChatMessage is one new message.
type ChatMessage struct {
	Header
	Message ChatEntry `json:"message"`
}

// ChatHistory is every message the receiver may see, oldest first.
type ChatHistory struct {
	Header
	Messages []ChatEntry `json:"messages"`
}

// ChatDeleted removes a message.
type ChatDeleted struct {
	Header
	ID string `json:"id"`
}

// Hands is the queue of raised hands, first raised first.
type Hands struct {
	Header
	Queue []HandEntry `json:"queue"`
}

// Reaction shows a participant's quick reaction.
type Reaction struct {
	Header
	Participant string `json:"participant"`
	Reaction    string `json:"reaction"`
}

// Quality is everyone's connection quality; hosts also get the figures.
type Quality struct {
	Header
	Levels  map[string]string        `json:"levels"`
	Details map[string]QualityDetail `json:"details"`
}

// Error refuses one client message (InReplyTo is its seq) or explains why
// the connection is about to close.
type Error struct {
	Header
	Code      string `json:"code"`
	Message   string `json:"message"`
	InReplyTo uint64 `json:"in_reply_to,omitempty"`
}

// AppointmentStatus tells a family about its appointment on a parents'
// evening: waiting (in the lobby, with the start expected now that the
// teacher may run late), running (in the call, until EndsAt) or over (moved
// out; the connection then closes with reason appointment_over). It says
// nothing of any other family. Times are RFC 3339; Now is the server's
// time, to count down by whatever the client's clock says.
type AppointmentStatus struct {
	Header
	Status     string `json:"status"` // waiting, running, over
	Teacher    string `json:"teacher"`
	StartsAt   string `json:"starts_at"`   // planned
	ExpectedAt string `json:"expected_at"` // expected (waiting) or actual (running) start
	EndsAt     string `json:"ends_at"`     // expected end; while running, the call's end
	Now        string `json:"now"`
}

// TimetableEntry is one appointment as the teacher sees it.
type TimetableEntry struct {
	Booking    string `json:"booking"`
	Family     string `json:"family"`
	Students   string `json:"students"`
	StartsAt   string `json:"starts_at"`   // planned
	EndsAt     string `json:"ends_at"`     // planned; for the current one the call's end
	ExpectedAt string `json:"expected_at"` // expected start; actual for the current one
	StartedAt  string `json:"started_at,omitempty"`
	Waiting    bool   `json:"waiting"` // someone of it is in the lobby
}

// TimetableStatus is the timetable of a parents' evening room, sent to the
// teacher whenever it changes.
type TimetableStatus struct {
	Header
	Current     *TimetableEntry  `json:"current"` // null between appointments
	Next        []TimetableEntry `json:"next"`    // still to come, in order
	NoShows     []TimetableEntry `json:"no_shows"`
	MinutesLate int              `json:"minutes_late"`
	CanExtend   bool             `json:"can_extend"` // extend would delay no one
	Now         string           `json:"now"`
}

// WrapUp tells both sides of an appointment that it ends in a minute.
type WrapUp struct {
	Header
	EndsAt  string `json:"ends_at"`
	Booking string `json:"booking,omitempty"` // to the teacher
}
