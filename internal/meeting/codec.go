package meeting

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Header is in every message.
type Header struct {
	Type string `json:"type"`
	Seq  uint64 `json:"seq"`
}

func (h *Header) header() *Header { return h }

// Sequence is the sender's sequence number of the message.
func (h *Header) Sequence() uint64 { return h.Seq }

var clientTypes = map[string]func() ClientMessage{
	"join":        func() ClientMessage { return &Join{} },
	"resume":      func() ClientMessage { return &Resume{} },
	"offer":       func() ClientMessage { return &Offer{} },
	"answer":      func() ClientMessage { return &Answer{} },
	"candidate":   func() ClientMessage { return &Candidate{} },
	"restart_ice": func() ClientMessage { return &RestartICE{} },
	"video_size":  func() ClientMessage { return &VideoSize{} },
	"media_state": func() ClientMessage { return &MediaState{} },
	"admit":       func() ClientMessage { return &Admit{} },
	"deny":        func() ClientMessage { return &Deny{} },
	"admit_all":   func() ClientMessage { return &AdmitAll{} },
	"end_meeting": func() ClientMessage { return &EndMeeting{} },
	"leave":       func() ClientMessage { return &Leave{} },

	"receive_video":   func() ClientMessage { return &ReceiveVideo{} },
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
	"extend":          func() ClientMessage { return &Extend{} },
	"end_appointment": func() ClientMessage { return &EndAppointment{} },
	"running_late":    func() ClientMessage { return &RunningLateBy{} },
}

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
	"video_paused":        func() ServerMessage { return &VideoPaused{} },
	"recording":           func() ServerMessage { return &Recording{} },
	"consents":            func() ServerMessage { return &Consents{} },
	"appointment":         func() ServerMessage { return &AppointmentStatus{} },
	"timetable":           func() ServerMessage { return &TimetableStatus{} },
	"wrap_up":             func() ServerMessage { return &WrapUp{} },
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
