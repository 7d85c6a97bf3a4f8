package meeting

import (
	"errors"
	"testing"
)

func recordedState(t *testing.T) *State {
	t.Helper()
	s := newStateWith(Options{Grace: 60e9, Policy: Policy{Unmute: "self", ScreenShare: "hosts", Chat: true}, Recording: true})
	s.Meeting.RecordingPolicy = RecordingPolicyAllowed
	return s
}

func refusedWith(t *testing.T, err error, code string) {
	t.Helper()
	var r *Refusal
	if !errors.As(err, &r) || r.Code != code {
		t.Errorf("got %v, want a refusal %q", err, code)
	}
}

func TestRecordingNeedsPolicyRoleAndServer(t *testing.T) {
	s := recordedState(t)
	mustJoin(t, s, host)
	mustJoin(t, s, jones)
	mustHandle(t, s, "host", &Admit{Participant: "jones"})
	_, err := s.Handle(t0, "jones", &StartRecording{})
	refusedWith(t, err, "not_allowed")

	s.Meeting.RecordingPolicy = "not_allowed"
	_, err = s.Handle(t0, "host", &StartRecording{})
	refusedWith(t, err, "not_allowed")

	s.Meeting.RecordingPolicy = RecordingPolicyAllowed
	s.opts.Recording = false
	_, err = s.Handle(t0, "host", &StartRecording{})
	refusedWith(t, err, "unavailable")

	s.opts.Recording = true
	mustHandle(t, s, "host", &StartRecording{})
	_, err = s.Handle(t0, "host", &StartRecording{})
	refusedWith(t, err, "already_recording")
	_, err = s.Handle(t0, "jones", &StopRecording{})
	refusedWith(t, err, "not_allowed")
}

func TestRecordingConsent(t *testing.T) {
	s := recordedState(t)
	mustJoin(t, s, host)
	mustJoin(t, s, jones)
	mustHandle(t, s, "host", &Admit{Participant: "jones"})
	mustJoin(t, s, patel) // waits in the lobby

	fx := mustHandle(t, s, "host", &StartRecording{})
	started, ok := fx[0].(RecordingStarted)
	if !ok || started.By != "host" {
		t.Fatalf("first effect %#v", fx[0])
	}
	if !has(fx, ConsentGiven{RecordingID: started.ID, Who: "host", Name: "Ms Smith", Accepted: true, At: t0}) {
		t.Error("starting the recording is not the starter's consent")
	}
	for _, e := range fx {
		if c, ok := e.(ConsentGiven); ok && c.Who != "host" {
			t.Errorf("consent recorded for %s, who was not asked", c.Who)
		}
	}
	if r := first[*Recording](t, sent(fx, "jones")); !r.Active || r.Consent != ConsentPending || r.By != "Ms Smith" {
		t.Errorf("jones is told %+v", r)
	}
	// The lobby is told too, and not asked: nothing of theirs is sent.
	if r := first[*Recording](t, sent(fx, "patel")); !r.Active || r.Consent != "" {
		t.Errorf("the lobby is told %+v", r)
	}
	if c := first[*Consents](t, sent(fx, "host")); len(c.Entries) != 2 || c.Entries[1].Answer != ConsentPending {
		t.Errorf("host sees %+v", c.Entries)
	}

	fx = mustHandle(t, s, "jones", &Consent{Accept: false})
	if !has(fx, ConsentGiven{RecordingID: started.ID, Who: "jones", Name: "mr  JONES", Accepted: false, At: t0}) {
		t.Error("a decline is not passed on")
	}
	if c := first[*Consents](t, sent(fx, "host")); c.Entries[1].Answer != ConsentDeclined || c.Entries[1].At == "" {
		t.Errorf("host sees %+v", c.Entries)
	}

	// Admitted while recording: asked on entering; the welcome already says REC.
	fx = mustHandle(t, s, "host", &Admit{Participant: "patel"})
	if r := first[*Recording](t, sent(fx, "patel")); r.Consent != ConsentPending {
		t.Errorf("patel entering is told %+v", r)
	}
	mustJoin(t, s, Arrival{ID: "obs", Name: "Head", Role: RoleObserver, Identity: "obs"})
	fx = mustHandle(t, s, "host", &Admit{Participant: "obs"})
	if r := first[*Recording](t, sent(fx, "obs")); !r.Active || r.Consent != "" {
		t.Errorf("an observer (nothing to record) is told %+v", r)
	}
	_, err := s.Handle(t0, "obs", &Consent{Accept: true})
	refusedWith(t, err, "not_allowed")

	// Stopping tells everyone and forgets the answers.
	fx = mustHandle(t, s, "host", &StopRecording{})
	if !has(fx, RecordingStopped{ID: started.ID, At: t0}) {
		t.Error("no RecordingStopped")
	}
	for _, who := range []string{"host", "jones", "patel", "obs"} {
		if r := first[*Recording](t, sent(fx, who)); r.Active {
			t.Errorf("%s still told it is recorded", who)
		}
	}
	_, err = s.Handle(t0, "jones", &Consent{Accept: true})
	refusedWith(t, err, "not_recording")
	if w := s.welcome(s.people["jones"]); w.Recording.Active {
		t.Error("a welcome after the stop says REC")
	}
}

func TestRecordingStopsWithTheMeeting(t *testing.T) {
	s := recordedState(t)
	mustJoin(t, s, host)
	fx := mustHandle(t, s, "host", &StartRecording{})
	id := fx[0].(RecordingStarted).ID
	fx = mustHandle(t, s, "host", &Leave{})
	if !has(fx, RecordingStopped{ID: id, At: t0}) || !has(fx, Emptied{}) {
		t.Errorf("the last one leaving does not stop the recording: %#v", fx)
	}

	s = recordedState(t)
	mustJoin(t, s, host)
	fx = mustHandle(t, s, "host", &StartRecording{})
	id = fx[0].(RecordingStarted).ID
	fx = mustHandle(t, s, "host", &EndMeeting{})
	if !has(fx, RecordingStopped{ID: id, At: t0}) {
		t.Error("ending the meeting does not stop the recording")
	}
}

func TestRecordingFailedToStart(t *testing.T) {
	s := recordedState(t)
	mustJoin(t, s, host)
	fx := mustHandle(t, s, "host", &StartRecording{})
	id := fx[0].(RecordingStarted).ID
	if s.RecordingFailed(t0, "another", "x") != nil {
		t.Error("a failure of another recording changed this one")
	}
	fx = s.RecordingFailed(t0, id, "storage is down")
	if r := first[*Recording](t, sent(fx, "host")); r.Active {
		t.Error("still recording after the failure")
	}
	if e := first[*Error](t, sent(fx, "host")); e.Code != "recording_failed" || e.Message != "storage is down" {
		t.Errorf("the starter is told %+v", e)
	}
	if on, _ := s.Recording(); on {
		t.Error("Recording() after the failure")
	}
	mustHandle(t, s, "host", &StartRecording{}) // and may try again
}

// TestRecordingFailedMidway: a recording that stops because it cannot be
// written is stopped for the recorder, and every host and co-host in the
// room is told why; the others see REC go off.
func TestRecordingFailedMidway(t *testing.T) {
	s := recordedState(t)
	mustJoin(t, s, host)
	mustJoin(t, s, jones)
	mustJoin(t, s, patel)
	mustHandle(t, s, "host", &Admit{Participant: "jones"})
	mustHandle(t, s, "host", &Admit{Participant: "patel"})
	mustHandle(t, s, "host", &SetRole{Participant: "patel", Role: RoleCohost})
	fx := mustHandle(t, s, "host", &StartRecording{})
	id := fx[0].(RecordingStarted).ID
	fx = s.RecordingFailed(t0, id, "the disk is full")
	if !has(fx, RecordingStopped{ID: id, At: t0}) {
		t.Error("the recorder is not told to stop")
	}
	for _, who := range []string{"host", "patel"} {
		if e := first[*Error](t, sent(fx, who)); e.Code != "recording_failed" || e.Message != "the disk is full" {
			t.Errorf("%s is told %+v", who, e)
		}
	}
	for _, who := range []string{"host", "patel", "jones"} {
		if r := first[*Recording](t, sent(fx, who)); r.Active {
			t.Errorf("%s still sees REC", who)
		}
	}
	for _, m := range sent(fx, "jones") {
		if e, ok := m.(*Error); ok {
			t.Errorf("a parent is told %+v", e)
		}
	}
}
