package export

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"classmeet/internal/schedule"
	"classmeet/internal/store"

	"github.com/google/uuid"
)

func TestNeutraliseCell(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+SUM(A1)": "'+SUM(A1)", "-2": "'-2", "@x": "'@x", "\tx": "'\tx", "\rx": "'\rx",
		"Mr Jones": "Mr Jones", "": "", "1=1": "1=1",
	} {
		if got := NeutraliseCell(in); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}

func TestWriteChat(t *testing.T) {
	var buf bytes.Buffer
	at := time.Date(2026, 3, 20, 16, 31, 0, 0, time.UTC)
	err := WriteChat(&buf, "Year 7", []store.ChatMessage{
		{SenderName: "Mr Jones", SenderRole: "host", Recipients: "everyone", Body: "Hello\nsecond line", SentAt: at},
		{SenderName: "Mrs Patel", SenderRole: "participant", Recipients: "hosts", Body: "<script>x</script>", SentAt: at},
		{SenderName: "Mr Jones", SenderRole: "participant", Recipients: "everyone", Body: "I am the teacher", SentAt: at},
	}, time.UTC)
	want := "Chat of Year 7\n\n[2026-03-20 16:31] Mr Jones (host): Hello\n    second line\n" +
		"[2026-03-20 16:31] Mrs Patel (participant) (to the hosts): <script>x</script>\n" +
		"[2026-03-20 16:31] Mr Jones (participant): I am the teacher\n"
	if err != nil || buf.String() != want {
		t.Errorf("chat text:\n%s", buf.String())
	}
	if strings.Count(buf.String(), "\n[") != 3 {
		t.Error("a message's newline can start a fake line")
	}
}

// TestAttendance: the attendance a meeting's visits make, and its CSV.
func TestAttendance(t *testing.T) {
	t0 := time.Date(2026, 3, 20, 16, 0, 0, 0, time.UTC)
	at := func(min int) *time.Time { x := t0.Add(time.Duration(min) * time.Minute); return &x }
	jones, patel, absent := uuid.New(), uuid.New(), uuid.New()
	teacher := uuid.New()
	invitees := []store.Invitee{
		{ID: jones, Name: "Mr Jones", Role: store.InviteeParticipant},
		{ID: patel, Name: "Mrs Patel", Role: store.InviteeParticipant},
		{ID: absent, Name: "=cmd|' /C calc'!A0", Role: store.InviteeParticipant},
	}
	visits := []store.Attendance{
		{ParticipantID: uuid.New(), UserID: &teacher, Name: "Ms Smith", Role: "host", JoinedAt: *at(0), AdmittedAt: at(0), LeftAt: at(30)},
		// Jones comes twice: 10 minutes, then 5 minutes after losing his connection.
		{ParticipantID: uuid.New(), InviteeID: &jones, Name: "Dad", Role: "participant", JoinedAt: *at(2), AdmittedAt: at(3), LeftAt: at(13)},
		{ParticipantID: uuid.New(), InviteeID: &jones, Name: "Mr Jones", Role: "participant", JoinedAt: *at(15), AdmittedAt: at(16), LeftAt: at(21)},
		// Patel waits in the lobby and is denied.
		{ParticipantID: uuid.New(), InviteeID: &patel, Name: "Priya", Role: "participant", JoinedAt: *at(4), LeftAt: at(6), LeftReason: "denied"},
	}
	lines := schedule.Attendance(invitees, visits, t0.Add(time.Hour))
	if len(lines) != 4 {
		t.Fatalf("%d lines: %+v", len(lines), lines)
	}
	if l := lines[1]; l.Name != "Mr Jones" || l.InvitedAs != "Mr Jones" || l.InRoom != 15*time.Minute || l.Visits != 2 || !l.Joined.Equal(*at(2)) || !l.Left.Equal(*at(21)) {
		t.Errorf("jones %+v", l)
	}
	if l := lines[2]; l.InRoom != 0 || !l.Came || l.InvitedAs != "Mrs Patel" {
		t.Errorf("patel %+v", l)
	}
	if l := lines[3]; l.Came || l.Joined != nil {
		t.Errorf("absent %+v", l)
	}

	var buf bytes.Buffer
	if err := WriteAttendanceCSV(&buf, lines, time.UTC); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 5 {
		t.Fatalf("csv %v %v", recs, err)
	}
	if got := recs[2]; got[0] != "Mr Jones" || got[4] != "2026-03-20 16:02" || got[5] != "2026-03-20 16:21" || got[6] != "15" || got[3] != "yes" {
		t.Errorf("jones row %q", got)
	}
	if got := recs[4]; got[0] != "'=cmd|' /C calc'!A0" || got[3] != "no" {
		t.Errorf("absent row %q: a formula was not neutralised", got)
	}
}

// TestAuditCSVWritesEachPageThrough: each page reaches the writer when
// Write returns (nothing waits in a buffer for the rest of the log), and
// the pages read back as one CSV with its header once.
func TestAuditCSVWritesEachPageThrough(t *testing.T) {
	var buf bytes.Buffer
	a, err := NewAuditCSV(&buf, time.UTC)
	if err != nil || !strings.HasPrefix(buf.String(), "When,Who,") {
		t.Fatalf("header: %v %q", err, buf.String())
	}
	at := time.Date(2026, 3, 20, 16, 31, 0, 0, time.UTC)
	for page := range 3 {
		before := buf.Len()
		if err := a.Write([]store.AuditEntry{{At: at, ActorName: "=cmd", Action: "page"}, {At: at, Action: "page"}}); err != nil {
			t.Fatal(err)
		}
		if buf.Len() == before {
			t.Fatalf("page %d not written through", page)
		}
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 7 || recs[1][1] != "'=cmd" || recs[1][0] != "2026-03-20 16:31:00 +00:00" {
		t.Errorf("csv %v: %q", err, recs)
	}
}
