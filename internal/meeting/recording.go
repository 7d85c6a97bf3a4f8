package meeting

import (
	"time"
)

// Recording in the meeting's state: whether it is on, who started it, and
// everyone's answer to being recorded. The recorder itself is driven by the
// effects below; only those who accepted have their media recorded.

// Consent answers.
const (
	ConsentPending  = "pending"
	ConsentAccepted = "accepted"
	ConsentDeclined = "declined"
)

// recordingState is the recording in progress.
type recordingState struct {
	id        string
	startedAt time.Time
	by, byID  string
}

// RecordingPolicyAllowed is the meeting policy under which hosts may record.
const RecordingPolicyAllowed = "host_may_record"

func (s *State) startRecording(fx *effects, now time.Time, p *participant) error {
	switch {
	case !p.role.Can(ActRecord):
		return refuse("not_allowed", "only hosts can record the meeting")
	case s.Meeting.RecordingPolicy != RecordingPolicyAllowed:
		return refuse("not_allowed", "this meeting's settings do not allow recording; the teacher can change them on the meeting's page")
	case !s.opts.Recording:
		return refuse("unavailable", "recording is not available on this server")
	case s.recording != nil:
		return refuse("already_recording", "the meeting is already being recorded")
	}
	s.recording = &recordingState{id: s.newID(), startedAt: now, by: p.Name, byID: p.ID}
	fx.add(RecordingStarted{ID: s.recording.id, By: p.ID, ByName: p.Name, At: now})
	s.audit(fx, now, p, "started recording", nil, "")
	for _, id := range s.order {
		q := s.people[id]
		if !q.admitted || !q.role.Can(ActPublish) {
			continue
		}
		q.consent, q.consentAt = ConsentPending, time.Time{}
		if q == p {
			// Starting the recording is the starter's consent.
			s.answer(fx, now, q, true)
		}
	}
	s.recordingChanged(fx)
	return nil
}

func (s *State) stopRecording(fx *effects, now time.Time, p *participant) error {
	if err := s.may(p, ActRecord, "only hosts can stop the recording"); err != nil {
		return err
	}
	if s.recording == nil {
		return refuse("not_recording", "the meeting is not being recorded")
	}
	s.audit(fx, now, p, "stopped recording", nil, "")
	s.endRecording(fx, now)
	s.recordingChanged(fx)
	return nil
}

// endRecording stops the recording, if one is on, and forgets the answers.
func (s *State) endRecording(fx *effects, now time.Time) {
	if s.recording == nil {
		return
	}
	fx.add(RecordingStopped{ID: s.recording.id, At: now})
	s.recording = nil
	for _, q := range s.people {
		q.consent, q.consentAt = "", time.Time{}
	}
}

// RecordingFailed is the recorder's word that the recording id could not
// start, or stopped because it could not be written: it is stopped,
// everyone is told it is off, and the hosts (the starter among them) why.
func (s *State) RecordingFailed(now time.Time, id, why string) []Effect {
	if s.recording == nil || s.recording.id != id {
		return nil
	}
	var fx effects
	by := s.recording.byID
	s.audit(&fx, now, nil, "recording failed", s.people[by], why)
	s.endRecording(&fx, now)
	s.recordingChanged(&fx)
	for _, pid := range s.order {
		p := s.people[pid]
		if p.presence != PresenceAway && (pid == by || (p.presence == PresenceRoom && p.role.Can(ActRecord))) {
			fx.add(Send{To: pid, Msg: &Error{Code: "recording_failed", Message: why}})
		}
	}
	return fx
}

func (s *State) consentTo(fx *effects, now time.Time, p *participant, accept bool) error {
	switch {
	case s.recording == nil:
		return refuse("not_recording", "the meeting is not being recorded")
	case !p.role.Can(ActPublish):
		return refuse("not_allowed", "you send no media, so nothing of yours is recorded")
	}
	s.answer(fx, now, p, accept)
	fx.add(Send{To: p.ID, Msg: &Recording{RecordingStatus: s.recordingStatus(p)}})
	s.consentsChanged(fx)
	return nil
}

// answer records p's answer and tells the recorder.
func (s *State) answer(fx *effects, now time.Time, p *participant, accept bool) {
	p.consent, p.consentAt = ConsentDeclined, now
	action := "declined recording"
	if accept {
		p.consent, action = ConsentAccepted, "accepted recording"
	}
	fx.add(ConsentGiven{RecordingID: s.recording.id, Who: p.ID, Name: p.Name, Accepted: accept, At: now})
	s.audit(fx, now, p, action, nil, "")
}

// askConsent asks someone now in the room (admitted, or allowed to send
// media) while the meeting is recorded; an earlier answer stands.
func (s *State) askConsent(fx *effects, p *participant) {
	if s.recording == nil || !p.admitted || !p.role.Can(ActPublish) || p.consent != "" {
		return
	}
	p.consent = ConsentPending
	if p.presence == PresenceRoom {
		fx.add(Send{To: p.ID, Msg: &Recording{RecordingStatus: s.recordingStatus(p)}})
	}
	s.consentsChanged(fx)
}

// recordingStatus is what p is told of the recording.
func (s *State) recordingStatus(p *participant) RecordingStatus {
	if s.recording == nil {
		return RecordingStatus{}
	}
	st := RecordingStatus{Active: true, StartedAt: s.recording.startedAt.UTC().Format(time.RFC3339), By: s.recording.by}
	if p.admitted && p.role.Can(ActPublish) {
		st.Consent = p.consent
	}
	return st
}

// recordingChanged tells everyone connected, in the room and the lobby.
func (s *State) recordingChanged(fx *effects) {
	for _, id := range s.order {
		if p := s.people[id]; p.presence != PresenceAway {
			fx.add(Send{To: id, Msg: &Recording{RecordingStatus: s.recordingStatus(p)}})
		}
	}
	s.consentsChanged(fx)
}

// consentsChanged sends everyone's answers to the hosts in the room.
func (s *State) consentsChanged(fx *effects) {
	if s.recording == nil {
		return
	}
	entries := s.consentEntries()
	for _, id := range s.order {
		if p := s.people[id]; p.presence == PresenceRoom && p.role.Can(ActRecord) {
			fx.add(Send{To: id, Msg: &Consents{Entries: entries}})
		}
	}
}

func (s *State) consentEntries() []ConsentEntry {
	entries := []ConsentEntry{}
	for _, id := range s.order {
		p := s.people[id]
		if p.consent == "" {
			continue
		}
		e := ConsentEntry{Participant: p.ID, Name: p.Name, Answer: p.consent}
		if !p.consentAt.IsZero() {
			e.At = p.consentAt.UTC().Format(time.RFC3339)
		}
		entries = append(entries, e)
	}
	return entries
}

// Recording reports whether the meeting is being recorded, and since when.
func (s *State) Recording() (bool, time.Time) {
	if s.recording == nil {
		return false, time.Time{}
	}
	return true, s.recording.startedAt
}
