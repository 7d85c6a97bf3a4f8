package meeting

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The signaling protocol: JSON text messages over one WebSocket per
// participant, each with a "type" and the sender's "seq" (1, 2, 3, ... per
// connection). docs/protocol.md describes every message.

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
	maxVideoSide    = 16384
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

// VideoSize tells the server how large the client shows another
// participant's video, in device pixels (0x0: not shown): the server sends
// it the smallest simulcast layer that covers that.
type VideoSize struct {
	Header
	Participant string `json:"participant"`
	Source      string `json:"source"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
}

// ReceiveVideo turns the video a client receives off (audio only, for a
// weak connection) or back on: camera and screen alike, as Meet's audio
// only does. On is required, so a message that says nothing changes nothing.
type ReceiveVideo struct {
	Header
	On *bool `json:"on"`
}

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

// Extend gives the appointment in progress 5 more minutes, when the next
// slot is free (a parents' evening).
type Extend struct{ Header }

// EndAppointment ends the appointment in progress now: its family is moved
// out, and the next comes in when due.
type EndAppointment struct{ Header }

// RunningLateBy moves the expected start of every appointment still to
// come by Minutes (negative: the teacher caught up).
type RunningLateBy struct {
	Header
	Minutes int `json:"minutes"`
}

// maxLateStep is the most one running_late message moves the timetable.
const maxLateStep = 60

// reactions are the quick reactions there are.
var reactions = map[string]bool{"thumbs_up": true, "clap": true, "heart": true, "laugh": true, "wave": true}

// MaxChatRunes is the longest chat message.
const MaxChatRunes = 2000

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

func (m *VideoSize) validate() error {
	if err := checkID(m.Participant); err != nil {
		return err
	}
	if m.Source != SourceCamera && m.Source != SourceScreen {
		return errors.New("\"source\" must be camera or screen")
	}
	if m.Width < 0 || m.Height < 0 || m.Width > maxVideoSide || m.Height > maxVideoSide {
		return fmt.Errorf("\"width\" and \"height\" must be 0 to %d", maxVideoSide)
	}
	return nil
}

func (m *ReceiveVideo) validate() error {
	if m.On == nil {
		return errors.New("\"on\" is required")
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
func (m *Extend) validate() error         { return nil }
func (m *EndAppointment) validate() error { return nil }

func (m *RunningLateBy) validate() error {
	if m.Minutes == 0 || m.Minutes < -maxLateStep || m.Minutes > maxLateStep {
		return fmt.Errorf("\"minutes\" must be between -%d and %d, and not 0", maxLateStep, maxLateStep)
	}
	return nil
}

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
