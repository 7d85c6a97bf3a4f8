package templates

import (
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/store"
)

// OutboxView is the outbox page: every message of one evening or all.
type OutboxView struct {
	Mails    []store.OutboxMail
	Evenings []store.Evening // to filter by
	Evening  *uuid.UUID      // the one shown; nil: all
	SMTP     bool            // whether mail goes out by itself
	More     bool            // older messages are not shown
	Zone     *time.Location
}

// TextPart is a run of a message body: plain text, or a link.
type TextPart struct {
	Text string
	URL  string // set when the run is a link
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"']+`)

// Linkify splits text into plain runs and http(s) links, so a body can be
// shown escaped with its links clickable. Punctuation ending a sentence is
// not taken into the link.
func Linkify(text string) []TextPart {
	var parts []TextPart
	last := 0
	for _, m := range linkPattern.FindAllStringIndex(text, -1) {
		end := m[0] + len(strings.TrimRight(text[m[0]:m[1]], ".,;:!?)]"))
		u, err := url.Parse(text[m[0]:end])
		if err != nil || u.Host == "" {
			continue
		}
		if m[0] > last {
			parts = append(parts, TextPart{Text: text[last:m[0]]})
		}
		parts = append(parts, TextPart{Text: text[m[0]:end], URL: text[m[0]:end]})
		last = end
	}
	if last < len(text) {
		parts = append(parts, TextPart{Text: text[last:]})
	}
	return parts
}

func mailStatusText(s store.MailStatus) string {
	switch s {
	case store.MailSent:
		return "Sent"
	case store.MailFailing:
		return "Failing, will retry"
	case store.MailFailed:
		return "Failed"
	case store.MailCancelled:
		return "Cancelled"
	}
	return "Queued"
}

func mailStatusClass(s store.MailStatus) string {
	switch s {
	case store.MailSent:
		return "badge ok"
	case store.MailFailing:
		return "badge warn"
	case store.MailFailed:
		return "badge danger"
	}
	return "badge"
}

func eveningSelected(v OutboxView, id uuid.UUID) bool { return v.Evening != nil && *v.Evening == id }

func kindText(kind string) string { return strings.ReplaceAll(kind, "_", " ") }

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
