package meeting

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"classmeet/internal/sfu"
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
	if m.PC != sfu.PCPublish {
		return fmt.Errorf("clients offer only on %q", sfu.PCPublish)
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
		if !sfu.Source(s).Valid() {
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
	if m.PC != sfu.PCSubscribe {
		return fmt.Errorf("clients answer only on %q", sfu.PCSubscribe)
	}
	return checkSDP(m.SDP)
}

func (m *Candidate) validate() error {
	if m.PC != sfu.PCPublish && m.PC != sfu.PCSubscribe {
		return fmt.Errorf("\"pc\" must be %q or %q", sfu.PCPublish, sfu.PCSubscribe)
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

func (m *Admit) validate() error      { return checkID(m.Participant) }
func (m *RestartICE) validate() error { return nil }
func (m *MediaState) validate() error { return nil }
func (m *AdmitAll) validate() error   { return nil }
func (m *EndMeeting) validate() error { return nil }
func (m *Leave) validate() error      { return nil }

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

// ServerOffer is the server's offer on the client's receiving PeerConnection;
// Tracks says, by mid, whose media each m-line carries.
type ServerOffer struct {
	Header
	PC     string                   `json:"pc"`
	SDP    string                   `json:"sdp"`
	Tracks map[string]sfu.TrackInfo `json:"tracks"`
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
