package gopeers

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/store"
	"classmeet/internal/testclient"
	"classmeet/internal/testserver"
)

// audited reports whether the meeting's audit log has action (for target,
// if not "").
func audited(t *testing.T, s *testserver.Server, mid uuid.UUID, action, target string) bool {
	t.Helper()
	es, err := s.Store.MeetingAudit(context.Background(), mid)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Action == action && (target == "" || e.TargetID == target) {
			return true
		}
	}
	return false
}

// attendance is the meeting's visits.
func attendance(t *testing.T, s *testserver.Server, mid uuid.UUID) []store.Attendance {
	t.Helper()
	as, err := s.Store.MeetingAttendance(context.Background(), mid)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// TestShutdownClosesAttendance: SIGTERM. The hub closes with a host and a
// parent in a recorded meeting: both visits end, and the audit log says
// the recording stopped as the server shut down.
func TestShutdownClosesAttendance(t *testing.T) {
	s := testserver.Start(t, nil)
	mid, links := recordedMeeting(t, s, "Mrs Parent")
	meetingID := uuid.MustParse(mid)
	host := s.Host(t, mid, testclient.Options{})
	startRecording(t, s, host, mid)
	s.Parent(t, links[0], "Mrs Parent", testclient.Options{AutoConsent: "accept"})
	waitFor(t, "both in the room", 10*time.Second, func() bool {
		as := attendance(t, s, meetingID)
		return len(as) == 2 && as[0].AdmittedAt != nil && as[1].AdmittedAt != nil
	})

	s.Hub.Close()
	waitFor(t, "the visits to be closed", 10*time.Second, func() bool {
		for _, a := range attendance(t, s, meetingID) {
			if a.LeftAt == nil || a.LeftReason != "server shutdown" {
				return false
			}
		}
		return true
	})
	waitFor(t, "the recording's stop in the audit log", 10*time.Second, func() bool {
		return audited(t, s, meetingID, "recording stopped (server shutdown)", "")
	})
}

// TestRestartClosesAbandonedAttendance: kill -9. The server dies with a
// host and a parent in the meeting (its hub is abandoned, never closed);
// the next start closes both visits at the last time the server recorded
// them as there, and writes each to the audit log.
func TestRestartClosesAbandonedAttendance(t *testing.T) {
	s := testserver.Start(t, nil)
	mid, links := recordedMeeting(t, s, "Mrs Parent")
	meetingID := uuid.MustParse(mid)
	s.Host(t, mid, testclient.Options{})
	s.Parent(t, links[0], "Mrs Parent", testclient.Options{})
	waitFor(t, "both to be seen in the room", 10*time.Second, func() bool {
		as := attendance(t, s, meetingID)
		return len(as) == 2 && as[0].LastSeenAt != nil && as[1].LastSeenAt != nil && as[1].AdmittedAt != nil
	})

	n, err := s.Store.CloseAbandonedAttendance(context.Background(), "server restart")
	if err != nil || n != 2 {
		t.Fatalf("closed %d visits: %v", n, err)
	}
	for _, a := range attendance(t, s, meetingID) {
		if a.LeftAt == nil || a.LastSeenAt == nil || !a.LeftAt.Equal(*a.LastSeenAt) || a.LeftReason != "server restart" {
			t.Errorf("%s: left %v (last seen %v), %q", a.Role, a.LeftAt, a.LastSeenAt, a.LeftReason)
		}
		if a.AdmittedAt == nil || a.LeftAt.Before(*a.AdmittedAt) {
			t.Errorf("%s: left %v before being admitted at %v", a.Role, a.LeftAt, a.AdmittedAt)
		}
		if !audited(t, s, meetingID, "left (server restart)", a.ParticipantID.String()) {
			t.Errorf("%s: no audit entry", a.Role)
		}
	}
}
