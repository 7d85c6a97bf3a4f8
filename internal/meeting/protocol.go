package meeting

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The signaling protocol: JSON text messages over one WebSocket per
// participant, each with a "type" and the sender's "seq" (1, 2, 3, ... per
// connection). docs/protocol.md describes every message.

// Header is in every message.
type Header struct {
	Type string `json:"type"`
	Seq  uint64 `json:"seq"`
}

func (h *Header) header() *Header { return h }

// Sequence is the sender's sequence number of the message.
func (h *Header) Sequence() uint64 { return h.Seq }

// ClientMessage is a message a client sends.
type ClientMessage interface {
	Sequence() uint64
	header() *Header
	validate() error
}

// Limits on what clients send.
const (
	MaxMessageBytes = 64 << 10
	maxSDPBytes     = 60 << 10
	maxCandidate    = 1024
	maxTracks       = 8
	maxDenyMessage  = 500
	maxTokenBytes   = 4096
)

// Join is the first message of a new participant: the join token from the
// pre-join page.
type Join struct {
	Header
	Token string `json:"token"`
}

// Resume is the first message of a reconnecting participant: the secret
// from its welcome. KeepMedia says whether the client still has its
// PeerConnections (a network blip) or made new ones (a page reload).
type Resume struct {
	Header
	Resume    string `json:"resume"`
	KeepMedia bool   `json:"keep_media"`
}

// Offer is the client's offer on its publishing PeerConnection. Tracks maps
// the mid of each sending m-line to its source: microphone, camera, screen
// or screen_audio.
type Offer struct {
	Header
	PC     string            `json:"pc"`
	SDP    string            `json:"sdp"`
	Tracks map[string]string `json:"tracks"`
}

// Answer is the client's answer to a server offer on its receiving PeerConnection.
type Answer struct {
	Header
	PC  string `json:"pc"`
	SDP string `json:"sdp"`
}

// Candidate is one of the client's ICE candidates.
type Candidate struct {
	Header
	PC        string        `json:"pc"`
	Candidate CandidateInit `json:"candidate"`
}

// CandidateInit is RTCIceCandidateInit.
type CandidateInit struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex"`
	UsernameFragment *string `json:"usernameFragment"`
}

// RestartICE asks for a new server offer with fresh ICE credentials.
type RestartICE struct{ Header }

// MediaState tells others whether the sender's microphone and camera are on.
type MediaState struct {
	Header
	Audio  bool `json:"audio"`
	Video  bool `json:"video"`
	Screen bool `json:"screen"`
}

// Admit lets a participant in from the lobby.
type Admit struct {
	Header
	Participant string `json:"participant"`
}

// Deny turns a participant in the lobby away, with an optional message.
type Deny struct {
	Header
	Participant string `json:"participant"`
	Message     string `json:"message"`
}

// AdmitAll lets everyone in the lobby in.
type AdmitAll struct{ Header }

// EndMeeting ends the meeting for everyone.
type EndMeeting struct{ Header }

// Leave is the sender leaving for good.
type Leave struct{ Header }

// Media kinds a host can stop: a participant's microphone, camera or screen.
const (
	KindAudio  = "audio"
	KindVideo  = "video"
	KindScreen = "screen"
)

// Mute stops a participant's audio, video or screen for everyone: the server
// stops forwarding it, whatever their client keeps sending.
type Mute struct {
	Header
	Participant string `json:"participant"`
	Kind        string `json:"kind"`
}

// MuteAll stops everyone's audio or video, hosts and co-hosts excepted.
type MuteAll struct {
	Header
	Kind string `json:"kind"`
}

// AskUnmute asks a participant to turn their microphone back on; they may
// accept or ignore it. (No one can turn another's microphone on.)
type AskUnmute struct {
	Header
	Participant string `json:"participant"`
}

// Allow lets a participant who was stopped turn audio or video back on when
// the meeting makes them ask (allowing audio lowers their hand).
type Allow struct {
	Header
	Participant string `json:"participant"`
	Kind        string `json:"kind"`
}

// SetRole makes a participant a co-host, a participant or an observer.
type SetRole struct {
	Header
	Participant string `json:"participant"`
	Role        Role   `json:"role"`
}

// Remove takes a participant out of the meeting; with Ban their link stops
// letting them back in.
type Remove struct {
	Header
	Participant string `json:"participant"`
	Ban         bool   `json:"ban"`
}

// SendToLobby moves a participant from the room back to the lobby.
type SendToLobby struct {
	Header
	Participant string `json:"participant"`
}

// Lock stops (or lets) anyone new knock.
type Lock struct {
	Header
	Locked bool `json:"locked"`
}

// SetPolicy changes the meeting's rules for now; omitted fields stay.
type SetPolicy struct {
	Header
	Unmute      *string `json:"unmute"`       // "self" or "ask"
	ScreenShare *string `json:"screen_share"` // "hosts" or "everyone"
	Chat        *bool   `json:"chat"`         // participants may write
}

// Chat writes to the room ("everyone") or privately to the hosts ("hosts").
type Chat struct {
	Header
	Text string `json:"text"`
	To   string `json:"to"`
}

// DeleteChat removes a message for everyone.
type DeleteChat struct {
	Header
	ID string `json:"id"`
}

// RaiseHand and LowerHand put the sender's hand up and down; a host may
// lower someone else's (Participant) or everyone's (LowerAllHands).
type RaiseHand struct{ Header }

type LowerHand struct {
	Header
	Participant string `json:"participant"` // "" for one's own
}

type LowerAllHands struct{ Header }

// React shows a quick reaction on the sender's tile for a few seconds.
type React struct {
	Header
	Reaction string `json:"reaction"`
}

// StartRecording starts recording the meeting (hosts, where the meeting's
// recording policy allows it).
type StartRecording struct{ Header }

// StopRecording stops the recording.
type StopRecording struct{ Header }

// Consent is the sender's answer to being recorded. It may be changed:
// declining later stops the recording of the sender's media.
type Consent struct {
	Header
	Accept bool `json:"accept"`
}

// reactions are the quick reactions there are.
var reactions = map[string]bool{"thumbs_up": true, "clap": true, "heart": true, "laugh": true, "wave": true}

// MaxChatRunes is the longest chat message.
const MaxChatRunes = 2000

var clientTypes = map[string]func() ClientMessage{
	"join":        func() ClientMessage { return &Join{} },
	"resume":      func() ClientMessage { return &Resume{} },
	"offer":       func() ClientMessage { return &Offer{} },
	"answer":      func() ClientMessage { return &Answer{} },
	"candidate":   func() ClientMessage { return &Candidate{} },
	"restart_ice": func() ClientMessage { return &RestartICE{} },
	"media_state": func() ClientMessage { return &MediaState{} },
	"admit":       func() ClientMessage { return &Admit{} },
	"deny":        func() ClientMessage { return &Deny{} },
	"admit_all":   func() ClientMessage { return &AdmitAll{} },
	"end_meeting": func() ClientMessage { return &EndMeeting{} },
	"leave":       func() ClientMessage { return &Leave{} },

	"mute":            func() ClientMessage { return &Mute{} },
	"mute_all":        func() ClientMessage { return &MuteAll{} },
	"ask_unmute":      func() ClientMessage { return &AskUnmute{} },
	"allow":           func() ClientMessage { return &Allow{} },
	"set_role":        func() ClientMessage { return &SetRole{} },
	"remove":          func() ClientMessage { return &Remove{} },
	"send_to_lobby":   func() ClientMessage { return &SendToLobby{} },
	"lock":            func() ClientMessage { return &Lock{} },
	"set_policy":      func() ClientMessage { return &SetPolicy{} },
	"chat":            func() ClientMessage { return &Chat{} },
	"delete_chat":     func() ClientMessage { return &DeleteChat{} },
	"raise_hand":      func() ClientMessage { return &RaiseHand{} },
	"lower_hand":      func() ClientMessage { return &LowerHand{} },
	"lower_all_hands": func() ClientMessage { return &LowerAllHands{} },
	"react":           func() ClientMessage { return &React{} },
	"start_recording": func() ClientMessage { return &StartRecording{} },
	"stop_recording":  func() ClientMessage { return &StopRecording{} },
	"consent":         func() ClientMessage { return &Consent{} },
}

// ErrBadMessage wraps every reason a client message is refused as malformed.
var ErrBadMessage = errors.New("bad message")

// DecodeClient decodes and checks one client message.
func DecodeClient(data []byte) (ClientMessage, error) {
	if len(data) > MaxMessageBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrBadMessage, MaxMessageBytes)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: not UTF-8 text", ErrBadMessage)
	}
	var peek struct {
		Type string `json:"type"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&peek); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object with a \"type\"", ErrBadMessage)
	}
	mk, ok := clientTypes[peek.Type]
	if !ok {
		return nil, fmt.Errorf("%w: unknown type %q", ErrBadMessage, peek.Type)
	}
	m := mk()
	if err := strictUnmarshal(data, m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadMessage, peek.Type, err)
	}
	if m.header().Type != peek.Type {
		return nil, fmt.Errorf("%w: the key \"type\" must be spelled exactly so", ErrBadMessage)
	}
	if m.header().Seq == 0 {
		return nil, fmt.Errorf("%w: %s: \"seq\" must be a positive number", ErrBadMessage, peek.Type)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadMessage, peek.Type, err)
	}
	return m, nil
}

var clientTypeNames = func() map[string]string {
	m := map[string]string{}
	for t, mk := range clientTypes {
		m[fmt.Sprintf("%T", mk())] = t
	}
	return m
}()

// EncodeClient encodes a client message with its type (for Go clients and tests).
func EncodeClient(m ClientMessage) ([]byte, error) {
	m.header().Type = clientTypeNames[fmt.Sprintf("%T", m)]
	return json.Marshal(m)
}

func (m *Join) validate() error {
	if m.Token == "" || len(m.Token) > maxTokenBytes {
		return errors.New("\"token\" is required")
	}
	return nil
}

func (m *Resume) validate() error {
	if m.Resume == "" || len(m.Resume) > 256 {
		return errors.New("\"resume\" is required")
	}
	return nil
}

func (m *Offer) validate() error {
	if m.PC != PCPublish {
		return fmt.Errorf("clients offer only on %q", PCPublish)
	}
	if err := checkSDP(m.SDP); err != nil {
		return err
	}
	if len(m.Tracks) > maxTracks {
		return fmt.Errorf("at most %d tracks", maxTracks)
	}
	seen := map[string]bool{}
	for mid, s := range m.Tracks {
		if mid == "" || len(mid) > 32 {
			return errors.New("a mid must be 1 to 32 bytes")
		}
		if !validSource(s) {
			return fmt.Errorf("track %q: source %q is not microphone, camera, screen or screen_audio", mid, s)
		}
		if seen[s] {
			return fmt.Errorf("source %q is offered twice", s)
		}
		seen[s] = true
	}
	return nil
}

func (m *Answer) validate() error {
	if m.PC != PCSubscribe {
		return fmt.Errorf("clients answer only on %q", PCSubscribe)
	}
	return checkSDP(m.SDP)
}

func (m *Candidate) validate() error {
	if m.PC != PCPublish && m.PC != PCSubscribe {
		return fmt.Errorf("\"pc\" must be %q or %q", PCPublish, PCSubscribe)
	}
	if len(m.Candidate.Candidate) > maxCandidate {
		return errors.New("candidate too long")
	}
	return nil
}

func (m *Deny) validate() error {
	if err := checkID(m.Participant); err != nil {
		return err
	}
	if utf8.RuneCountInString(m.Message) > maxDenyMessage {
		return fmt.Errorf("\"message\" must be at most %d characters", maxDenyMessage)
	}
	return nil
}

func (m *Admit) validate() error         { return checkID(m.Participant) }
func (m *AskUnmute) validate() error     { return checkID(m.Participant) }
func (m *SendToLobby) validate() error   { return checkID(m.Participant) }
func (m *Remove) validate() error        { return checkID(m.Participant) }
func (m *Lock) validate() error          { return nil }
func (m *RaiseHand) validate() error     { return nil }
func (m *LowerAllHands) validate() error { return nil }

func (m *Mute) validate() error {
	if err := checkID(m.Participant); err != nil {
		return err
	}
	return checkKind(m.Kind, true)
}

func (m *MuteAll) validate() error { return checkKind(m.Kind, false) }

func (m *Allow) validate() error {
	if err := checkID(m.Participant); err != nil {
		return err
	}
	return checkKind(m.Kind, true)
}

// The two PeerConnections of a participant: the client offers on "pub" and
// the server answers; the server offers on "sub" and the client answers.
const (
	PCPublish   = "pub"
	PCSubscribe = "sub"
)

// The sources a published track may carry.
const (
	SourceMicrophone  = "microphone"
	SourceCamera      = "camera"
	SourceScreen      = "screen"
	SourceScreenAudio = "screen_audio"
)

func validSource(s string) bool {
	switch s {
	case SourceMicrophone, SourceCamera, SourceScreen, SourceScreenAudio:
		return true
	}
	return false
}

func checkKind(kind string, screen bool) error {
	if kind == KindAudio || kind == KindVideo || (screen && kind == KindScreen) {
		return nil
	}
	if screen {
		return fmt.Errorf("\"kind\" must be audio, video or screen, not %q", kind)
	}
	return fmt.Errorf("\"kind\" must be audio or video, not %q", kind)
}

func (m *SetRole) validate() error {
	if err := checkID(m.Participant); err != nil {
		return err
	}
	if m.Role != RoleCohost && m.Role != RoleParticipant && m.Role != RoleObserver {
		return fmt.Errorf("\"role\" must be cohost, participant or observer, not %q", m.Role)
	}
	return nil
}

func (m *SetPolicy) validate() error {
	if m.Unmute != nil && *m.Unmute != "self" && *m.Unmute != "ask" {
		return fmt.Errorf("\"unmute\" must be self or ask, not %q", *m.Unmute)
	}
	if m.ScreenShare != nil && *m.ScreenShare != "hosts" && *m.ScreenShare != "everyone" {
		return fmt.Errorf("\"screen_share\" must be hosts or everyone, not %q", *m.ScreenShare)
	}
	return nil
}

func (m *Chat) validate() error {
	if m.To != "everyone" && m.To != "hosts" {
		return fmt.Errorf("\"to\" must be everyone or hosts, not %q", m.To)
	}
	text := strings.TrimSpace(m.Text)
	switch {
	case text == "":
		return errors.New("\"text\" is empty")
	case utf8.RuneCountInString(text) > MaxChatRunes:
		return fmt.Errorf("\"text\" must be at most %d characters", MaxChatRunes)
	case strings.ContainsFunc(text, func(r rune) bool { return (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f }):
		return errors.New("\"text\" must not contain control characters")
	}
	return nil
}

func (m *DeleteChat) validate() error {
	if len(m.ID) == 0 || len(m.ID) > 64 {
		return errors.New("\"id\" is required")
	}
	return nil
}

func (m *LowerHand) validate() error {
	if len(m.Participant) > 64 {
		return errors.New("\"participant\" is too long")
	}
	return nil
}

func (m *React) validate() error {
	if !reactions[m.Reaction] {
		return fmt.Errorf("\"reaction\" %q is not one of thumbs_up, clap, heart, laugh, wave", m.Reaction)
	}
	return nil
}
func (m *RestartICE) validate() error     { return nil }
func (m *StartRecording) validate() error { return nil }
func (m *StopRecording) validate() error  { return nil }
func (m *Consent) validate() error        { return nil }
func (m *MediaState) validate() error     { return nil }
func (m *AdmitAll) validate() error       { return nil }
func (m *EndMeeting) validate() error     { return nil }
func (m *Leave) validate() error          { return nil }

func checkSDP(sdp string) error {
	if len(sdp) == 0 || len(sdp) > maxSDPBytes {
		return fmt.Errorf("\"sdp\" must be 1 to %d bytes", maxSDPBytes)
	}
	if !bytes.HasPrefix([]byte(sdp), []byte("v=0")) {
		return errors.New("\"sdp\" is not a session description")
	}
	return nil
}

func checkID(id string) error {
	if len(id) == 0 || len(id) > 64 {
		return errors.New("\"participant\" is required")
	}
	return nil
}

// Server messages. Every one has a "type" and the server's "seq" for this
// connection, set when it is sent.

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

var serverTypes = map[string]func() ServerMessage{
	"welcome":             func() ServerMessage { return &Welcome{} },
	"lobby_status":        func() ServerMessage { return &LobbyStatus{} },
	"lobby":               func() ServerMessage { return &Lobby{} },
	"admitted":            func() ServerMessage { return &Admitted{} },
	"denied":              func() ServerMessage { return &Denied{} },
	"participant_joined":  func() ServerMessage { return &ParticipantJoined{} },
	"participant_updated": func() ServerMessage { return &ParticipantUpdated{} },
	"participant_left":    func() ServerMessage { return &ParticipantLeft{} },
	"offer":               func() ServerMessage { return &ServerOffer{} },
	"answer":              func() ServerMessage { return &ServerAnswer{} },
	"ended":               func() ServerMessage { return &Ended{} },
	"error":               func() ServerMessage { return &Error{} },
	"you":                 func() ServerMessage { return &You{} },
	"policy":              func() ServerMessage { return &PolicyChanged{} },
	"asked_to_unmute":     func() ServerMessage { return &AskedToUnmute{} },
	"removed":             func() ServerMessage { return &Removed{} },
	"sent_to_lobby":       func() ServerMessage { return &SentToLobby{} },
	"chat":                func() ServerMessage { return &ChatMessage{} },
	"chat_history":        func() ServerMessage { return &ChatHistory{} },
	"chat_deleted":        func() ServerMessage { return &ChatDeleted{} },
	"hands":               func() ServerMessage { return &Hands{} },
	"reaction":            func() ServerMessage { return &Reaction{} },
	"quality":             func() ServerMessage { return &Quality{} },
	"recording":           func() ServerMessage { return &Recording{} },
	"consents":            func() ServerMessage { return &Consents{} },
}

var serverTypeNames = func() map[string]string {
	m := map[string]string{}
	for t, mk := range serverTypes {
		m[fmt.Sprintf("%T", mk())] = t
	}
	return m
}()

// EncodeServer encodes a server message with its type and seq.
func EncodeServer(m ServerMessage, seq uint64) ([]byte, error) {
	h := m.header()
	h.Type, h.Seq = serverTypeNames[fmt.Sprintf("%T", m)], seq
	if h.Type == "" {
		return nil, fmt.Errorf("meeting: %T is not a server message", m)
	}
	return json.Marshal(m)
}

// DecodeServer decodes a server message (for Go clients and tests).
func DecodeServer(data []byte) (ServerMessage, error) {
	var peek Header
	if err := json.Unmarshal(data, &peek); err != nil {
		return nil, err
	}
	mk, ok := serverTypes[peek.Type]
	if !ok {
		return nil, fmt.Errorf("meeting: unknown server message %q", peek.Type)
	}
	m := mk()
	if err := strictUnmarshal(data, m); err != nil {
		return nil, fmt.Errorf("meeting: server message %s: %w", peek.Type, err)
	}
	return m, nil
}
