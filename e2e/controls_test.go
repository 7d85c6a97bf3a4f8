package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

// personRow selects the people-panel row of the participant named name.
func personRow(name string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('[data-testid="person"]')].find(r => r.querySelector('.person-name').textContent === %q)`, name)
}

func tile(name string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('[data-testid="tile"]')].find(t => t.querySelector('.tile-name').textContent === %q)`, name)
}

// TestClassroomControls: a teacher and two parents under ask-to-speak. The
// teacher mutes one, who cannot unmute; that parent raises a hand, the
// teacher sees it and lowers it; a chat message reaches everyone; the
// teacher removes the other parent for good; attendance lists all three.
func TestClassroomControls(t *testing.T) {
	srv := startServer(t)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	plan := store.MeetingPlan{
		Title: "Year 7 parents", StartsAt: testclock.Now(), DurationMinutes: 60, TimeZone: "UTC",
		LobbyPolicy: store.LobbyInviteesAdmitted, RecordingPolicy: store.RecordingNotAllowed, UnmutePolicy: store.UnmuteAsk,
	}
	mid, links := srv.seedMeetingPlan(t, "smith@school.example", plan, "Mr Jones", "Mrs Patel")
	chromium := newChromium(t)

	teacher := newPerson(t, chromium, "teacher")
	teacher.login(srv, "smith@school.example", teacherPW)
	teacher.enterRoom(srv.URL + "/meetings/" + mid + "/room")
	jones, patel := newPerson(t, chromium, "Mr Jones"), newPerson(t, chromium, "Mrs Patel")
	for i, p := range []*person{jones, patel} {
		p.enterRoom(srv.URL + links[i])
	}
	teacher.waitFor("see both tiles", `document.querySelectorAll('[data-testid="tile"]').length === 3`)

	// Mute Mr Jones.
	teacher.do("open the people panel", chromedp.Click(tid("people-toggle")))
	teacher.click("mute Mr Jones", personRow("Mr Jones")+`?.querySelector('[data-testid="mute-audio"]')`)
	teacher.waitFor("see Mr Jones muted", tile("Mr Jones")+`?.querySelector('.tile-state').textContent.includes('muted by host')`)
	patel.waitFor("see Mr Jones muted", tile("Mr Jones")+`?.querySelector('.tile-state').textContent.includes('muted by host')`)
	jones.waitFor("be told", `!document.querySelector('[data-testid="moderation-notice"]').hidden`)
	if got := jones.text(tid("moderation-notice")); !strings.Contains(got, "Ms Smith stopped your microphone") || !strings.Contains(got, "Raise your hand") {
		t.Errorf("Mr Jones reads %q", got)
	}
	if disabled := eval[bool](jones, `document.querySelector('[data-testid="toggle-mic"]').disabled`); !disabled {
		t.Error("Mr Jones can press Unmute under ask-to-speak")
	}
	if enabled := eval[bool](jones, `document.getElementById('preview-video').srcObject.getAudioTracks().every(t => !t.enabled)`); !enabled {
		t.Error("Mr Jones's microphone track still sends sound")
	}

	// Mr Jones raises his hand; the teacher sees the queue and lowers it.
	jones.do("raise a hand", chromedp.Click(tid("toggle-hand")))
	teacher.waitFor("see the hand", `document.querySelectorAll('[data-testid="hand"]').length === 1 && document.querySelector('[data-testid="hand"]').textContent.includes('Mr Jones')`)
	if badge := teacher.text(tid("hands-badge")); badge != "1" {
		t.Errorf("hands badge %q", badge)
	}
	// Everyone sees it on his tile; the teacher's people list puts him first.
	patel.waitFor("see the hand on his tile", `!`+tile("Mr Jones")+`?.querySelector('.tile-hand').hidden`)
	teacher.waitFor("see the hand on his tile and first among the people", `!`+tile("Mr Jones")+`?.querySelector('.tile-hand').hidden &&
		document.querySelector('[data-testid="person"]') === `+personRow("Mr Jones")+` && !`+personRow("Mr Jones")+`.querySelector('[data-testid="person-hand"]').hidden`)
	teacher.do("lower the hand", chromedp.Click(tid("lower-hand")))
	teacher.waitFor("the queue to empty", `document.querySelectorAll('[data-testid="hand"]').length === 0`)
	patel.waitFor("see the hand gone from his tile", tile("Mr Jones")+`?.querySelector('.tile-hand').hidden`)
	jones.waitFor("see his hand lowered", `document.querySelector('[data-testid="toggle-hand"]').textContent === 'Raise hand'`)

	// Chat from a parent to everyone.
	jones.do("write in the chat",
		chromedp.Click(tid("chat-toggle")),
		chromedp.SendKeys(tid("chat-text"), "Hello everyone, thank you for the report."),
		chromedp.Click(tid("chat-send")),
	)
	for _, p := range []*person{teacher, patel} {
		p.do("open the chat", chromedp.Click(tid("chat-toggle")))
		p.waitFor("read the message", `[...document.querySelectorAll('[data-testid="chat-message"]')].some(m =>
			m.querySelector('.chat-from').textContent === 'Mr Jones' && m.querySelector('.chat-role').textContent === 'participant' &&
			m.querySelector('.chat-text').textContent === 'Hello everyone, thank you for the report.')`)
	}

	// Remove Mrs Patel for good.
	teacher.do("open the people panel", chromedp.Click(tid("people-toggle")))
	teacher.do("accept the confirmation", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`))
	teacher.click("remove and ban Mrs Patel", personRow("Mrs Patel")+`?.querySelector('[data-testid="remove-ban"]')`)
	patel.do("see the removal", chromedp.WaitVisible(tid("finished")))
	if got := patel.text(tid("finished-title")); got != "You were removed from this meeting" {
		t.Errorf("Mrs Patel reads %q", got)
	}
	teacher.waitFor("her tile to go", `document.querySelectorAll('[data-testid="tile"]').length === 2`)
	st := srv.openStore(t)
	testclock.WaitFor(t, "the ban to reach the database", 20*time.Second, func() bool {
		invs, _ := st.Invitees(context.Background(), uuid.MustParse(mid))
		return slices.ContainsFunc(invs, func(i store.Invitee) bool { return i.Name == "Mrs Patel" && i.BannedAt != nil })
	})
	patel.do("try her link again", chromedp.Navigate(srv.URL+links[1]), chromedp.WaitVisible(tid("message-heading")))
	if got := patel.text(tid("message-heading")); got != "You were removed from this meeting" {
		t.Errorf("rejoin shows %q", got)
	}

	// Attendance lists all three, and its CSV has them.
	teacher.do("leave", chromedp.Click(tid("leave")), chromedp.WaitVisible(tid("finished")))
	jones.do("leave", chromedp.Click(tid("leave")), chromedp.WaitVisible(tid("finished")))
	srv.attendanceClosed(t, mid)
	teacher.do("open attendance", chromedp.Navigate(srv.URL+"/meetings/"+mid+"/attendance"), chromedp.WaitVisible(tid("attendance")))
	if n := eval[int](teacher, `document.querySelectorAll('[data-testid="attendance-row"]').length`); n != 3 {
		t.Errorf("%d attendance rows, want 3", n)
	}
	csv := eval[string](teacher, `fetch(document.querySelector('[data-testid="attendance-csv"]').href).then(r => r.text())`)
	for _, name := range []string{"Ms Smith", "Mr Jones", "Mrs Patel"} {
		if !strings.Contains(csv, name) {
			t.Errorf("the attendance CSV lacks %s:\n%s", name, csv)
		}
	}
	if !strings.HasPrefix(csv, "Name,Invited as,Role,Came,Joined,Left,Minutes in the room,Visits") {
		t.Errorf("CSV header: %q", strings.SplitN(csv, "\n", 2)[0])
	}
	events := eval[string](teacher, `document.querySelector('[data-testid="audit"]').textContent`)
	for _, want := range []string{"stopped microphone", "removed and banned", "joined"} {
		if !strings.Contains(events, want) {
			t.Errorf("the meeting's events lack %q", want)
		}
	}
}
