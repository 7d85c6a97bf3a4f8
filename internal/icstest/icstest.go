// Package icstest checks calendar files strictly against RFC 5545, for
// tests. golang-ical reads back almost anything it writes, so a test that
// only parses with it cannot tell a file strict calendars would refuse.
package icstest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// Check reports on t every way b breaks RFC 5545 (see Problems).
func Check(t testing.TB, b []byte) {
	t.Helper()
	if probs := Problems(b); len(probs) > 0 {
		t.Errorf("calendar file breaks RFC 5545:\n%s\nin\n%s", strings.Join(probs, "\n"), b)
	}
}

// Problems lists how b breaks RFC 5545: lines not ending in CRLF or longer
// than 75 octets, content lines that do not parse (3.1), empty property
// or parameter values, backslash escapes in unquoted parameter values
// (3.2 has none: , ; : must be quoted), BEGIN/END out of balance, a
// VCALENDAR without VERSION or PRODID, a VEVENT without UID, DTSTAMP or
// DTSTART, a TZID with no VTIMEZONE, an ATTENDEE in a METHOD:PUBLISH
// calendar (iTIP, RFC 5546 3.2.1: a published event invites nobody).
func Problems(b []byte) []string {
	lines, probs := unfold(b)
	var cs checks
	cs.probs = probs
	for i, l := range lines {
		cs.line(i+1, l)
	}
	cs.finish()
	return cs.probs
}

// unfold splits b into content lines, checking the physical lines.
func unfold(b []byte) ([]string, []string) {
	var probs []string
	s := string(b)
	if !strings.HasSuffix(s, "\r\n") {
		probs = append(probs, "does not end in CRLF")
	}
	var lines []string
	for i, l := range strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n") {
		switch {
		case strings.ContainsAny(l, "\r\n"):
			probs = append(probs, fmt.Sprintf("physical line %d has a bare CR or LF: %q", i+1, l))
		case len(l) > 75:
			probs = append(probs, fmt.Sprintf("physical line %d is %d octets, over 75: %q", i+1, len(l), l))
		case l == "":
			probs = append(probs, fmt.Sprintf("physical line %d is empty", i+1))
		}
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(lines) > 0 {
			lines[len(lines)-1] += l[1:]
			continue
		}
		lines = append(lines, l)
	}
	return lines, probs
}

type component struct {
	name  string
	props map[string]int
}

type checks struct {
	probs  []string
	stack  []*component
	tzUsed []string
	tzDefd []string
	method string
	// attendees are the content lines of ATTENDEE properties; METHOD
	// may come after them, so they are judged at the end.
	attendees []int
	ended     bool
}

func (c *checks) addf(format string, args ...any) {
	c.probs = append(c.probs, fmt.Sprintf(format, args...))
}

func (c *checks) line(n int, l string) {
	name, params, value, err := parseLine(l)
	if err != nil {
		c.addf("content line %d: %v: %q", n, err, l)
		return
	}
	if value == "" {
		c.addf("content line %d: empty value: %q", n, l)
	}
	for k, vs := range params {
		if k == "TZID" {
			c.tzUsed = append(c.tzUsed, vs...)
		}
	}
	if c.ended {
		c.addf("content line %d after END:VCALENDAR: %q", n, l)
		return
	}
	switch name {
	case "BEGIN":
		c.begin(n, strings.ToUpper(value))
	case "END":
		c.end(n, strings.ToUpper(value))
	default:
		c.property(n, name, value)
	}
}

func (c *checks) begin(n int, comp string) {
	if len(c.stack) == 0 && comp != "VCALENDAR" {
		c.addf("content line %d: BEGIN:%s outside VCALENDAR", n, comp)
	}
	c.stack = append(c.stack, &component{name: comp, props: map[string]int{}})
}

func (c *checks) end(n int, comp string) {
	if len(c.stack) == 0 || c.stack[len(c.stack)-1].name != comp {
		c.addf("content line %d: END:%s does not close the open component", n, comp)
		return
	}
	top := c.stack[len(c.stack)-1]
	c.stack = c.stack[:len(c.stack)-1]
	for _, p := range required[comp] {
		if top.props[p] != 1 {
			c.addf("%s ending at content line %d has %d %s, want 1", comp, n, top.props[p], p)
		}
	}
	if len(c.stack) == 0 {
		c.ended = true
	}
}

// required are the properties each component must have exactly once.
var required = map[string][]string{
	"VCALENDAR": {"VERSION", "PRODID"},
	"VEVENT":    {"UID", "DTSTAMP", "DTSTART"},
	"VTIMEZONE": {"TZID"},
	"STANDARD":  {"DTSTART", "TZOFFSETFROM", "TZOFFSETTO"},
	"DAYLIGHT":  {"DTSTART", "TZOFFSETFROM", "TZOFFSETTO"},
}

func (c *checks) property(n int, name, value string) {
	if len(c.stack) == 0 {
		c.addf("content line %d: %s outside VCALENDAR", n, name)
		return
	}
	top := c.stack[len(c.stack)-1]
	top.props[name]++
	if name == "TZID" && top.name == "VTIMEZONE" {
		c.tzDefd = append(c.tzDefd, value)
	}
	switch {
	case name == "METHOD" && top.name == "VCALENDAR":
		c.method = strings.ToUpper(value)
	case name == "ATTENDEE":
		c.attendees = append(c.attendees, n)
	}
	if name == "VERSION" && value != "2.0" {
		c.addf("content line %d: VERSION:%s, want 2.0", n, value)
	}
}

func (c *checks) finish() {
	if !c.ended {
		c.addf("no complete VCALENDAR (open: %d components)", len(c.stack))
	}
	if c.method == "PUBLISH" {
		for _, n := range c.attendees {
			c.addf("content line %d: ATTENDEE in a METHOD:PUBLISH calendar (RFC 5546 3.2.1)", n)
		}
	}
	for _, tz := range c.tzUsed {
		if !slices.Contains(c.tzDefd, tz) {
			c.addf("TZID=%s has no VTIMEZONE", tz)
		}
	}
}

// parseLine splits a content line (RFC 5545 3.1):
//
//	contentline = name *(";" param ) ":" value
//	param       = param-name "=" param-value *("," param-value)
//	param-value = paramtext / quoted-string
func parseLine(l string) (name string, params map[string][]string, value string, err error) {
	if !utf8.ValidString(l) {
		return "", nil, "", fmt.Errorf("not UTF-8")
	}
	name, rest := token(l)
	if name == "" {
		return "", nil, "", fmt.Errorf("no property name")
	}
	params = map[string][]string{}
	for strings.HasPrefix(rest, ";") {
		var k string
		k, rest = token(rest[1:])
		if k == "" || !strings.HasPrefix(rest, "=") {
			return "", nil, "", fmt.Errorf("bad parameter name")
		}
		var vs []string
		if vs, rest, err = paramValues(rest[1:]); err != nil {
			return "", nil, "", fmt.Errorf("parameter %s: %w", k, err)
		}
		params[strings.ToUpper(k)] = vs
	}
	if !strings.HasPrefix(rest, ":") {
		return "", nil, "", fmt.Errorf("no colon after the name and parameters")
	}
	value = rest[1:]
	if strings.IndexFunc(value, isCTL) >= 0 {
		return "", nil, "", fmt.Errorf("control character in the value")
	}
	return strings.ToUpper(name), params, value, nil
}

// token cuts a name (ALPHA / DIGIT / "-") from the front of s.
func token(s string) (string, string) {
	i := strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
	})
	if i < 0 {
		i = len(s)
	}
	return s[:i], s[i:]
}

// paramValues reads comma-separated param-values from the front of s.
func paramValues(s string) ([]string, string, error) {
	var vs []string
	for {
		v, rest, err := paramValue(s)
		if err != nil {
			return nil, "", err
		}
		vs = append(vs, v)
		if !strings.HasPrefix(rest, ",") {
			return vs, rest, nil
		}
		s = rest[1:]
	}
}

func paramValue(s string) (string, string, error) {
	if strings.HasPrefix(s, `"`) {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return "", "", fmt.Errorf("unterminated quoted value")
		}
		v := s[1 : 1+end]
		if v == "" {
			return "", "", fmt.Errorf("empty value")
		}
		if strings.IndexFunc(v, isCTL) >= 0 {
			return "", "", fmt.Errorf("control character in a quoted value")
		}
		return v, s[2+end:], nil
	}
	end := strings.IndexFunc(s, func(r rune) bool { return r == ';' || r == ':' || r == ',' || r == '"' || isCTL(r) })
	if end < 0 {
		return "", "", fmt.Errorf("no end")
	}
	v := s[:end]
	switch {
	case s[end] == '"':
		return "", "", fmt.Errorf("DQUOTE inside an unquoted value")
	case v == "":
		return "", "", fmt.Errorf("empty value")
	case strings.Contains(v, `\`):
		return "", "", fmt.Errorf("backslash in an unquoted value %q: parameter values have no escapes, quote them", v)
	}
	return v, s[end:], nil
}

// isCTL is RFC 5545's CONTROL: the controls except HTAB.
func isCTL(r rune) bool {
	return r != '\t' && (r < 0x20 || r == 0x7f)
}
